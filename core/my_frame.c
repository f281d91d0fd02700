/* my_frame: splitting and joining MySQL frames. */
#include "my_frame.h"

#include "my_proto.h"

bool my_frame_next(struct my_cur *in, struct my_frame *out)
{
	struct my_cur c = *in;
	uint32_t len;
	uint8_t seq;
	if (!my_cur_u24le(&c, &len) || !my_cur_u8(&c, &seq))
		return false;
	struct my_cur payload;
	if (!my_cur_bytes(&c, &payload, len))
		return false;
	out->seq = seq;
	out->payload = payload;
	*in = c;
	return true;
}

const char *my_packet_status_str(enum my_packet_status s)
{
	switch (s) {
	case MY_PACKET_COMPLETE: return "complete";
	case MY_PACKET_NEED_MORE: return "need_more";
	case MY_PACKET_TOO_LARGE: return "too_large";
	case MY_PACKET_BAD_SEQUENCE: return "bad_sequence";
	case MY_PACKET_NO_MEMORY: return "no_memory";
	}
	return "unknown";
}

enum my_packet_status my_packet_read(struct my_cur in, size_t max_len, struct buf *out_payload,
				     size_t *out_consumed, uint8_t *out_seq)
{
	/* First pass: find the end and check limits without copying. */
	struct my_cur c = in;
	struct my_frame f;
	size_t total = 0;
	bool first = true;
	uint8_t seq = 0;
	for (;;) {
		if (!my_frame_next(&c, &f)) {
			/* Refuse early when the header already tells us it is too big. */
			uint32_t len;
			struct my_cur h = c;
			if (my_cur_u24le(&h, &len) && total + len > max_len)
				return MY_PACKET_TOO_LARGE;
			return MY_PACKET_NEED_MORE;
		}
		if (!first && f.seq != (uint8_t)(seq + 1))
			return MY_PACKET_BAD_SEQUENCE;
		first = false;
		seq = f.seq;
		total += f.payload.len;
		if (total > max_len)
			return MY_PACKET_TOO_LARGE;
		if (f.payload.len < MY_MAX_FRAME_PAYLOAD)
			break;
	}
	/* Second pass: copy the payloads. */
	if (!buf_reserve(out_payload, total, BUF_NO_LIMIT))
		return MY_PACKET_NO_MEMORY;
	c = in;
	for (;;) {
		bool ok = my_frame_next(&c, &f);
		(void)ok; /* the first pass proved every frame complete */
		if (!buf_append(out_payload, f.payload.ptr, f.payload.len, BUF_NO_LIMIT))
			return MY_PACKET_NO_MEMORY;
		if (f.payload.len < MY_MAX_FRAME_PAYLOAD)
			break;
	}
	*out_consumed = in.len - c.len;
	*out_seq = seq;
	return MY_PACKET_COMPLETE;
}

bool my_packet_write(struct buf *out, uint8_t *seq, const uint8_t *payload, size_t payload_len,
		     size_t limit)
{
	struct my_bld b;
	my_bld_init(&b, out, limit);
	size_t off = 0;
	for (;;) {
		size_t chunk = payload_len - off;
		if (chunk > MY_MAX_FRAME_PAYLOAD)
			chunk = MY_MAX_FRAME_PAYLOAD;
		my_bld_u24le(&b, (uint32_t)chunk);
		my_bld_u8(&b, (*seq)++);
		my_bld_bytes(&b, payload + off, chunk);
		off += chunk;
		if (chunk < MY_MAX_FRAME_PAYLOAD)
			break;
	}
	return my_bld_ok(&b);
}
