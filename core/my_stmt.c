/* my_stmt: prepared statements that outlive a backend connection: the client's statements, a connection's cache, and the packet parts that name them. */
#include "my_stmt.h"

#include <string.h>

#include "my_proto.h"

/* dup_bytes copies |len| bytes, NUL-terminated; NULL when out of memory. */
static char *dup_bytes(const void *p, size_t len)
{
	char *d = try_realloc(NULL, len + 1);
	if (d) {
		memcpy(d, p, len);
		d[len] = '\0';
	}
	return d;
}

uint32_t my_stmts_add(struct my_stmts *ss, const uint8_t *sql, size_t sql_len, uint16_t n_params)
{
	if (ss->n >= MY_STMTS_MAX || sql_len > MY_STMTS_SQL_BYTES - ss->sql_bytes)
		return 0;
	char *text = dup_bytes(sql, sql_len);
	struct my_stmt *grown = text ? try_realloc(ss->v, (ss->n + 1) * sizeof(*ss->v)) : NULL;
	if (!grown) {
		xfree(text);
		return 0;
	}
	ss->v = grown;
	if (++ss->next_id == 0)
		ss->next_id = 1; /* 0 is never an id */
	ss->v[ss->n++] = (struct my_stmt){.id = ss->next_id, .n_params = n_params, .sql = text,
					  .sql_len = sql_len};
	ss->sql_bytes += sql_len;
	return ss->next_id;
}

struct my_stmt *my_stmts_find(struct my_stmts *ss, uint32_t id)
{
	for (uint32_t i = 0; i < ss->n; i++) {
		if (ss->v[i].id == id)
			return &ss->v[i];
	}
	return NULL;
}

static void stmt_free(struct my_stmt *st)
{
	xfree(st->sql);
	xfree(st->types);
}

void my_stmts_remove(struct my_stmts *ss, uint32_t id)
{
	struct my_stmt *st = my_stmts_find(ss, id);
	if (!st)
		return;
	ss->sql_bytes -= st->sql_len;
	stmt_free(st);
	*st = ss->v[--ss->n];
}

void my_stmts_clear(struct my_stmts *ss)
{
	for (uint32_t i = 0; i < ss->n; i++)
		stmt_free(&ss->v[i]);
	xfree(ss->v);
	ss->v = NULL;
	ss->n = 0; /* next_id goes on: an old id never names a new statement */
	ss->sql_bytes = 0;
}

/* set_types keeps a copy of 2 * n bytes of types in |*slot|. */
static bool set_types(uint8_t **slot, bool *known, const uint8_t *types, uint16_t n)
{
	if (n == 0) {
		*known = true;
		return true;
	}
	uint8_t *copy = *slot ? *slot : try_realloc(NULL, 2u * n);
	if (!copy)
		return false;
	memcpy(copy, types, 2u * n);
	*slot = copy;
	*known = true;
	return true;
}

bool my_stmt_set_types(struct my_stmt *st, const uint8_t *types)
{
	return set_types(&st->types, &st->types_known, types, st->n_params);
}

bool my_cached_stmt_set_types(struct my_cached_stmt *cs, const uint8_t *types)
{
	return set_types(&cs->types, &cs->types_known, types, cs->n_params);
}

struct my_cached_stmt *my_stmt_cache_find(struct my_stmt_cache *sc, const char *sql,
					  size_t sql_len)
{
	for (uint32_t i = 0; i < sc->n; i++) {
		struct my_cached_stmt *cs = &sc->v[i];
		if (cs->sql_len == sql_len && memcmp(cs->sql, sql, sql_len) == 0) {
			cs->last_used = ++sc->clock;
			return cs;
		}
	}
	return NULL;
}

static void cached_free(struct my_cached_stmt *cs)
{
	xfree(cs->sql);
	xfree(cs->types);
}

/* remove_at drops entry |i| and returns its backend id. */
static uint32_t remove_at(struct my_stmt_cache *sc, uint32_t i)
{
	uint32_t id = sc->v[i].backend_id;
	sc->sql_bytes -= sc->v[i].sql_len;
	cached_free(&sc->v[i]);
	sc->v[i] = sc->v[--sc->n];
	return id;
}

uint32_t my_stmt_cache_make_room(struct my_stmt_cache *sc, size_t sql_len)
{
	if (sc->n == 0 || (sc->n < MY_STMT_CACHE_MAX &&
			   sql_len <= MY_STMT_CACHE_SQL_BYTES - sc->sql_bytes))
		return 0;
	uint32_t oldest = 0;
	for (uint32_t i = 1; i < sc->n; i++) {
		if (sc->v[i].last_used < sc->v[oldest].last_used)
			oldest = i;
	}
	return remove_at(sc, oldest);
}

struct my_cached_stmt *my_stmt_cache_add(struct my_stmt_cache *sc, const char *sql,
					 size_t sql_len, uint32_t backend_id, uint16_t n_params)
{
	char *text = dup_bytes(sql, sql_len);
	struct my_cached_stmt *grown = text ? try_realloc(sc->v, (sc->n + 1) * sizeof(*sc->v))
					    : NULL;
	if (!grown) {
		xfree(text);
		return NULL;
	}
	sc->v = grown;
	struct my_cached_stmt *cs = &sc->v[sc->n++];
	*cs = (struct my_cached_stmt){.sql = text, .sql_len = sql_len, .backend_id = backend_id,
				      .n_params = n_params, .last_used = ++sc->clock};
	sc->sql_bytes += sql_len;
	return cs;
}

uint32_t my_stmt_cache_pop(struct my_stmt_cache *sc)
{
	return sc->n ? remove_at(sc, sc->n - 1) : 0;
}

void my_stmt_cache_clear(struct my_stmt_cache *sc)
{
	for (uint32_t i = 0; i < sc->n; i++)
		cached_free(&sc->v[i]);
	xfree(sc->v);
	*sc = (struct my_stmt_cache){0};
}

bool my_prepare_ok_parse(struct my_cur p, uint32_t *id, uint16_t *columns, uint16_t *params)
{
	uint8_t header;
	return my_cur_u8(&p, &header) && header == MY_OK_HEADER && my_cur_u32le(&p, id) &&
	       my_cur_u16le(&p, columns) && my_cur_u16le(&p, params);
}

bool my_execute_parse(struct my_cur p, uint16_t n_params, struct my_execute *out)
{
	const struct my_cur start = p;
	uint8_t cmd, bound = 0;
	uint32_t iterations;
	*out = (struct my_execute){0};
	if (!my_cur_u8(&p, &cmd) || !my_cur_u32le(&p, &out->id) || !my_cur_u8(&p, &out->flags) ||
	    !my_cur_u32le(&p, &iterations))
		return false;
	if (n_params == 0)
		return true;
	if (!my_cur_skip(&p, (n_params + 7u) / 8u))
		return false;
	out->bound_offset = start.len - p.len;
	if (!my_cur_u8(&p, &bound))
		return false;
	out->types_bound = bound != 0;
	if (out->types_bound) {
		if (p.len < 2u * n_params)
			return false;
		out->types = p.ptr;
	}
	return true;
}

void my_execute_build_with_types(struct my_bld *b, struct my_cur payload, uint16_t n_params,
				 const struct my_execute *ex, uint32_t id, const uint8_t *types)
{
	size_t skip_old = ex->bound_offset + 1 + (ex->types_bound ? 2u * n_params : 0);
	my_bld_packet_begin(b, 0);
	my_bld_u8(b, COM_STMT_EXECUTE);
	my_bld_u32le(b, id);
	/* flags, iterations and the null bitmap, as the client sent them */
	my_bld_bytes(b, payload.ptr + 5, ex->bound_offset - 5);
	my_bld_u8(b, 1);
	my_bld_bytes(b, types, 2u * n_params);
	my_bld_bytes(b, payload.ptr + skip_old, payload.len - skip_old);
	my_bld_packet_end(b);
}

void my_stmt_prepare_build(struct my_bld *b, const char *sql, size_t sql_len)
{
	my_bld_packet_begin(b, 0);
	my_bld_u8(b, COM_STMT_PREPARE);
	my_bld_bytes(b, sql, sql_len);
	my_bld_packet_end(b);
}

void my_stmt_command_build(struct my_bld *b, uint8_t command, uint32_t id)
{
	my_bld_packet_begin(b, 0);
	my_bld_u8(b, command);
	my_bld_u32le(b, id);
	my_bld_packet_end(b);
}
