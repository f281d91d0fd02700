/* my_charset: collation ids from handshakes mapped to SET NAMES arguments. */
#ifndef WP_MY_CHARSET_H
#define WP_MY_CHARSET_H

#include <stdbool.h>
#include <stdint.h>

struct my_collation {
	uint8_t id;
	const char *charset;
	const char *collation;
	/* A byte above 0x7F the server's lexer skips as a space in this
	 * character set (latin1: 0xA0, no-break space), or 0. */
	uint8_t space_byte;
};

/* my_collation_find returns the entry for a handshake collation id, or NULL
 * when warmpool does not know it (the backend's default then stays). */
const struct my_collation *my_collation_find(uint8_t id);

/* my_collation_by_name finds the collation |collation| of |charset|, or the
 * charset's default collation when |collation| is NULL or "". NULL when
 * unknown. "utf8" is read as "utf8mb3", as MariaDB does. */
const struct my_collation *my_collation_by_name(const char *charset, const char *collation);

/* my_collation_hides_backslash: a collation id of big5, cp932, gbk,
 * gb18030 or sjis, whose two-byte characters may end in 0x5C (a backslash
 * to a lexer that does not know the character set), or in a quote or a
 * backtick. */
bool my_collation_hides_backslash(uint8_t id);

/* my_collation_space_byte: the space_byte of a collation id (0 for one not
 * known; a client never keeps such an id, see client_collation_of). */
uint8_t my_collation_space_byte(uint8_t id);

#endif
