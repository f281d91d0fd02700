/* kill_test: which KILL statements warmpool interprets, and how it reads them. */
#include <criterion/criterion.h>
#include <string.h>

#include "my_kill.h"
#include "my_proto.h"

struct kill_case {
	const char *sql;
	enum my_kill_kind kind;
	uint32_t id;
};

static const struct kill_case CASES[] = {
	{"KILL 42", MY_KILL_CONNECTION, 42},
	{"kill connection 7;", MY_KILL_CONNECTION, 7},
	{"  KILL\tQUERY  4294967295 ", MY_KILL_QUERY, 4294967295u},
	{"KILL HARD QUERY 9", MY_KILL_QUERY, 9},
	{"KILL SOFT CONNECTION 9", MY_KILL_CONNECTION, 9},
	{"/* why */ KILL QUERY 3", MY_KILL_QUERY, 3},
	{"-- note\nKILL 3", MY_KILL_CONNECTION, 3},
	{"# note\nKILL 3", MY_KILL_CONNECTION, 3},
	{"/*!50000 KILL */ 5", MY_KILL_CONNECTION, 5},
	{"/*M!100000 KILL QUERY 6 */", MY_KILL_QUERY, 6},
	{"/*!KILL 8*/", MY_KILL_CONNECTION, 8},
	/* Anything else after KILL is refused, never passed on. */
	{"KILL 4294967296", MY_KILL_UNSUPPORTED, 0},
	{"KILL 5; SELECT 1", MY_KILL_UNSUPPORTED, 0},
	{"KILL 5 6", MY_KILL_UNSUPPORTED, 0},
	{"KILL USER app", MY_KILL_UNSUPPORTED, 0},
	{"KILL QUERY ID 5", MY_KILL_UNSUPPORTED, 0},
	{"KILL 2+3", MY_KILL_UNSUPPORTED, 0},
	{"KILL 5x", MY_KILL_UNSUPPORTED, 0},
	{"KILL", MY_KILL_UNSUPPORTED, 0},
	/* Not KILL at all. */
	{"SELECT 'KILL 5'", MY_KILL_NONE, 0},
	{"KILLER 5", MY_KILL_NONE, 0},
	{"/* KILL 5 */ SELECT 1", MY_KILL_NONE, 0},
	{"", MY_KILL_NONE, 0},
	{"/* unterminated", MY_KILL_NONE, 0},
};

Test(kill, statements)
{
	for (size_t i = 0; i < sizeof(CASES) / sizeof(CASES[0]); i++) {
		uint32_t id = 1234;
		enum my_kill_kind kind = my_kill_parse(CASES[i].sql, strlen(CASES[i].sql), &id);
		cr_expect_eq(kind, CASES[i].kind, "%s: %s", CASES[i].sql, my_kill_kind_str(kind));
		if (kind == MY_KILL_CONNECTION || kind == MY_KILL_QUERY)
			cr_expect_eq(id, CASES[i].id, "%s", CASES[i].sql);
	}
}

/* Every prefix is read within its length (ASan checks), and a cut text is
 * never a different KILL than the whole one. */
Test(kill, prefixes_stay_in_bounds)
{
	const char *sql = "/*!50000 KILL */ QUERY 123;";
	for (size_t n = 0; n <= strlen(sql); n++) {
		char *copy = malloc(n ? n : 1);
		memcpy(copy, sql, n);
		uint32_t id;
		enum my_kill_kind kind = my_kill_parse(copy, n, &id);
		cr_expect(kind != MY_KILL_QUERY || id == 123 || n < strlen(sql), "cut at %zu", n);
		free(copy);
	}
}

Test(kill, process_kill_packet)
{
	const uint8_t good[] = {COM_PROCESS_KILL, 0x2a, 0, 0, 0};
	const uint8_t short_[] = {COM_PROCESS_KILL, 0x2a, 0};
	const uint8_t long_[] = {COM_PROCESS_KILL, 0x2a, 0, 0, 0, 0};
	uint32_t id;
	cr_expect(my_process_kill_parse(my_cur_make(good, sizeof(good)), &id));
	cr_expect_eq(id, 42);
	cr_expect_not(my_process_kill_parse(my_cur_make(short_, sizeof(short_)), &id));
	cr_expect_not(my_process_kill_parse(my_cur_make(long_, sizeof(long_)), &id));
}

/* scan_found feeds |text| cut at every place into two pieces. */
static void expect_scan(const char *text, bool want)
{
	size_t n = strlen(text);
	for (size_t cut = 0; cut <= n; cut++) {
		struct my_kill_scan k;
		my_kill_scan_init(&k);
		my_kill_scan_feed(&k, (const uint8_t *)text, cut);
		my_kill_scan_feed(&k, (const uint8_t *)text + cut, n - cut);
		my_kill_scan_end(&k);
		cr_expect_eq(k.found, want, "\"%s\" cut at %zu: found %d", text, cut, k.found);
	}
}

/* A query too long to classify is searched for KILL as it is relayed. */
Test(kill, streaming_search)
{
	expect_scan("BEGIN NOT ATOMIC KILL QUERY 7; END", true);
	expect_scan("kill 7", true);
	expect_scan("SELECT 1; kIlL", true);
	expect_scan("DO 'x';KILL(7)", true);
	expect_scan("SELECT 1KILL", true); /* a number before: the server may cut there */
	expect_scan("SELECT skill, kills, kill_count, $kill FROM t", false);
	expect_scan("SELECT KIL L", false);
	expect_scan("", false);
}
