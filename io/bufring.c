/* bufring: registration and recycling of provided buffers. */
#include "bufring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "alloc.h"

bool bufring_init(struct bufring *b, struct io_uring *ring, unsigned entries, size_t buf_size,
		  uint16_t group_id, int *out_err)
{
	memset(b, 0, sizeof(*b));
	size_t ring_bytes = entries * sizeof(struct io_uring_buf);
	void *mapped = mmap(NULL, ring_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE,
			    -1, 0);
	if (mapped == MAP_FAILED) {
		*out_err = -errno;
		return false;
	}
	struct io_uring_buf_reg reg = {
		.ring_addr = (uint64_t)(uintptr_t)mapped,
		.ring_entries = entries,
		.bgid = group_id,
	};
	int res = io_uring_register_buf_ring(ring, &reg, 0);
	if (res < 0) {
		munmap(mapped, ring_bytes);
		*out_err = res;
		return false;
	}
	b->ring = mapped;
	b->entries = entries;
	b->buf_size = buf_size;
	b->group_id = group_id;
	b->mem = xmalloc(entries * buf_size);
	io_uring_buf_ring_init(b->ring);
	int mask = io_uring_buf_ring_mask(entries);
	for (unsigned i = 0; i < entries; i++)
		io_uring_buf_ring_add(b->ring, bufring_buf(b, i), buf_size, i, mask, i);
	io_uring_buf_ring_advance(b->ring, entries);
	return true;
}

void bufring_cleanup(struct bufring *b, struct io_uring *ring)
{
	if (!b->ring)
		return;
	io_uring_unregister_buf_ring(ring, b->group_id);
	munmap(b->ring, b->entries * sizeof(struct io_uring_buf));
	xfree(b->mem);
	memset(b, 0, sizeof(*b));
}

void bufring_recycle(struct bufring *b, unsigned bid)
{
	io_uring_buf_ring_add(b->ring, bufring_buf(b, bid), b->buf_size, bid,
			      io_uring_buf_ring_mask(b->entries), 0);
	io_uring_buf_ring_advance(b->ring, 1);
}
