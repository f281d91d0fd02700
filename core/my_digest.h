/* my_digest: a digest of one command's answer, to tell whether two runs of it answered the same, leaving out the status flags that say how the server ran it. */
#ifndef WP_MY_DIGEST_H
#define WP_MY_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "my_frame.h"
#include "my_proto.h"
#include "my_track.h"

/* Status flags of an OK or EOF that describe the run, not the answer: the
 * statement took longer than long_query_time (a lock wait the first time,
 * none the second), or the plan the server chose used no (good) index. */
#define MY_DIGEST_RUN_FLAGS (SERVER_QUERY_NO_GOOD_INDEX_USED | SERVER_QUERY_NO_INDEX_USED | \
			     SERVER_QUERY_WAS_SLOW)

/* The first payload bytes of a packet held back until its kind is known:
 * an OK's status follows two length-encoded integers (at most 19 bytes). */
#define MY_DIGEST_HEAD 32

/* A digest in progress. The zero value is not started: my_digest_start. */
struct my_digest {
	uint64_t hash;		/* FNV-1a, 64 bits, of every byte fed so far but |head| */
	struct my_track track;	/* follows the answer packet by packet */
	uint8_t head[MY_FRAME_HEADER_LEN + MY_DIGEST_HEAD]; /* the current frame's start */
	size_t head_len;	/* bytes held in |head| */
	size_t left;		/* bytes of the current frame past |head| still to come */
	bool continues;		/* the current frame continues a packet over 16 MiB */
};

/* my_digest_start begins the digest of the answer to command byte |cmd|. */
void my_digest_start(struct my_digest *d, uint8_t cmd);
/* my_digest_feed adds answer bytes, in pieces of any size. */
void my_digest_feed(struct my_digest *d, const uint8_t *data, size_t len);
/* my_digest_end: the digest of every byte fed, the run flags of each OK and
 * EOF cleared (all bytes as they are once the answer stops following the
 * protocol). */
uint64_t my_digest_end(struct my_digest *d);

#endif
