/* my_cursor: implementation of the bounded wire cursor and builder. */
#include "my_cursor.h"

#include <string.h>

bool my_cur_skip(struct my_cur *c, size_t n)
{
	if (c->len < n)
		return false;
	c->ptr += n;
	c->len -= n;
	return true;
}

static bool cur_le(struct my_cur *c, size_t width, uint64_t *out)
{
	if (c->len < width)
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < width; i++)
		v |= (uint64_t)c->ptr[i] << (8 * i);
	*out = v;
	c->ptr += width;
	c->len -= width;
	return true;
}

bool my_cur_u8(struct my_cur *c, uint8_t *out)
{
	uint64_t v;
	if (!cur_le(c, 1, &v))
		return false;
	*out = (uint8_t)v;
	return true;
}

bool my_cur_u16le(struct my_cur *c, uint16_t *out)
{
	uint64_t v;
	if (!cur_le(c, 2, &v))
		return false;
	*out = (uint16_t)v;
	return true;
}

bool my_cur_u24le(struct my_cur *c, uint32_t *out)
{
	uint64_t v;
	if (!cur_le(c, 3, &v))
		return false;
	*out = (uint32_t)v;
	return true;
}

bool my_cur_u32le(struct my_cur *c, uint32_t *out)
{
	uint64_t v;
	if (!cur_le(c, 4, &v))
		return false;
	*out = (uint32_t)v;
	return true;
}

bool my_cur_u64le(struct my_cur *c, uint64_t *out)
{
	return cur_le(c, 8, out);
}

bool my_cur_lenenc(struct my_cur *c, uint64_t *out)
{
	struct my_cur save = *c;
	uint8_t first;
	if (!my_cur_u8(c, &first))
		return false;
	size_t width;
	switch (first) {
	case 0xfc: width = 2; break;
	case 0xfd: width = 3; break;
	case 0xfe: width = 8; break;
	case 0xfb: /* NULL column marker */
	case 0xff: /* ERR marker, never an integer */
		*c = save;
		return false;
	default:
		*out = first;
		return true;
	}
	if (!cur_le(c, width, out)) {
		*c = save;
		return false;
	}
	return true;
}

bool my_cur_bytes(struct my_cur *c, struct my_cur *out, size_t n)
{
	if (c->len < n)
		return false;
	*out = my_cur_make(c->ptr, n);
	c->ptr += n;
	c->len -= n;
	return true;
}

bool my_cur_nul_str(struct my_cur *c, struct my_cur *out)
{
	const uint8_t *nul = memchr(c->ptr, 0, c->len);
	if (!nul)
		return false;
	size_t n = (size_t)(nul - c->ptr);
	*out = my_cur_make(c->ptr, n);
	c->ptr += n + 1;
	c->len -= n + 1;
	return true;
}

bool my_cur_lenenc_bytes(struct my_cur *c, struct my_cur *out)
{
	struct my_cur save = *c;
	uint64_t n;
	if (!my_cur_lenenc(c, &n) || n > c->len) {
		*c = save;
		return false;
	}
	return my_cur_bytes(c, out, (size_t)n);
}

void my_cur_rest(struct my_cur *c, struct my_cur *out)
{
	*out = *c;
	c->ptr += c->len;
	c->len = 0;
}

bool my_cur_eq_str(const struct my_cur *c, const char *s)
{
	size_t n = strlen(s);
	return c->len == n && memcmp(c->ptr, s, n) == 0;
}

bool my_cur_copy_str(const struct my_cur *c, char *dst, size_t dst_len)
{
	if (c->len >= dst_len || memchr(c->ptr, 0, c->len))
		return false;
	memcpy(dst, c->ptr, c->len);
	dst[c->len] = '\0';
	return true;
}

void my_bld_init(struct my_bld *b, struct buf *out, size_t limit)
{
	*b = (struct my_bld){.out = out, .limit = limit, .packet_start = SIZE_MAX};
}

void my_bld_bytes(struct my_bld *b, const void *p, size_t len)
{
	if (b->err)
		return;
	if (!buf_append(b->out, p, len, b->limit))
		b->err = true;
}

static void bld_le(struct my_bld *b, uint64_t v, size_t width)
{
	uint8_t tmp[8];
	for (size_t i = 0; i < width; i++)
		tmp[i] = (uint8_t)(v >> (8 * i));
	my_bld_bytes(b, tmp, width);
}

void my_bld_u8(struct my_bld *b, uint8_t v) { bld_le(b, v, 1); }
void my_bld_u16le(struct my_bld *b, uint16_t v) { bld_le(b, v, 2); }
void my_bld_u24le(struct my_bld *b, uint32_t v)
{
	if (v > 0xffffff)
		b->err = true;
	bld_le(b, v, 3);
}
void my_bld_u32le(struct my_bld *b, uint32_t v) { bld_le(b, v, 4); }

void my_bld_lenenc(struct my_bld *b, uint64_t v)
{
	if (v < 0xfb) {
		my_bld_u8(b, (uint8_t)v);
	} else if (v <= 0xffff) {
		my_bld_u8(b, 0xfc);
		bld_le(b, v, 2);
	} else if (v <= 0xffffff) {
		my_bld_u8(b, 0xfd);
		bld_le(b, v, 3);
	} else {
		my_bld_u8(b, 0xfe);
		bld_le(b, v, 8);
	}
}

void my_bld_zeros(struct my_bld *b, size_t n)
{
	static const uint8_t zeros[32];
	while (n > 0 && !b->err) {
		size_t k = n < sizeof(zeros) ? n : sizeof(zeros);
		my_bld_bytes(b, zeros, k);
		n -= k;
	}
}

void my_bld_nul_str(struct my_bld *b, const char *s)
{
	my_bld_bytes(b, s, strlen(s) + 1);
}

void my_bld_lenenc_bytes(struct my_bld *b, const void *p, size_t len)
{
	my_bld_lenenc(b, len);
	my_bld_bytes(b, p, len);
}

void my_bld_packet_begin(struct my_bld *b, uint8_t seq)
{
	if (b->packet_start != SIZE_MAX)
		b->err = true; /* packets do not nest */
	if (b->err)
		return;
	/* Relative to the head: buf_reserve may compact the buffer. */
	b->packet_start = buf_avail(b->out);
	my_bld_u24le(b, 0);
	my_bld_u8(b, seq);
}

void my_bld_packet_end(struct my_bld *b)
{
	if (b->err || b->packet_start == SIZE_MAX) {
		b->err = true;
		return;
	}
	size_t payload_len = buf_avail(b->out) - b->packet_start - 4;
	if (payload_len >= 0xffffff) {
		b->err = true;
		return;
	}
	uint8_t *hdr = b->out->data + b->out->off + b->packet_start;
	hdr[0] = (uint8_t)payload_len;
	hdr[1] = (uint8_t)(payload_len >> 8);
	hdr[2] = (uint8_t)(payload_len >> 16);
	b->packet_start = SIZE_MAX;
}
