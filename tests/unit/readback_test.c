/* readback_test: the queries that read session variables and LAST_INSERT_ID() back, and their answers read into literals. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "my_readback.h"
#include "my_vars.h"

static struct buf reply;
static uint8_t seq;

static void packet(const void *payload, size_t len)
{
	uint8_t h[4] = {(uint8_t)len, (uint8_t)(len >> 8), (uint8_t)(len >> 16), seq++};
	cr_assert(buf_append(&reply, h, 4, BUF_NO_LIMIT));
	cr_assert(buf_append(&reply, payload, len, BUF_NO_LIMIT));
}

static size_t lenenc_str(uint8_t *out, const char *s)
{
	size_t n = strlen(s);
	out[0] = (uint8_t)n;
	memcpy(out + 1, s, n);
	return n + 1;
}

static void column(const char *name, uint8_t type)
{
	uint8_t p[128];
	size_t o = lenenc_str(p, "def");
	o += lenenc_str(p + o, "");
	o += lenenc_str(p + o, "");
	o += lenenc_str(p + o, "");
	o += lenenc_str(p + o, name);
	o += lenenc_str(p + o, "");
	const uint8_t fixed[] = {0x0c, 0x21, 0x00, 0x10, 0, 0, 0, type, 0, 0, 0, 0, 0};
	memcpy(p + o, fixed, sizeof(fixed));
	packet(p, o + sizeof(fixed));
}

static void eof(void)
{
	const uint8_t e[] = {0xfe, 0, 0, 0x02, 0};
	packet(e, sizeof(e));
}

/* answer builds the response to a read-back of two variables: a string
 * and a number (|number| NULL: a NULL value). */
static struct my_cur answer(const char *text, const char *number, bool trailing)
{
	buf_reset(&reply);
	seq = 1;
	const uint8_t count = 2;
	packet(&count, 1);
	column("@@session.sql_mode", 0xfd);
	column("@@session.wait_timeout", 0x08);
	eof();
	uint8_t row[256];
	size_t o = lenenc_str(row, text);
	if (number)
		o += lenenc_str(row + o, number);
	else
		row[o++] = 0xfb;
	packet(row, o);
	eof();
	if (trailing)
		eof();
	return my_cur_make(buf_head(&reply), buf_avail(&reply));
}

static void names(struct my_vars *vs)
{
	cr_assert(my_vars_put(vs, "sql_mode", 8, "", 0));
	cr_assert(my_vars_put(vs, "wait_timeout", 12, "", 0));
}

Test(readback, query)
{
	struct my_vars vs = {0};
	names(&vs);
	struct buf out = {0};
	struct my_bld b;
	my_bld_init(&b, &out, 256);
	my_readback_query(&b, &vs);
	cr_assert(my_bld_ok(&b));
	cr_expect(buf_avail(&out) == strlen("SELECT @@session.sql_mode,@@session.wait_timeout") &&
		  memcmp(buf_head(&out), "SELECT @@session.sql_mode,@@session.wait_timeout",
			 buf_avail(&out)) == 0);
	buf_cleanup(&out);
	my_vars_clear(&vs);
}

Test(readback, values_become_literals)
{
	struct my_vars vs = {0}, got = {0};
	names(&vs);
	cr_assert(my_readback_parse(&got, &vs, answer("STRICT_TRANS_TABLES,ANSI_QUOTES", "28807", false)));
	cr_expect_str_eq(my_vars_get(&got, "sql_mode"), "'STRICT_TRANS_TABLES,ANSI_QUOTES'");
	cr_expect_str_eq(my_vars_get(&got, "wait_timeout"), "28807");
	my_vars_clear(&got);
	cr_assert(my_readback_parse(&got, &vs, answer("", NULL, false)));
	cr_expect_str_eq(my_vars_get(&got, "sql_mode"), "''");
	cr_expect_str_eq(my_vars_get(&got, "wait_timeout"), "NULL");
	my_vars_clear(&got);
	my_vars_clear(&vs);
	buf_cleanup(&reply);
}

Test(readback, inexact_or_malformed_answers_fail)
{
	struct my_vars vs = {0}, got = {0};
	names(&vs);
	cr_expect(!my_readback_parse(&got, &vs, answer("it's", "1", false)));
	cr_expect(!my_readback_parse(&got, &vs, answer("a\\b", "1", false)));
	cr_expect(!my_readback_parse(&got, &vs, answer("ok", "1x", false)));
	cr_expect(!my_readback_parse(&got, &vs, answer("ok", "1", true)));
	struct my_cur whole = answer("ok", "1", false);
	for (size_t cut = 0; cut < whole.len; cut++)
		cr_expect(!my_readback_parse(&got, &vs, my_cur_make(whole.ptr, cut)), "cut %zu", cut);
	const uint8_t err[] = {0x09, 0, 0, 1, 0xff, 0x19, 0x04, '#', 'H', 'Y', '0', '0', '0'};
	cr_expect(!my_readback_parse(&got, &vs, my_cur_make(err, sizeof(err))));
	cr_expect(got.n == 0);
	my_vars_clear(&vs);
	buf_cleanup(&reply);
}

Test(readback, transaction_variable_names_by_server)
{
	cr_expect(my_vars_tx_names_old("5.5.5-10.11.19-MariaDB-0+deb12u1"));
	cr_expect(my_vars_tx_names_old("10.6.4-MariaDB"));
	cr_expect(!my_vars_tx_names_old("11.4.2-MariaDB"));
	cr_expect(!my_vars_tx_names_old("5.5.5-11.1.0-MariaDB"));
	cr_expect(my_vars_tx_names_old("5.6.51"));
	cr_expect(my_vars_tx_names_old("5.7.19-log"));
	cr_expect(!my_vars_tx_names_old("5.7.44"));
	cr_expect(!my_vars_tx_names_old("8.0.36"));
	cr_expect(!my_vars_tx_names_old("9.7.0"));
	struct my_vars vs = {0};
	cr_assert(my_vars_put(&vs, "transaction_isolation", 21, "'SERIALIZABLE'", 14));
	cr_assert(my_vars_rename(&vs, "transaction_isolation", "tx_isolation"));
	/* One variable (the names are aliases), now written under the old name. */
	cr_expect_eq(vs.n, 1);
	cr_expect_str_eq(vs.v[0].text, "tx_isolation='SERIALIZABLE'");
	cr_expect_str_eq(my_vars_get(&vs, "tx_isolation"), "'SERIALIZABLE'");
	my_vars_clear(&vs);
}

/* insert_id_answer builds the response to SELECT LAST_INSERT_ID() holding
 * |value| (NULL: a NULL value). */
static struct my_cur insert_id_answer(const char *value)
{
	buf_reset(&reply);
	seq = 1;
	const uint8_t count = 1;
	packet(&count, 1);
	column("LAST_INSERT_ID()", 0x08);
	eof();
	uint8_t row[64];
	size_t o = value ? lenenc_str(row, value) : (row[0] = 0xfb, 1);
	packet(row, o);
	eof();
	return my_cur_make(buf_head(&reply), buf_avail(&reply));
}

Test(readback, insert_id_query_and_answer)
{
	struct buf out = {0};
	struct my_bld b;
	my_bld_init(&b, &out, 64);
	my_readback_insert_id_query(&b);
	cr_assert(my_bld_ok(&b));
	cr_expect(buf_avail(&out) == 23 && memcmp(buf_head(&out), "SELECT LAST_INSERT_ID()", 23) == 0);
	buf_cleanup(&out);
	uint64_t id = 1;
	cr_expect(my_readback_u64_parse(&id, insert_id_answer("0")));
	cr_expect_eq(id, 0);
	cr_expect(my_readback_u64_parse(&id, insert_id_answer("18446744073709551615")));
	cr_expect_eq(id, UINT64_MAX);
	cr_expect_not(my_readback_u64_parse(&id, insert_id_answer("18446744073709551616")));
	cr_expect_not(my_readback_u64_parse(&id, insert_id_answer("-1")));
	cr_expect_not(my_readback_u64_parse(&id, insert_id_answer(NULL)));
	/* The three answers apart: the commit marker's check reads NULL as "not
	 * InnoDB", neither a count nor garbage. */
	cr_expect_eq(my_readback_u64_read(&id, insert_id_answer("7")), MY_READBACK_U64_VALUE);
	cr_expect_eq(id, 7);
	cr_expect_eq(my_readback_u64_read(&id, insert_id_answer(NULL)), MY_READBACK_U64_NULL);
	cr_expect_eq(my_readback_u64_read(&id, insert_id_answer("NULL")), MY_READBACK_U64_NONE);
	cr_expect_eq(my_readback_u64_read(&id, insert_id_answer("x")), MY_READBACK_U64_NONE);
	const uint8_t err[] = {0x05, 0, 0, 1, 0xff, 0x10, 0x04, '#', 'x'};
	cr_expect_not(my_readback_u64_parse(&id, my_cur_make(err, sizeof(err))));
	buf_cleanup(&reply);
}
