/* my_pin: which client commands leave session state that pins a client to its backend connection. */
#ifndef WP_MY_PIN_H
#define WP_MY_PIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "my_vars.h"

/* Why a client in transaction mode keeps its backend connection. */
enum my_pin_reason {
	MY_PIN_NONE = 0,
	MY_PIN_SET = 1,		   /* SET of session variables, NAMES, TRANSACTION, autocommit */
	MY_PIN_USER_VARIABLE = 2,  /* @variables */
	MY_PIN_TEMPORARY_TABLE = 3,
	MY_PIN_PREPARED_STATEMENT = 4, /* COM_STMT_PREPARE, or PREPARE/EXECUTE in SQL */
	MY_PIN_LOCK_TABLES = 5,
	MY_PIN_NAMED_LOCK = 6,	   /* GET_LOCK and friends */
	MY_PIN_FOUND_ROWS = 7,	   /* SQL_CALC_FOUND_ROWS / FOUND_ROWS() */
	MY_PIN_LAST_INSERT_ID = 8, /* LAST_INSERT_ID() read by a later statement */
	MY_PIN_CHANGE_USER = 9,
	MY_PIN_EXECUTABLE_COMMENT = 10, /* executable comments: SQL warmpool does not parse */
	MY_PIN_HANDLER = 11,	   /* HANDLER ... OPEN and cursors */
	MY_PIN_OTHER_COMMAND = 12, /* a protocol command with per-connection effects */
	MY_PIN_REASON_COUNT = 13,
};
const char *my_pin_reason_str(enum my_pin_reason r);

/* my_pin_query classifies the text of a COM_QUERY. It is conservative: when
 * in doubt it pins; it never reports MY_PIN_NONE for a statement that
 * leaves session state behind. Strings and quoted identifiers are skipped,
 * comments too (except executable ones). */
enum my_pin_reason my_pin_query(const uint8_t *sql, size_t len);

/* my_query_is_read: a lone SELECT or SHOW that neither writes, locks,
 * advances a sequence nor touches session state (conservative: a word such
 * as FOR, LOCK or INTO anywhere outside literals says no). Running it twice
 * is harmless, so a lost one may be re-sent (retry_reads). */
bool my_query_is_read(const uint8_t *sql, size_t len);

/* my_query_use_schema: for "USE db" returns 1 and copies the unquoted name
 * into |out| (which must hold |out_len| bytes); 0 for anything else, -1 for
 * a USE warmpool cannot parse. */
int my_query_use_schema(const uint8_t *sql, size_t len, char *out, size_t out_len);

/* my_query_set_names: for exactly "SET NAMES cs [COLLATE coll]" returns 1
 * and the unquoted names (|out_collation| is "" without COLLATE); 0 for
 * anything else; -1 for a SET NAMES warmpool cannot parse. */
int my_query_set_names(const uint8_t *sql, size_t len, char *out_charset, size_t charset_len,
		       char *out_collation, size_t collation_len);

/* my_query_set_vars: for a SET whose every assignment gives a session
 * system variable warmpool may track a plain literal (a number, a
 * single-quoted string without escapes, ON, OFF, TRUE, FALSE, NULL or
 * DEFAULT), returns 1 with the assignments added to |out| in order; 0 for
 * anything else (|out| is then left empty), which my_pin_query classifies.
 * Not tracked: the SET TRANSACTION forms, the character set
 * variables (SET NAMES is tracked on its own), values used once
 * (insert_id, timestamp, rand_seed*), session_track_* and GLOBAL. */
int my_query_set_vars(const uint8_t *sql, size_t len, struct my_vars *out);

#endif
