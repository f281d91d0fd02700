/* my_handshake: Handshake v10, SSLRequest, HandshakeResponse41 and AuthSwitchRequest. */
#ifndef WP_MY_HANDSHAKE_H
#define WP_MY_HANDSHAKE_H

#include <stdbool.h>
#include <stdint.h>

#include "my_cursor.h"
#include "my_proto.h"

#define MY_NAME_MAX 256	  /* user and schema names, with their NUL */
#define MY_PLUGIN_MAX 64  /* auth plugin names, with their NUL */
#define MY_AUTH_DATA_MAX 512

/* Handshake v10: the server's greeting. */
struct my_greeting {
	char server_version[MY_NAME_MAX];
	uint32_t connection_id;
	uint8_t scramble[MY_SCRAMBLE_LEN];
	uint32_t capabilities;
	uint8_t collation;
	uint16_t status;
	char auth_plugin[MY_PLUGIN_MAX];
};

/* my_greeting_parse reads a Handshake v10 payload; false on any malformed
 * or truncated field, on a protocol version other than 10, or when the
 * server lacks CLIENT_PROTOCOL_41 or a 20-byte scramble. */
WP_MUST_CHECK bool my_greeting_parse(struct my_cur payload, struct my_greeting *out);
void my_greeting_build(struct my_bld *b, uint8_t seq, const struct my_greeting *g);

/* The client's answer: a HandshakeResponse41, or an SSLRequest (its 32-byte
 * prefix with CLIENT_SSL set), after which TLS starts. */
struct my_login {
	bool is_ssl_request;
	uint32_t capabilities;
	uint32_t max_packet;
	uint8_t collation;
	char user[MY_NAME_MAX];
	uint8_t auth[MY_AUTH_DATA_MAX];
	size_t auth_len;
	char db[MY_NAME_MAX]; /* "" when none */
	char auth_plugin[MY_PLUGIN_MAX]; /* "" when the client sent none */
};

WP_MUST_CHECK bool my_login_parse(struct my_cur payload, struct my_login *out);
void my_ssl_request_build(struct my_bld *b, uint8_t seq, uint32_t capabilities, uint8_t collation);
void my_login_build(struct my_bld *b, uint8_t seq, const struct my_login *login);

/* my_change_user_parse reads a client's COM_CHANGE_USER payload (command
 * byte included) sent under capabilities |caps| into |out| (user, auth,
 * db, collation when sent, auth_plugin when sent; capabilities = |caps|);
 * false on any malformed or truncated field, or leftover bytes. */
WP_MUST_CHECK bool my_change_user_parse(struct my_cur payload, uint32_t caps,
					struct my_login *out);

/* my_change_user_build writes COM_CHANGE_USER: log in again as |user| with
 * |auth| (computed with the connection's original scramble), no schema when
 * |db| is "", and |collation|. It resets every piece of session state. */
void my_change_user_build(struct my_bld *b, const char *user, const uint8_t *auth,
			  size_t auth_len, const char *db, uint8_t collation, const char *plugin);

/* AuthSwitchRequest (0xfe, plugin name, plugin data). */
struct my_auth_switch {
	char plugin[MY_PLUGIN_MAX];
	uint8_t data[MY_AUTH_DATA_MAX];
	size_t data_len;
};

WP_MUST_CHECK bool my_auth_switch_parse(struct my_cur payload, struct my_auth_switch *out);
/* my_auth_switch_build sends |scramble| followed by the NUL servers append. */
void my_auth_switch_build(struct my_bld *b, uint8_t seq, const char *plugin,
			  const uint8_t scramble[MY_SCRAMBLE_LEN]);

#endif
