/* pin_test: what each text does to the session: tracked, pinned, or nothing, statement by statement. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "my_charset.h"
#include "my_pin.h"

static const struct my_sql_mode plain = {MY_MODE_OFF, MY_MODE_OFF, false, 0, false, MY_SERVER_EITHER};
static const struct my_sql_mode nbe = {MY_MODE_ON, MY_MODE_OFF, false, 0, false, MY_SERVER_EITHER};
static const struct my_sql_mode ansi = {MY_MODE_OFF, MY_MODE_ON, false, 0, false, MY_SERVER_EITHER};
static const struct my_sql_mode unknown = {MY_MODE_UNKNOWN, MY_MODE_UNKNOWN, false, 0, false, MY_SERVER_EITHER};
static const struct my_sql_mode mariadb = {MY_MODE_OFF, MY_MODE_OFF, false, 0, false, MY_SERVER_MARIADB};
static const struct my_sql_mode mysql = {MY_MODE_OFF, MY_MODE_OFF, false, 0, false, MY_SERVER_MYSQL};

struct pin_case {
	const char *sql;
	enum my_pin_reason want;
	const char *tracked; /* what is tracked, rendered by render(); "" none */
	struct my_sql_mode mode;
	enum my_text_kind kind;
};

/* render writes "db=x;coll=N;a=1;b=?;next;" for what |ch| tracks (b: read
 * back; next: the next transaction's characteristics). */
static void render(const struct my_session_change *ch, char *out, size_t out_len)
{
	size_t o = 0;
	out[0] = '\0';
	if (ch->use)
		o += (size_t)snprintf(out + o, out_len - o, "db=%s;", ch->db);
	if (ch->collation)
		o += (size_t)snprintf(out + o, out_len - o, "coll=%u;", ch->collation);
	for (uint8_t i = 0; i < ch->vars.n && o < out_len; i++)
		o += (size_t)snprintf(out + o, out_len - o, "%s;", ch->vars.v[i].text);
	for (uint8_t i = 0; i < ch->readback.n && o < out_len; i++)
		o += (size_t)snprintf(out + o, out_len - o, "%s?;", ch->readback.v[i].text);
	if (ch->next_transaction && o < out_len)
		o += (size_t)snprintf(out + o, out_len - o, "next;");
}

static void check(const struct pin_case *c)
{
	struct my_session_change ch;
	char got[512];
	my_classify(&ch, c->mode, c->kind, (const uint8_t *)c->sql, strlen(c->sql));
	render(&ch, got, sizeof(got));
	cr_expect_eq(ch.pin, c->want, "%s: pin %s, want %s", c->sql, my_pin_reason_str(ch.pin),
		     my_pin_reason_str(c->want));
	cr_expect_str_eq(got, c->tracked, "%s: tracked \"%s\", want \"%s\"", c->sql, got,
			 c->tracked);
	my_session_change_cleanup(&ch);
}

#define Q(sql, pin, tracked) {sql, pin, tracked, plain, MY_TEXT_QUERY}

Test(pin, single_statements)
{
	const struct pin_case cases[] = {
		Q("SELECT 1", MY_PIN_NONE, ""),
		Q("  select * from t where a = 1", MY_PIN_NONE, ""),
		Q("INSERT INTO t VALUES (1, 'a@b.c')", MY_PIN_NONE, ""),
		Q("UPDATE t SET v = 2 WHERE id = 3", MY_PIN_NONE, ""),
		Q("BEGIN", MY_PIN_NONE, ""),
		Q("START TRANSACTION READ ONLY", MY_PIN_NONE, ""),
		Q("COMMIT", MY_PIN_NONE, ""),
		Q("SELECT @@version_comment LIMIT 1", MY_PIN_NONE, ""),
		Q("SELECT `@odd``name` FROM t", MY_PIN_NONE, ""),
		Q("SELECT 'GET_LOCK(1)' AS s", MY_PIN_NONE, ""),
		Q("SELECT \"it\\\"s @x\"", MY_PIN_NONE, ""),
		Q("/* app=api */ SELECT 1", MY_PIN_NONE, ""),
		Q("-- note\nSELECT 1", MY_PIN_NONE, ""),
		Q("SET autocommit = 0", MY_PIN_NONE, "autocommit=0;"),
		Q("set names utf8mb4", MY_PIN_NONE, "coll=45;"),
		Q("SET NAMES klingon", MY_PIN_SET, ""),
		Q("USE sbtest", MY_PIN_NONE, "db=sbtest;"),
		Q("use `odd``name`;", MY_PIN_NONE, "db=odd`name;"),
		Q("USE a b", MY_PIN_OTHER_COMMAND, ""),
		Q("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", MY_PIN_NONE, "next;"),
		Q("SET TRANSACTION READ ONLY, ISOLATION LEVEL READ COMMITTED", MY_PIN_NONE, "next;"),
		Q("SET TRANSACTION ISOLATION LEVEL READ SOMETIMES", MY_PIN_SET, ""),
		Q("SET GLOBAL TRANSACTION ISOLATION LEVEL SERIALIZABLE", MY_PIN_SET, ""),
		Q("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED", MY_PIN_NONE,
		  "transaction_isolation='READ-COMMITTED';"),
		Q("set local transaction read write, isolation level repeatable read", MY_PIN_NONE,
		  "transaction_read_only=OFF;transaction_isolation='REPEATABLE-READ';"),
		Q("SET @x = 1", MY_PIN_SET, ""),
		Q("SET sql_mode = CONCAT(@@sql_mode, ',ANSI')", MY_PIN_NONE, "sql_mode=?;"),
		Q("set autocommit=1, sql_mode = concat(@@sql_mode,',STRICT_TRANS_TABLES')",
		  MY_PIN_NONE, "autocommit=1;sql_mode=?;"),
		Q("SET wait_timeout = @@global.wait_timeout + 1, time_zone = 'SYSTEM'", MY_PIN_NONE,
		  "time_zone='SYSTEM';wait_timeout=?;"),
		Q("SET sql_mode = CONCAT(@x, 'ANSI')", MY_PIN_SET, ""),
		Q("SET wait_timeout = f(1)", MY_PIN_SET, ""),
		Q("SET wait_timeout = db.f(1)", MY_PIN_SET, ""),
		Q("SET wait_timeout = (SELECT GET_LOCK('a', 1))", MY_PIN_SET, ""),
		Q("SET wait_timeout = (SELECT 1 INTO @y)", MY_PIN_SET, ""),
		Q("SET wait_timeout = (1", MY_PIN_SET, ""),
		Q("SET wait_timeout = 1), sql_mode = ''", MY_PIN_SET, ""),
		Q("SELECT @x := 1", MY_PIN_USER_VARIABLE, ""),
		Q("SELECT @'quoted'", MY_PIN_USER_VARIABLE, ""),
		Q("SELECT * FROM t WHERE id = @id", MY_PIN_USER_VARIABLE, ""),
		Q("CREATE TEMPORARY TABLE tmp (a INT)", MY_PIN_TEMPORARY_TABLE, ""),
		Q("create temporary table if not exists t2 select 1", MY_PIN_TEMPORARY_TABLE, ""),
		Q("DROP TEMPORARY TABLE tmp", MY_PIN_TEMPORARY_TABLE, ""),
		Q("PREPARE s FROM 'SELECT 1'", MY_PIN_PREPARED_STATEMENT, ""),
		Q("EXECUTE s", MY_PIN_PREPARED_STATEMENT, ""),
		Q("LOCK TABLES t WRITE", MY_PIN_LOCK_TABLES, ""),
		Q("SELECT GET_LOCK('job', 10)", MY_PIN_NAMED_LOCK, ""),
		Q("SELECT SQL_CALC_FOUND_ROWS * FROM t LIMIT 1", MY_PIN_FOUND_ROWS, ""),
		Q("SELECT FOUND_ROWS()", MY_PIN_FOUND_ROWS, ""),
		Q("SELECT LAST_INSERT_ID()", MY_PIN_NONE, ""), /* tracked and restored */
		Q("select last_insert_id ( ) as id", MY_PIN_NONE, ""),
		Q("SELECT LAST_INSERT_ID(42)", MY_PIN_LAST_INSERT_ID, ""),
		Q("UPDATE seq SET id = LAST_INSERT_ID(id + 1)", MY_PIN_LAST_INSERT_ID, ""),
		Q("HANDLER t OPEN", MY_PIN_HANDLER, ""),
		Q("CALL p()", MY_PIN_CALL, ""),
		Q("call db.proc(1, @out)", MY_PIN_CALL, ""),
		Q("FLUSH TABLES WITH READ LOCK", MY_PIN_GLOBAL_LOCK, ""),
		Q("flush tables t1, t2 for export", MY_PIN_GLOBAL_LOCK, ""),
		Q("FLUSH TABLES", MY_PIN_NONE, ""),
		Q("BACKUP STAGE START", MY_PIN_GLOBAL_LOCK, ""),
		Q("XA START 'x'", MY_PIN_OTHER_COMMAND, ""),
		Q("BEGIN NOT ATOMIC SET @a = 1; END", MY_PIN_SET, ""),
		/* a compound statement that runs may call a procedure by its bare
		 * name (MariaDB's sql_mode=ORACLE), and BEGIN ... END is one there */
		Q("IF 1 THEN DO 1; END IF", MY_PIN_CALL, ""),
		Q("BEGIN SET SESSION time_zone = '+05:00'; END", MY_PIN_SET, ""),
		Q("begin\nnull; end", MY_PIN_CALL, ""),
		Q("BEGIN WORK; END", MY_PIN_CALL, ""),
		Q("BEGIN WORK", MY_PIN_NONE, ""),
		Q("BEGIN WORK;", MY_PIN_NONE, ""),
		Q("BEGIN;", MY_PIN_NONE, ""),
		Q("begin ; commit", MY_PIN_NONE, ""),
		Q("CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END", MY_PIN_NONE, ""),
		/* conservative: the body is read as if it ran */
		Q("CREATE PROCEDURE p() BEGIN SET x = 1; END", MY_PIN_SET, ""),
		Q("CREATE TABLE t (a INT); SELECT 1", MY_PIN_NONE, ""),
		Q("", MY_PIN_NONE, ""),
		Q(";;", MY_PIN_NONE, ""),
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check(&cases[i]);
}

/* Every statement of a multi-statement is read (issue #14, defect 3). */
Test(pin, multi_statements)
{
	const struct pin_case cases[] = {
		Q("SELECT 1; SET SESSION sql_mode='ANSI_QUOTES'; SET autocommit=0; USE otherdb",
		  MY_PIN_NONE, "db=otherdb;sql_mode='ANSI_QUOTES';autocommit=0;"),
		Q("SELECT 1; SET NAMES latin1", MY_PIN_NONE, "coll=8;"),
		Q("SELECT 1; PREPARE s FROM 'SELECT 1'", MY_PIN_PREPARED_STATEMENT, ""),
		Q("SELECT 1; LOCK TABLES t READ", MY_PIN_LOCK_TABLES, ""),
		Q("DO 1; CREATE TEMPORARY TABLE t (a INT)", MY_PIN_TEMPORARY_TABLE, ""),
		Q("SELECT 1;SELECT @x", MY_PIN_USER_VARIABLE, ""),
		Q("SET wait_timeout = 10; SELECT 1", MY_PIN_NONE, "wait_timeout=10;"),
		Q("SET a = 1; SET a = DEFAULT; SET b = 2", MY_PIN_NONE, "a=DEFAULT;b=2;"),
		/* a pin does not hide a later USE: COM_RESET_CONNECTION keeps it */
		Q("SET @x = 1; USE other", MY_PIN_SET, "db=other;"),
		Q("SELECT ';'; SELECT \";\"; SELECT `;`", MY_PIN_NONE, ""),
		Q("SELECT 1 -- ; SET @x=1\n; SELECT 2", MY_PIN_NONE, ""),
		Q("SELECT 1 /* ; SET @x=1 */; SELECT 2", MY_PIN_NONE, ""),
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check(&cases[i]);
}

/* A literal SET sql_mode changes how the rest of the text reads; an
 * unknown mode pins only where the readings differ (defect 7). */
Test(pin, sql_mode_lexing)
{
	const struct pin_case cases[] = {
		{"SELECT '\\', @x:=1 -- '", MY_PIN_NONE, "", plain, MY_TEXT_QUERY},
		{"SELECT '\\', @x:=1 -- '", MY_PIN_USER_VARIABLE, "", nbe, MY_TEXT_QUERY},
		{"SELECT '\\', @x:=1 -- '", MY_PIN_SQL_MODE, "", unknown, MY_TEXT_QUERY},
		{"SELECT \"\\\", @x:=1 -- \"", MY_PIN_NONE, "", plain, MY_TEXT_QUERY},
		{"SELECT \"\\\", @x:=1 -- \"", MY_PIN_USER_VARIABLE, "", ansi, MY_TEXT_QUERY},
		{"SELECT \"\\\", @x:=1 -- \"", MY_PIN_SQL_MODE, "",
		 (struct my_sql_mode){MY_MODE_OFF, MY_MODE_UNKNOWN, false, 0, false, MY_SERVER_EITHER}, MY_TEXT_QUERY},
		{"SELECT 'a\\\\b', \"c\", 'it''s'", MY_PIN_NONE, "", unknown, MY_TEXT_QUERY},
		{"SET sql_mode='NO_BACKSLASH_ESCAPES'; SELECT '\\', @x:=1 -- '",
		 MY_PIN_USER_VARIABLE, "sql_mode='NO_BACKSLASH_ESCAPES';", plain, MY_TEXT_QUERY},
		{"SET sql_mode='ANSI'; SELECT \"\\\", @x:=1 -- \"", MY_PIN_USER_VARIABLE,
		 "sql_mode='ANSI';", plain, MY_TEXT_QUERY},
		{"SET sql_mode=''; SELECT '\\', @x:=1 -- '", MY_PIN_NONE, "sql_mode='';", nbe,
		 MY_TEXT_QUERY},
		{"SET sql_mode=DEFAULT; SELECT 'a\\'b'", MY_PIN_SQL_MODE, "sql_mode=DEFAULT;", plain,
		 MY_TEXT_QUERY},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check(&cases[i]);
	struct my_vars vs = {0};
	cr_assert(my_vars_put(&vs, "sql_mode", 8, "'ANSI_QUOTES,NO_BACKSLASH_ESCAPES'", 34));
	struct my_sql_mode m = my_sql_mode_of(&vs);
	cr_expect_eq(m.ansi_quotes, MY_MODE_ON);
	cr_expect_eq(m.no_backslash_escapes, MY_MODE_ON);
	my_vars_clear(&vs);
	m = my_sql_mode_of(&vs);
	cr_expect_eq(m.ansi_quotes, MY_MODE_UNKNOWN);
	cr_assert(my_vars_put(&vs, "sql_mode", 8, "'ANSI, NO_BACKSLASH_ESCAPES'", 28));
	m = my_sql_mode_of(&vs); /* a space: not read here */
	cr_expect_eq(m.no_backslash_escapes, MY_MODE_UNKNOWN);
	my_vars_clear(&vs);
		m = my_sql_mode_merge(plain, nbe);
	cr_expect_eq(m.no_backslash_escapes, MY_MODE_UNKNOWN);
	cr_expect_eq(m.ansi_quotes, MY_MODE_OFF);
}

/* Executable comments are read as SQL; a tracked statement inside one, or
 * a comment whose end depends on whether it runs, pins. */
Test(pin, executable_comments)
{
	const struct pin_case cases[] = {
		Q("/*!40101 SET NAMES utf8 */", MY_PIN_EXECUTABLE_COMMENT, ""),
		Q("SET /*!50000 wait_timeout = 10 */", MY_PIN_EXECUTABLE_COMMENT, ""),
		Q("SELECT 1 /*!50000 , @x := 2 */", MY_PIN_USER_VARIABLE, ""),
		Q("SELECT 1 /*M!100100 , GET_LOCK('a', 1) */", MY_PIN_NAMED_LOCK, ""),
		Q("/*!50000 LOCK */ TABLES t READ", MY_PIN_LOCK_TABLES, ""),
		Q("/*!40000 SELECT */ 1", MY_PIN_NONE, ""),
		Q("SELECT 1 /*!99999 ' */, @x := 1 -- '", MY_PIN_EXECUTABLE_COMMENT, ""),
		Q("SELECT 1 /*!99999 # */", MY_PIN_EXECUTABLE_COMMENT, ""),
		Q("SELECT 1 /*! 2 */; SET @y = 1", MY_PIN_SET, ""),
		Q("SELECT 1 /*+ hint(@x) */", MY_PIN_NONE, ""),
		Q("SELECT 1 /*! unterminated", MY_PIN_NONE, ""),
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check(&cases[i]);
}

/* A prepared text with any effect pins at prepare time (defect 4). */
Test(pin, prepared_texts)
{
	const struct pin_case cases[] = {
		{"SET SESSION time_zone='+05:00'", MY_PIN_SET, "", plain, MY_TEXT_PREPARE},
		{"SET autocommit=0", MY_PIN_SET, "", plain, MY_TEXT_PREPARE},
		{"SET TRANSACTION READ ONLY", MY_PIN_SET, "", plain, MY_TEXT_PREPARE},
		{"SET sql_mode = CONCAT(@@sql_mode, 'ANSI')", MY_PIN_SET, "", plain, MY_TEXT_PREPARE},
		{"SET @secret = ?", MY_PIN_SET, "", plain, MY_TEXT_PREPARE},
		{"SET NAMES latin1", MY_PIN_SET, "", plain, MY_TEXT_PREPARE},
		{"USE db2", MY_PIN_OTHER_COMMAND, "", plain, MY_TEXT_PREPARE},
		{"CREATE TEMPORARY TABLE t (a INT)", MY_PIN_TEMPORARY_TABLE, "", plain, MY_TEXT_PREPARE},
		{"SELECT GET_LOCK(?, 10)", MY_PIN_NAMED_LOCK, "", plain, MY_TEXT_PREPARE},
		{"PREPARE s FROM 'SELECT 1'", MY_PIN_PREPARED_STATEMENT, "", plain, MY_TEXT_PREPARE},
		{"LOCK TABLES t READ", MY_PIN_LOCK_TABLES, "", plain, MY_TEXT_PREPARE},
		{"CALL p(?)", MY_PIN_CALL, "", plain, MY_TEXT_PREPARE},
		{"SELECT * FROM t WHERE id = ?", MY_PIN_NONE, "", plain, MY_TEXT_PREPARE},
		{"INSERT INTO t VALUES (?, ?)", MY_PIN_NONE, "", plain, MY_TEXT_PREPARE},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check(&cases[i]);
}

static bool is_read(const char *sql)
{
	return my_query_is_read(plain, (const uint8_t *)sql, strlen(sql));
}

Test(pin, reads_that_may_be_sent_twice)
{
	cr_expect(is_read("SELECT c FROM sbtest1 WHERE id=42"));
	cr_expect(is_read("  /* app */ select 1"));
	cr_expect(is_read("SHOW TABLES"));
	cr_expect(is_read("SELECT 'for update; into @x' AS s FROM t"));
	cr_expect(is_read("SELECT @@version"));
	cr_expect(is_read("SELECT COUNT(*), MAX(a) FROM t WHERE b IN (1, 2) AND c = NOW()"));
	cr_expect(is_read("SELECT 1;"));
	/* the ends of the builtin table, and names either side of "_" */
	cr_expect(is_read("SELECT ABS(1), YEARWEEK(NOW()), UUID_SHORT(), CONCAT_WS(',', 'a')"));
	cr_expect(is_read("SELECT CHARSET(a), CHAR_LENGTH(a), TIMESTAMPDIFF(DAY, a, b) FROM t"));
	cr_expect_not(is_read("SELECT * FROM t WHERE id = 1 FOR UPDATE"));
	cr_expect_not(is_read("SELECT * FROM t LOCK IN SHARE MODE"));
	cr_expect_not(is_read("SELECT 1 INTO @x"));
	cr_expect_not(is_read("SELECT a INTO OUTFILE '/tmp/x' FROM t"));
	cr_expect_not(is_read("SELECT NEXTVAL(s)"));
	cr_expect_not(is_read("SELECT GET_LOCK('x', 1)"));
	cr_expect_not(is_read("SELECT @x := 1"));
	cr_expect_not(is_read("SELECT 1; DELETE FROM t"));
	cr_expect_not(is_read("SELECT 1; SELECT 2"));
	cr_expect_not(is_read("/*!50000 SELECT */ 1"));
	cr_expect_not(is_read("SELECT /*! SLEEP(1) */ 1"));
	cr_expect_not(is_read("INSERT INTO t SELECT * FROM u"));
	cr_expect_not(is_read("UPDATE t SET a = 1"));
	cr_expect_not(is_read("SELECT f()"));
	cr_expect_not(is_read("SELECT app.bump(1)"));
	cr_expect_not(is_read("SELECT a FROM t WHERE b = side_effect (a)"));
	cr_expect_not(is_read(""));
	cr_expect_not(my_query_is_read(unknown, (const uint8_t *)"SELECT 'a\\'b'", 13));
}

static bool commits(const char *sql)
{
	return my_query_is_commit(plain, (const uint8_t *)sql, strlen(sql));
}

Test(pin, a_lone_commit)
{
	cr_expect(commits("COMMIT"));
	cr_expect(commits("commit work;"));
	cr_expect(commits(" /* app */ Commit ; "));
	cr_expect_not(commits("COMMIT AND CHAIN"));
	cr_expect_not(commits("COMMIT RELEASE"));
	cr_expect_not(commits("COMMIT; DELETE FROM t"));
	cr_expect_not(commits("/*!50000 COMMIT */"));
	cr_expect_not(commits("COMMITTED"));
	cr_expect_not(commits("ROLLBACK"));
	cr_expect_not(commits(""));
}

static bool writes_nothing(const char *sql)
{
	return my_query_writes_nothing(plain, (const uint8_t *)sql, strlen(sql));
}

Test(pin, statements_a_commit_has_nothing_of)
{
	cr_expect(writes_nothing("SELECT v FROM t WHERE id = 1"));
	cr_expect(writes_nothing("BEGIN"));
	cr_expect(writes_nothing("START TRANSACTION READ ONLY"));
	cr_expect(writes_nothing("COMMIT"));
	cr_expect_not(writes_nothing("UPDATE t SET v = 1"));
	cr_expect_not(writes_nothing("SELECT f(1)")); /* a function may write */
	cr_expect_not(writes_nothing("SELECT v FROM t FOR UPDATE"));
	cr_expect_not(writes_nothing("BEGIN; INSERT INTO t VALUES (1)"));
	cr_expect_not(writes_nothing("COMMIT AND CHAIN"));
}

static bool begins(const char *sql)
{
	return my_query_begins_transaction(plain, (const uint8_t *)sql, strlen(sql));
}

Test(pin, statements_that_only_begin_a_transaction)
{
	cr_expect(begins("BEGIN"));
	cr_expect(begins("begin work;"));
	cr_expect(begins("  /* app */ BEGIN"));
	cr_expect(begins("START TRANSACTION"));
	cr_expect(begins("START TRANSACTION READ ONLY"));
	cr_expect(begins("start transaction with consistent snapshot, read write;"));
	cr_expect_not(begins("BEGIN; DELETE FROM t"));
	cr_expect_not(begins("START TRANSACTION; INSERT INTO t VALUES (1)"));
	cr_expect_not(begins("BEGIN NOT ATOMIC DELETE FROM t; END"));
	cr_expect_not(begins("BEGIN WORK; END"));
	cr_expect_not(begins("/*!50000 BEGIN */"));
	cr_expect_not(begins("START SLAVE"));
	cr_expect_not(begins("START REPLICA"));
	cr_expect_not(begins("COMMIT"));
	cr_expect_not(begins("SELECT 1"));
	cr_expect_not(begins(""));
}

static bool stays(const char *sql)
{
	return my_query_stays_in_transaction(plain, (const uint8_t *)sql, strlen(sql));
}

Test(pin, statements_that_never_commit_a_transaction)
{
	cr_expect(stays("SELECT c FROM sbtest1 WHERE id=42"));
	cr_expect(stays("UPDATE sbtest1 SET k=k+1 WHERE id=7"));
	cr_expect(stays("  insert into t values (1, 'commit')"));
	cr_expect(stays("DELETE FROM t WHERE id = 3"));
	cr_expect(stays("REPLACE INTO t VALUES (1)"));
	cr_expect(stays("SELECT * FROM t WHERE id = 1 FOR UPDATE"));
	cr_expect(stays("WITH a AS (SELECT 1) SELECT * FROM a"));
	cr_expect_not(stays("COMMIT"));
	cr_expect_not(stays("commit work"));
	cr_expect_not(stays("BEGIN"));
	cr_expect_not(stays("START TRANSACTION"));
	cr_expect_not(stays("CREATE TABLE t2 (a INT)"));
	cr_expect_not(stays("TRUNCATE TABLE t"));
	cr_expect_not(stays("SET autocommit = 1"));
	cr_expect_not(stays("LOCK TABLES t WRITE"));
	cr_expect_not(stays("CALL p()"));
	cr_expect_not(stays("SELECT 1; COMMIT"));
	cr_expect_not(stays("/*!50000 COMMIT */"));
	cr_expect_not(stays("SELECT @x := 1"));
	cr_expect_not(stays("XA END 'x'"));
	cr_expect_not(stays(""));
}

/* What a text is refused or flagged for, beyond its pin. */
struct flag_case {
	const char *sql;
	enum my_pin_reason want;
	bool kill;		 /* refused: a KILL would reach a backend session */
	bool charset_unreadable; /* later texts are not lexed */
	struct my_sql_mode mode;
};

static void check_flags(const struct flag_case *c)
{
	struct my_session_change ch;
	my_classify(&ch, c->mode, MY_TEXT_QUERY, (const uint8_t *)c->sql, strlen(c->sql));
	cr_expect_eq(ch.pin, c->want, "%s: pin %s, want %s", c->sql, my_pin_reason_str(ch.pin),
		     my_pin_reason_str(c->want));
	cr_expect_eq(ch.kill, c->kill, "%s: kill %d", c->sql, ch.kill);
	cr_expect_eq(ch.charset_unreadable, c->charset_unreadable, "%s: charset_unreadable %d",
		     c->sql, ch.charset_unreadable);
	my_session_change_cleanup(&ch);
}

static const struct my_sql_mode gbk = {MY_MODE_OFF, MY_MODE_OFF, true, 0, false, MY_SERVER_EITHER};

/* In gbk, big5, cp932, sjis and gb18030, 0xBF 0x5C is one character: the
 * server does not read a backslash there. Such texts are not lexed: they
 * pin, and a KILL anywhere in their bytes refuses them (t2, t3). */
Test(pin, charsets_not_lexed)
{
	const struct flag_case cases[] = {
		{"SELECT 1", MY_PIN_CHARSET, false, true, gbk},
		{"SELECT 'x\xbf\\'; SET @a = 1 #'", MY_PIN_CHARSET, false, true, gbk},
		{"SELECT 'x\xbf\\'; KILL QUERY 7 #'", MY_PIN_CHARSET, true, true, gbk},
		{"SELECT 'x\xbf\\'; /*!50000KILL 7*/ #'", MY_PIN_CHARSET, true, true, gbk},
		{"SELECT skill, kills FROM t", MY_PIN_CHARSET, false, true, gbk},
		{"", MY_PIN_NONE, false, false, gbk},
		/* the charset changes part-way */
		{"SET NAMES gbk; SELECT 'x\xbf\\'; KILL 7 #'", MY_PIN_CHARSET, true, true, plain},
		{"SET NAMES gbk", MY_PIN_NONE, false, true, plain},
		{"SET NAMES utf8mb4", MY_PIN_NONE, false, false, plain},
		{"SET NAMES big5", MY_PIN_SET, false, true, plain},
		{"SET CHARACTER SET gbk; SELECT 'x\xbf\\'; KILL 7 #'", MY_PIN_SET, true, true, plain},
		{"SET CHARSET sjis", MY_PIN_SET, false, true, plain},
		{"SET CHAR SET cp932", MY_PIN_SET, false, true, plain},
		{"SET character_set_client = gbk", MY_PIN_SET, false, true, plain},
		{"SET SESSION character_set_client = 'gbk'", MY_PIN_SET, false, true, plain},
		{"SET @@session.character_set_client = 'gbk'", MY_PIN_SET, false, true, plain},
		{"SET @x = 1, @@character_set_client = 'gbk'", MY_PIN_SET, false, true, plain},
		{"SET `character_set_client` = 'gbk'", MY_PIN_SET, false, true, plain},
		{"SET character_set_results = gbk", MY_PIN_SET, false, false, plain},
		{"CALL p()", MY_PIN_CALL, false, true, plain},
		{"PREPARE s FROM 'SET NAMES gbk'", MY_PIN_PREPARED_STATEMENT, false, true, plain},
		{"PREPARE s FROM @text", MY_PIN_PREPARED_STATEMENT, false, true, plain},
		/* an introducer names a literal's charset, not the text's */
		{"SELECT _gbk'x\xbf\\', 1", MY_PIN_NONE, false, false, plain},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_flags(&cases[i]);
	cr_expect(my_collation_hides_backslash(28));  /* gbk_chinese_ci */
	cr_expect(my_collation_hides_backslash(1));   /* big5_chinese_ci */
	cr_expect(my_collation_hides_backslash(13));  /* sjis_japanese_ci */
	cr_expect(my_collation_hides_backslash(95));  /* cp932_japanese_ci */
	cr_expect(my_collation_hides_backslash(248)); /* gb18030_chinese_ci */
	cr_expect_not(my_collation_hides_backslash(45));
	cr_expect_not(my_collation_hides_backslash(8));
	cr_expect(my_sql_mode_merge(plain, gbk).charset_unreadable);
}

/* A quoted identifier before "(" is the function of that name (t1, t5). */
Test(pin, quoted_function_names)
{
	const struct pin_case cases[] = {
		Q("SELECT `GET_LOCK`('l', 0)", MY_PIN_NAMED_LOCK, ""),
		Q("SELECT `get_lock` ('l', 0)", MY_PIN_NAMED_LOCK, ""),
		Q("SELECT `LAST_INSERT_ID`(4242)", MY_PIN_LAST_INSERT_ID, ""),
		Q("SELECT `FOUND_ROWS`()", MY_PIN_FOUND_ROWS, ""),
		Q("SELECT `RELEASE_ALL_LOCKS` /* c */ ()", MY_PIN_NAMED_LOCK, ""),
		Q("SELECT `test`.`GET_LOCK`('l', 0)", MY_PIN_NAMED_LOCK, ""),
		Q("SELECT /*!50000 `GET_LOCK`*/('l', 0)", MY_PIN_NAMED_LOCK, ""),
		Q("SELECT `GET_LOCK` FROM t", MY_PIN_NONE, ""),
		Q("SELECT `GET``LOCK`('l', 0)", MY_PIN_STORED_FUNCTION, ""), /* not the builtin */
		Q("SELECT 'GET_LOCK'('l', 0)", MY_PIN_NONE, ""),
		Q("SELECT \"GET_LOCK\"('l', 0)", MY_PIN_NONE, ""), /* a string here */
		{"SELECT \"GET_LOCK\"('l', 0)", MY_PIN_NAMED_LOCK, "", ansi, MY_TEXT_QUERY},
		{"SELECT \"GET_LOCK\"('l', 0)", MY_PIN_NAMED_LOCK, "", unknown, MY_TEXT_QUERY},
		{"SELECT `GET_LOCK`(?, 0)", MY_PIN_NAMED_LOCK, "", plain, MY_TEXT_PREPARE},
		Q("SET optimizer_trace = 'enabled=on'", MY_PIN_SET, ""),
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check(&cases[i]);
	cr_expect_not(is_read("SELECT `SLEEP`(1)"));
	cr_expect_not(is_read("SELECT `NEXTVAL`(s)"));
}

/* A function that is not the server's own runs with the client's session
 * and may leave anything there; names before "(" that are tables, common
 * table expressions or aliases are not calls. */
Test(pin, stored_functions)
{
	const struct pin_case cases[] = {
		Q("SELECT f_setvar()", MY_PIN_STORED_FUNCTION, ""),
		Q("select Lower(a), my_func (a) from t", MY_PIN_STORED_FUNCTION, ""),
		Q("SELECT sbtest.f(1)", MY_PIN_STORED_FUNCTION, ""),
		Q("SELECT `sbtest`.`ABS`(1)", MY_PIN_STORED_FUNCTION, ""), /* qualified: stored */
		Q("SELECT `f`(1)", MY_PIN_STORED_FUNCTION, ""),
		Q("SELECT f /* c */ (1)", MY_PIN_STORED_FUNCTION, ""),
		Q("(SELECT f())", MY_PIN_STORED_FUNCTION, ""),
		Q("SELECT REPLACE(f(x), 'a', 'b')", MY_PIN_STORED_FUNCTION, ""),
		Q("SELECT a AS x FROM t WHERE f(a)", MY_PIN_STORED_FUNCTION, ""),
		Q("INSERT IGNORE INTO `db`.`t` (a) VALUES (f(1))", MY_PIN_STORED_FUNCTION, ""),
		Q("UPDATE t SET a = f(a) WHERE id = 1", MY_PIN_STORED_FUNCTION, ""),
		Q("DELETE FROM t WHERE f(a)", MY_PIN_STORED_FUNCTION, ""),
		Q("DO f()", MY_PIN_STORED_FUNCTION, ""),
		Q("SELECT 1; SELECT f()", MY_PIN_STORED_FUNCTION, ""),
		{"SELECT f(?)", MY_PIN_STORED_FUNCTION, "", plain, MY_TEXT_PREPARE},
		Q("SELECT JSON_EXTRACT('{}', '$'), REGEXP_LIKE('a', 'a'), COUNT(*), IF(1, 2, 3), "
		  "CAST(1 AS CHAR(3)), SUBSTRING('abc' FROM 2), TRIM(LEADING 'a' FROM 'ab'), "
		  "ST_ASTEXT(POINT(1, 2)), JSON_ARRAYAGG(a) OVER (PARTITION BY b) FROM t",
		  MY_PIN_NONE, ""),
		Q("SELECT 1 FROM t USE INDEX (i) WHERE a IN (1, 2) AND MATCH (b) AGAINST ('x')",
		  MY_PIN_NONE, ""),
		Q("INSERT INTO t (a, b) VALUES (1, 2)", MY_PIN_NONE, ""),
		Q("INSERT t (a) VALUES (1)", MY_PIN_NONE, ""),
		Q("INSERT INTO db.t (a) SELECT a FROM u", MY_PIN_NONE, ""),
		Q("INSERT INTO `t` (a) VALUES (1) AS new (x) ON DUPLICATE KEY UPDATE a = new.x",
		  MY_PIN_NONE, ""),
		Q("REPLACE INTO t (a) VALUES (1)", MY_PIN_NONE, ""),
		Q("WITH RECURSIVE c (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 3) "
		  "SELECT * FROM c",
		  MY_PIN_NONE, ""),
		Q("SELECT * FROM (SELECT 1) AS dt (x)", MY_PIN_NONE, ""),
		Q("CREATE TABLE t2 (a INT, b VARCHAR(10))", MY_PIN_NONE, ""),
		Q("CREATE VIEW v AS SELECT f()", MY_PIN_NONE, ""), /* stored, not run */
		Q("SELECT 'f(1)', `f` FROM t", MY_PIN_NONE, ""),
		Q("SELECT /*!50000 f*/(1)", MY_PIN_STORED_FUNCTION, ""),
		Q("SELECT f/*!50000 (1)*/", MY_PIN_STORED_FUNCTION, ""),
		Q("LOAD DATA LOCAL INFILE 'x' INTO TABLE t (a) SET b = f(a)", MY_PIN_STORED_FUNCTION, ""),
		Q("SHOW TABLES WHERE f(Tables_in_db)", MY_PIN_STORED_FUNCTION, ""),
		Q("EXPLAIN SELECT * FROM t WHERE a = f()", MY_PIN_STORED_FUNCTION, ""),
		Q("CREATE TABLE t2 (a INT, KEY k (a)) SELECT f() AS a", MY_PIN_STORED_FUNCTION, ""),
		Q("CREATE OR REPLACE TABLE t2 AS SELECT f() AS a", MY_PIN_STORED_FUNCTION, ""),
		Q("CREATE TABLE t2 (a INT, KEY k (a), FOREIGN KEY (a) REFERENCES p (id))", MY_PIN_NONE, ""),
		Q("CREATE INDEX i ON t (a)", MY_PIN_NONE, ""),
		Q("SELECT HIGH_PRIORITY f(1)", MY_PIN_STORED_FUNCTION, ""),
		Q("INSERT HIGH_PRIORITY IGNORE t (a) VALUES (1)", MY_PIN_NONE, ""),
		Q("DELETE LOW_PRIORITY QUICK IGNORE FROM t WHERE f(a)", MY_PIN_STORED_FUNCTION, ""),
		Q("LOAD DATA LOCAL INFILE 'x' INTO TABLE t (a, b)", MY_PIN_NONE, ""),
		/* A sequence's last value stays with the session (MariaDB). */
		Q("SELECT NEXTVAL(s)", MY_PIN_SEQUENCE, ""),
		Q("INSERT INTO t VALUES (NEXT VALUE FOR s)", MY_PIN_SEQUENCE, ""),
		Q("SELECT SETVAL(s, 10)", MY_PIN_SEQUENCE, ""),
		Q("SELECT LASTVAL(s)", MY_PIN_NONE, ""),
		/* column lists that are no calls: a second common table expression's,
		 * a derived table's without AS (MySQL) */
		Q("WITH a AS (SELECT 1), b (x) AS (SELECT 2) SELECT * FROM a, b", MY_PIN_NONE, ""),
		Q("WITH RECURSIVE a (n) AS (SELECT 1), `b` (x, y) AS (SELECT 2, 3), c(z) AS (TABLE a) "
		  "SELECT * FROM a, b, c",
		  MY_PIN_NONE, ""),
		Q("WITH a AS (SELECT 1), b (x) AS (SELECT f(1)) SELECT * FROM a, b",
		  MY_PIN_STORED_FUNCTION, ""),
		Q("SELECT a FROM t GROUP BY a WITH ROLLUP ORDER BY a, f(1)", MY_PIN_STORED_FUNCTION, ""),
		Q("SELECT f(1) AS x", MY_PIN_STORED_FUNCTION, ""),
		Q("SELECT * FROM (SELECT 1) dt (x)", MY_PIN_NONE, ""),
		Q("SELECT * FROM t JOIN LATERAL (SELECT 1) dt (x) ON 1", MY_PIN_NONE, ""),
		Q("SELECT * FROM (SELECT 1) dt (x) WHERE f(1)", MY_PIN_STORED_FUNCTION, ""),
		Q("SELECT (1) AND f(1), (2) DIV f(2)", MY_PIN_STORED_FUNCTION, ""),
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check(&cases[i]);
}

/* Texts where MariaDB 10.11 runs a stored function (checked against the
 * server with one that sets @x) that the classifier once let through. */
Test(pin, stored_function_evasions)
{
	const struct pin_case cases[] = {
		/* \v and \f are spaces to the server's lexer */
		Q("SELECT f\v(1)", MY_PIN_STORED_FUNCTION, ""),
		Q("SELECT f\f(1)", MY_PIN_STORED_FUNCTION, ""),
		Q("SELECT LAST_INSERT_ID\f(5)", MY_PIN_LAST_INSERT_ID, ""),
		/* compound statements outside a routine run what they name */
		Q("BEGIN NOT ATOMIC SELECT f(1); END", MY_PIN_STORED_FUNCTION, ""),
		Q("BEGIN NOT ATOMIC DO f(1); END", MY_PIN_STORED_FUNCTION, ""),
		Q("IF f(1) THEN SELECT 1; END IF", MY_PIN_STORED_FUNCTION, ""),
		Q("WHILE f(1) > 5 DO SELECT 1; END WHILE", MY_PIN_STORED_FUNCTION, ""),
		Q("CASE f(1) WHEN 1 THEN SELECT 1; ELSE SELECT 2; END CASE", MY_PIN_STORED_FUNCTION, ""),
		Q("REPEAT DO 1; UNTIL f(1) END REPEAT", MY_PIN_STORED_FUNCTION, ""),
		Q("FOR i IN 1..1 DO DO f(1); END FOR", MY_PIN_STORED_FUNCTION, ""),
		Q("BEGIN NOT ATOMIC INSERT INTO t (a) VALUES (1); END", MY_PIN_CALL, ""),
		Q("CREATE PROCEDURE p() SELECT f(1)", MY_PIN_NONE, ""), /* stored, not run */
		Q("CREATE FUNCTION g() RETURNS INT RETURN f(1)", MY_PIN_NONE, ""),
		Q("CREATE PROCEDURE p() BEGIN SELECT f(1); END", MY_PIN_NONE, ""),
		/* the statements after a routine's body run */
		Q("CREATE PROCEDURE p0() SELECT 1; SELECT f(1)", MY_PIN_STORED_FUNCTION, ""),
		Q("CREATE PROCEDURE p1() BEGIN SELECT 1; END; SELECT f(1)", MY_PIN_STORED_FUNCTION, ""),
		/* fewer than five digits are no version: the name 1234abs */
		Q("SELECT /*!1234abs(1)*/", MY_PIN_STORED_FUNCTION, ""),
		Q("SELECT /*M!1234abs(1)*/", MY_PIN_STORED_FUNCTION, ""),
		/* MySQL reads the sixth digit as SQL: the name 1abs */
		Q("SELECT /*!500001abs(1)*/", MY_PIN_EXECUTABLE_COMMENT, ""),
		Q("SELECT /*!50000 abs(1)*/, /*M!100000 abs(1)*/", MY_PIN_NONE, ""),
		Q("PURGE BINARY LOGS BEFORE f(1)", MY_PIN_STORED_FUNCTION, ""),
		/* a keyword is the server's own only bare: quoted it names a
		 * stored function (MariaDB and MySQL) */
		Q("SELECT `replace`(1)", MY_PIN_STORED_FUNCTION, ""),
		Q("SELECT `if`(1)", MY_PIN_STORED_FUNCTION, ""),
		Q("SELECT `left`(1)", MY_PIN_STORED_FUNCTION, ""),
		Q("SELECT `now`(1)", MY_PIN_STORED_FUNCTION, ""),
		Q("SELECT `abs`(1), `Concat`('a', 'b')", MY_PIN_NONE, ""), /* native: any form */
		{"SELECT \"cast\"(1)", MY_PIN_STORED_FUNCTION, "", ansi, MY_TEXT_QUERY},
		/* NOW, COUNT, SUBSTRING... are keywords only glued to "(" */
		Q("SELECT now (1)", MY_PIN_STORED_FUNCTION, ""),
		Q("SELECT now/**/(1)", MY_PIN_STORED_FUNCTION, ""),
		Q("SELECT /*!50000 now*/(1)", MY_PIN_STORED_FUNCTION, ""),
		Q("SELECT count (1)", MY_PIN_STORED_FUNCTION, ""),
		Q("SELECT substring (1)", MY_PIN_STORED_FUNCTION, ""),
		Q("SELECT trim (1)", MY_PIN_STORED_FUNCTION, ""),
		Q("SELECT abs (1), concat ('a') FROM t WHERE a IN (1) AND b LIKE ('x')", MY_PIN_NONE, ""),
		/* CREATE TABLE ... AS VALUES / TABLE (MySQL) runs its query */
		Q("CREATE TABLE t2 AS VALUES ROW(f(1))", MY_PIN_STORED_FUNCTION, ""),
		Q("CREATE TABLE t2 (a INT) VALUES ROW(f(1))", MY_PIN_STORED_FUNCTION, ""),
		Q("CREATE TABLE t2 AS TABLE t ORDER BY f(a)", MY_PIN_STORED_FUNCTION, ""),
		Q("CREATE TABLE t2 (a INT) PARTITION BY RANGE (a) (PARTITION p0 VALUES LESS THAN (10), "
		  "PARTITION p1 VALUES LESS THAN MAXVALUE)",
		  MY_PIN_NONE, ""),
		Q("CREATE TABLE t2 (a INT) PARTITION BY LIST (a) (PARTITION p0 VALUES IN (1, 2))",
		  MY_PIN_NONE, ""),
		/* a table named like a routine's keyword is no routine */
		Q("CREATE TABLE event SELECT f(1) AS a", MY_PIN_STORED_FUNCTION, ""),
		Q("CREATE TABLE t2 SELECT event.a FROM t AS event WHERE f(1)", MY_PIN_STORED_FUNCTION, ""),
		/* keywords MariaDB lets name a function (ERR 1630 when none is) */
		Q("SELECT body(1)", MY_PIN_STORED_FUNCTION, ""),
		Q("SELECT atomic(1)", MY_PIN_STORED_FUNCTION, ""),
		/* a SET read back must not call one either */
		Q("SET SESSION sql_mode = `replace`(@@sql_mode, 'X', '')", MY_PIN_SET, ""),
		Q("SET SESSION sql_mode = substring (@@sql_mode, 1)", MY_PIN_SET, ""),
		Q("SET SESSION sql_mode = REPLACE(@@sql_mode, 'X', '')", MY_PIN_NONE, "sql_mode=?;"),
		Q("SET SESSION time_zone = IF (1, '+00:00', '+01:00')", MY_PIN_NONE, "time_zone=?;"),
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check(&cases[i]);
}

/* A builtin of one server is a stored function's name to the other: each
 * backend's own list decides (checked on MariaDB 10.11 and MySQL 9.7). */
Test(pin, builtins_of_the_backend)
{
	const struct pin_case cases[] = {
		{"SELECT REGEXP_LIKE('a', 'a'), BIN_TO_UUID(x), ANY_VALUE(a) FROM t", MY_PIN_NONE, "",
		 mysql, MY_TEXT_QUERY},
		{"SELECT REGEXP_LIKE('a', 'a')", MY_PIN_STORED_FUNCTION, "", mariadb, MY_TEXT_QUERY},
		{"SELECT BIN_TO_UUID(x) FROM t", MY_PIN_STORED_FUNCTION, "", mariadb, MY_TEXT_QUERY},
		{"SELECT NVL(a, 1), JSON_DETAILED(j), SFORMAT('{}', 1) FROM t", MY_PIN_NONE, "", mariadb,
		 MY_TEXT_QUERY},
		{"SELECT NVL(a, 1) FROM t", MY_PIN_STORED_FUNCTION, "", mysql, MY_TEXT_QUERY},
		{"SELECT overlaps(1)", MY_PIN_STORED_FUNCTION, "", mysql, MY_TEXT_QUERY},
		{"SELECT REGEXP_LIKE('a', 'a'), NVL(a, 1) FROM t", MY_PIN_NONE, "", plain, MY_TEXT_QUERY},
		{"SELECT COUNT(*), `abs`(1), now() FROM t", MY_PIN_NONE, "", mariadb, MY_TEXT_QUERY},
		{"SELECT COUNT(*), `abs`(1), now() FROM t", MY_PIN_NONE, "", mysql, MY_TEXT_QUERY},
		/* MariaDB's POINT is its own with two arguments only */
		{"SELECT ST_X(POINT(1, (2))), LINESTRING(POINT(1, 2), POINT(3, 4))", MY_PIN_NONE, "",
		 mariadb, MY_TEXT_QUERY},
		{"SELECT POINT(1)", MY_PIN_STORED_FUNCTION, "", mariadb, MY_TEXT_QUERY},
		{"SELECT 1 #", MY_PIN_NONE, "", mariadb, MY_TEXT_QUERY}, /* read nothing past "#" */
		/* MariaDB's ORACLE mode has its own grammar: ELSEIF(1) is a call there */
		{"SELECT elseif(1)", MY_PIN_STORED_FUNCTION, "", mariadb, MY_TEXT_QUERY},
		{"SELECT POINT(1, 2, 3)", MY_PIN_STORED_FUNCTION, "", mariadb, MY_TEXT_QUERY},
		{"SELECT LINESTRING()", MY_PIN_STORED_FUNCTION, "", mariadb, MY_TEXT_QUERY},
		/* keywords of JSON_TABLE, after a literal: no call */
		{"SELECT * FROM JSON_TABLE('[1]', '$[*]' COLUMNS (a INT PATH '$', o FOR ORDINALITY, "
		 "NESTED PATH '$' COLUMNS (b JSON PATH '$'))) AS jt",
		 MY_PIN_NONE, "", mariadb, MY_TEXT_QUERY},
		{"SELECT 'x' COLUMNS(1)", MY_PIN_NONE, "", mariadb, MY_TEXT_QUERY}, /* ERR 1064 */
		{"SELECT COLUMNS(1)", MY_PIN_STORED_FUNCTION, "", mariadb, MY_TEXT_QUERY},
		/* THAN, a character set's name: no calls */
		{"CREATE TABLE t2 (a INT) PARTITION BY RANGE COLUMNS (a) (PARTITION p0 VALUES LESS "
		 "THAN (10), PARTITION p1 VALUES IN (1)) SELECT 1 AS a",
		 MY_PIN_NONE, "", mariadb, MY_TEXT_QUERY},
		{"LOAD DATA LOCAL INFILE 'x' INTO TABLE t CHARACTER SET utf8mb4 (a, b)", MY_PIN_NONE, "",
		 mariadb, MY_TEXT_QUERY},
		{"LOAD DATA LOCAL INFILE 'x' INTO TABLE t CHARSET latin1 (a) SET b = f(a)",
		 MY_PIN_STORED_FUNCTION, "", mysql, MY_TEXT_QUERY},
		{"SELECT a, JSON_TABLE(1) FROM t", MY_PIN_STORED_FUNCTION, "", mariadb, MY_TEXT_QUERY},
		{"SELECT * FROM t, JSON_TABLE(t.j, '$' COLUMNS (a INT PATH '$')) jt", MY_PIN_NONE, "",
		 mariadb, MY_TEXT_QUERY},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check(&cases[i]);
	cr_expect_eq(my_server_kind_of("5.5.5-10.11.19-MariaDB-0+deb12u1"), MY_SERVER_MARIADB);
	cr_expect_eq(my_server_kind_of("9.7.4-2"), MY_SERVER_MYSQL);
	cr_expect_eq(my_server_kind_of(""), MY_SERVER_EITHER);
}

/* A KILL that the server would run but warmpool does not interpret:
 * in a compound statement, or in the literal of dynamic SQL (t6, t13). */
Test(pin, kill_in_compound_and_dynamic_sql)
{
	const struct flag_case cases[] = {
		{"BEGIN NOT ATOMIC KILL QUERY 7; END", MY_PIN_CALL, true, true, plain},
		{"IF 1 THEN KILL 7; END IF", MY_PIN_CALL, true, true, plain},
		{"CREATE PROCEDURE p() KILL 7", MY_PIN_NONE, true, false, plain},
		{"EXECUTE IMMEDIATE 'KILL QUERY 7'", MY_PIN_PREPARED_STATEMENT, true, false, plain},
		{"execute immediate 'kill 7' using 1", MY_PIN_PREPARED_STATEMENT, true, false, plain},
		{"PREPARE s FROM 'KILL 7'", MY_PIN_PREPARED_STATEMENT, true, false, plain},
		{"PREPARE s FROM \"KILL 7\"", MY_PIN_PREPARED_STATEMENT, true, false, plain},
		{"PREPARE s FROM 'K\\ILL 7'", MY_PIN_PREPARED_STATEMENT, true, false, plain},
		{"PREPARE s FROM 'K\\ILL 7'", MY_PIN_PREPARED_STATEMENT, false, false, nbe},
		{"PREPARE s FROM 'K\\ILL 7'", MY_PIN_PREPARED_STATEMENT, true, false, unknown},
		{"EXECUTE IMMEDIATE 'KI' 'LL 7'", MY_PIN_PREPARED_STATEMENT, true, false, plain},
		{"EXECUTE IMMEDIATE _latin1'KILL 7'", MY_PIN_PREPARED_STATEMENT, true, false, plain},
		{"EXECUTE IMMEDIATE N'/* x */ KILL 7'", MY_PIN_PREPARED_STATEMENT, true, false, plain},
		{"EXECUTE IMMEDIATE (('KILL 7'))", MY_PIN_PREPARED_STATEMENT, true, false, plain},
		{"EXECUTE IMMEDIATE ('KILL 7'", MY_PIN_PREPARED_STATEMENT, false, true, plain},
		{"EXECUTE IMMEDIATE ('SELECT 1') + 1", MY_PIN_PREPARED_STATEMENT, false, true, plain},
		{"EXECUTE IMMEDIATE 'EXECUTE IMMEDIATE ''KILL 7'''", MY_PIN_PREPARED_STATEMENT, true,
		 false, plain},
		{"SELECT 1; EXECUTE IMMEDIATE 'KILL 7'", MY_PIN_PREPARED_STATEMENT, true, false, plain},
		{"BEGIN NOT ATOMIC EXECUTE IMMEDIATE 'KILL 7'; END", MY_PIN_PREPARED_STATEMENT, true,
		 true, plain},
		{"EXECUTE IMMEDIATE 'SELECT ''kill'''", MY_PIN_PREPARED_STATEMENT, false, false, plain},
		{"PREPARE s FROM 'SELECT 1'", MY_PIN_PREPARED_STATEMENT, false, false, plain},
		{"EXECUTE s", MY_PIN_PREPARED_STATEMENT, false, false, plain},
		/* not readable: pinned, and the character set is no longer known */
		{"EXECUTE IMMEDIATE CONCAT('KI', 'LL 7')", MY_PIN_PREPARED_STATEMENT, false, true,
		 plain},
		{"SELECT kill FROM t", MY_PIN_NONE, false, false, plain},
		{"SELECT 'KILL 7'", MY_PIN_NONE, false, false, plain},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_flags(&cases[i]);
}

static const struct my_sql_mode latin1 = {MY_MODE_OFF, MY_MODE_OFF, false, 0xa0, false, MY_SERVER_EITHER};
static const struct my_sql_mode latin1_maybe = {MY_MODE_OFF, MY_MODE_OFF, false, 0xa0, true, MY_SERVER_EITHER};

/* Bytes the server skips between tokens: vertical tab and form feed
 * everywhere, 0xA0 in latin1 (and 0xA0 is a letter byte in utf8mb4). */
Test(pin, spaces_the_server_skips)
{
	const struct pin_case cases[] = {
		Q("SELECT LAST_INSERT_ID\f(4242)", MY_PIN_LAST_INSERT_ID, ""),
		Q("SELECT `GET_LOCK`\v('l', 0)", MY_PIN_NAMED_LOCK, ""),
		Q("SET\vautocommit = 0", MY_PIN_NONE, "autocommit=0;"),
		{"SET\xa0" "autocommit = 0", MY_PIN_NONE, "autocommit=0;", latin1, MY_TEXT_QUERY},
		{"SELECT\xa0GET_LOCK('l', 0)", MY_PIN_NAMED_LOCK, "", latin1, MY_TEXT_QUERY},
		{"CREATE\xa0TEMPORARY\xa0TABLE t (a INT)", MY_PIN_TEMPORARY_TABLE, "", latin1,
		 MY_TEXT_QUERY},
		{"SELECT 1 --\xa0'\nSET @x = 1 -- '", MY_PIN_USER_VARIABLE, "", latin1,
		 MY_TEXT_QUERY}, /* a comment, then @x */
		{"SELECT `GET_LOCK`\xa0('l', 0)", MY_PIN_NAMED_LOCK, "", latin1, MY_TEXT_QUERY},
		{"SET NAMES latin1; SET\xa0" "autocommit = 0", MY_PIN_NONE, "coll=8;autocommit=0;",
		 plain, MY_TEXT_QUERY},
		{"SET NAMES utf8mb4; SELECT\xa0GET_LOCK('l', 0)", MY_PIN_NONE, "coll=45;", latin1,
		 MY_TEXT_QUERY},
		/* SET NAMES in flight: either reading may be the server's */
		{"SET\xa0" "autocommit = 0", MY_PIN_SQL_MODE, "", latin1_maybe, MY_TEXT_QUERY},
		{"SELECT 'a\xa0" "b'", MY_PIN_NONE, "", latin1_maybe, MY_TEXT_QUERY},
		/* utf8mb4: part of a word */
		Q("SELECT\xa0GET_LOCK('l', 0)", MY_PIN_NONE, ""),
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check(&cases[i]);
}

/* MySQL 9 reads $tag$ ... $tag$ as a string, MariaDB as a name: where the
 * two end apart, the statement pins, and a KILL anywhere after refuses it. */
Test(pin, dollar_quotes)
{
	const struct pin_case cases[] = {
		Q("CREATE FUNCTION f() RETURNS INT LANGUAGE JAVASCRIPT AS $$ ' $$; "
		  "SET SESSION time_zone = '+05:00' -- '", MY_PIN_SQL_MODE, ""),
		Q("SELECT 1 AS $x$, GET_LOCK('l', 0) AS $x$", MY_PIN_NAMED_LOCK, ""),
		Q("SELECT $$abc$$, a$$b FROM t", MY_PIN_NONE, ""), /* both read one name */
		Q("SELECT 1 AS $a$ FROM t", MY_PIN_SQL_MODE, ""), /* unclosed */
		Q("SELECT '$$ x $$'", MY_PIN_NONE, ""),
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check(&cases[i]);
	const struct flag_case kills[] = {
		{"CREATE FUNCTION f() LANGUAGE JAVASCRIPT AS $$ ' $$; KILL 7 -- '", MY_PIN_SQL_MODE,
		 true, false, plain},
	};
	check_flags(&kills[0]);
}

/* A query too long to classify is searched for KILL only when it may run
 * one: its first word begins something that runs other statements. */
Test(pin, long_text_may_run_kill)
{
	static const char *const yes[] = {
		"BEGIN NOT ATOMIC ", "IF 1 THEN ", "lbl: LOOP ", "CREATE PROCEDURE p() ",
		"EXECUTE IMMEDIATE ", "PREPARE s FROM ", "SET STATEMENT x=1 FOR ", "/*!50000 INSERT ",
		"/* not yet the first word", "INSERT", "`INSERT` ", "CALL p(",
	};
	static const char *const no[] = {"INSERT INTO t VALUES ('kill')", "/* c */ select 1, ",
					 "UPDATE t SET a = ", "WITH x AS (", "replace into t "};
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		cr_expect(my_text_may_run_kill(plain, (const uint8_t *)yes[i], strlen(yes[i])),
			  "%s", yes[i]);
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		cr_expect_not(my_text_may_run_kill(plain, (const uint8_t *)no[i], strlen(no[i])),
			      "%s", no[i]);
}
