/* auth_test: scrambles against independent vectors and a real client's answer. */
#include <criterion/criterion.h>
#include <openssl/bn.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "my_auth.h"
#include "test_hex.h"

/* Vectors computed with Python's hashlib from the documented formulas,
 * scramble "ABCDEFGHIJKLMNOPQRST", password "app-secret". */
static const uint8_t SCRAMBLE[20] = "ABCDEFGHIJKLMNOPQRS"; /* + 'T' below */
static const char *NATIVE_VECTOR = "a0c276d995d99c35d5f1d59ae25d75cf839311ac";
static const char *SHA2_VECTOR = "5517e9d40000b88e85b83a33b820ec7f101b26d3964aea94f222ae79685a42ae";

static void scramble(uint8_t out[20])
{
	memcpy(out, SCRAMBLE, 19);
	out[19] = 'T';
}

/* check_vector: our token equals the vector, verifies, and a wrong
 * password does not. */
static void check_vector(enum my_auth_plugin plugin, const char *hex)
{
	uint8_t s[20], token[MY_AUTH_TOKEN_MAX];
	size_t len, want_len;
	scramble(s);
	cr_assert(my_auth_token(plugin, "app-secret", s, token, &len));
	uint8_t *want = test_unhex(hex, &want_len);
	cr_assert_eq(len, want_len);
	cr_expect_arr_eq(token, want, len);
	cr_expect(my_auth_verify(plugin, "app-secret", s, want, want_len));
	cr_expect_not(my_auth_verify(plugin, "app-secreT", s, want, want_len));
	free(want);
}

Test(auth, native_token_matches_vector) { check_vector(MY_AUTH_NATIVE, NATIVE_VECTOR); }

Test(auth, sha2_token_matches_vector)
{
	check_vector(MY_AUTH_SHA2, SHA2_VECTOR);
	/* A native-sized token never passes the sha2 check. */
	uint8_t s[20], token[MY_AUTH_TOKEN_MAX];
	size_t len;
	scramble(s);
	cr_assert(my_auth_token(MY_AUTH_SHA2, "app-secret", s, token, &len));
	cr_expect_not(my_auth_verify(MY_AUTH_SHA2, "app-secret", s, token, 20));
}

/* The token pymysql 1.0.2 computed for MariaDB's scramble (see
 * handshake_test.c): warmpool must accept what a real client sends. */
Test(auth, verifies_real_pymysql_token)
{
	size_t n;
	uint8_t *s = test_unhex("3a2f79394b4f2b292933637a5d416b783b5c3f62", &n);
	uint8_t *token = test_unhex("2301585d132417d2b24ce0d2c4e86259dbb985c8", &n);
	cr_expect(my_auth_verify(MY_AUTH_NATIVE, "app-secret", s, token, n));
	cr_expect_not(my_auth_verify(MY_AUTH_NATIVE, "wrong", s, token, n));
	free(s);
	free(token);
}

Test(auth, empty_password_means_empty_token)
{
	uint8_t s[20], token[MY_AUTH_TOKEN_MAX];
	size_t len = 99;
	scramble(s);
	cr_assert(my_auth_token(MY_AUTH_NATIVE, "", s, token, &len));
	cr_expect_eq(len, 0);
	cr_expect(my_auth_verify(MY_AUTH_NATIVE, "", s, token, 0));
	const uint8_t nul = 0;
	cr_expect(my_auth_verify(MY_AUTH_SHA2, "", s, &nul, 1));
	uint8_t junk[20] = {1};
	cr_expect_not(my_auth_verify(MY_AUTH_NATIVE, "", s, junk, 20));
}

Test(auth, plugin_names)
{
	cr_expect_eq(my_auth_plugin_from_name("mysql_native_password"), MY_AUTH_NATIVE);
	cr_expect_eq(my_auth_plugin_from_name("caching_sha2_password"), MY_AUTH_SHA2);
	cr_expect_eq(my_auth_plugin_from_name("mysql_clear_password"), MY_AUTH_CLEAR);
	cr_expect_eq(my_auth_plugin_from_name("client_ed25519"), MY_AUTH_UNKNOWN);
	cr_expect_str_eq(my_auth_plugin_str(MY_AUTH_SHA2), "caching_sha2_password");
	uint8_t clear_token[MY_AUTH_TOKEN_MAX];
	size_t len;
	cr_expect_not(my_auth_token(MY_AUTH_CLEAR, "x", SCRAMBLE, clear_token, &len));
}

Test(auth, scramble_is_printable_and_varies)
{
	uint8_t a[20], b[20];
	my_random_scramble(a);
	my_random_scramble(b);
	for (int i = 0; i < 20; i++)
		cr_expect(a[i] > 0x20 && a[i] < 0x7f);
	cr_expect(memcmp(a, b, 20) != 0);
}

/* The RSA path (caching_sha2 full auth without TLS): what we encrypt with
 * the server's public key decrypts, with the private key, to the password
 * XOR the scramble, NUL included. */
Test(auth, sha2_rsa_encryption_decrypts_to_scrambled_password)
{
	RSA *rsa = RSA_new();
	BIGNUM *e = BN_new();
	BN_set_word(e, RSA_F4);
	cr_assert(RSA_generate_key_ex(rsa, 2048, e, NULL));
	BIO *bio = BIO_new(BIO_s_mem());
	cr_assert(PEM_write_bio_RSA_PUBKEY(bio, rsa));
	const uint8_t *pem;
	size_t pem_len;
	cr_assert(BIO_mem_contents(bio, &pem, &pem_len));
	uint8_t s[20];
	scramble(s);
	struct buf enc = {0};
	cr_assert(my_sha2_rsa_encrypt(&enc, pem, pem_len, "app-secret", s));
	cr_assert_eq(buf_avail(&enc), 256);
	uint8_t plain[256];
	size_t plain_len;
	cr_assert(RSA_decrypt(rsa, &plain_len, plain, sizeof(plain), buf_head(&enc), buf_avail(&enc),
			      RSA_PKCS1_OAEP_PADDING));
	const char *pw = "app-secret";
	cr_assert_eq(plain_len, strlen(pw) + 1);
	for (size_t i = 0; i < plain_len; i++)
		cr_expect_eq(plain[i] ^ s[i % 20], (uint8_t)pw[i]);
	/* Garbage instead of a key is an error, not a crash. */
	struct buf enc2 = {0};
	cr_expect_not(my_sha2_rsa_encrypt(&enc2, (const uint8_t *)"nope", 4, pw, s));
	buf_cleanup(&enc);
	buf_cleanup(&enc2);
	BIO_free(bio);
	BN_free(e);
	RSA_free(rsa);
}

/* server_public_key is checked when the config loads: a PEM RSA public key
 * (MySQL's public_key.pem) passes; its private half, a certificate-like
 * block, a truncated key and garbage do not. */
Test(auth, rsa_public_key_valid_accepts_only_public_keys)
{
	RSA *rsa = RSA_new();
	BIGNUM *e = BN_new();
	BN_set_word(e, RSA_F4);
	cr_assert(RSA_generate_key_ex(rsa, 2048, e, NULL));
	BIO *pub = BIO_new(BIO_s_mem()), *priv = BIO_new(BIO_s_mem());
	cr_assert(PEM_write_bio_RSA_PUBKEY(pub, rsa));
	cr_assert(PEM_write_bio_RSAPrivateKey(priv, rsa, NULL, NULL, 0, NULL, NULL));
	const uint8_t *pem, *priv_pem;
	size_t pem_len, priv_len;
	cr_assert(BIO_mem_contents(pub, &pem, &pem_len));
	cr_assert(BIO_mem_contents(priv, &priv_pem, &priv_len));
	cr_expect(my_rsa_public_key_valid(pem, pem_len));
	cr_expect_not(my_rsa_public_key_valid(priv_pem, priv_len));
	cr_expect_not(my_rsa_public_key_valid(pem, pem_len / 2));
	cr_expect_not(my_rsa_public_key_valid((const uint8_t *)"nope", 4));
	cr_expect_not(my_rsa_public_key_valid(pem, 0));
	BIO_free(pub);
	BIO_free(priv);
	BN_free(e);
	RSA_free(rsa);
}
