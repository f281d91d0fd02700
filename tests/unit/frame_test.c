/* frame_test: framing, reassembly over 16 MiB, sequence checks and limits. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "my_frame.h"
#include "my_proto.h"

Test(frame, splits_one_frame_and_waits_for_more)
{
	const uint8_t wire[] = {3, 0, 0, 5, 'a', 'b', 'c', 2, 0, 0};
	struct my_cur in = my_cur_make(wire, sizeof(wire));
	struct my_frame f;
	cr_assert(my_frame_next(&in, &f));
	cr_expect_eq(f.seq, 5);
	cr_expect(my_cur_eq_str(&f.payload, "abc"));
	cr_expect_not(my_frame_next(&in, &f)); /* header incomplete */
	cr_expect_eq(in.len, 3);
}

static uint8_t *pattern(size_t len)
{
	uint8_t *p = malloc(len);
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 31 + 7);
	return p;
}

static void roundtrip(size_t payload_len, size_t expect_frames)
{
	uint8_t *payload = pattern(payload_len);
	struct buf wire = {0};
	uint8_t seq = 3;
	cr_assert(my_packet_write(&wire, &seq, payload, payload_len, BUF_NO_LIMIT));
	cr_expect_eq(seq, (uint8_t)(3 + expect_frames));
	cr_expect_eq(buf_avail(&wire), payload_len + 4 * expect_frames);

	struct buf out = {0};
	size_t used = 0;
	uint8_t last_seq = 0;
	enum my_packet_status st = my_packet_read(my_cur_make(buf_head(&wire), buf_avail(&wire)),
						  payload_len + 1, &out, &used, &last_seq);
	cr_assert_eq(st, MY_PACKET_COMPLETE, "status %s", my_packet_status_str(st));
	cr_expect_eq(used, buf_avail(&wire));
	cr_expect_eq(last_seq, (uint8_t)(3 + expect_frames - 1));
	cr_assert_eq(buf_avail(&out), payload_len);
	cr_expect(memcmp(buf_head(&out), payload, payload_len) == 0);
	buf_cleanup(&out);
	buf_cleanup(&wire);
	free(payload);
}

Test(frame, small_payload_is_one_frame) { roundtrip(100, 1); }

Test(frame, payload_over_16mib_continues)
{
	roundtrip(MY_MAX_FRAME_PAYLOAD + 1000, 2);
}

Test(frame, exact_multiple_of_16mib_ends_with_empty_frame)
{
	roundtrip(MY_MAX_FRAME_PAYLOAD, 2);
}

Test(frame, reassembly_waits_for_the_continuation)
{
	size_t len = MY_MAX_FRAME_PAYLOAD + 10;
	uint8_t *payload = pattern(len);
	struct buf wire = {0};
	uint8_t seq = 0;
	cr_assert(my_packet_write(&wire, &seq, payload, len, BUF_NO_LIMIT));
	struct buf out = {0};
	size_t used;
	uint8_t last;
	/* Everything but the last byte: still incomplete, nothing copied. */
	enum my_packet_status st = my_packet_read(my_cur_make(buf_head(&wire), buf_avail(&wire) - 1),
						  len, &out, &used, &last);
	cr_expect_eq(st, MY_PACKET_NEED_MORE);
	cr_expect_eq(buf_avail(&out), 0);
	buf_cleanup(&wire);
	free(payload);
}

Test(frame, empty_packet_is_complete)
{
	/* Zero-length packets exist (the end of a LOAD DATA LOCAL upload). */
	const uint8_t wire[] = {0, 0, 0, 4};
	struct buf out = {0};
	size_t used;
	uint8_t last;
	enum my_packet_status st =
		my_packet_read(my_cur_make(wire, sizeof(wire)), 100, &out, &used, &last);
	cr_expect_eq(st, MY_PACKET_COMPLETE, "status %s", my_packet_status_str(st));
	cr_expect_eq(used, 4);
	cr_expect_eq(last, 4);
	cr_expect_eq(buf_avail(&out), 0);
	buf_cleanup(&out);
}

Test(frame, refuses_payload_over_limit_from_the_header)
{
	const uint8_t wire[] = {0x00, 0x00, 0x10, 0}; /* claims 1 MiB, sends nothing */
	struct buf out = {0};
	size_t used;
	uint8_t last;
	enum my_packet_status st =
		my_packet_read(my_cur_make(wire, sizeof(wire)), 65536, &out, &used, &last);
	cr_expect_eq(st, MY_PACKET_TOO_LARGE);
}

Test(frame, continuation_with_wrong_sequence_is_rejected)
{
	size_t len = MY_MAX_FRAME_PAYLOAD + 5;
	uint8_t *payload = pattern(len);
	struct buf wire = {0};
	uint8_t seq = 0;
	cr_assert(my_packet_write(&wire, &seq, payload, len, BUF_NO_LIMIT));
	/* Corrupt the second frame's sequence id. */
	wire.data[wire.off + 4 + MY_MAX_FRAME_PAYLOAD + 3] = 9;
	struct buf out = {0};
	size_t used;
	uint8_t last;
	enum my_packet_status st = my_packet_read(my_cur_make(buf_head(&wire), buf_avail(&wire)),
						  len, &out, &used, &last);
	cr_expect_eq(st, MY_PACKET_BAD_SEQUENCE);
	buf_cleanup(&wire);
	free(payload);
}
