/* bufring: a worker's provided-buffer ring for multishot receives. */
#ifndef WP_BUFRING_H
#define WP_BUFRING_H

#include <liburing.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bufring {
	struct io_uring_buf_ring *ring;
	uint8_t *mem;
	unsigned entries; /* a power of two */
	size_t buf_size;
	uint16_t group_id;
};

/* bufring_init registers |entries| buffers of |buf_size| bytes as buffer
 * group |group_id|. False with errno-style -res in |*out_err| on failure
 * (-EINVAL: the kernel lacks provided-buffer rings, 5.19+). */
bool bufring_init(struct bufring *b, struct io_uring *ring, unsigned entries, size_t buf_size,
		  uint16_t group_id, int *out_err);
void bufring_cleanup(struct bufring *b, struct io_uring *ring);

static inline uint8_t *bufring_buf(const struct bufring *b, unsigned bid)
{
	return b->mem + (size_t)bid * b->buf_size;
}

/* bufring_recycle gives buffer |bid| back to the kernel. Call it only once
 * the data has been copied out (its last consumer is done). */
void bufring_recycle(struct bufring *b, unsigned bid);

#endif
