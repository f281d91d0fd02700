/* my_digest: a digest of one command's answer, to tell whether two runs of it answered the same, leaving out the status flags that say how the server ran it. */
#include "my_digest.h"

#include <string.h>

#include "my_cursor.h"
#include "my_proto.h"

/* FNV-1a, 64 bits: a digest, not a defence (the server is trusted). */
#define DIGEST_OFFSET 0xcbf29ce484222325ull
#define DIGEST_PRIME 0x100000001b3ull

static void hash(struct my_digest *d, const uint8_t *p, size_t n)
{
	uint64_t h = d->hash;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * DIGEST_PRIME;
	d->hash = h;
}

void my_digest_start(struct my_digest *d, uint8_t cmd)
{
	*d = (struct my_digest){.hash = DIGEST_OFFSET};
	my_track_init(&d->track);
	if (!my_track_command(&d->track, cmd))
		d->track.failed = true; /* cannot happen on a new tracker: every byte counts */
}

static size_t payload_len(const struct my_digest *d)
{
	return (size_t)d->head[0] | (size_t)d->head[1] << 8 | (size_t)d->head[2] << 16;
}

/* head_wanted: how many bytes of the current frame |head| holds back: its
 * header, then up to MY_DIGEST_HEAD bytes of its payload. */
static size_t head_wanted(const struct my_digest *d)
{
	if (d->head_len < MY_FRAME_HEADER_LEN)
		return MY_FRAME_HEADER_LEN;
	size_t len = payload_len(d);
	return MY_FRAME_HEADER_LEN + (len < MY_DIGEST_HEAD ? len : MY_DIGEST_HEAD);
}

/* status_at: where in |head| the status flags of the packet it starts are,
 * when it is the OK or EOF the tracker reads them from; 0 otherwise (a row,
 * a definition, an ERR, a frame continuing a large packet). */
static size_t status_at(const struct my_digest *d)
{
	const struct my_track *t = &d->track;
	size_t len = payload_len(d);
	struct my_cur p = my_cur_make(d->head + MY_FRAME_HEADER_LEN,
				      d->head_len - MY_FRAME_HEADER_LEN);
	uint8_t h;
	uint64_t skip;
	if (t->failed || d->continues || !my_cur_u8(&p, &h))
		return 0;
	bool eof = h == MY_EOF_HEADER && len < 9 &&
		   ((t->state == MY_TRACK_COLUMNS && t->remaining == 0) || t->state == MY_TRACK_ROWS);
	bool ok = h == MY_OK_HEADER && len >= 7 && t->state == MY_TRACK_FIRST &&
		  my_track_shape_of(t->queue[t->head]) == MY_SHAPE_RESULT;
	if (eof && my_cur_skip(&p, 2)) /* the warnings come first */
		return d->head_len - p.len;
	if (ok && my_cur_lenenc(&p, &skip) && my_cur_lenenc(&p, &skip) && p.len >= 2)
		return d->head_len - p.len; /* after the affected rows and insert id */
	return 0;
}

/* frame_started: |head| holds all it holds back of a frame: digested with
 * the run flags cleared if it is an OK or EOF, and shown to the tracker. */
static void frame_started(struct my_digest *d)
{
	uint8_t head[sizeof(d->head)];
	size_t len = payload_len(d), at = status_at(d);
	memcpy(head, d->head, d->head_len);
	if (at > 0) {
		head[at] &= (uint8_t)~(MY_DIGEST_RUN_FLAGS & 0xff);
		head[at + 1] &= (uint8_t)~(MY_DIGEST_RUN_FLAGS >> 8);
	}
	hash(d, head, d->head_len);
	if (!d->continues && !d->track.failed)
		(void)my_track_server_packet(&d->track,
					     my_cur_make(d->head + MY_FRAME_HEADER_LEN,
							 d->head_len - MY_FRAME_HEADER_LEN),
					     len);
	d->continues = len == MY_MAX_FRAME_PAYLOAD;
	d->left = len - (d->head_len - MY_FRAME_HEADER_LEN);
	d->head_len = 0;
}

void my_digest_feed(struct my_digest *d, const uint8_t *data, size_t len)
{
	struct my_cur in = my_cur_make(data, len);
	struct my_cur piece;
	while (!my_cur_done(&in)) {
		if (d->left > 0) {
			size_t n = in.len < d->left ? in.len : d->left;
			if (!my_cur_bytes(&in, &piece, n))
				return;
			hash(d, piece.ptr, piece.len);
			d->left -= n;
			continue;
		}
		size_t n = head_wanted(d) - d->head_len;
		if (!my_cur_bytes(&in, &piece, in.len < n ? in.len : n))
			return;
		memcpy(d->head + d->head_len, piece.ptr, piece.len);
		d->head_len += piece.len;
		if (d->head_len == head_wanted(d))
			frame_started(d);
	}
}

uint64_t my_digest_end(struct my_digest *d)
{
	hash(d, d->head, d->head_len); /* a frame cut short: its bytes as they came */
	d->head_len = 0;
	return d->hash;
}
