/* result_test: OK, ERR and EOF packets as MariaDB 10.11 sends them. */
#include <criterion/criterion.h>

#include "my_frame.h"
#include "my_proto.h"
#include "my_result.h"
#include "test_hex.h"

/* Captured from mariadbd 10.11.19: a wrong password, a successful login, and
 * the full answer to SELECT 1 (column count, column, EOF, row, EOF). */
static const char *ERR_ACCESS_DENIED =
	"47000002ff15042332383030304163636573732064656e69656420666f72207573657220276170702740"
	"273132372e302e302e312720287573696e672070617373776f72643a2059455329";
static const char *OK_AFTER_LOGIN = "0700000200000002000000";
static const char *SELECT_1_RESULT =
	"010000010117000002036465660000000131000c3f000100000003810000000005000003fe0000020002"
	"000004013105000005fe00000200";

static struct my_frame one_frame(const char *hex, uint8_t **owned)
{
	size_t len;
	*owned = test_unhex(hex, &len);
	struct my_cur in = my_cur_make(*owned, len);
	struct my_frame f;
	cr_assert(my_frame_next(&in, &f));
	return f;
}

Test(result, parses_real_err)
{
	uint8_t *raw;
	struct my_frame f = one_frame(ERR_ACCESS_DENIED, &raw);
	cr_expect_eq(my_reply_classify_auth(f.payload), MY_REPLY_ERR);
	cr_expect_eq(my_reply_classify_command(f.payload), MY_REPLY_ERR);
	struct my_err err;
	cr_assert(my_err_parse(f.payload, &err));
	cr_expect_eq(err.code, ER_ACCESS_DENIED_ERROR);
	cr_expect_str_eq(err.sqlstate, "28000");
	cr_expect_str_eq(err.message, "Access denied for user 'app'@'127.0.0.1' (using password: YES)");
	free(raw);
}

Test(result, parses_real_ok)
{
	uint8_t *raw;
	struct my_frame f = one_frame(OK_AFTER_LOGIN, &raw);
	cr_expect_eq(f.seq, 2);
	cr_expect_eq(my_reply_classify_auth(f.payload), MY_REPLY_OK);
	cr_expect_eq(my_reply_classify_command(f.payload), MY_REPLY_OK);
	struct my_ok ok;
	cr_assert(my_ok_parse(f.payload, &ok));
	cr_expect_eq(ok.affected_rows, 0);
	cr_expect_eq(ok.status, SERVER_STATUS_AUTOCOMMIT);
	cr_expect_eq(ok.warnings, 0);
	free(raw);
}

Test(result, classifies_a_real_result_set)
{
	size_t len;
	uint8_t *raw = test_unhex(SELECT_1_RESULT, &len);
	struct my_cur in = my_cur_make(raw, len);
	const enum my_reply_kind want[] = {MY_REPLY_OTHER, MY_REPLY_OTHER, MY_REPLY_EOF,
					   MY_REPLY_OTHER, MY_REPLY_EOF};
	for (size_t i = 0; i < 5; i++) {
		struct my_frame f;
		cr_assert(my_frame_next(&in, &f), "frame %zu", i);
		cr_expect_eq(f.seq, i + 1);
		cr_expect_eq(my_reply_classify_command(f.payload), want[i], "frame %zu", i);
	}
	cr_expect(my_cur_done(&in));
	free(raw);
}

Test(result, build_then_parse)
{
	struct buf b = {0};
	struct my_bld bld;
	my_bld_init(&bld, &b, BUF_NO_LIMIT);
	struct my_ok ok = {.affected_rows = 300, .last_insert_id = 70000, .status = 3, .warnings = 1};
	my_ok_build(&bld, 4, &ok);
	my_err_build(&bld, 5, ER_CON_COUNT_ERROR, "08004", "Too many connections");
	cr_assert(my_bld_ok(&bld));
	struct my_cur in = my_cur_make(buf_head(&b), buf_avail(&b));
	struct my_frame f;
	cr_assert(my_frame_next(&in, &f));
	struct my_ok got;
	cr_assert(my_ok_parse(f.payload, &got));
	cr_expect_eq(got.affected_rows, 300);
	cr_expect_eq(got.last_insert_id, 70000);
	cr_expect_eq(got.status, 3);
	cr_expect_eq(got.warnings, 1);
	cr_assert(my_frame_next(&in, &f));
	struct my_err err;
	cr_assert(my_err_parse(f.payload, &err));
	cr_expect_eq(err.code, ER_CON_COUNT_ERROR);
	cr_expect_str_eq(err.sqlstate, "08004");
	cr_expect_str_eq(err.message, "Too many connections");
	buf_cleanup(&b);
}

Test(result, truncated_ok_and_err_fail)
{
	const uint8_t ok_short[] = {0x00, 0x00};
	const uint8_t err_short[] = {0xff, 0x15};
	struct my_ok ok;
	struct my_err err;
	cr_expect_not(my_ok_parse(my_cur_make(ok_short, sizeof(ok_short)), &ok));
	cr_expect_not(my_err_parse(my_cur_make(err_short, sizeof(err_short)), &err));
}

Test(result, the_first_err_among_a_commands_frames)
{
	/* A column count, then ERR 1053 as MySQL ends a result it shuts down under. */
	static const uint8_t killed[] = {1, 0, 0, 1, 1, 9, 0, 0, 2, 0xff, 0x1d, 0x04, '#', '0', '8',
					 'S', '0', '1'};
	static const uint8_t ok[] = {7, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0};
	static const uint8_t cut[] = {9, 0, 0, 2, 0xff, 0x1d};
	cr_expect_eq(my_frames_err_code(my_cur_make(killed, sizeof(killed))), 1053);
	cr_expect(my_err_ends_session(1053));
	cr_expect_not(my_err_ends_session(1146));
	cr_expect_eq(my_frames_err_code(my_cur_make(ok, sizeof(ok))), 0);
	cr_expect_eq(my_frames_err_code(my_cur_make(cut, sizeof(cut))), 0);
}
