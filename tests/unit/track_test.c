/* track_test: the response tracker against real MariaDB responses of every shape. */
#include <criterion/criterion.h>

#include "my_frame.h"
#include "my_proto.h"
#include "my_track.h"
#include "test_hex.h"
#include "track_vectors.h"

#define COM_STMT_PREPARE 0x16
#define COM_STMT_EXECUTE 0x17
#define COM_STMT_CLOSE 0x19
#define COM_SET_OPTION 0x1b
#define COM_STATISTICS 0x09

/* feed gives every packet of |hex| to the tracker and returns how many
 * responses ended; |*out_last_ended| says whether the last packet ended one. */
static int feed(struct my_track *t, const char *hex, bool *out_last_ended)
{
	size_t len;
	uint8_t *raw = test_unhex(hex, &len);
	struct my_cur in = my_cur_make(raw, len);
	struct my_frame f;
	int ended = 0;
	bool last = false;
	while (my_frame_next(&in, &f)) {
		last = my_track_server_packet(t, f.payload, f.payload.len);
		ended += last;
	}
	cr_assert(my_cur_done(&in), "trailing bytes in the capture");
	free(raw);
	if (out_last_ended)
		*out_last_ended = last;
	return ended;
}

struct shape_case {
	const char *name;
	const char *hex;
	uint8_t cmd;
	uint16_t want_in_trans;
};

Test(track, every_response_shape_ends_exactly_at_its_last_packet)
{
	const struct shape_case cases[] = {
		{"ok", V_OK_AUTOCOMMIT, COM_QUERY, 0},
		{"result set", V_SELECT_TWO_ROWS, COM_QUERY, 0},
		{"multi statement", V_MULTI_STATEMENT, COM_QUERY, 0},
		{"error midway", V_MULTI_ERROR_MIDWAY, COM_QUERY, 0},
		{"procedure", V_CALL_PROCEDURE, COM_QUERY, 0},
		{"error", V_ERROR, COM_QUERY, 0},
		{"prepare", V_PREPARE, COM_STMT_PREPARE, 0},
		{"prepare without params", V_PREPARE_NO_PARAMS, COM_STMT_PREPARE, 0},
		{"binary result", V_EXECUTE_BINARY, COM_STMT_EXECUTE, 0},
		{"set option (EOF)", V_SET_OPTION, COM_SET_OPTION, 0},
		{"statistics (string)", V_STATISTICS, COM_STATISTICS, 0},
		{"ping", V_PING, COM_PING, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct my_track t;
		my_track_init(&t);
		cr_assert(my_track_command(&t, cases[i].cmd));
		bool last;
		cr_expect_eq(feed(&t, cases[i].hex, &last), 1, "%s: responses ended", cases[i].name);
		cr_expect(last, "%s: ended before its last packet", cases[i].name);
		cr_expect(my_track_idle(&t), "%s: not idle (state %s, failed %d)", cases[i].name,
			  my_track_state_str(t.state), t.failed);
	}
}

Test(track, transaction_status_is_followed)
{
	struct my_track t;
	my_track_init(&t);
	cr_assert(my_track_command(&t, COM_QUERY));
	feed(&t, V_BEGIN_IN_TRANS, NULL);
	cr_expect(t.status & SERVER_STATUS_IN_TRANS);
	cr_assert(my_track_command(&t, COM_QUERY));
	feed(&t, V_SELECT_IN_TRANS, NULL);
	cr_expect(t.status & SERVER_STATUS_IN_TRANS, "a result set's EOF keeps IN_TRANS");
	cr_assert(my_track_command(&t, COM_QUERY));
	feed(&t, V_COMMIT, NULL);
	cr_expect_not(t.status & SERVER_STATUS_IN_TRANS);
	cr_expect(my_track_idle(&t));
}

Test(track, local_infile_waits_for_the_upload_result)
{
	struct my_track t;
	my_track_init(&t);
	cr_assert(my_track_command(&t, COM_QUERY));
	cr_expect_eq(feed(&t, V_LOCAL_INFILE_REQUEST, NULL), 0, "the request is not the end");
	cr_expect_not(my_track_idle(&t));
	bool last;
	cr_expect_eq(feed(&t, V_LOCAL_INFILE_RESULT, &last), 1);
	cr_expect(last && my_track_idle(&t));
}

Test(track, pipelined_commands_and_silent_ones)
{
	struct my_track t;
	my_track_init(&t);
	cr_assert(my_track_command(&t, COM_QUERY));
	cr_assert(my_track_command(&t, COM_STMT_CLOSE)); /* no response */
	cr_assert(my_track_command(&t, COM_QUERY));
	cr_expect_eq(feed(&t, V_SELECT_TWO_ROWS, NULL), 1);
	cr_expect_not(my_track_idle(&t), "the second query is still outstanding");
	cr_expect_eq(feed(&t, V_OK_AUTOCOMMIT, NULL), 1);
	cr_expect(my_track_idle(&t));
	cr_expect_eq(t.responses, 2);
}

Test(track, a_server_speaking_out_of_turn_fails_the_tracker)
{
	struct my_track t;
	my_track_init(&t);
	feed(&t, V_OK_AUTOCOMMIT, NULL);
	cr_expect(t.failed);
	cr_expect_not(my_track_idle(&t));
}

Test(track, truncated_status_fails_rather_than_guessing)
{
	struct my_track t;
	my_track_init(&t);
	cr_assert(my_track_command(&t, COM_QUERY));
	const uint8_t ok_short[] = {0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00};
	/* Only its first 3 bytes are handed over. */
	cr_expect_not(my_track_server_packet(&t, my_cur_make(ok_short, 3), sizeof(ok_short)));
	cr_expect(t.failed);
}

/* A response with warnings or an error leaves them in the session's
 * diagnostics area: the flag stays until warmpool clears it. */
Test(track, warnings_and_errors_mark_the_diagnostics_area)
{
	struct my_track t;
	my_track_init(&t);
	cr_assert(my_track_command(&t, COM_QUERY));
	feed(&t, V_OK_AUTOCOMMIT, NULL);
	cr_expect_not(t.diagnostics);
	cr_assert(my_track_command(&t, COM_QUERY));
	feed(&t, "0700000100000002000100", NULL); /* OK, 1 warning */
	cr_expect(t.diagnostics);
	cr_assert(my_track_command(&t, COM_QUERY));
	feed(&t, V_OK_AUTOCOMMIT, NULL);
	cr_expect(t.diagnostics, "a statement without warnings may keep them (SELECT 1)");
	my_track_init(&t);
	cr_assert(my_track_command(&t, COM_QUERY));
	feed(&t, V_ERROR, NULL);
	cr_expect(t.diagnostics);
}

Test(track, a_multi_statements_insert_id_survives_later_oks_without_one)
{
	struct my_track t;
	my_track_init(&t);
	cr_assert(my_track_command(&t, COM_QUERY));
	/* OK (insert id 7, MORE_RESULTS), then OK (insert id 0): one response. */
	cr_expect_eq(feed(&t, "07000001000107" "0a00" "0000" "07000002000000" "0200" "0000", NULL), 1);
	cr_expect_eq(t.last_insert_id, 7);
	cr_expect(my_track_idle(&t));
}
