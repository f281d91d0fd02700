/* my_kill: reads a KILL statement (or COM_PROCESS_KILL): which connection, and whether its query or all of it. */
#ifndef WP_MY_KILL_H
#define WP_MY_KILL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "my_cursor.h"

enum my_kill_kind {
	MY_KILL_NONE = 0,	/* not a KILL statement */
	MY_KILL_CONNECTION = 1, /* KILL [CONNECTION] n, COM_PROCESS_KILL */
	MY_KILL_QUERY = 2,	/* KILL QUERY n */
	MY_KILL_UNSUPPORTED = 3, /* a KILL warmpool does not interpret (KILL USER,
				    KILL QUERY ID, an expression): refused */
};
const char *my_kill_kind_str(enum my_kill_kind kind);

/* my_kill_parse reads the text of a COM_QUERY: MY_KILL_NONE when its first
 * keyword is not KILL (leading whitespace and comments skipped; the
 * contents of an executable comment count as code), otherwise the kind
 * and, for CONNECTION and QUERY, the id in |*out_id|. MariaDB's HARD and
 * SOFT are accepted; one trailing ';' is. Only |len| bytes are read. */
enum my_kill_kind my_kill_parse(const char *sql, size_t len, uint32_t *out_id);

/* my_process_kill_parse reads a COM_PROCESS_KILL payload (command byte
 * included): its 4-byte id. False when malformed. */
bool my_process_kill_parse(struct my_cur payload, uint32_t *out_id);

/* A search for the word KILL (not glued to a letter before or to a letter,
 * digit, "_" or "$" after: the bytes a lexer could read as the keyword,
 * wherever they stand) in a text that arrives in pieces. Zero-initialized
 * by my_kill_scan_init; |found| once seen. */
struct my_kill_scan {
	int last[5]; /* the last five bytes fed, oldest first; -1: none yet */
	bool found;
};

void my_kill_scan_init(struct my_kill_scan *k);

/* my_kill_scan_feed passes the next |len| bytes of the text. */
void my_kill_scan_feed(struct my_kill_scan *k, const uint8_t *p, size_t len);

/* my_kill_scan_end: the text ends here (a KILL may be its last word). */
void my_kill_scan_end(struct my_kill_scan *k);

#endif
