/* ring: io_uring user_data encoding and the operation kinds, all in one place. */
#ifndef WP_RING_H
#define WP_RING_H

#include <stdint.h>

/* Every SQE carries a pointer to the object it concerns and, in the top
 * byte, the kind of operation. x86-64 and arm64 user pointers fit in 56 bits. */
enum ring_op {
	RING_OP_NONE = 0,
	RING_OP_ACCEPT = 1,	  /* listener: multishot accept */
	RING_OP_RECV = 2,	  /* conn: multishot recv from the buffer ring */
	RING_OP_SEND = 3,	  /* conn: send of conn->sending */
	RING_OP_CONNECT = 4,	  /* conn: connect to a backend */
	RING_OP_LINK_TIMEOUT = 5, /* conn: bounds the connect linked before it */
	RING_OP_CANCEL = 6,	  /* conn: cancel of its other operations */
	RING_OP_CLOSE = 7,	  /* conn: close(2) of its descriptor */
	RING_OP_TICK = 8,	  /* worker: periodic timer */
	RING_OP_WAKE = 9,	  /* worker: eventfd read, wakes on stop */
	RING_OP_RETRY = 10,	  /* worker: one-shot timer, a pool's connect backoff ends */
	RING_OP_COUNT = 11,
};

#define RING_UD_PTR_MASK ((UINT64_C(1) << 56) - 1)

static inline uint64_t ring_ud(const void *obj, enum ring_op op)
{
	return (uint64_t)(uintptr_t)obj | ((uint64_t)op << 56);
}

static inline enum ring_op ring_ud_op(uint64_t ud)
{
	return (enum ring_op)(ud >> 56);
}

static inline void *ring_ud_ptr(uint64_t ud)
{
	return (void *)(uintptr_t)(ud & RING_UD_PTR_MASK);
}

const char *ring_op_str(enum ring_op op);

#endif
