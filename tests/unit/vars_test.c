/* vars_test: which SETs of session variables are tracked, and the statement that restores them. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "my_pin.h"
#include "my_vars.h"

/* parse returns 1 when the text is tracked without a pin, and the
 * variables it sets joined by ";". */
static int parse(const char *sql, char *out, size_t out_len)
{
	struct my_session_change ch;
	my_classify(&ch, (struct my_sql_mode){MY_MODE_OFF, MY_MODE_OFF, false, 0, false, MY_SERVER_EITHER}, MY_TEXT_QUERY,
		    (const uint8_t *)sql, strlen(sql));
	int r = ch.pin == MY_PIN_NONE && ch.vars.n > 0;
	out[0] = '\0';
	for (uint8_t i = 0; r && i < ch.vars.n; i++) {
		strncat(out, ch.vars.v[i].text, out_len - strlen(out) - 1);
		strncat(out, ";", out_len - strlen(out) - 1);
	}
	my_session_change_cleanup(&ch);
	return r;
}

Test(vars, tracked_sets)
{
	const struct {
		const char *sql, *want;
	} cases[] = {
		{"SET sql_mode = 'ANSI_QUOTES'", "sql_mode='ANSI_QUOTES';"},
		{"set SESSION wait_timeout=123, @@session.Time_Zone := '+02:00';",
		 "wait_timeout=123;time_zone='+02:00';"},
		{"SET @@max_statement_time = 1.5, LOCAL foreign_key_checks = OFF",
		 "max_statement_time=1.5;foreign_key_checks=OFF;"},
		{"SET @@local.sql_select_limit = -1e3 /* note */", "sql_select_limit=-1e3;"},
		{"SET div_precision_increment = DEFAULT", "div_precision_increment=DEFAULT;"},
		{"SET tx_isolation = 'READ-COMMITTED'", "tx_isolation='READ-COMMITTED';"},
		{"SET sql_mode='', sql_mode='TRADITIONAL'", "sql_mode='TRADITIONAL';"},
		{"set autocommit=0", "autocommit=0;"},
		{"SET SESSION TRANSACTION READ ONLY", "transaction_read_only=ON;"},
	};
	char got[256];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_expect_eq(parse(cases[i].sql, got, sizeof(got)), 1, "%s", cases[i].sql);
		cr_expect_str_eq(got, cases[i].want, "%s", cases[i].sql);
	}
}

Test(vars, sets_that_pin)
{
	const char *const pinned[] = {
		"SET NAMES utf8mb4",
		"SET character_set_results = NULL",
		"SET collation_connection = 'utf8mb4_bin'",
		"SET TRANSACTION ISOLATION LEVEL SERIALIZABLE",
		"SET GLOBAL wait_timeout = 10",
		"SET @@global.wait_timeout = 10",
		"SET @x = 1",
		"SET wait_timeout = 10, @x = 1",
		"SET sql_mode = CONCAT(@@sql_mode, ',STRICT_ALL_TABLES')",
		"SET sql_mode = \"ANSI\"",
		"SET sql_mode = 'it''s'",
		"SET sql_mode = 'a\\'b'",
		"SET sql_mode = 'unterminated",
		"SET timestamp = 1700000000",
		"SET insert_id = 5",
		"SET session_track_schema = ON",
		"SET wait_timeout = @@global.wait_timeout",
		"SET wait_timeout = 10abc",
		"SET wait_timeout = CURRENT_TIMESTAMP",
		"SET STATEMENT max_statement_time = 1 FOR SELECT 1",
		"SET /*!50000 wait_timeout = 10 */",
		"SET",
		"SELECT 1",
	};
	char got[256];
	for (size_t i = 0; i < sizeof(pinned) / sizeof(pinned[0]); i++) {
		cr_expect_eq(parse(pinned[i], got, sizeof(got)), 0, "%s", pinned[i]);
		cr_expect_str_eq(got, "", "%s", pinned[i]);
	}
}

static void put(struct my_vars *vs, const char *name, const char *value)
{
	cr_assert(my_vars_put(vs, name, strlen(name), value, strlen(value)));
}

/* restore renders the statement taking |have| to |want|. */
static const char *restore(const struct my_vars *have, const struct my_vars *want)
{
	static char sql[512];
	struct buf out = {0};
	struct my_bld b;
	my_bld_init(&b, &out, sizeof(sql));
	my_vars_write_restore(have, want, &b);
	cr_assert(my_bld_ok(&b));
	snprintf(sql, sizeof(sql), "%.*s", (int)buf_avail(&out), (const char *)buf_head(&out));
	buf_cleanup(&out);
	return sql;
}

Test(vars, apply_equal_restore)
{
	struct my_vars client = {0}, conn = {0}, change = {0};
	put(&change, "sql_mode", "'ANSI'");
	put(&change, "wait_timeout", "100");
	cr_assert(my_vars_apply(&client, &change));
	cr_expect_eq(client.n, 2);
	cr_expect_not(my_vars_equal(&client, &conn));
	cr_expect_str_eq(restore(&conn, &client), "SET SESSION sql_mode='ANSI', wait_timeout=100");

	/* A fresh connection given this client's variables, in another order. */
	put(&conn, "wait_timeout", "100");
	put(&conn, "sql_mode", "'ANSI'");
	cr_expect(my_vars_equal(&client, &conn));

	/* DEFAULT takes a name out; the connection still has it. */
	my_vars_clear(&change);
	put(&change, "wait_timeout", "DEFAULT");
	put(&change, "time_zone", "'+01:00'");
	cr_assert(my_vars_apply(&client, &change));
	cr_expect_eq(client.n, 2);
	cr_expect_str_eq(restore(&conn, &client),
			 "SET SESSION time_zone='+01:00', wait_timeout=DEFAULT");

	/* A client with none, on a connection with some: everything back. */
	struct my_vars none = {0};
	cr_expect_str_eq(restore(&conn, &none), "SET SESSION wait_timeout=DEFAULT, sql_mode=DEFAULT");

	cr_assert(my_vars_assign(&conn, &client));
	cr_expect(my_vars_equal(&client, &conn));
	my_vars_clear(&client);
	my_vars_clear(&conn);
	my_vars_clear(&change);
	cr_expect_eq(client.n, 0);
	cr_expect_null(client.v);
}

/* A variable set under one name and then its alias is one variable: a
 * restore never names it twice (t22: B's default_storage_engine came back
 * followed by storage_engine=DEFAULT). */
Test(vars, aliases_are_one_variable)
{
	struct my_vars client = {0}, conn = {0}, change = {0};
	char got[256];
	put(&conn, "storage_engine", "'Aria'");
	put(&client, "default_storage_engine", "'MyISAM'");
	cr_expect_str_eq(restore(&conn, &client), "SET SESSION default_storage_engine='MyISAM'");
	cr_expect_str_eq(restore(&client, &(struct my_vars){0}),
			 "SET SESSION default_storage_engine=DEFAULT");

	put(&change, "tx_isolation", "'SERIALIZABLE'");
	put(&change, "transaction_isolation", "'READ-COMMITTED'");
	cr_expect_eq(change.n, 1);
	cr_expect_str_eq(my_vars_get(&change, "tx_isolation"), "'READ-COMMITTED'");
	cr_assert(my_vars_apply(&conn, &change));
	my_vars_clear(&change);
	put(&change, "transaction_isolation", "DEFAULT");
	cr_assert(my_vars_apply(&conn, &change));
	cr_expect_null(my_vars_get(&conn, "tx_isolation"));

	cr_expect_eq(parse("SET tx_read_only = 1, transaction_read_only = 0", got, sizeof(got)), 1);
	cr_expect_str_eq(got, "transaction_read_only=0;");
	cr_expect_eq(parse("SET sql_max_join_size = 10, max_join_size = 20", got, sizeof(got)), 1);
	cr_expect_str_eq(got, "max_join_size=20;");
	my_vars_clear(&client);
	my_vars_clear(&conn);
	my_vars_clear(&change);
}

Test(vars, bounds)
{
	struct my_vars vs = {0};
	char name[16];
	for (int i = 0; i < MY_VARS_MAX; i++) {
		snprintf(name, sizeof(name), "v%d", i);
		put(&vs, name, "1");
	}
	cr_expect_not(my_vars_put(&vs, "one_more", 8, "1", 1));
	put(&vs, "v3", "2"); /* replacing still works */
	char big[MY_VAR_VALUE_MAX + 2];
	memset(big, '1', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cr_expect_not(my_vars_put(&vs, "v4", 2, big, strlen(big)));
	my_vars_clear(&vs);
}
