/* my_handshake: codec for the connection phase packets. */
#include "my_handshake.h"

#include <string.h>

#define SSL_REQUEST_LEN 32
#define LOGIN_FILLER_LEN 23

bool my_greeting_parse(struct my_cur c, struct my_greeting *out)
{
	struct my_cur version, scramble1, scramble2, plugin;
	uint8_t protocol, filler, scramble_len;
	uint16_t caps_lo, caps_hi;
	memset(out, 0, sizeof(*out));
	if (!my_cur_u8(&c, &protocol) || protocol != 10)
		return false;
	if (!my_cur_nul_str(&c, &version) ||
	    !my_cur_copy_str(&version, out->server_version, sizeof(out->server_version)))
		return false;
	if (!my_cur_u32le(&c, &out->connection_id) || !my_cur_bytes(&c, &scramble1, 8) ||
	    !my_cur_u8(&c, &filler) || !my_cur_u16le(&c, &caps_lo) ||
	    !my_cur_u8(&c, &out->collation) || !my_cur_u16le(&c, &out->status) ||
	    !my_cur_u16le(&c, &caps_hi) || !my_cur_u8(&c, &scramble_len) ||
	    !my_cur_skip(&c, 10))
		return false;
	out->capabilities = (uint32_t)caps_hi << 16 | caps_lo;
	if (!(out->capabilities & CLIENT_PROTOCOL_41) ||
	    !(out->capabilities & CLIENT_SECURE_CONNECTION))
		return false;
	/* The second part is max(13, len - 8) bytes: 12 of scramble plus a NUL. */
	if (scramble_len != 0 && scramble_len != MY_SCRAMBLE_LEN + 1)
		return false;
	if (!my_cur_bytes(&c, &scramble2, 12) || !my_cur_skip(&c, 1))
		return false;
	memcpy(out->scramble, scramble1.ptr, 8);
	memcpy(out->scramble + 8, scramble2.ptr, 12);
	if (out->capabilities & CLIENT_PLUGIN_AUTH) {
		/* Some servers omit the final NUL of the plugin name. */
		if (!my_cur_nul_str(&c, &plugin))
			my_cur_rest(&c, &plugin);
		if (!my_cur_copy_str(&plugin, out->auth_plugin, sizeof(out->auth_plugin)))
			return false;
	}
	return my_cur_done(&c);
}

void my_greeting_build(struct my_bld *b, uint8_t seq, const struct my_greeting *g)
{
	my_bld_packet_begin(b, seq);
	my_bld_u8(b, 10);
	my_bld_nul_str(b, g->server_version);
	my_bld_u32le(b, g->connection_id);
	my_bld_bytes(b, g->scramble, 8);
	my_bld_u8(b, 0);
	my_bld_u16le(b, (uint16_t)g->capabilities);
	my_bld_u8(b, g->collation);
	my_bld_u16le(b, g->status);
	my_bld_u16le(b, (uint16_t)(g->capabilities >> 16));
	my_bld_u8(b, MY_SCRAMBLE_LEN + 1);
	my_bld_zeros(b, 10);
	my_bld_bytes(b, g->scramble + 8, 12);
	my_bld_u8(b, 0);
	my_bld_nul_str(b, g->auth_plugin);
	my_bld_packet_end(b);
}

static bool login_parse_auth(struct my_cur *c, struct my_login *out)
{
	struct my_cur auth;
	uint8_t len8;
	if (out->capabilities & CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA) {
		if (!my_cur_lenenc_bytes(c, &auth))
			return false;
	} else if (out->capabilities & CLIENT_SECURE_CONNECTION) {
		if (!my_cur_u8(c, &len8) || !my_cur_bytes(c, &auth, len8))
			return false;
	} else {
		return false; /* pre-4.1 auth is not supported */
	}
	if (auth.len > sizeof(out->auth))
		return false;
	memcpy(out->auth, auth.ptr, auth.len);
	out->auth_len = auth.len;
	return true;
}

/* login_skip_attrs validates the connection attributes block and drops it:
 * warmpool does not forward client attributes to pooled connections. */
static bool login_skip_attrs(struct my_cur *c)
{
	struct my_cur attrs, key, value;
	if (!my_cur_lenenc_bytes(c, &attrs))
		return false;
	while (!my_cur_done(&attrs)) {
		if (!my_cur_lenenc_bytes(&attrs, &key) || !my_cur_lenenc_bytes(&attrs, &value))
			return false;
	}
	return true;
}

bool my_login_parse(struct my_cur c, struct my_login *out)
{
	struct my_cur user, db, plugin;
	memset(out, 0, sizeof(*out));
	if (!my_cur_u32le(&c, &out->capabilities) || !my_cur_u32le(&c, &out->max_packet) ||
	    !my_cur_u8(&c, &out->collation) || !my_cur_skip(&c, LOGIN_FILLER_LEN))
		return false;
	if (!(out->capabilities & CLIENT_PROTOCOL_41))
		return false;
	if (my_cur_done(&c)) {
		out->is_ssl_request = (out->capabilities & CLIENT_SSL) != 0;
		return out->is_ssl_request;
	}
	if (!my_cur_nul_str(&c, &user) || !my_cur_copy_str(&user, out->user, sizeof(out->user)))
		return false;
	if (!login_parse_auth(&c, out))
		return false;
	if (out->capabilities & CLIENT_CONNECT_WITH_DB) {
		/* Old clients set the flag yet end the packet right here. */
		if (!my_cur_done(&c) &&
		    (!my_cur_nul_str(&c, &db) || !my_cur_copy_str(&db, out->db, sizeof(out->db))))
			return false;
	}
	if ((out->capabilities & CLIENT_PLUGIN_AUTH) && !my_cur_done(&c)) {
		if (!my_cur_nul_str(&c, &plugin) ||
		    !my_cur_copy_str(&plugin, out->auth_plugin, sizeof(out->auth_plugin)))
			return false;
	}
	if ((out->capabilities & CLIENT_CONNECT_ATTRS) && !my_cur_done(&c)) {
		if (!login_skip_attrs(&c))
			return false;
	}
	/* CLIENT_ZSTD_COMPRESSION appends a level byte; we never offer it. */
	return my_cur_done(&c);
}

static void login_build_prefix(struct my_bld *b, uint32_t caps, uint32_t max_packet,
			       uint8_t collation)
{
	my_bld_u32le(b, caps);
	my_bld_u32le(b, max_packet);
	my_bld_u8(b, collation);
	my_bld_zeros(b, LOGIN_FILLER_LEN);
}

void my_ssl_request_build(struct my_bld *b, uint8_t seq, uint32_t capabilities, uint8_t collation)
{
	my_bld_packet_begin(b, seq);
	login_build_prefix(b, capabilities | CLIENT_SSL, 1u << 24, collation);
	my_bld_packet_end(b);
}

void my_login_build(struct my_bld *b, uint8_t seq, const struct my_login *l)
{
	my_bld_packet_begin(b, seq);
	login_build_prefix(b, l->capabilities, l->max_packet, l->collation);
	my_bld_nul_str(b, l->user);
	if (l->capabilities & CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA) {
		my_bld_lenenc_bytes(b, l->auth, l->auth_len);
	} else {
		if (l->auth_len > 255)
			b->err = true;
		my_bld_u8(b, (uint8_t)l->auth_len);
		my_bld_bytes(b, l->auth, l->auth_len);
	}
	if (l->capabilities & CLIENT_CONNECT_WITH_DB)
		my_bld_nul_str(b, l->db);
	if (l->capabilities & CLIENT_PLUGIN_AUTH)
		my_bld_nul_str(b, l->auth_plugin);
	my_bld_packet_end(b);
}

bool my_change_user_parse(struct my_cur c, uint32_t caps, struct my_login *out)
{
	struct my_cur user, db, plugin;
	uint8_t cmd, len8;
	uint16_t charset;
	memset(out, 0, sizeof(*out));
	out->capabilities = caps;
	if (!my_cur_u8(&c, &cmd) || cmd != COM_CHANGE_USER || !(caps & CLIENT_SECURE_CONNECTION))
		return false;
	struct my_cur auth;
	if (!my_cur_nul_str(&c, &user) || !my_cur_copy_str(&user, out->user, sizeof(out->user)) ||
	    !my_cur_u8(&c, &len8) || !my_cur_bytes(&c, &auth, len8) || auth.len > sizeof(out->auth) ||
	    !my_cur_nul_str(&c, &db) || !my_cur_copy_str(&db, out->db, sizeof(out->db)))
		return false;
	memcpy(out->auth, auth.ptr, auth.len);
	out->auth_len = auth.len;
	if (my_cur_done(&c))
		return true; /* an old client: no character set, no plugin */
	if (!my_cur_u16le(&c, &charset))
		return false;
	out->collation = (uint8_t)charset;
	if ((caps & CLIENT_PLUGIN_AUTH) && !my_cur_done(&c) &&
	    (!my_cur_nul_str(&c, &plugin) ||
	     !my_cur_copy_str(&plugin, out->auth_plugin, sizeof(out->auth_plugin))))
		return false;
	if ((caps & CLIENT_CONNECT_ATTRS) && !my_cur_done(&c) && !login_skip_attrs(&c))
		return false;
	return my_cur_done(&c);
}

void my_change_user_build(struct my_bld *b, const char *user, const uint8_t *auth,
			  size_t auth_len, const char *db, uint8_t collation, const char *plugin)
{
	my_bld_packet_begin(b, 0);
	my_bld_u8(b, COM_CHANGE_USER);
	my_bld_nul_str(b, user);
	if (auth_len > 255)
		b->err = true;
	my_bld_u8(b, (uint8_t)auth_len);
	my_bld_bytes(b, auth, auth_len);
	my_bld_nul_str(b, db);
	my_bld_u16le(b, collation);
	my_bld_nul_str(b, plugin);
	my_bld_packet_end(b);
}

bool my_auth_switch_parse(struct my_cur c, struct my_auth_switch *out)
{
	struct my_cur plugin, data;
	uint8_t header;
	memset(out, 0, sizeof(*out));
	if (!my_cur_u8(&c, &header) || header != MY_AUTH_SWITCH_HEADER)
		return false;
	if (!my_cur_nul_str(&c, &plugin) ||
	    !my_cur_copy_str(&plugin, out->plugin, sizeof(out->plugin)))
		return false;
	my_cur_rest(&c, &data);
	/* The data usually carries a trailing NUL that is not part of it. */
	if (data.len > 0 && data.ptr[data.len - 1] == 0)
		data.len--;
	if (data.len > sizeof(out->data))
		return false;
	memcpy(out->data, data.ptr, data.len);
	out->data_len = data.len;
	return true;
}

void my_auth_switch_build(struct my_bld *b, uint8_t seq, const char *plugin,
			  const uint8_t scramble[MY_SCRAMBLE_LEN])
{
	my_bld_packet_begin(b, seq);
	my_bld_u8(b, MY_AUTH_SWITCH_HEADER);
	my_bld_nul_str(b, plugin);
	my_bld_bytes(b, scramble, MY_SCRAMBLE_LEN);
	my_bld_u8(b, 0);
	my_bld_packet_end(b);
}
