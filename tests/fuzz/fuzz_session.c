/* fuzz_session: the response tracker and the session-state classifier on arbitrary input. */
#include <stddef.h>
#include <stdint.h>

#include "my_frame.h"
#include "my_pin.h"
#include "my_stmt.h"
#include "my_track.h"

static volatile int sink;

/* Byte 0 picks: even, the input is SQL for the classifier; odd, it is a
 * command byte followed by a stream of server frames for the tracker. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	if (data[0] % 2 == 0) {
		char db[64];
		sink += my_pin_query(data + 1, size - 1);
		sink += my_query_is_read(data + 1, size - 1);
		sink += my_query_use_schema(data + 1, size - 1, db, sizeof(db));
		struct my_execute ex;
		uint32_t id;
		uint16_t cols, params;
		sink += my_execute_parse(my_cur_make(data + 1, size - 1), data[1], &ex);
		sink += my_prepare_ok_parse(my_cur_make(data + 1, size - 1), &id, &cols, &params);
		struct my_vars vars = {0};
		sink += my_query_set_vars(data + 1, size - 1, &vars);
		my_vars_clear(&vars);
		return 0;
	}
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
