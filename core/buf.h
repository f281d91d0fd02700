/* buf: a growable byte queue (append at the tail, consume from the head). */
#ifndef WP_BUF_H
#define WP_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"

/* Bytes [off, len) are unread. The zero value is an empty buffer. */
struct buf {
	uint8_t *data;
	size_t off;
	size_t len;
	size_t cap;
};

static inline const uint8_t *buf_head(const struct buf *b) { return b->data + b->off; }
static inline size_t buf_avail(const struct buf *b) { return b->len - b->off; }
/* buf_room: bytes that fit after the tail without growing. */
static inline size_t buf_room(const struct buf *b) { return b->cap - b->len; }

/* buf_reserve makes room for |extra| more bytes and returns where they go,
 * or NULL when the buffer would exceed |limit| or memory is exhausted. */
WP_MUST_CHECK uint8_t *buf_reserve(struct buf *b, size_t extra, size_t limit);

/* buf_append copies |data_len| bytes to the tail; false as for buf_reserve. */
WP_MUST_CHECK bool buf_append(struct buf *b, const void *data, size_t data_len, size_t limit);

/* buf_consume drops |n| bytes from the head (n <= buf_avail). */
void buf_consume(struct buf *b, size_t n);

void buf_reset(struct buf *b);
/* buf_release_if_empty frees the storage of an empty buffer, so that an
 * idle connection holds no buffer memory (thousands of them add up). */
void buf_release_if_empty(struct buf *b);
void buf_cleanup(struct buf *b);

/* BUF_NO_LIMIT is for buffers whose growth is bounded elsewhere. */
#define BUF_NO_LIMIT ((size_t)-1)

#endif
