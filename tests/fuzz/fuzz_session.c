/* fuzz_session: the response tracker and the session-state classifier on arbitrary input. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "my_frame.h"
#include "my_pin.h"
#include "my_readback.h"
#include "my_stmt.h"
#include "my_track.h"

static volatile int sink;

/* Byte 0 picks: even, the input is SQL for the classifier (byte 1 the
 * sql_mode bits it is read with, latin1's space byte (0x40) known or not
 * (0x20), and the kind of text: a COM_QUERY with any
 * number of statements, or a COM_STMT_PREPARE); odd, it is a command byte
 * followed by a stream of server frames for the tracker, and the same
 * frames are read as the answer to a read-back of 1 to 4 variables. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	if (data[0] % 2 == 0) {
		struct my_sql_mode mode = {(enum my_mode_bit)(data[1] % 3),
					   (enum my_mode_bit)(data[1] / 3 % 3), data[1] / 9 % 2 != 0,
					   data[1] & 0x40 ? 0xa0 : 0, (data[1] & 0x20) != 0,
					   (enum my_server_kind)(data[0] / 2 % 3)};
		enum my_text_kind kind = data[1] & 0x80 ? MY_TEXT_PREPARE : MY_TEXT_QUERY;
		struct my_session_change ch;
		my_classify(&ch, mode, kind, data + 2, size - 2);
		sink += ch.pin + ch.statements + ch.read + ch.collation + ch.vars.n + ch.readback.n +
			ch.next_transaction + ch.kill + ch.charset_unreadable + ch.xa;
		if (ch.use)
			sink += (int)strlen(ch.db);
		sink += my_sql_mode_of(&ch.vars).ansi_quotes;
		my_session_change_cleanup(&ch);
		sink += my_query_is_read(mode, data + 2, size - 2);
		struct my_execute ex;
		uint32_t id;
		uint16_t cols, params;
		sink += my_execute_parse(my_cur_make(data + 1, size - 1), data[1], &ex);
		sink += my_prepare_ok_parse(my_cur_make(data + 1, size - 1), &id, &cols, &params);
		return 0;
	}
	static const char *const names[] = {"sql_mode", "wait_timeout", "autocommit", "time_zone"};
	struct my_vars want = {0}, got = {0};
	for (uint8_t i = 0; i <= data[1] % 4; i++) {
		if (!my_vars_put(&want, names[i], strlen(names[i]), "", 0))
			break;
	}
	sink += my_readback_parse(&got, &want, my_cur_make(data + 2, size - 2));
	sink += got.n;
	my_vars_clear(&got);
	my_vars_clear(&want);
	struct my_track t;
	my_track_init(&t);
	sink += my_track_command(&t, data[1]);
	struct my_cur in = my_cur_make(data + 2, size - 2);
	struct my_frame f;
	while (my_frame_next(&in, &f)) {
		/* Like the relay, show only the first 32 bytes of each packet. */
		struct my_cur head = my_cur_make(f.payload.ptr, f.payload.len < 32 ? f.payload.len : 32);
		sink += my_track_server_packet(&t, head, f.payload.len);
		if (my_track_idle(&t))
			sink += my_track_command(&t, f.seq);
	}
	return 0;
}
