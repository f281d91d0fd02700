/* my_frame: MySQL packet framing (3-byte length + sequence id, 16 MiB continuation). */
#ifndef WP_MY_FRAME_H
#define WP_MY_FRAME_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "my_cursor.h"

#define MY_FRAME_HEADER_LEN 4

/* One frame as it sits on the wire; |payload| borrows from the input. */
struct my_frame {
	uint8_t seq;
	struct my_cur payload;
};

/* my_frame_next splits one complete frame off |in|. It returns false, and
 * leaves |in| alone, while the frame is incomplete. */
WP_MUST_CHECK bool my_frame_next(struct my_cur *in, struct my_frame *out);

enum my_packet_status {
	MY_PACKET_COMPLETE = 1,
	MY_PACKET_NEED_MORE,
	MY_PACKET_TOO_LARGE,
	MY_PACKET_BAD_SEQUENCE,
	MY_PACKET_NO_MEMORY,
};
const char *my_packet_status_str(enum my_packet_status s);

/* my_packet_read reassembles one logical packet (frames of 0xffffff bytes
 * continue into the next) from |in| into |out_payload| (appended).
 * |*out_consumed| is set to the bytes of |in| used and |*out_seq| to the
 * sequence id of the last frame. Continuation frames must carry consecutive
 * sequence ids. Payloads above |max_len| are refused before being copied. */
enum my_packet_status my_packet_read(struct my_cur in, size_t max_len, struct buf *out_payload,
				     size_t *out_consumed, uint8_t *out_seq);

/* my_packet_write frames |payload| into |out|, splitting at 0xffffff and
 * adding the empty trailing frame the protocol wants when the payload is a
 * multiple of it. |*seq| is advanced past the frames written. */
WP_MUST_CHECK bool my_packet_write(struct buf *out, uint8_t *seq, const uint8_t *payload,
				   size_t payload_len, size_t limit);

#endif
