/* my_result: codec for OK/ERR/EOF replies. */
#include "my_result.h"

#include <string.h>

#include "my_proto.h"

const char *my_reply_kind_str(enum my_reply_kind kind)
{
	switch (kind) {
	case MY_REPLY_OK: return "ok";
	case MY_REPLY_ERR: return "err";
	case MY_REPLY_EOF: return "eof";
	case MY_REPLY_AUTH_MORE: return "auth_more";
	case MY_REPLY_AUTH_SWITCH: return "auth_switch";
	case MY_REPLY_OTHER: return "other";
	}
	return "unknown";
}

enum my_reply_kind my_reply_classify_auth(struct my_cur p)
{
	uint8_t h;
	if (!my_cur_u8(&p, &h))
		return MY_REPLY_OTHER;
	switch (h) {
	case MY_OK_HEADER: return MY_REPLY_OK;
	case MY_ERR_HEADER: return MY_REPLY_ERR;
	case MY_AUTH_MORE_HEADER: return MY_REPLY_AUTH_MORE;
	case MY_AUTH_SWITCH_HEADER: return MY_REPLY_AUTH_SWITCH;
	default: return MY_REPLY_OTHER;
	}
}

enum my_reply_kind my_reply_classify_command(struct my_cur p)
{
	uint8_t h;
	size_t len = p.len;
	if (!my_cur_u8(&p, &h))
		return MY_REPLY_OTHER;
	if (h == MY_OK_HEADER && len >= 7)
		return MY_REPLY_OK;
	if (h == MY_ERR_HEADER)
		return MY_REPLY_ERR;
	if (h == MY_EOF_HEADER && len < 9)
		return MY_REPLY_EOF;
	return MY_REPLY_OTHER;
}

bool my_ok_parse(struct my_cur c, struct my_ok *out)
{
	uint8_t h;
	memset(out, 0, sizeof(*out));
	if (!my_cur_u8(&c, &h) || (h != MY_OK_HEADER && h != MY_EOF_HEADER))
		return false;
	return my_cur_lenenc(&c, &out->affected_rows) && my_cur_lenenc(&c, &out->last_insert_id) &&
	       my_cur_u16le(&c, &out->status) && my_cur_u16le(&c, &out->warnings);
}

bool my_err_parse(struct my_cur c, struct my_err *out)
{
	uint8_t h;
	struct my_cur msg;
	memset(out, 0, sizeof(*out));
	if (!my_cur_u8(&c, &h) || h != MY_ERR_HEADER || !my_cur_u16le(&c, &out->code))
		return false;
	if (c.len >= 6 && c.ptr[0] == '#') {
		struct my_cur state;
		if (!my_cur_skip(&c, 1) || !my_cur_bytes(&c, &state, 5))
			return false;
		memcpy(out->sqlstate, state.ptr, 5);
	}
	my_cur_rest(&c, &msg);
	size_t n = msg.len < sizeof(out->message) - 1 ? msg.len : sizeof(out->message) - 1;
	memcpy(out->message, msg.ptr, n);
	/* Keep log lines and C strings intact: no NUL or quote in the copy. */
	for (size_t i = 0; i < n; i++) {
		if (out->message[i] == '\0' || out->message[i] == '"' || out->message[i] == '\n')
			out->message[i] = ' ';
	}
	return true;
}

uint16_t my_err_code(struct my_cur payload)
{
	uint8_t h;
	uint16_t code;
	if (!my_cur_u8(&payload, &h) || h != MY_ERR_HEADER || !my_cur_u16le(&payload, &code))
		return 0;
	return code;
}

uint16_t my_frames_err_code(struct my_cur frames)
{
	uint32_t len;
	uint8_t seq;
	struct my_cur payload;
	while (my_cur_u24le(&frames, &len) && my_cur_u8(&frames, &seq) &&
	       my_cur_bytes(&frames, &payload, len)) {
		uint16_t code = my_err_code(payload);
		if (code)
			return code;
	}
	return 0;
}

void my_ok_build(struct my_bld *b, uint8_t seq, const struct my_ok *ok)
{
	my_bld_packet_begin(b, seq);
	my_bld_u8(b, MY_OK_HEADER);
	my_bld_lenenc(b, ok->affected_rows);
	my_bld_lenenc(b, ok->last_insert_id);
	my_bld_u16le(b, ok->status);
	my_bld_u16le(b, ok->warnings);
	my_bld_packet_end(b);
}

void my_err_build(struct my_bld *b, uint8_t seq, uint16_t code, const char *sqlstate,
		  const char *message)
{
	my_bld_packet_begin(b, seq);
	my_bld_u8(b, MY_ERR_HEADER);
	my_bld_u16le(b, code);
	my_bld_u8(b, '#');
	my_bld_bytes(b, sqlstate, 5);
	my_bld_bytes(b, message, strlen(message));
	my_bld_packet_end(b);
}
