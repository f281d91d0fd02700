/* pin_test: which statements pin a client to its backend connection in transaction mode. */
#include <criterion/criterion.h>
#include <string.h>

#include "my_charset.h"
#include "my_pin.h"

struct pin_case {
	const char *sql;
	enum my_pin_reason want;
};

static enum my_pin_reason pin(const char *sql)
{
	return my_pin_query((const uint8_t *)sql, strlen(sql));
}

Test(pin, statements)
{
	const struct pin_case cases[] = {
		{"SELECT 1", MY_PIN_NONE},
		{"  select * from t where a = 1", MY_PIN_NONE},
		{"INSERT INTO t VALUES (1, 'a@b.c')", MY_PIN_NONE},
		{"UPDATE t SET v = 2 WHERE id = 3", MY_PIN_NONE},
		{"BEGIN", MY_PIN_NONE},
		{"START TRANSACTION READ ONLY", MY_PIN_NONE},
		{"COMMIT", MY_PIN_NONE},
		{"SELECT @@version_comment LIMIT 1", MY_PIN_NONE},
		{"SELECT `@odd``name` FROM t", MY_PIN_NONE},
		{"SELECT 'GET_LOCK(1)' AS s", MY_PIN_NONE},
		{"SELECT \"it\\\"s @x\"", MY_PIN_NONE},
		{"/* app=api */ SELECT 1", MY_PIN_NONE},
		{"-- note\nSELECT 1", MY_PIN_NONE},
		{"SET autocommit = 0", MY_PIN_SET},
		{"set names utf8mb4", MY_PIN_SET},
		{"SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", MY_PIN_SET},
		{"SET @x = 1", MY_PIN_SET},
		{"SELECT @x := 1", MY_PIN_USER_VARIABLE},
		{"SELECT * FROM t WHERE id = @id", MY_PIN_USER_VARIABLE},
		{"CREATE TEMPORARY TABLE tmp (a INT)", MY_PIN_TEMPORARY_TABLE},
		{"create temporary table if not exists t2 select 1", MY_PIN_TEMPORARY_TABLE},
		{"DROP TEMPORARY TABLE tmp", MY_PIN_TEMPORARY_TABLE},
		{"PREPARE s FROM 'SELECT 1'", MY_PIN_PREPARED_STATEMENT},
		{"EXECUTE s", MY_PIN_PREPARED_STATEMENT},
		{"LOCK TABLES t WRITE", MY_PIN_LOCK_TABLES},
		{"SELECT GET_LOCK('job', 10)", MY_PIN_NAMED_LOCK},
		{"SELECT SQL_CALC_FOUND_ROWS * FROM t LIMIT 1", MY_PIN_FOUND_ROWS},
		{"SELECT FOUND_ROWS()", MY_PIN_FOUND_ROWS},
		{"SELECT LAST_INSERT_ID()", MY_PIN_NONE}, /* tracked and restored */
		{"select last_insert_id ( ) as id", MY_PIN_NONE},
		{"SELECT LAST_INSERT_ID(42)", MY_PIN_LAST_INSERT_ID},
		{"UPDATE seq SET id = LAST_INSERT_ID(id + 1)", MY_PIN_LAST_INSERT_ID},
		{"/*!40101 SET NAMES utf8 */", MY_PIN_EXECUTABLE_COMMENT},
		{"SELECT 1 /*!50000 , @x := 2 */", MY_PIN_EXECUTABLE_COMMENT},
		{"HANDLER t OPEN", MY_PIN_HANDLER},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_expect_eq(pin(cases[i].sql), cases[i].want, "%s: got %s, want %s", cases[i].sql,
			     my_pin_reason_str(pin(cases[i].sql)), my_pin_reason_str(cases[i].want));
}

Test(pin, use_schema)
{
	char db[64];
	const char *q = "USE sbtest";
	cr_expect_eq(my_query_use_schema((const uint8_t *)q, strlen(q), db, sizeof(db)), 1);
	cr_expect_str_eq(db, "sbtest");
	q = "use `odd``name`;";
	cr_expect_eq(my_query_use_schema((const uint8_t *)q, strlen(q), db, sizeof(db)), 1);
	cr_expect_str_eq(db, "odd`name");
	q = "SELECT 1";
	cr_expect_eq(my_query_use_schema((const uint8_t *)q, strlen(q), db, sizeof(db)), 0);
	q = "USE a b";
	cr_expect_eq(my_query_use_schema((const uint8_t *)q, strlen(q), db, sizeof(db)), -1);
	q = "USE `unterminated";
	cr_expect_eq(my_query_use_schema((const uint8_t *)q, strlen(q), db, sizeof(db)), -1);
}

Test(pin, set_names)
{
	char cs[32], coll[64];
	const char *q = "SET NAMES utf8mb4";
	cr_expect_eq(my_query_set_names((const uint8_t *)q, strlen(q), cs, sizeof(cs), coll, sizeof(coll)), 1);
	cr_expect_str_eq(cs, "utf8mb4");
	cr_expect_str_eq(coll, "");
	q = "set names 'latin1' collate 'latin1_bin';";
	cr_expect_eq(my_query_set_names((const uint8_t *)q, strlen(q), cs, sizeof(cs), coll, sizeof(coll)), 1);
	cr_expect_str_eq(cs, "latin1");
	cr_expect_str_eq(coll, "latin1_bin");
	q = "SET NAMES utf8, @x = 1";
	cr_expect_eq(my_query_set_names((const uint8_t *)q, strlen(q), cs, sizeof(cs), coll, sizeof(coll)), -1);
	q = "SET autocommit = 1";
	cr_expect_eq(my_query_set_names((const uint8_t *)q, strlen(q), cs, sizeof(cs), coll, sizeof(coll)), 0);
	cr_expect_eq(my_collation_by_name("utf8mb4", "")->id, 45);
	cr_expect_eq(my_collation_by_name("utf8", NULL)->id, 33);
	cr_expect_eq(my_collation_by_name("latin1", "latin1_bin")->id, 47);
	cr_expect_null(my_collation_by_name("klingon", NULL));
}

static bool is_read(const char *sql)
{
	return my_query_is_read((const uint8_t *)sql, strlen(sql));
}

Test(pin, reads_that_may_be_sent_twice)
{
	cr_expect(is_read("SELECT c FROM sbtest1 WHERE id=42"));
	cr_expect(is_read("  /* app */ select 1"));
	cr_expect(is_read("SHOW TABLES"));
	cr_expect(is_read("SELECT 'for update; into @x' AS s FROM t"));
	cr_expect(is_read("SELECT @@version"));
	cr_expect_not(is_read("SELECT * FROM t WHERE id = 1 FOR UPDATE"));
	cr_expect_not(is_read("SELECT * FROM t LOCK IN SHARE MODE"));
	cr_expect_not(is_read("SELECT 1 INTO @x"));
	cr_expect_not(is_read("SELECT a INTO OUTFILE '/tmp/x' FROM t"));
	cr_expect_not(is_read("SELECT NEXTVAL(s)"));
	cr_expect_not(is_read("SELECT GET_LOCK('x', 1)"));
	cr_expect_not(is_read("SELECT @x := 1"));
	cr_expect_not(is_read("SELECT 1; DELETE FROM t"));
	cr_expect_not(is_read("/*!50000 SELECT */ 1"));
	cr_expect_not(is_read("SELECT /*! SLEEP(1) */ 1"));
	cr_expect_not(is_read("INSERT INTO t SELECT * FROM u"));
	cr_expect_not(is_read("UPDATE t SET a = 1"));
	cr_expect_not(is_read(""));
}
