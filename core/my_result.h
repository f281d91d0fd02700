/* my_result: OK, ERR and EOF packets, and classification of a server reply. */
#ifndef WP_MY_RESULT_H
#define WP_MY_RESULT_H

#include <stdbool.h>
#include <stdint.h>

#include "my_cursor.h"
#include "my_proto.h"

struct my_ok {
	uint64_t affected_rows;
	uint64_t last_insert_id;
	uint16_t status;
	uint16_t warnings;
};

#define MY_ERR_MESSAGE_MAX 512

struct my_err {
	uint16_t code;
	char sqlstate[6]; /* "" when the server sent none */
	char message[MY_ERR_MESSAGE_MAX];
};

/* What a server packet is, from its first byte and length. */
enum my_reply_kind {
	MY_REPLY_OK = 1,
	MY_REPLY_ERR,
	MY_REPLY_EOF,
	MY_REPLY_AUTH_MORE,  /* 0x01: AuthMoreData during authentication */
	MY_REPLY_AUTH_SWITCH, /* 0xfe during authentication */
	MY_REPLY_OTHER,	    /* result set data and the like */
};
const char *my_reply_kind_str(enum my_reply_kind kind);

/* my_reply_classify_auth: classification during the connection phase. */
enum my_reply_kind my_reply_classify_auth(struct my_cur payload);
/* my_reply_classify_command: after a command, without CLIENT_DEPRECATE_EOF. */
enum my_reply_kind my_reply_classify_command(struct my_cur payload);

/* my_ok_parse reads an OK packet. Trailing info/session-track data is
 * accepted and ignored: only the fixed fields are used. */
WP_MUST_CHECK bool my_ok_parse(struct my_cur payload, struct my_ok *out);
/* my_err_parse reads an ERR packet (with or without the SQL state marker).
 * Messages longer than MY_ERR_MESSAGE_MAX - 1 are truncated. */
WP_MUST_CHECK bool my_err_parse(struct my_cur payload, struct my_err *out);

/* my_err_code: the code of the ERR packet |payload|, 0 when it is not one. */
uint16_t my_err_code(struct my_cur payload);
/* my_frames_err_code: the code of the first ERR packet among |frames|,
 * whole frames with their headers (a command's answer: MySQL ends a result
 * with ERR 1053 after its column definitions when it shuts down); 0 when
 * there is none. */
uint16_t my_frames_err_code(struct my_cur frames);
/* my_err_ends_session: the server answers |code| as it ends the session
 * (ERR 1053 as it shuts down, 1927 when killed): the command did not run,
 * and the connection closes. */
static inline bool my_err_ends_session(uint16_t code)
{
	return code == ER_SERVER_SHUTDOWN || code == ER_CONNECTION_KILLED;
}

void my_ok_build(struct my_bld *b, uint8_t seq, const struct my_ok *ok);
/* my_err_build writes an ERR packet; |sqlstate| has 5 characters. */
void my_err_build(struct my_bld *b, uint8_t seq, uint16_t code, const char *sqlstate,
		  const char *message);

#endif
