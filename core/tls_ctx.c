/* tls_ctx: building SSL_CTX objects from configuration. */
#include "tls_ctx.h"

#include <errno.h>
#include <openssl/err.h>
#include <stdio.h>
#include <string.h>

#include "tls_ca.h"
#include "tls_cache.h"

const char *tls_ctx_error_str(char *buf, size_t buf_len)
{
	uint32_t e = ERR_peek_last_error();
	if (e == 0)
		snprintf(buf, buf_len, "unknown error");
	else
		ERR_error_string_n(e, buf, buf_len);
	ERR_clear_error();
	return buf;
}

bool tls_ctx_load_ticket_keys(const char *path, uint8_t out[48], char *why, size_t why_len)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(why, why_len, "cannot open tls_ticket_key_file %s: %s", path, strerror(errno));
		return false;
	}
	char data[200];
	size_t n = fread(data, 1, sizeof(data), f);
	fclose(f);
	while (n > 0 && (data[n - 1] == '\n' || data[n - 1] == '\r'))
		n--;
	bool ok = false;
	if (n == 48) {
		memcpy(out, data, 48);
		ok = true;
	} else if (n == 96) {
		ok = true;
		for (size_t i = 0; i < 48 && ok; i++) {
			unsigned v;
			char pair[3] = {data[2 * i], data[2 * i + 1], 0};
			ok = strspn(pair, "0123456789abcdefABCDEF") == 2 && sscanf(pair, "%2x", &v) == 1;
			out[i] = (uint8_t)v;
		}
	}
	explicit_bzero(data, sizeof(data));
	if (!ok)
		snprintf(why, why_len, "tls_ticket_key_file %s must hold 48 bytes or 96 hex digits", path);
	return ok;
}

/* ctx_new: a TLS context with what every warmpool context has: TLS 1.2 at
 * least. NULL with the reason in |why|. */
static SSL_CTX *ctx_new(char *why, size_t why_len)
{
	char err[256];
	SSL_CTX *ctx = SSL_CTX_new(TLS_method());
	if (!ctx) {
		snprintf(why, why_len, "SSL_CTX_new: %s", tls_ctx_error_str(err, sizeof(err)));
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	return ctx;
}

SSL_CTX *tls_ctx_new_server(const struct cfg_listener *l, char *why, size_t why_len)
{
	const char *cert_path = l->tls_cert, *key_path = l->tls_key;
	char err[256];
	SSL_CTX *ctx = ctx_new(why, why_len);
	if (!ctx)
		return NULL;
	if (!SSL_CTX_use_certificate_chain_file(ctx, cert_path)) {
		snprintf(why, why_len, "cannot load tls_cert %s: %s", cert_path,
			 tls_ctx_error_str(err, sizeof(err)));
		goto fail;
	}
	if (!SSL_CTX_use_PrivateKey_file(ctx, key_path, SSL_FILETYPE_PEM)) {
		snprintf(why, why_len, "cannot load tls_key %s: %s", key_path,
			 tls_ctx_error_str(err, sizeof(err)));
		goto fail;
	}
	if (!SSL_CTX_check_private_key(ctx)) {
		snprintf(why, why_len, "tls_key %s does not match tls_cert %s", key_path,
			 cert_path);
		goto fail;
	}
	if (l->tls_ticket_key_file) {
		uint8_t keys[48];
		bool ok = tls_ctx_load_ticket_keys(l->tls_ticket_key_file, keys, why, why_len) &&
			  SSL_CTX_set_tlsext_ticket_keys(ctx, keys, sizeof(keys));
		explicit_bzero(keys, sizeof(keys));
		if (!ok)
			goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

SSL_CTX *tls_ctx_new_backend(const struct cfg_backend *b, char *why, size_t why_len)
{
	char err[256];
	SSL_CTX *ctx = ctx_new(why, why_len);
	if (!ctx)
		return NULL;
	SSL_CTX_set_max_proto_version(ctx, b->tls_max_version == CFG_TLS_1_2 ? TLS1_2_VERSION
									   : TLS1_3_VERSION);
	if (b->tls_resumption)
		tls_cache_install(ctx);
	if (b->ssl_ca) {
		/* .pem, .p7b or .jks, as managed MySQL services hand them out. */
		char ca_why[768];
		if (!tls_ca_load(ctx, b->ssl_ca, ca_why, sizeof(ca_why))) {
			snprintf(why, why_len, "[backend %s]: %s", b->name, ca_why);
			goto fail;
		}
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	} else {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	}
	if (b->ssl_cert) {
		if (!SSL_CTX_use_certificate_chain_file(ctx, b->ssl_cert) ||
		    !SSL_CTX_use_PrivateKey_file(ctx, b->ssl_key, SSL_FILETYPE_PEM) ||
		    !SSL_CTX_check_private_key(ctx)) {
			snprintf(why, why_len, "[backend %s]: cannot load ssl_cert/ssl_key: %s",
				 b->name, tls_ctx_error_str(err, sizeof(err)));
			goto fail;
		}
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}
