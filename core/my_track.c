/* my_track: the grammar of MySQL responses, one packet at a time. */
#include "my_track.h"

#include <string.h>

#include "my_proto.h"

#define SERVER_STATUS_CURSOR_EXISTS 0x0040
#define LOCAL_INFILE_HEADER 0xfb

const char *my_track_state_str(enum my_track_state s)
{
	static const char *const names[] = {"idle", "first", "columns", "rows",
					    "prepare_params", "prepare_columns", "single", "auth",
					    "field_list"};
	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "unknown";
}

void my_track_init(struct my_track *t)
{
	memset(t, 0, sizeof(*t));
	t->status = SERVER_STATUS_AUTOCOMMIT;
}

enum my_track_shape my_track_shape_of(uint8_t cmd)
{
	switch (cmd) {
	case COM_QUIT:
	case COM_STMT_CLOSE:
	case COM_STMT_SEND_LONG_DATA: return MY_SHAPE_NONE;
	case COM_STMT_PREPARE: return MY_SHAPE_PREPARE;
	case COM_STATISTICS:
	case COM_SET_OPTION: return MY_SHAPE_SINGLE;
	case COM_CHANGE_USER: return MY_SHAPE_AUTH;
	case COM_FIELD_LIST: return MY_SHAPE_FIELD_LIST;
	case COM_STMT_FETCH: return MY_SHAPE_ROWS;
	default: return MY_SHAPE_RESULT;
	}
}

static bool is_eof(uint8_t h, size_t len) { return h == MY_EOF_HEADER && len < 9; }

/* start_next begins the response of the oldest unanswered command. */
static void start_next(struct my_track *t)
{
	t->response_packets = 0;
	while (t->len > 0) {
		uint8_t cmd = t->queue[t->head];
		enum my_track_shape shape = my_track_shape_of(cmd);
		if (shape != MY_SHAPE_NONE)
			break;
		t->head = (t->head + 1) % MY_TRACK_QUEUE;
		t->len--;
	}
	if (t->len == 0) {
		t->state = MY_TRACK_IDLE;
		return;
	}
	switch (my_track_shape_of(t->queue[t->head])) {
	case MY_SHAPE_PREPARE: t->state = MY_TRACK_FIRST; break;
	case MY_SHAPE_SINGLE: t->state = MY_TRACK_SINGLE; break;
	case MY_SHAPE_AUTH: t->state = MY_TRACK_AUTH; break;
	case MY_SHAPE_FIELD_LIST: t->state = MY_TRACK_FIELD_LIST; break;
	case MY_SHAPE_ROWS: t->state = MY_TRACK_ROWS; break;
	default: t->state = MY_TRACK_FIRST; break;
	}
}

bool my_track_command(struct my_track *t, uint8_t cmd)
{
	if (t->len == MY_TRACK_QUEUE) {
		t->failed = true;
		return false;
	}
	t->queue[(t->head + t->len) % MY_TRACK_QUEUE] = cmd;
	t->len++;
	if (t->state == MY_TRACK_IDLE)
		start_next(t);
	return true;
}

/* finish ends the current response and moves on. */
static bool finish_as(struct my_track *t, bool error)
{
	t->last_error = error;
	t->diagnostics = t->diagnostics || error;
	t->head = (t->head + 1) % MY_TRACK_QUEUE;
	t->len--;
	t->responses++;
	start_next(t);
	return true;
}

static bool finish(struct my_track *t) { return finish_as(t, false); }
static bool finish_error(struct my_track *t) { return finish_as(t, true); }

/* read_status takes the status flags of an OK or EOF packet. */
static bool read_status(struct my_track *t, struct my_cur p, uint8_t h)
{
	uint64_t affected, insert_id;
	uint16_t warnings;
	if (h == MY_EOF_HEADER) {
		t->status_known = my_cur_skip(&p, 1) && my_cur_u16le(&p, &warnings) &&
				  my_cur_u16le(&p, &t->status);
		t->diagnostics = t->diagnostics || !t->status_known || warnings > 0;
		return t->status_known;
	}
	if (!my_cur_skip(&p, 1) || !my_cur_lenenc(&p, &affected) || !my_cur_lenenc(&p, &insert_id) ||
	    !my_cur_u16le(&p, &t->status))
		return t->status_known = false;
	/* CLIENT_PROTOCOL_41 always (warmpool requires it): warnings follow. */
	t->diagnostics = t->diagnostics || !my_cur_u16le(&p, &warnings) || warnings > 0;
	if (insert_id)
		t->last_insert_id = insert_id;
	return t->status_known = true;
}

/* end_of_result: an OK or EOF closed one result; more may follow. */
static bool end_of_result(struct my_track *t)
{
	if (t->status & SERVER_MORE_RESULTS_EXISTS) {
		t->state = MY_TRACK_FIRST;
		return false;
	}
	return finish(t);
}

static bool fail(struct my_track *t)
{
	t->failed = true;
	return false;
}

static bool on_first(struct my_track *t, struct my_cur p, uint8_t h, size_t len)
{
	bool prepare = my_track_shape_of(t->queue[t->head]) == MY_SHAPE_PREPARE;
	/* After an upload, the server answers only once it has read the
	 * empty packet: a client that sent it before the request (pipelined)
	 * was never seen ending it, and its next packets are commands. */
	t->uploading = t->uploading && h == LOCAL_INFILE_HEADER;
	if (h == MY_ERR_HEADER)
		return finish_error(t);
	if (h == MY_OK_HEADER && prepare) {
		uint32_t stmt_id;
		uint16_t columns, params;
		struct my_cur c = p;
		if (!my_cur_skip(&c, 1) || !my_cur_u32le(&c, &stmt_id) ||
		    !my_cur_u16le(&c, &columns) || !my_cur_u16le(&c, &params))
			return fail(t);
		t->columns_after_params = columns;
		t->remaining = params;
		t->state = MY_TRACK_PREPARE_PARAMS;
		if (params == 0 && columns == 0)
			return finish(t);
		if (params == 0) {
			t->remaining = columns;
			t->state = MY_TRACK_PREPARE_COLUMNS;
		}
		return false;
	}
	if (h == MY_OK_HEADER && len >= 7)
		return read_status(t, p, h) ? end_of_result(t) : fail(t);
	if (h == LOCAL_INFILE_HEADER) {
		/* The client uploads the file; the server's next packet is OK or
		 * ERR. The upload's sequence ids wrap past 255 like any others,
		 * so a packet with id 0 during it is file, not a command. */
		t->state = MY_TRACK_FIRST;
		t->uploading = true;
		return false;
	}
	uint64_t columns;
	if (!my_cur_lenenc(&p, &columns) || columns == 0)
		return fail(t);
	t->remaining = columns;
	t->state = MY_TRACK_COLUMNS;
	return false;
}

/* on_definitions counts column or parameter definitions, then their EOF. */
static bool on_definitions(struct my_track *t, struct my_cur p, uint8_t h, size_t len)
{
	if (t->remaining > 0) {
		t->remaining--;
		return false;
	}
	if (!is_eof(h, len) || !read_status(t, p, h))
		return fail(t);
	if (t->state == MY_TRACK_COLUMNS) {
		/* A cursor was opened: rows come with COM_STMT_FETCH. */
		if (t->status & SERVER_STATUS_CURSOR_EXISTS)
			return finish(t);
		t->state = MY_TRACK_ROWS;
		return false;
	}
	if (t->state == MY_TRACK_PREPARE_PARAMS && t->columns_after_params > 0) {
		t->remaining = t->columns_after_params;
		t->state = MY_TRACK_PREPARE_COLUMNS;
		return false;
	}
	return finish(t);
}

bool my_track_server_packet(struct my_track *t, struct my_cur head, size_t len)
{
	uint8_t h = 0;
	if (t->failed)
		return false;
	t->response_packets++;
	if (len > 0 && !my_cur_u8(&(struct my_cur){head.ptr, head.len}, &h))
		return fail(t);
	switch (t->state) {
	case MY_TRACK_IDLE:
		return fail(t); /* the server spoke out of turn */
	case MY_TRACK_FIRST:
		return len == 0 ? fail(t) : on_first(t, head, h, len);
	case MY_TRACK_COLUMNS:
	case MY_TRACK_PREPARE_PARAMS:
	case MY_TRACK_PREPARE_COLUMNS:
		return on_definitions(t, head, h, len);
	case MY_TRACK_ROWS:
		if (h == MY_ERR_HEADER && len > 0)
			return finish_error(t);
		if (is_eof(h, len))
			return read_status(t, head, h) ? end_of_result(t) : fail(t);
		return false;
	case MY_TRACK_SINGLE:
		if (h == MY_ERR_HEADER && len > 0)
			return finish_error(t); /* COM_SET_OPTION refused */
		if (h == MY_EOF_HEADER && len < 9)
			(void)read_status(t, head, h);
		return finish(t);
	case MY_TRACK_AUTH:
		if (h == MY_OK_HEADER && len >= 7)
			return read_status(t, head, h) ? finish(t) : fail(t);
		return h == MY_ERR_HEADER ? finish_error(t) : false;
	case MY_TRACK_FIELD_LIST:
		if (h == MY_ERR_HEADER)
			return finish_error(t);
		return is_eof(h, len) ? finish(t) : false;
	}
	return fail(t);
}
