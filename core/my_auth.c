/* my_auth: password scrambles for the MySQL auth plugins warmpool speaks. */
#include "my_auth.h"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/mem.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <string.h>

static const char *const plugin_names[] = {
	[MY_AUTH_UNKNOWN] = "unknown",
	[MY_AUTH_NATIVE] = "mysql_native_password",
	[MY_AUTH_SHA2] = "caching_sha2_password",
	[MY_AUTH_CLEAR] = "mysql_clear_password",
};

const char *my_auth_plugin_str(enum my_auth_plugin plugin)
{
	if ((unsigned)plugin < sizeof(plugin_names) / sizeof(plugin_names[0]))
		return plugin_names[plugin];
	return "unknown";
}

enum my_auth_plugin my_auth_plugin_from_name(const char *name)
{
	for (unsigned i = 1; i < sizeof(plugin_names) / sizeof(plugin_names[0]); i++) {
		if (strcmp(name, plugin_names[i]) == 0)
			return (enum my_auth_plugin)i;
	}
	return MY_AUTH_UNKNOWN;
}

/* SHA1(password) XOR SHA1(scramble || SHA1(SHA1(password))) */
static void native_token(const char *password, const uint8_t scramble[MY_SCRAMBLE_LEN],
			 uint8_t out[MY_NATIVE_TOKEN_LEN])
{
	uint8_t stage1[SHA_DIGEST_LENGTH], stage2[SHA_DIGEST_LENGTH], mix[SHA_DIGEST_LENGTH];
	SHA1((const uint8_t *)password, strlen(password), stage1);
	SHA1(stage1, sizeof(stage1), stage2);
	SHA_CTX ctx;
	SHA1_Init(&ctx);
	SHA1_Update(&ctx, scramble, MY_SCRAMBLE_LEN);
	SHA1_Update(&ctx, stage2, sizeof(stage2));
	SHA1_Final(mix, &ctx);
	for (int i = 0; i < SHA_DIGEST_LENGTH; i++)
		out[i] = stage1[i] ^ mix[i];
	OPENSSL_cleanse(stage1, sizeof(stage1));
}

/* SHA256(password) XOR SHA256(SHA256(SHA256(password)) || scramble) */
static void sha2_token(const char *password, const uint8_t scramble[MY_SCRAMBLE_LEN],
		       uint8_t out[MY_SHA2_TOKEN_LEN])
{
	uint8_t stage1[SHA256_DIGEST_LENGTH], stage2[SHA256_DIGEST_LENGTH],
		mix[SHA256_DIGEST_LENGTH];
	SHA256((const uint8_t *)password, strlen(password), stage1);
	SHA256(stage1, sizeof(stage1), stage2);
	SHA256_CTX ctx;
	SHA256_Init(&ctx);
	SHA256_Update(&ctx, stage2, sizeof(stage2));
	SHA256_Update(&ctx, scramble, MY_SCRAMBLE_LEN);
	SHA256_Final(mix, &ctx);
	for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
		out[i] = stage1[i] ^ mix[i];
	OPENSSL_cleanse(stage1, sizeof(stage1));
}

bool my_auth_token(enum my_auth_plugin plugin, const char *password,
		   const uint8_t scramble[MY_SCRAMBLE_LEN], uint8_t out_token[MY_AUTH_TOKEN_MAX],
		   size_t *out_len)
{
	*out_len = 0;
	if (plugin != MY_AUTH_NATIVE && plugin != MY_AUTH_SHA2)
		return false;
	if (password[0] == '\0')
		return true;
	if (plugin == MY_AUTH_NATIVE) {
		native_token(password, scramble, out_token);
		*out_len = MY_NATIVE_TOKEN_LEN;
	} else {
		sha2_token(password, scramble, out_token);
		*out_len = MY_SHA2_TOKEN_LEN;
	}
	return true;
}

bool my_auth_verify(enum my_auth_plugin plugin, const char *password,
		    const uint8_t scramble[MY_SCRAMBLE_LEN], const uint8_t *token, size_t token_len)
{
	uint8_t expect[MY_AUTH_TOKEN_MAX];
	size_t expect_len;
	if (!my_auth_token(plugin, password, scramble, expect, &expect_len))
		return false;
	/* Some clients send a single NUL for an empty password. */
	if (expect_len == 0)
		return token_len == 0 || (token_len == 1 && token[0] == 0);
	bool ok = token_len == expect_len && CRYPTO_memcmp(expect, token, expect_len) == 0;
	OPENSSL_cleanse(expect, sizeof(expect));
	return ok;
}

bool my_sha2_rsa_encrypt(struct buf *out, const uint8_t *pem, size_t pem_len,
			 const char *password, const uint8_t scramble[MY_SCRAMBLE_LEN])
{
	bool ok = false;
	size_t pw_len = strlen(password) + 1;
	uint8_t *plain = OPENSSL_malloc(pw_len);
	BIO *bio = BIO_new_mem_buf(pem, (int)pem_len);
	RSA *rsa = bio ? PEM_read_bio_RSA_PUBKEY(bio, NULL, NULL, NULL) : NULL;
	if (!plain || !rsa)
		goto done;
	for (size_t i = 0; i < pw_len; i++)
		plain[i] = (uint8_t)password[i] ^ scramble[i % MY_SCRAMBLE_LEN];
	size_t rsa_len = RSA_size(rsa);
	uint8_t *dst = buf_reserve(out, rsa_len, BUF_NO_LIMIT);
	size_t written;
	if (dst && RSA_encrypt(rsa, &written, dst, rsa_len, plain, pw_len, RSA_PKCS1_OAEP_PADDING)) {
		out->len += written;
		ok = true;
	}
done:
	if (plain) {
		OPENSSL_cleanse(plain, pw_len);
		OPENSSL_free(plain);
	}
	RSA_free(rsa);
	BIO_free(bio);
	return ok;
}

bool my_rsa_public_key_valid(const uint8_t *pem, size_t pem_len)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)pem_len);
	RSA *rsa = bio ? PEM_read_bio_RSA_PUBKEY(bio, NULL, NULL, NULL) : NULL;
	bool ok = rsa != NULL;
	RSA_free(rsa);
	BIO_free(bio);
	return ok;
}

void my_random_scramble(uint8_t out[MY_SCRAMBLE_LEN])
{
	RAND_bytes(out, MY_SCRAMBLE_LEN);
	for (int i = 0; i < MY_SCRAMBLE_LEN; i++)
		out[i] = (uint8_t)(0x21 + out[i] % 0x5e); /* printable, never NUL or '$' issues */
}
