/* handshake_test: Handshake v10 from a real MariaDB 10.11, logins and auth switch. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "my_frame.h"
#include "my_handshake.h"
#include "test_hex.h"

/* The greeting frame of mariadbd 10.11.19 (Debian 12), captured on loopback
 * by the fixture of tools/mariadb-fixture.sh. */
static const char *MARIADB_GREETING =
	"640000000a352e352e352d31302e31312e31392d4d6172696144422d302b64656231327531002b0000003a"
	"2f79394b4f2b2900feff080200ff81150000000000001d0000002933637a5d416b783b5c3f62006d7973"
	"716c5f6e61746976655f70617373776f726400";

static struct my_cur greeting_payload(uint8_t **owned)
{
	size_t len;
	*owned = test_unhex(MARIADB_GREETING, &len);
	struct my_cur in = my_cur_make(*owned, len);
	struct my_frame f;
	cr_assert(my_frame_next(&in, &f));
	cr_assert_eq(f.seq, 0);
	return f.payload;
}

Test(handshake, parses_real_mariadb_greeting)
{
	uint8_t *raw;
	struct my_greeting g;
	cr_assert(my_greeting_parse(greeting_payload(&raw), &g));
	cr_expect_str_eq(g.server_version, "5.5.5-10.11.19-MariaDB-0+deb12u1");
	cr_expect_eq(g.connection_id, 43);
	cr_expect_eq(g.capabilities, 0x81fffffeu);
	cr_expect(g.capabilities & CLIENT_SSL);
	cr_expect_eq(g.collation, 8);
	cr_expect_eq(g.status, 0x0002);
	cr_expect_str_eq(g.auth_plugin, "mysql_native_password");
	const uint8_t scramble[20] = {0x3a, 0x2f, 0x79, 0x39, 0x4b, 0x4f, 0x2b, 0x29, 0x29, 0x33,
				      0x63, 0x7a, 0x5d, 0x41, 0x6b, 0x78, 0x3b, 0x5c, 0x3f, 0x62};
	cr_expect_arr_eq(g.scramble, scramble, 20);
	free(raw);
}

Test(handshake, every_truncation_of_the_greeting_fails)
{
	uint8_t *raw;
	struct my_cur full = greeting_payload(&raw);
	struct my_greeting g;
	/* Old servers end the plugin name without a NUL, so a cut inside the
	 * name parses as a shorter name; every cut before it must fail. */
	size_t plugin_at = full.len - strlen("mysql_native_password") - 1;
	for (size_t len = 0; len < plugin_at; len++)
		cr_expect_not(my_greeting_parse(my_cur_make(full.ptr, len), &g), "prefix %zu", len);
	free(raw);
}

Test(handshake, greeting_build_parse_roundtrip)
{
	struct my_greeting in = {
		.connection_id = 77,
		.capabilities = CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION | CLIENT_PLUGIN_AUTH |
				CLIENT_SSL,
		.collation = 45,
		.status = 2,
	};
	snprintf(in.server_version, sizeof(in.server_version), "8.0.36-warmpool");
	snprintf(in.auth_plugin, sizeof(in.auth_plugin), "caching_sha2_password");
	for (int i = 0; i < 20; i++)
		in.scramble[i] = (uint8_t)(0x30 + i);
	struct buf b = {0};
	struct my_bld bld;
	my_bld_init(&bld, &b, BUF_NO_LIMIT);
	my_greeting_build(&bld, 0, &in);
	cr_assert(my_bld_ok(&bld));
	struct my_cur wire = my_cur_make(buf_head(&b), buf_avail(&b));
	struct my_frame f;
	cr_assert(my_frame_next(&wire, &f));
	struct my_greeting out;
	cr_assert(my_greeting_parse(f.payload, &out));
	cr_expect_str_eq(out.server_version, in.server_version);
	cr_expect_eq(out.connection_id, 77);
	cr_expect_eq(out.capabilities, in.capabilities);
	cr_expect_arr_eq(out.scramble, in.scramble, 20);
	cr_expect_str_eq(out.auth_plugin, "caching_sha2_password");
	buf_cleanup(&b);
}

static struct my_login parse_built_login(const struct my_login *in)
{
	struct buf b = {0};
	struct my_bld bld;
	my_bld_init(&bld, &b, BUF_NO_LIMIT);
	my_login_build(&bld, 1, in);
	cr_assert(my_bld_ok(&bld));
	struct my_cur wire = my_cur_make(buf_head(&b), buf_avail(&b));
	struct my_frame f;
	cr_assert(my_frame_next(&wire, &f));
	struct my_login out;
	cr_assert(my_login_parse(f.payload, &out));
	buf_cleanup(&b);
	return out;
}

Test(handshake, login_roundtrip_with_db_and_plugin)
{
	struct my_login in = {
		.capabilities = CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION | CLIENT_PLUGIN_AUTH |
				CLIENT_CONNECT_WITH_DB | CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA,
		.max_packet = 1 << 24,
		.collation = 33,
		.auth_len = 20,
	};
	snprintf(in.user, sizeof(in.user), "app");
	snprintf(in.db, sizeof(in.db), "sbtest");
	snprintf(in.auth_plugin, sizeof(in.auth_plugin), "mysql_native_password");
	memset(in.auth, 0xab, 20);
	struct my_login out = parse_built_login(&in);
	cr_expect_not(out.is_ssl_request);
	cr_expect_str_eq(out.user, "app");
	cr_expect_str_eq(out.db, "sbtest");
	cr_expect_str_eq(out.auth_plugin, "mysql_native_password");
	cr_expect_eq(out.auth_len, 20);
	cr_expect_arr_eq(out.auth, in.auth, 20);
	cr_expect_eq(out.collation, 33);
}

/* The login pymysql 1.0.2 sent in answer to MARIADB_GREETING (user app,
 * password app-secret, database sbtest), with its connection attributes. */
const char *PYMYSQL_LOGIN =
	"8c0000010da23a00ffffff002d0000000000000000000000000000000000000000000000617070001423"
	"01585d132417d2b24ce0d2c4e86259dbb985c8736274657374006d7973716c5f6e61746976655f7061"
	"7373776f726400350c5f636c69656e745f6e616d650770796d7973716c045f70696404343935370f5f"
	"636c69656e745f76657273696f6e05312e302e32";

Test(handshake, parses_real_pymysql_login_with_attributes)
{
	size_t len;
	uint8_t *raw = test_unhex(PYMYSQL_LOGIN, &len);
	struct my_cur in = my_cur_make(raw, len);
	struct my_frame f;
	cr_assert(my_frame_next(&in, &f));
	cr_expect_eq(f.seq, 1);
	struct my_login out;
	cr_assert(my_login_parse(f.payload, &out));
	cr_expect_not(out.is_ssl_request);
	cr_expect(out.capabilities & CLIENT_CONNECT_ATTRS);
	cr_expect_str_eq(out.user, "app");
	cr_expect_str_eq(out.db, "sbtest");
	cr_expect_str_eq(out.auth_plugin, "mysql_native_password");
	cr_expect_eq(out.auth_len, 20);
	cr_expect_eq(out.collation, 45);
	/* Cutting the attribute block short makes the whole packet invalid. */
	cr_expect_not(my_login_parse(my_cur_make(f.payload.ptr, f.payload.len - 1), &out));
	free(raw);
}

Test(handshake, ssl_request_is_recognised)
{
	struct buf b = {0};
	struct my_bld bld;
	my_bld_init(&bld, &b, BUF_NO_LIMIT);
	my_ssl_request_build(&bld, 1, CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION, 45);
	cr_assert(my_bld_ok(&bld));
	cr_expect_eq(buf_avail(&b), 4 + 32);
	struct my_cur wire = my_cur_make(buf_head(&b), buf_avail(&b));
	struct my_frame f;
	cr_assert(my_frame_next(&wire, &f));
	struct my_login out;
	cr_assert(my_login_parse(f.payload, &out));
	cr_expect(out.is_ssl_request);
	cr_expect(out.capabilities & CLIENT_SSL);
	buf_cleanup(&b);
}

Test(handshake, login_that_lies_about_lengths_is_refused)
{
	struct my_login in = {
		.capabilities = CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION | CLIENT_PLUGIN_AUTH,
		.auth_len = 20,
	};
	snprintf(in.user, sizeof(in.user), "app");
	snprintf(in.auth_plugin, sizeof(in.auth_plugin), "mysql_native_password");
	struct buf b = {0};
	struct my_bld bld;
	my_bld_init(&bld, &b, BUF_NO_LIMIT);
	my_login_build(&bld, 1, &in);
	cr_assert(my_bld_ok(&bld));
	uint8_t *p = b.data + b.off + 4;
	size_t auth_len_at = 32 + 4; /* after the fixed part and "app\0" */
	cr_assert_eq(p[auth_len_at], 20);
	p[auth_len_at] = 200; /* claims more auth data than the packet has */
	struct my_login out;
	cr_expect_not(my_login_parse(my_cur_make(p, buf_avail(&b) - 4), &out));
	/* Leftover bytes after the last field are rejected too. */
	p[auth_len_at] = 20;
	cr_assert(buf_append(&b, "zz", 2, BUF_NO_LIMIT));
	p = b.data + b.off + 4;
	cr_expect_not(my_login_parse(my_cur_make(p, buf_avail(&b) - 4), &out));
	buf_cleanup(&b);
}

Test(handshake, auth_switch_roundtrip)
{
	uint8_t scramble[20];
	for (int i = 0; i < 20; i++)
		scramble[i] = (uint8_t)('a' + i);
	struct buf b = {0};
	struct my_bld bld;
	my_bld_init(&bld, &b, BUF_NO_LIMIT);
	my_auth_switch_build(&bld, 2, "caching_sha2_password", scramble);
	cr_assert(my_bld_ok(&bld));
	struct my_cur wire = my_cur_make(buf_head(&b), buf_avail(&b));
	struct my_frame f;
	cr_assert(my_frame_next(&wire, &f));
	cr_expect_eq(f.seq, 2);
	struct my_auth_switch sw;
	cr_assert(my_auth_switch_parse(f.payload, &sw));
	cr_expect_str_eq(sw.plugin, "caching_sha2_password");
	cr_expect_eq(sw.data_len, 20);
	cr_expect_arr_eq(sw.data, scramble, 20);
	buf_cleanup(&b);
}

/* A client's COM_CHANGE_USER: what warmpool builds for its own resets,
 * read back; every truncation and any trailing byte refused. */
Test(handshake, change_user_roundtrip_and_truncations)
{
	const uint8_t token[20] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
	struct buf out = {0};
	struct my_bld b;
	my_bld_init(&b, &out, BUF_NO_LIMIT);
	my_change_user_build(&b, "bob", token, sizeof(token), "shop", 45, "mysql_native_password");
	cr_assert(my_bld_ok(&b));
	struct my_cur payload = my_cur_make(buf_head(&out) + MY_FRAME_HEADER_LEN,
					    buf_avail(&out) - MY_FRAME_HEADER_LEN);
	uint32_t caps = CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION | CLIENT_PLUGIN_AUTH;
	struct my_login l;
	cr_assert(my_change_user_parse(payload, caps, &l));
	cr_expect_str_eq(l.user, "bob");
	cr_expect_str_eq(l.db, "shop");
	cr_expect_str_eq(l.auth_plugin, "mysql_native_password");
	cr_expect_eq(l.collation, 45);
	cr_expect_eq(l.auth_len, sizeof(token));
	cr_expect_arr_eq(l.auth, token, sizeof(token));
	for (size_t cut = 0; cut < payload.len; cut++) {
		/* Old clients stop right after the schema, or the charset. */
		size_t schema_end = 1 + 4 + 1 + sizeof(token) + 5;
		bool may_end = cut == schema_end || cut == schema_end + 2;
		cr_expect_eq(my_change_user_parse(my_cur_make(payload.ptr, cut), caps, &l), may_end,
			     "cut at %zu", cut);
	}
	uint8_t longer[256];
	memcpy(longer, payload.ptr, payload.len);
	longer[payload.len] = 'x';
	cr_expect_not(my_change_user_parse(my_cur_make(longer, payload.len + 1), caps, &l));
	buf_cleanup(&out);
}
