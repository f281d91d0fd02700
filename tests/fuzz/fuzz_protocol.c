/* fuzz_protocol: every parser of MySQL packets warmpool reads from clients and servers. */
#include <stddef.h>
#include <stdint.h>

#include "my_digest.h"
#include "my_frame.h"
#include "my_handshake.h"
#include "my_kill.h"
#include "my_marker.h"
#include "my_readback.h"
#include "my_result.h"

/* Results go here so that the parsers' work is not optimised away. */
static volatile int sink;

/* The first byte picks the parser, so one corpus covers them all. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct my_cur in = my_cur_make(data + 1, size - 1);
	union {
		struct my_greeting greeting;
		struct my_login login;
		struct my_auth_switch sw;
		struct my_ok ok;
		struct my_err err;
	} out;
	uint32_t id;
	switch (data[0] % 10) {
	case 0: {
		struct buf payload = {0};
		size_t used;
		uint8_t seq;
		if (my_packet_read(in, 1 << 20, &payload, &used, &seq) == MY_PACKET_COMPLETE &&
		    (used > in.len || buf_avail(&payload) > used))
			__builtin_trap();
		buf_cleanup(&payload);
		break;
	}
	case 1: sink += my_greeting_parse(in, &out.greeting); break;
	case 2: sink += my_login_parse(in, &out.login); break;
	case 3: sink += my_auth_switch_parse(in, &out.sw); break;
	case 4: {
		sink += my_reply_classify_auth(in) + my_reply_classify_command(in);
		sink += my_ok_parse(in, &out.ok);
		/* The same answer whole and in two pieces digests alike. */
		struct my_digest whole, halves;
		my_digest_start(&whole, COM_QUERY);
		my_digest_feed(&whole, in.ptr, in.len);
		my_digest_start(&halves, COM_QUERY);
		my_digest_feed(&halves, in.ptr, in.len / 2);
		my_digest_feed(&halves, in.ptr + in.len / 2, in.len - in.len / 2);
		if (my_digest_end(&whole) != my_digest_end(&halves))
			__builtin_trap();
		break;
	}
	case 5: sink += my_err_parse(in, &out.err); break;
	case 6:
		/* A client's COM_CHANGE_USER, under the capabilities of a login. */
		sink += my_change_user_parse(in, CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION |
						     CLIENT_PLUGIN_AUTH | CLIENT_CONNECT_ATTRS,
					     &out.login);
		break;
	case 7: {
		sink += (int)my_kill_parse((const char *)in.ptr, in.len, &id);
		struct my_kill_scan k; /* the same text in two pieces */
		my_kill_scan_init(&k);
		my_kill_scan_feed(&k, in.ptr, in.len / 2);
		my_kill_scan_feed(&k, in.ptr + in.len / 2, in.len - in.len / 2);
		my_kill_scan_end(&k);
		sink += k.found;
		break;
	}
	case 8: sink += my_process_kill_parse(in, &id); break;
	case 9: {
		/* Answers to warmpool's own statements, whole frames: the commit
		 * marker's write and check, a read-back, a killed session. */
		uint64_t v;
		sink += my_marker_reply_ok(in, &out.err) + (int)out.err.code;
		sink += (int)my_readback_u64_read(&v, in) + (int)my_frames_err_code(in);
		break;
	}
	}
	return 0;
}
