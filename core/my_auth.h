/* my_auth: mysql_native_password and caching_sha2_password, both sides. */
#ifndef WP_MY_AUTH_H
#define WP_MY_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "my_proto.h"

enum my_auth_plugin {
	MY_AUTH_UNKNOWN = 0,
	MY_AUTH_NATIVE = 1,  /* mysql_native_password */
	MY_AUTH_SHA2 = 2,    /* caching_sha2_password */
	MY_AUTH_CLEAR = 3,   /* mysql_clear_password, only ever over TLS */
};

const char *my_auth_plugin_str(enum my_auth_plugin plugin);
enum my_auth_plugin my_auth_plugin_from_name(const char *name);

#define MY_NATIVE_TOKEN_LEN 20
#define MY_SHA2_TOKEN_LEN 32
#define MY_AUTH_TOKEN_MAX 32

/* caching_sha2_password AuthMoreData status bytes. */
#define MY_SHA2_REQUEST_PUBLIC_KEY 0x02
#define MY_SHA2_FAST_AUTH_OK 0x03
#define MY_SHA2_PERFORM_FULL_AUTH 0x04

/* my_auth_token computes the client's scramble answer for |plugin|.
 * An empty password gives an empty token, as every client sends. Returns
 * false for plugins that have no token (clear, unknown). */
WP_MUST_CHECK bool my_auth_token(enum my_auth_plugin plugin, const char *password,
				 const uint8_t scramble[MY_SCRAMBLE_LEN],
				 uint8_t out_token[MY_AUTH_TOKEN_MAX], size_t *out_len);

/* my_auth_verify checks a client's token against the known password, in
 * constant time over the token. */
bool my_auth_verify(enum my_auth_plugin plugin, const char *password,
		    const uint8_t scramble[MY_SCRAMBLE_LEN], const uint8_t *token, size_t token_len);

/* my_sha2_rsa_encrypt encrypts the password (with its NUL, XORed with the
 * scramble) under the server's PEM public key with OAEP padding, as the
 * caching_sha2_password full authentication does without TLS. The result
 * is appended to |out|. */
WP_MUST_CHECK bool my_sha2_rsa_encrypt(struct buf *out, const uint8_t *pem, size_t pem_len,
				       const char *password,
				       const uint8_t scramble[MY_SCRAMBLE_LEN]);

/* my_rsa_public_key_valid: |pem| holds an RSA public key (SubjectPublicKeyInfo
 * PEM, as MySQL's public_key.pem) that my_sha2_rsa_encrypt can use. */
bool my_rsa_public_key_valid(const uint8_t *pem, size_t pem_len);

/* my_random_scramble fills a scramble with printable non-NUL bytes, as
 * MySQL servers do (some clients treat the scramble as a C string). */
void my_random_scramble(uint8_t out[MY_SCRAMBLE_LEN]);

#endif
