/* my_track: follows each command's response to its true end and keeps the final status flags. */
#ifndef WP_MY_TRACK_H
#define WP_MY_TRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "my_cursor.h"

/* Where the tracker is inside the response it follows. Connections never
 * negotiate CLIENT_DEPRECATE_EOF, so result sets always end with EOF. */
enum my_track_state {
	MY_TRACK_IDLE = 0,	     /* no response expected */
	MY_TRACK_FIRST = 1,	     /* the first packet of a result decides its shape */
	MY_TRACK_COLUMNS = 2,	     /* |remaining| column definitions, then EOF */
	MY_TRACK_ROWS = 3,	     /* rows until EOF or ERR */
	MY_TRACK_PREPARE_PARAMS = 4, /* COM_STMT_PREPARE: |remaining| parameter definitions + EOF */
	MY_TRACK_PREPARE_COLUMNS = 5,/* then |remaining| column definitions + EOF */
	MY_TRACK_SINGLE = 6,	     /* exactly one packet (COM_STATISTICS, COM_SET_OPTION) */
	MY_TRACK_AUTH = 7,	     /* COM_CHANGE_USER: auth exchange until OK or ERR */
	MY_TRACK_FIELD_LIST = 8,     /* COM_FIELD_LIST: definitions until EOF or ERR */
};
const char *my_track_state_str(enum my_track_state s);

#define MY_TRACK_QUEUE 16

/* What a command's response will look like. */
enum my_track_shape {
	MY_SHAPE_NONE = 0,	 /* no response at all (COM_STMT_CLOSE, ...) */
	MY_SHAPE_RESULT = 1,	 /* OK, ERR, LOCAL INFILE request, or result sets */
	MY_SHAPE_PREPARE = 2,	 /* COM_STMT_PREPARE */
	MY_SHAPE_SINGLE = 3,	 /* one packet */
	MY_SHAPE_AUTH = 4,	 /* COM_CHANGE_USER */
	MY_SHAPE_FIELD_LIST = 5, /* COM_FIELD_LIST */
	MY_SHAPE_ROWS = 6,	 /* COM_STMT_FETCH: rows only */
};

struct my_track {
	enum my_track_state state;
	uint64_t remaining;
	uint16_t columns_after_params; /* COM_STMT_PREPARE */
	uint16_t status;	       /* status flags of the last OK or EOF */
	bool status_known;	       /* |status| came from the server (not my_track_init) */
	bool failed;		       /* the protocol was not followed: stop trusting it */
	/* Commands sent and not yet answered (clients may pipeline). */
	uint8_t queue[MY_TRACK_QUEUE];
	size_t head, len;
	uint64_t last_insert_id;       /* the last nonzero insert id an OK reported since
					  the caller zeroed it (a multi-statement's later
					  OKs without one do not hide it) */
	uint64_t responses;	       /* responses completed */
	uint64_t response_packets;     /* packets of the current response seen so far */
	bool last_error;	       /* the last completed response ended with ERR */
	bool diagnostics;	       /* a response since my_track_init ended with ERR or
					  counted warnings: the session's diagnostics area
					  may hold them (SHOW WARNINGS) until a statement
					  that uses a table clears it */
	bool uploading;		       /* LOCAL INFILE asked: the client's packets are the
					  file until an empty one (my_track_upload_ended),
					  and at the latest until the server answers the
					  upload (it has read that empty packet then, even
					  one sent before it asked) */
};

void my_track_init(struct my_track *t);

/* my_track_shape_of says what the response to command byte |cmd| is. */
enum my_track_shape my_track_shape_of(uint8_t cmd);

/* my_track_command records a command the client sent (the first payload
 * byte of a packet with sequence id 0). False when too many commands are
 * outstanding (the tracker then fails). */
bool my_track_command(struct my_track *t, uint8_t cmd);

/* my_track_server_packet feeds the start of one server packet: |head| holds
 * at least its first min(payload_len, 32) bytes. Returns true when this
 * packet ended a command's response. Continuation frames of large packets
 * are not fed. */
bool my_track_server_packet(struct my_track *t, struct my_cur head, size_t payload_len);

/* my_track_upload_ended: the client sent the empty packet that ends the
 * file of a LOCAL INFILE request; its packets are commands again. */
static inline void my_track_upload_ended(struct my_track *t)
{
	t->uploading = false;
}

/* my_track_unanswered: exactly one command is outstanding and not one
 * packet of its response has come back. */
static inline bool my_track_unanswered(const struct my_track *t)
{
	return t->len == 1 && t->response_packets == 0 && !t->failed;
}

/* my_track_idle: nothing outstanding; the status flags are final. */
static inline bool my_track_idle(const struct my_track *t)
{
	return t->state == MY_TRACK_IDLE && t->len == 0 && !t->failed;
}

#endif
