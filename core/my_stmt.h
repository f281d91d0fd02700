/* my_stmt: prepared statements that outlive a backend connection: the client's statements, a connection's cache, and the packet parts that name them. */
#ifndef WP_MY_STMT_H
#define WP_MY_STMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "my_cursor.h"

/* Bounds: statements one client may hold (MySQL's max_prepared_stmt_count
 * is per server), statements one backend connection keeps prepared, and
 * the longest statement text warmpool keeps to prepare again. */
#define MY_STMTS_MAX 1024
#define MY_STMT_CACHE_MAX 128
#define MY_STMT_SQL_MAX (1u << 20)
/* Bytes of statement text one client may hold, and one backend connection
 * may keep cached: what bounds their memory, whatever the texts' sizes. */
#define MY_STMTS_SQL_BYTES (4u << 20)
#define MY_STMT_CACHE_SQL_BYTES (4u << 20)

/* What a statement's text is, judged once at its prepare for every execute. */
struct my_stmt_traits {
	bool read;   /* a lone read: an execute may run twice (retry_reads) */
	bool stays;  /* never commits a transaction (my_query_stays_in_transaction) */
	bool begins; /* a lone BEGIN or START TRANSACTION (my_query_begins_transaction) */
};

/* A statement as the client knows it: warmpool's id, its text, and the
 * parameter types it last bound (sent again when it moves connection). */
struct my_stmt {
	uint32_t id;
	uint16_t n_params;
	bool types_known;
	struct my_stmt_traits traits;
	char *sql;
	size_t sql_len;
	uint8_t *types; /* 2 bytes per parameter */
};

struct my_stmts {
	struct my_stmt *v;
	uint32_t n;
	uint32_t next_id;
	size_t sql_bytes; /* texts held, against MY_STMTS_SQL_BYTES */
};

/* my_stmts_add registers |sql| under a new id (returned; 0 when out of
 * memory, over MY_STMTS_MAX or over MY_STMTS_SQL_BYTES). */
uint32_t my_stmts_add(struct my_stmts *ss, const uint8_t *sql, size_t sql_len, uint16_t n_params);
struct my_stmt *my_stmts_find(struct my_stmts *ss, uint32_t id);
void my_stmts_remove(struct my_stmts *ss, uint32_t id);
void my_stmts_clear(struct my_stmts *ss);

/* my_stmt_set_types records the types of an execute that bound them. */
WP_MUST_CHECK bool my_stmt_set_types(struct my_stmt *st, const uint8_t *types);

/* One statement prepared on a backend connection, shared by every client
 * that prepares the same text there. */
struct my_cached_stmt {
	char *sql;
	size_t sql_len;
	uint32_t backend_id;
	uint16_t n_params;
	bool types_known;
	uint8_t *types; /* the types last bound on the backend */
	uint64_t last_used;
};

struct my_stmt_cache {
	struct my_cached_stmt *v;
	uint32_t n;
	uint64_t clock;
	size_t sql_bytes; /* texts kept, against MY_STMT_CACHE_SQL_BYTES */
};

struct my_cached_stmt *my_stmt_cache_find(struct my_stmt_cache *sc, const char *sql,
					  size_t sql_len);
/* my_stmt_cache_make_room evicts the least recently used statement when
 * one more of |sql_len| bytes would pass MY_STMT_CACHE_MAX statements or
 * MY_STMT_CACHE_SQL_BYTES; it returns the evicted statement's backend id,
 * for the caller to close on the backend, or 0 when there is room. Call it
 * until it returns 0. */
uint32_t my_stmt_cache_make_room(struct my_stmt_cache *sc, size_t sql_len);
/* my_stmt_cache_add records a statement the backend prepared (after
 * my_stmt_cache_make_room). NULL when out of memory. */
struct my_cached_stmt *my_stmt_cache_add(struct my_stmt_cache *sc, const char *sql,
					 size_t sql_len, uint32_t backend_id, uint16_t n_params);
/* my_stmt_cache_pop takes any one statement out (its backend id), for
 * closing them all; 0 when empty. */
uint32_t my_stmt_cache_pop(struct my_stmt_cache *sc);
void my_stmt_cache_clear(struct my_stmt_cache *sc);
WP_MUST_CHECK bool my_cached_stmt_set_types(struct my_cached_stmt *cs, const uint8_t *types);

/* The OK that answers COM_STMT_PREPARE: 0x00, statement id, columns,
 * parameters, filler, warnings. The id sits at payload offset 1. */
#define MY_PREPARE_OK_LEN 12
#define MY_STMT_ID_OFFSET 1 /* in the prepare OK, and in every statement command */
#define MY_STMT_LAST_PREPARED 0xffffffffu /* MariaDB: the last one prepared */
bool my_prepare_ok_parse(struct my_cur p, uint32_t *id, uint16_t *columns, uint16_t *params);

/* What warmpool reads of a COM_STMT_EXECUTE payload (the command byte
 * included): flags, and where the parameter types are. */
struct my_execute {
	uint32_t id;
	uint8_t flags;	      /* cursor type: nonzero asks for a cursor */
	bool types_bound;     /* new_params_bound_flag: types follow */
	size_t bound_offset;  /* offset of that flag (when parameters exist) */
	const uint8_t *types; /* 2 * n_params bytes when types_bound */
};

/* my_execute_parse reads the head of an execute of a statement with
 * |n_params| parameters; false when |p| is too short for it. */
bool my_execute_parse(struct my_cur p, uint16_t n_params, struct my_execute *out);

/* my_execute_build_with_types writes, as one packet with sequence id 0, the
 * execute |payload| (whole, command byte included) for statement |id| with
 * its parameter types given explicitly. */
void my_execute_build_with_types(struct my_bld *b, struct my_cur payload, uint16_t n_params,
				 const struct my_execute *ex, uint32_t id, const uint8_t *types);

/* my_stmt_prepare_build writes a COM_STMT_PREPARE of |sql|. */
void my_stmt_prepare_build(struct my_bld *b, const char *sql, size_t sql_len);

/* my_stmt_command_build writes a statement command that carries only the
 * id (COM_STMT_CLOSE, COM_STMT_RESET). */
void my_stmt_command_build(struct my_bld *b, uint8_t command, uint32_t id);

#endif
