/* cursor_test: the bounded cursor never reads past its end; the builder's error is sticky. */
#include <criterion/criterion.h>
#include <string.h>

#include "my_cursor.h"

Test(cursor, fixed_width_little_endian)
{
	const uint8_t data[] = {0x01, 0x34, 0x12, 0x56, 0x34, 0x12, 0x78, 0x56, 0x34, 0x12};
	struct my_cur c = my_cur_make(data, sizeof(data));
	uint8_t u8;
	uint16_t u16;
	uint32_t u24, u32;
	cr_assert(my_cur_u8(&c, &u8));
	cr_assert(my_cur_u16le(&c, &u16));
	cr_assert(my_cur_u24le(&c, &u24));
	cr_assert(my_cur_u32le(&c, &u32));
	cr_expect_eq(u8, 0x01);
	cr_expect_eq(u16, 0x1234);
	cr_expect_eq(u24, 0x123456);
	cr_expect_eq(u32, 0x12345678);
	cr_expect(my_cur_done(&c));
}

Test(cursor, short_read_leaves_cursor_untouched)
{
	const uint8_t data[] = {0xaa, 0xbb, 0xcc};
	struct my_cur c = my_cur_make(data, sizeof(data));
	uint32_t v;
	cr_assert_not(my_cur_u32le(&c, &v));
	cr_expect_eq(c.len, 3);
	cr_expect_eq(c.ptr, data);
	struct my_cur out;
	cr_assert_not(my_cur_bytes(&c, &out, 4));
	cr_expect_eq(c.len, 3);
}

struct lenenc_case {
	uint8_t bytes[9];
	size_t len;
	uint64_t value;
};

Test(cursor, lenenc_all_widths)
{
	const struct lenenc_case cases[] = {
		{{0x00}, 1, 0},
		{{0xfa}, 1, 250},
		{{0xfc, 0xfb, 0x00}, 3, 251},
		{{0xfc, 0xff, 0xff}, 3, 0xffff},
		{{0xfd, 0x00, 0x00, 0x01}, 4, 0x10000},
		{{0xfe, 1, 2, 3, 4, 5, 6, 7, 8}, 9, 0x0807060504030201ull},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct my_cur c = my_cur_make(cases[i].bytes, cases[i].len);
		uint64_t v;
		cr_assert(my_cur_lenenc(&c, &v), "case %zu", i);
		cr_expect_eq(v, cases[i].value, "case %zu", i);
		cr_expect(my_cur_done(&c));
		/* and the builder writes the same bytes back */
		struct buf b = {0};
		struct my_bld bld;
		my_bld_init(&bld, &b, BUF_NO_LIMIT);
		my_bld_lenenc(&bld, cases[i].value);
		cr_assert(my_bld_ok(&bld));
		cr_expect_eq(buf_avail(&b), cases[i].len, "case %zu", i);
		cr_expect_arr_eq(buf_head(&b), cases[i].bytes, cases[i].len);
		buf_cleanup(&b);
	}
}

Test(cursor, lenenc_rejects_null_err_and_truncation)
{
	const uint8_t null_marker[] = {0xfb};
	const uint8_t err_marker[] = {0xff, 0, 0};
	const uint8_t truncated[] = {0xfd, 0x01};
	uint64_t v;
	struct my_cur c = my_cur_make(null_marker, 1);
	cr_expect_not(my_cur_lenenc(&c, &v));
	cr_expect_eq(c.len, 1);
	c = my_cur_make(err_marker, 3);
	cr_expect_not(my_cur_lenenc(&c, &v));
	c = my_cur_make(truncated, 2);
	cr_expect_not(my_cur_lenenc(&c, &v));
	cr_expect_eq(c.len, 2);
}

Test(cursor, nul_strings)
{
	const uint8_t data[] = {'a', 'b', 0, 'c'};
	struct my_cur c = my_cur_make(data, sizeof(data)), s;
	cr_assert(my_cur_nul_str(&c, &s));
	cr_expect(my_cur_eq_str(&s, "ab"));
	cr_expect_not(my_cur_nul_str(&c, &s)); /* "c" has no terminator */
	cr_expect_eq(c.len, 1);
	char small[2];
	struct my_cur ab = my_cur_make("ab", 2);
	cr_expect_not(my_cur_copy_str(&ab, small, sizeof(small)));
	struct my_cur with_nul = my_cur_make("a\0b", 3);
	char big[8];
	cr_expect_not(my_cur_copy_str(&with_nul, big, sizeof(big)));
}

Test(builder, packet_length_is_backpatched)
{
	struct buf b = {0};
	struct my_bld bld;
	my_bld_init(&bld, &b, BUF_NO_LIMIT);
	my_bld_packet_begin(&bld, 7);
	my_bld_nul_str(&bld, "hello");
	my_bld_packet_end(&bld);
	cr_assert(my_bld_ok(&bld));
	const uint8_t want[] = {6, 0, 0, 7, 'h', 'e', 'l', 'l', 'o', 0};
	cr_assert_eq(buf_avail(&b), sizeof(want));
	cr_expect_arr_eq(buf_head(&b), want, sizeof(want));
	buf_cleanup(&b);
}

Test(builder, backpatch_survives_compaction)
{
	/* A consumed head makes the buffer compact while a packet is built. */
	struct buf b = {0};
	cr_assert(buf_append(&b, "0123456789", 10, BUF_NO_LIMIT));
	buf_consume(&b, 9);
	struct my_bld bld;
	my_bld_init(&bld, &b, BUF_NO_LIMIT);
	my_bld_packet_begin(&bld, 0);
	uint8_t big[8000];
	memset(big, 'x', sizeof(big));
	my_bld_bytes(&bld, big, sizeof(big));
	my_bld_packet_end(&bld);
	cr_assert(my_bld_ok(&bld));
	struct my_cur c = my_cur_make(buf_head(&b), buf_avail(&b));
	uint8_t first;
	uint32_t len;
	cr_assert(my_cur_u8(&c, &first));
	cr_expect_eq(first, '9');
	cr_assert(my_cur_u24le(&c, &len));
	cr_expect_eq(len, sizeof(big));
	buf_cleanup(&b);
}

Test(builder, error_is_sticky_at_limit)
{
	struct buf b = {0};
	struct my_bld bld;
	my_bld_init(&bld, &b, 4);
	my_bld_u32le(&bld, 1);
	cr_expect(my_bld_ok(&bld));
	my_bld_u8(&bld, 2); /* over the limit */
	cr_expect_not(my_bld_ok(&bld));
	my_bld_u8(&bld, 3);
	cr_expect_not(my_bld_ok(&bld));
	cr_expect_eq(buf_avail(&b), 4);
	buf_cleanup(&b);
}

Test(builder, unbalanced_packets_fail)
{
	struct buf b = {0};
	struct my_bld bld;
	my_bld_init(&bld, &b, BUF_NO_LIMIT);
	my_bld_packet_end(&bld);
	cr_expect_not(my_bld_ok(&bld));
	my_bld_init(&bld, &b, BUF_NO_LIMIT);
	my_bld_packet_begin(&bld, 0);
	my_bld_packet_begin(&bld, 1);
	cr_expect_not(my_bld_ok(&bld));
	buf_cleanup(&b);
}
