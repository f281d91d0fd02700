/* my_cursor: bounded reader and sticky-error builder for MySQL wire data. */
#ifndef WP_MY_CURSOR_H
#define WP_MY_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "buf.h"

/* A cursor is a borrowed view {ptr, len}. Every getter advances only on
 * success and returns false, leaving the cursor untouched, when the data is
 * short. Nothing else in warmpool does pointer arithmetic on wire data. */
struct my_cur {
	const uint8_t *ptr;
	size_t len;
};

static inline struct my_cur my_cur_make(const void *p, size_t len)
{
	return (struct my_cur){.ptr = p, .len = len};
}
static inline bool my_cur_done(const struct my_cur *c) { return c->len == 0; }

WP_MUST_CHECK bool my_cur_skip(struct my_cur *c, size_t n);
WP_MUST_CHECK bool my_cur_u8(struct my_cur *c, uint8_t *out);
WP_MUST_CHECK bool my_cur_u16le(struct my_cur *c, uint16_t *out);
WP_MUST_CHECK bool my_cur_u24le(struct my_cur *c, uint32_t *out);
WP_MUST_CHECK bool my_cur_u32le(struct my_cur *c, uint32_t *out);
WP_MUST_CHECK bool my_cur_u64le(struct my_cur *c, uint64_t *out);
/* my_cur_lenenc reads a length-encoded integer; 0xfb (NULL) and 0xff are
 * rejected, as no field warmpool parses may hold them. */
WP_MUST_CHECK bool my_cur_lenenc(struct my_cur *c, uint64_t *out);
/* my_cur_bytes splits the next |n| bytes off into |out|. */
WP_MUST_CHECK bool my_cur_bytes(struct my_cur *c, struct my_cur *out, size_t n);
/* my_cur_nul_str reads up to a NUL (excluded from |out|, consumed). */
WP_MUST_CHECK bool my_cur_nul_str(struct my_cur *c, struct my_cur *out);
WP_MUST_CHECK bool my_cur_lenenc_bytes(struct my_cur *c, struct my_cur *out);
/* my_cur_rest moves everything left into |out|; always succeeds. */
void my_cur_rest(struct my_cur *c, struct my_cur *out);

/* my_cur_eq_str compares the bytes with a C string. */
bool my_cur_eq_str(const struct my_cur *c, const char *s);
/* my_cur_copy_str copies into |dst| with a NUL; false if it does not fit or
 * contains a NUL byte. */
WP_MUST_CHECK bool my_cur_copy_str(const struct my_cur *c, char *dst, size_t dst_len);

/* A builder appends to a buf. The first failure (limit or memory) sets a
 * sticky error bit; later calls do nothing, and the caller checks once with
 * my_bld_ok. */
struct my_bld {
	struct buf *out;
	size_t limit;
	size_t packet_start; /* offset of the open packet's header, or SIZE_MAX */
	bool err;
};

void my_bld_init(struct my_bld *b, struct buf *out, size_t limit);
void my_bld_u8(struct my_bld *b, uint8_t v);
void my_bld_u16le(struct my_bld *b, uint16_t v);
void my_bld_u24le(struct my_bld *b, uint32_t v);
void my_bld_u32le(struct my_bld *b, uint32_t v);
void my_bld_lenenc(struct my_bld *b, uint64_t v);
void my_bld_bytes(struct my_bld *b, const void *p, size_t len);
void my_bld_zeros(struct my_bld *b, size_t n);
/* my_bld_nul_str writes |s| and its terminating NUL. */
void my_bld_nul_str(struct my_bld *b, const char *s);
void my_bld_lenenc_bytes(struct my_bld *b, const void *p, size_t len);

/* my_bld_packet_begin opens a frame with sequence id |seq|; the 3-byte
 * length is back-patched by my_bld_packet_end. Payloads built this way must
 * stay below 16 MiB - 1 (larger ones set the error bit). */
void my_bld_packet_begin(struct my_bld *b, uint8_t seq);
void my_bld_packet_end(struct my_bld *b);

WP_MUST_CHECK static inline bool my_bld_ok(const struct my_bld *b) { return !b->err; }

#endif
