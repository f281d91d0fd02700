/* stmt_test: the client's statements, a connection's statement cache, and the execute packet rewritten with types. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "my_proto.h"
#include "my_stmt.h"

static const uint8_t SQL[] = "SELECT ? + ?";

Test(stmt, client_ids_are_never_reused)
{
	struct my_stmts ss = {0};
	uint32_t a = my_stmts_add(&ss, SQL, sizeof(SQL) - 1, 2);
	uint32_t b = my_stmts_add(&ss, SQL, sizeof(SQL) - 1, 2);
	cr_expect_neq(a, 0);
	cr_expect_neq(a, b);
	cr_expect_str_eq(my_stmts_find(&ss, a)->sql, "SELECT ? + ?");
	my_stmts_remove(&ss, a);
	cr_expect_null(my_stmts_find(&ss, a));
	cr_expect_not_null(my_stmts_find(&ss, b));
	my_stmts_clear(&ss);
	uint32_t c = my_stmts_add(&ss, SQL, sizeof(SQL) - 1, 2);
	cr_expect_gt(c, b, "an old id must not name a new statement");
	const uint8_t types[4] = {8, 0, 8, 0};
	cr_assert(my_stmt_set_types(my_stmts_find(&ss, c), types));
	cr_expect(my_stmts_find(&ss, c)->types_known);
	my_stmts_clear(&ss);
}

Test(stmt, cache_evicts_the_least_recently_used)
{
	struct my_stmt_cache sc = {0};
	char sql[32];
	for (uint32_t i = 1; i <= MY_STMT_CACHE_MAX; i++) {
		snprintf(sql, sizeof(sql), "SELECT %u", i);
		cr_expect_eq(my_stmt_cache_make_room(&sc, strlen(sql)), 0);
		cr_assert_not_null(my_stmt_cache_add(&sc, sql, strlen(sql), 100 + i, 0));
	}
	cr_expect_not_null(my_stmt_cache_find(&sc, "SELECT 1", 8)); /* 1 is fresh now */
	cr_expect_eq(my_stmt_cache_make_room(&sc, 8), 102, "SELECT 2 was the least recently used");
	cr_expect_eq(my_stmt_cache_make_room(&sc, 8), 0, "one out makes room for one in");
	cr_assert_not_null(my_stmt_cache_add(&sc, "SELECT x", 8, 999, 0));
	cr_expect_null(my_stmt_cache_find(&sc, "SELECT 2", 8));
	cr_expect_eq(my_stmt_cache_find(&sc, "SELECT x", 8)->backend_id, 999);
	cr_expect_eq(sc.n, MY_STMT_CACHE_MAX);
	uint32_t popped = 0;
	while (my_stmt_cache_pop(&sc))
		popped++;
	cr_expect_eq(popped, MY_STMT_CACHE_MAX);
	my_stmt_cache_clear(&sc);
}

Test(stmt, prepare_ok)
{
	const uint8_t ok[] = {0x00, 0x07, 0, 0, 0, 0x02, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00};
	uint32_t id;
	uint16_t cols, params;
	cr_assert(my_prepare_ok_parse(my_cur_make(ok, sizeof(ok)), &id, &cols, &params));
	cr_expect_eq(id, 7);
	cr_expect_eq(cols, 2);
	cr_expect_eq(params, 3);
	const uint8_t err[] = {0xff, 0x7a, 0x04, '#'};
	cr_expect_not(my_prepare_ok_parse(my_cur_make(err, sizeof(err)), &id, &cols, &params));
	cr_expect_not(my_prepare_ok_parse(my_cur_make(ok, 6), &id, &cols, &params));
}

/* An execute of statement 5 with two BIGINT parameters, 3 and -1. */
static const uint8_t EXEC_BOUND[] = {
	COM_STMT_EXECUTE, 5, 0, 0, 0, /* id */
	0x00, 1, 0, 0, 0,	     /* flags, iterations */
	0x00,			     /* null bitmap */
	0x01, 8, 0, 8, 0,	     /* types bound: LONGLONG x2 */
	3, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
};
static const uint8_t EXEC_UNBOUND[] = {
	COM_STMT_EXECUTE, 5, 0, 0, 0, 0x00, 1, 0, 0, 0, 0x00,
	0x00, /* no types: the server is to use the last ones */
	3, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
};

Test(stmt, execute_parse)
{
	struct my_execute ex;
	cr_assert(my_execute_parse(my_cur_make(EXEC_BOUND, sizeof(EXEC_BOUND)), 2, &ex));
	cr_expect_eq(ex.id, 5);
	cr_expect_eq(ex.flags, 0);
	cr_expect(ex.types_bound);
	cr_expect_eq(ex.bound_offset, 11);
	cr_expect_eq(ex.types[0], 8);
	cr_assert(my_execute_parse(my_cur_make(EXEC_UNBOUND, sizeof(EXEC_UNBOUND)), 2, &ex));
	cr_expect_not(ex.types_bound);
	cr_expect_not(my_execute_parse(my_cur_make(EXEC_BOUND, 11), 2, &ex), "cut before the flag");
	cr_expect_not(my_execute_parse(my_cur_make(EXEC_BOUND, 13), 2, &ex), "cut in the types");
	cr_assert(my_execute_parse(my_cur_make(EXEC_BOUND, 10), 0, &ex), "no parameters");
}

Test(stmt, execute_rewritten_with_types)
{
	struct my_execute ex;
	cr_assert(my_execute_parse(my_cur_make(EXEC_UNBOUND, sizeof(EXEC_UNBOUND)), 2, &ex));
	struct buf out = {0};
	struct my_bld b;
	my_bld_init(&b, &out, BUF_NO_LIMIT);
	const uint8_t types[4] = {8, 0, 8, 0};
	my_execute_build_with_types(&b, my_cur_make(EXEC_UNBOUND, sizeof(EXEC_UNBOUND)), 2, &ex, 9,
				    types);
	cr_assert(my_bld_ok(&b));
	/* Header (length, sequence 0), then the bound execute for backend id 9. */
	cr_assert_eq(buf_avail(&out), 4 + sizeof(EXEC_BOUND));
	const uint8_t *p = buf_head(&out);
	cr_expect_eq(p[0] | p[1] << 8 | p[2] << 16, sizeof(EXEC_BOUND));
	cr_expect_eq(p[3], 0);
	uint8_t want[sizeof(EXEC_BOUND)];
	memcpy(want, EXEC_BOUND, sizeof(want));
	want[1] = 9;
	cr_expect_arr_eq(p + 4, want, sizeof(want));
	buf_cleanup(&out);
}

/* Large texts: the cache keeps to its byte budget, evicting as many as it
 * takes; a client's statements keep to theirs. */
Test(stmt, texts_are_bounded_in_bytes)
{
	struct my_stmt_cache sc = {0};
	size_t big = MY_STMT_SQL_MAX;
	char *sql = xcalloc(1, big);
	for (uint32_t i = 0; i < 4; i++) {
		memset(sql, 'a' + (int)i, big);
		cr_expect_eq(my_stmt_cache_make_room(&sc, big), 0);
		cr_assert_not_null(my_stmt_cache_add(&sc, sql, big, 10 + i, 0));
	}
	cr_expect_eq(sc.sql_bytes, MY_STMT_CACHE_SQL_BYTES);
	cr_expect_eq(my_stmt_cache_make_room(&sc, 16), 10, "the oldest goes for even a short one");
	cr_expect_eq(my_stmt_cache_make_room(&sc, 16), 0);
	cr_expect_eq(sc.sql_bytes, MY_STMT_CACHE_SQL_BYTES - big);
	my_stmt_cache_clear(&sc);

	struct my_stmts ss = {0};
	for (uint32_t i = 0; i < MY_STMTS_SQL_BYTES / big; i++)
		cr_expect_neq(my_stmts_add(&ss, (const uint8_t *)sql, big, 0), 0);
	cr_expect_eq(my_stmts_add(&ss, (const uint8_t *)"SELECT 1", 8, 0), 0, "over the budget");
	my_stmts_remove(&ss, ss.v[0].id);
	cr_expect_neq(my_stmts_add(&ss, (const uint8_t *)"SELECT 1", 8, 0), 0, "room again");
	my_stmts_clear(&ss);
	cr_expect_eq(ss.sql_bytes, 0);
	xfree(sql);
}
