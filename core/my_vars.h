/* my_vars: the session system variables a client set with SET, kept as text to be set again on another backend connection. */
#ifndef WP_MY_VARS_H
#define WP_MY_VARS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "my_cursor.h"

/* Bounds on what one client may have tracked; beyond them a SET pins. */
#define MY_VARS_MAX 32
#define MY_VAR_NAME_MAX 64
#define MY_VAR_VALUE_MAX 1024

/* One variable: |text| is "name=value" with the name in lower case and the
 * value as the client wrote it (a literal), ready to go into a SET. */
struct my_var {
	char *text;
	uint16_t name_len;
};

/* A set of variables with their values; zero-initialized is empty. */
struct my_vars {
	struct my_var *v;
	uint8_t n;
};

void my_vars_clear(struct my_vars *vs);

/* my_vars_get: the value of |name| as written, or NULL. */
const char *my_vars_get(const struct my_vars *vs, const char *name);

/* my_vars_put records name = value as written (DEFAULT included),
 * replacing an earlier value of the same name. False when out of memory,
 * over a bound, or over MY_VARS_MAX names. */
WP_MUST_CHECK bool my_vars_put(struct my_vars *vs, const char *name, size_t name_len,
			       const char *value, size_t value_len);

/* my_vars_rename gives variable |from| (if set) the name |to|. False when
 * out of memory (|vs| unchanged). */
WP_MUST_CHECK bool my_vars_rename(struct my_vars *vs, const char *from, const char *to);

/* my_vars_tx_names_old: a server of version |server_version| (its
 * greeting's) calls the transaction characteristics tx_isolation and
 * tx_read_only, and has no transaction_isolation (MariaDB before 11.1,
 * MySQL before 5.7.20). */
bool my_vars_tx_names_old(const char *server_version);

/* my_vars_apply sets each of |changes| in |vs|, in order; a change to
 * DEFAULT removes the name (the session is back to the global value). */
WP_MUST_CHECK bool my_vars_apply(struct my_vars *vs, const struct my_vars *changes);

/* my_vars_assign makes |dst| a copy of |src| (|dst| is empty on failure). */
WP_MUST_CHECK bool my_vars_assign(struct my_vars *dst, const struct my_vars *src);

/* my_vars_equal: the same names with the same values, in any order. */
bool my_vars_equal(const struct my_vars *a, const struct my_vars *b);

/* my_vars_write_restore appends to |b| the text of the one statement that
 * takes a session holding |have| to |want|: "SET SESSION a=1, b=DEFAULT".
 * Call it only when the two differ (my_vars_equal). */
void my_vars_write_restore(const struct my_vars *have, const struct my_vars *want,
			   struct my_bld *b);

#endif
