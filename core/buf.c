/* buf: growable byte queue used for socket and TLS staging. */
#include "buf.h"

#include <string.h>

uint8_t *buf_reserve(struct buf *b, size_t extra, size_t limit)
{
	if (b->off > 0 && b->off == b->len) {
		b->off = b->len = 0;
	}
	size_t live = b->len - b->off;
	if (extra > limit || live > limit - extra)
		return NULL;
	/* An empty buffer has no storage yet: even a zero-byte reservation
	 * must return a real pointer (callers take NULL as failure). */
	if (b->data && b->cap - b->len >= extra)
		return b->data + b->len;
	/* Compact first: the head is usually consumed by the time we grow. */
	if (b->off > 0 && b->cap - live >= extra) {
		memmove(b->data, b->data + b->off, live);
		b->off = 0;
		b->len = live;
		return b->data + b->len;
	}
	size_t cap = b->cap ? b->cap : 4096;
	while (cap - live < extra)
		cap *= 2;
	uint8_t *p = try_realloc(b->off ? NULL : b->data, cap);
	if (!p)
		return NULL;
	if (b->off) {
		memcpy(p, b->data + b->off, live);
		xfree(b->data);
	}
	b->data = p;
	b->cap = cap;
	b->off = 0;
	b->len = live;
	return b->data + b->len;
}

bool buf_append(struct buf *b, const void *data, size_t data_len, size_t limit)
{
	if (data_len == 0)
		return true;
	uint8_t *dst = buf_reserve(b, data_len, limit);
	if (!dst)
		return false;
	memcpy(dst, data, data_len);
	b->len += data_len;
	return true;
}

void buf_consume(struct buf *b, size_t n)
{
	b->off += n;
	if (b->off == b->len)
		b->off = b->len = 0;
}

void buf_reset(struct buf *b)
{
	b->off = b->len = 0;
}

void buf_cleanup(struct buf *b)
{
	xfree(b->data);
	*b = (struct buf){0};
}

void buf_release_if_empty(struct buf *b)
{
	if (b->data && b->off == b->len)
		buf_cleanup(b);
}
