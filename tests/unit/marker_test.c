/* marker_test: the commit marker's statements, its table name and the answer to its write. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "my_marker.h"

static char text[640];

static const char *built(void (*query)(struct my_bld *, const char *, uint64_t, uint64_t))
{
	struct buf out = {0};
	struct my_bld b;
	my_bld_init(&b, &out, BUF_NO_LIMIT);
	query(&b, "wp.marker", 18446744073709551615u, 7);
	snprintf(text, sizeof(text), "%.*s", (int)buf_avail(&out), (const char *)buf_head(&out));
	buf_cleanup(&out);
	return text;
}

Test(marker, statements)
{
	cr_expect_str_eq(built(my_marker_write_query),
			 "INSERT INTO wp.marker (conn, txn) VALUES (18446744073709551615, "
			 "IF(@@completion_type = 'NO_CHAIN', 7, 9223372036854775815)) ON DUPLICATE "
			 "KEY UPDATE txn = IF(@@completion_type = 'NO_CHAIN', 7, 9223372036854775815)");
	cr_expect_str_eq(built(my_marker_check_query),
			 "SELECT IF((SELECT ENGINE FROM information_schema.TABLES WHERE "
			 "TABLE_SCHEMA = 'wp' AND TABLE_NAME = 'marker') = 'InnoDB', CASE MAX(txn) "
			 "WHEN 7 THEN 1 WHEN 9223372036854775815 THEN NULL ELSE 0 END, NULL) "
			 "FROM wp.marker WHERE conn = 18446744073709551615 FOR UPDATE");
}

Test(marker, statements_for_the_longest_names_fit_whole)
{
	char table[64 + 1 + 64 + 1];
	memset(table, 's', 64);
	table[64] = '.';
	memset(table + 65, 't', 64);
	table[129] = '\0';
	cr_assert(my_marker_table_valid(table));
	void (*queries[])(struct my_bld *, const char *, uint64_t, uint64_t) = {
		my_marker_write_query, my_marker_check_query};
	for (size_t i = 0; i < 2; i++) {
		struct buf out = {0};
		struct my_bld b;
		my_bld_init(&b, &out, BUF_NO_LIMIT);
		queries[i](&b, table, UINT64_MAX, UINT64_MAX);
		cr_expect(my_bld_ok(&b));
		const char *end = i == 0 ? "18446744073709551615)" : " FOR UPDATE";
		size_t end_len = strlen(end), len = buf_avail(&out);
		cr_expect(len > end_len &&
			  memcmp((const char *)buf_head(&out) + len - end_len, end, end_len) == 0);
		cr_expect(memchr(buf_head(&out), '\0', len) == NULL);
		buf_cleanup(&out);
	}
}

Test(marker, table_names)
{
	cr_expect(my_marker_table_valid("warmpool.commit_marker"));
	cr_expect(my_marker_table_valid("a$1.B_2"));
	cr_expect_not(my_marker_table_valid("commit_marker"));
	cr_expect_not(my_marker_table_valid(".t"));
	cr_expect_not(my_marker_table_valid("s."));
	cr_expect_not(my_marker_table_valid("s.t.u"));
	cr_expect_not(my_marker_table_valid("s.t; DROP TABLE x"));
	cr_expect_not(my_marker_table_valid("`s`.`t`"));
	char long_name[80];
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	long_name[2] = '.';
	cr_expect_not(my_marker_table_valid(long_name)); /* a table name over 64 bytes */
}

Test(marker, answer_to_the_write)
{
	static const uint8_t ok[] = {7, 0, 0, 1, 0x00, 1, 0, 3, 0, 0, 0};
	static const uint8_t err[] = {27, 0, 0, 1, 0xff, 0x7a, 0x04, '#', '4', '2', 'S', '0', '2',
				      'T',  'a', 'b', 'l', 'e', ' ', 'm', 'i', 's', 's', 'i', 'n',
				      'g',  ' ', 'h', 'e', 'r', 'e'};
	static const uint8_t cut[] = {7, 0, 0, 1, 0x00, 1};
	struct my_err e;
	cr_expect(my_marker_reply_ok(my_cur_make(ok, sizeof(ok)), &e));
	cr_expect_not(my_marker_reply_ok(my_cur_make(err, sizeof(err)), &e));
	cr_expect_eq(e.code, 1146);
	cr_expect_str_eq(e.message, "Table missing here");
	cr_expect_not(my_marker_reply_ok(my_cur_make(cut, sizeof(cut)), &e));
	cr_expect_eq(e.code, 0);
}
