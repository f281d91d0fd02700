/* my_pin: one pass over the SQL text of a COM_QUERY or COM_STMT_PREPARE says what it does to the session. */
#ifndef WP_MY_PIN_H
#define WP_MY_PIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "my_handshake.h"
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
	MY_PIN_EXECUTABLE_COMMENT = 10, /* an executable comment whose reading depends on the server version */
	MY_PIN_HANDLER = 11,	   /* HANDLER ... OPEN and cursors */
	MY_PIN_OTHER_COMMAND = 12, /* a protocol command with per-connection effects */
	MY_PIN_CALL = 13,	   /* CALL, compound statements: a routine can set anything */
	MY_PIN_GLOBAL_LOCK = 14,   /* FLUSH TABLES ... WITH READ LOCK / FOR EXPORT, BACKUP STAGE|LOCK */
	MY_PIN_SQL_MODE = 15,	   /* the text reads differently under sql_modes warmpool cannot tell apart */
	MY_PIN_CHARSET = 16,	   /* a character set whose characters may end in 0x5C: not lexed */
	MY_PIN_STORED_FUNCTION = 17, /* a call of a function that is not the server's own */
	MY_PIN_SEQUENCE = 18,	   /* NEXTVAL, SETVAL, NEXT VALUE FOR: the session's last value */
	MY_PIN_REASON_COUNT = 19,
};
const char *my_pin_reason_str(enum my_pin_reason r);

/* One lexing rule of the session's sql_mode: off, on, or not known. */
enum my_mode_bit {
	MY_MODE_OFF = 0,
	MY_MODE_ON = 1,
	MY_MODE_UNKNOWN = 2,
};

/* The backend's kind; EITHER before any greeting: a name is then a builtin
 * when either server owns it. */
enum my_server_kind {
	MY_SERVER_EITHER = 0,
	MY_SERVER_MARIADB = 1,
	MY_SERVER_MYSQL = 2,
};

/* The sql_mode flags that change how text is cut into tokens. With a bit
 * unknown, the lexer reads each quoted token both ways; when the readings
 * end in different places the text pins (MY_PIN_SQL_MODE). */
struct my_sql_mode {
	enum my_mode_bit no_backslash_escapes;
	enum my_mode_bit ansi_quotes; /* "..." is an identifier (ANSI, ORACLE, ... imply it) */
	/* The session's character_set_client may have characters whose second
	 * byte is 0x5C, a quote or a backtick (big5, cp932, gbk, gb18030,
	 * sjis), or is not known: the text is not lexed (MY_PIN_CHARSET). */
	bool charset_unreadable;
	/* A byte above 0x7F that the session's character set makes a space
	 * to the server's lexer, like a tab (latin1's 0xA0), or 0 for none;
	 * with |space_unknown| it may or may not be one (a SET NAMES in
	 * flight), and a text where it stands outside a quote pins
	 * (MY_PIN_SQL_MODE). */
	uint8_t space_byte;
	bool space_unknown;

	/* Which server reads the text: its builtin functions are its own
	 * (a MySQL builtin's name is a stored function's to MariaDB). */
	enum my_server_kind server;
};

/* my_server_kind_of: the kind of server whose greeting says
 * |server_version| ("5.5.5-10.11.19-MariaDB..." is MariaDB). */
enum my_server_kind my_server_kind_of(const char *server_version);

/* my_sql_mode_of: the lexing rules of a session whose tracked variables are
 * |vars|: exact when they hold an sql_mode literal, unknown otherwise (the
 * session then has the server's global sql_mode). */
struct my_sql_mode my_sql_mode_of(const struct my_vars *vars);

/* my_sql_mode_merge: each bit where |a| and |b| agree, unknown where not. */
struct my_sql_mode my_sql_mode_merge(struct my_sql_mode a, struct my_sql_mode b);

/* What the text was sent as: a COM_QUERY runs now (several statements when
 * multi-statements are on); a COM_STMT_PREPARE runs at every execute. */
enum my_text_kind {
	MY_TEXT_QUERY = 0,
	MY_TEXT_PREPARE = 1,
};

/* What a text does to the session when every statement in it succeeds. */
struct my_session_change {
	enum my_pin_reason pin; /* the first statement that pins (NONE: none) */
	/* Tracked changes, restored on every connection the client gets: */
	bool use;		/* USE db: the schema is |db| */
	char db[MY_NAME_MAX];
	uint8_t collation;	/* SET NAMES: this collation id (0: none) */
	struct my_vars vars;	/* SET of session variables to literals, in order */
	struct my_vars readback; /* SET of session variables to expressions without side
				    effects: the names (values empty), to be read back from
				    the server once it succeeds and tracked as literals */
	bool next_transaction;	/* SET TRANSACTION: the next transaction's characteristics,
				   held by the session until that transaction ends */
	unsigned statements;	/* non-empty statements in the text */
	bool read;		/* one SELECT or SHOW that may run twice (retry_reads) */
	bool begins;		/* one BEGIN [WORK] or START TRANSACTION [...]: sent outside a
				   transaction, nothing of it outlives its connection */
	bool kill;		/* a KILL statement: never for a backend (warmpool interprets
				   one standing alone, and refuses the text otherwise); also
				   one in a compound statement or a literal of dynamic SQL,
				   and any KILL word in a text that is not lexed */
	bool charset_unreadable; /* a statement may have made the session's character set
				    one the lexer cannot read: read the client's later
				    texts with my_sql_mode.charset_unreadable */
	bool xa;		/* an XA statement: a prepared XA branch survives every
				   reset, so its connection is closed, never reused */
};

/* my_classify reads |sql| once, statement by statement, with the lexing
 * rules |mode| (a literal SET sql_mode in the text changes them for the
 * statements after it), and fills |out| (call my_session_change_cleanup).
 * Conservative: it never reports a clean or tracked text that leaves other
 * state behind. A COM_STMT_PREPARE text with any effect pins at prepare
 * time (nothing of it is tracked). Out of memory pins. */
void my_classify(struct my_session_change *out, struct my_sql_mode mode, enum my_text_kind kind,
		 const uint8_t *sql, size_t len);
void my_session_change_cleanup(struct my_session_change *ch);

/* my_session_change_tracks: |ch| holds a tracked change. */
static inline bool my_session_change_tracks(const struct my_session_change *ch)
{
	return ch->use || ch->collation || ch->vars.n > 0 || ch->readback.n > 0;
}

/* my_query_begins_transaction: a lone BEGIN [WORK] or START TRANSACTION
 * with its characteristics. Sent outside a transaction, what it did, if
 * anything, died with a lost connection: it may always be re-sent. */
bool my_query_begins_transaction(struct my_sql_mode mode, const uint8_t *sql, size_t len);

/* my_query_is_commit: a lone COMMIT [WORK], nothing after it (not AND
 * CHAIN, not RELEASE: those leave the session otherwise). */
bool my_query_is_commit(struct my_sql_mode mode, const uint8_t *sql, size_t len);

/* my_query_writes_nothing: a lone read (my_query_is_read), BEGIN or
 * COMMIT: nothing a later COMMIT would commit (one classification). */
bool my_query_writes_nothing(struct my_sql_mode mode, const uint8_t *sql, size_t len);

/* my_query_is_read: a lone SELECT or SHOW that neither writes, locks,
 * advances a sequence, calls a function that is not a known builtin nor
 * touches session state. Running it twice is harmless, so a lost one may be
 * re-sent (retry_reads). */
bool my_query_is_read(struct my_sql_mode mode, const uint8_t *sql, size_t len);

/* my_query_stays_in_transaction: one plain data statement (SELECT, INSERT,
 * REPLACE, UPDATE, DELETE, VALUES, TABLE, WITH) that touches no session
 * state: run inside a transaction, it never commits it (no implicit commit),
 * so when the connection dies with it unanswered, the transaction was rolled
 * back whatever it did. */
bool my_query_stays_in_transaction(struct my_sql_mode mode, const uint8_t *sql, size_t len);

/* my_text_may_run_kill: the text whose first |len| bytes are |sql| (maybe
 * not all of it) may run a KILL other than as its first statement: false
 * only when those bytes show a first word that begins neither a compound
 * statement, nor dynamic SQL, nor a routine (BEGIN, IF, a label, CREATE,
 * EXECUTE, PREPARE, SET STATEMENT...). A multi-statement is the caller's
 * to know. */
bool my_text_may_run_kill(struct my_sql_mode mode, const uint8_t *sql, size_t len);

#endif
