/* my_readback: warmpool's "SELECT @@session.a, ..." after a SET of expressions (or "SELECT LAST_INSERT_ID()" after an insert id), and its one-row answer read into literals that set the same values again. */
#ifndef WP_MY_READBACK_H
#define WP_MY_READBACK_H

#include <stdbool.h>
#include <stdint.h>

#include "my_cursor.h"
#include "my_vars.h"

/* my_readback_query appends the text of the query that reads the session
 * values of the names in |names| (their values are ignored) to |b|:
 * "SELECT @@session.a,@@session.b". */
void my_readback_query(struct my_bld *b, const struct my_vars *names);

/* my_readback_parse reads the whole text-protocol response |reply| (frames
 * with their headers, result sets ending in EOF) to that query: one column
 * per name, one row. |out| (empty) gets "name=literal" for each: a number
 * as the server wrote it for a numeric column, 'text' for a string, NULL.
 * False (|out| left empty) for an ERR, any other shape, leftover bytes, or a
 * value no plain literal sets exactly (a quote, backslash or control byte
 * inside a string). */
WP_MUST_CHECK bool my_readback_parse(struct my_vars *out, const struct my_vars *names,
				     struct my_cur reply);

/* my_readback_insert_id_query appends "SELECT LAST_INSERT_ID()" to |b|: the
 * session's value, which an OK's insert id does not tell (it reports an id
 * written explicitly into an AUTO_INCREMENT column too). */
void my_readback_insert_id_query(struct my_bld *b);

/* What the response to a query of one unsigned value held. */
enum my_readback_u64 {
	MY_READBACK_U64_NONE = 0, /* an ERR, another shape, or a value that is
				     not an unsigned 64-bit integer */
	MY_READBACK_U64_VALUE,	  /* a value */
	MY_READBACK_U64_NULL,	  /* SQL NULL */
};

/* my_readback_u64_read reads the whole response |reply| to a query of one
 * value, as that one or a COUNT(*), into |out| (set for
 * MY_READBACK_U64_VALUE only). */
enum my_readback_u64 my_readback_u64_read(uint64_t *out, struct my_cur reply);

/* my_readback_u64_parse: my_readback_u64_read's value, or false. */
WP_MUST_CHECK bool my_readback_u64_parse(uint64_t *out, struct my_cur reply);

#endif
