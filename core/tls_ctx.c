/* tls_ctx: building SSL_CTX objects from configuration. */
#include "tls_ctx.h"

#include <openssl/err.h>
#include <stdio.h>

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

SSL_CTX *tls_ctx_new_server(const char *cert_path, const char *key_path, char *why,
			    size_t why_len)
{
	char err[256];
	SSL_CTX *ctx = SSL_CTX_new(TLS_method());
	if (!ctx) {
		snprintf(why, why_len, "SSL_CTX_new: %s", tls_ctx_error_str(err, sizeof(err)));
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
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
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

SSL_CTX *tls_ctx_new_backend(const struct cfg_backend *b, char *why, size_t why_len)
{
	char err[256];
	SSL_CTX *ctx = SSL_CTX_new(TLS_method());
	if (!ctx) {
		snprintf(why, why_len, "SSL_CTX_new: %s", tls_ctx_error_str(err, sizeof(err)));
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (b->ssl_ca) {
		if (!SSL_CTX_load_verify_locations(ctx, b->ssl_ca, NULL)) {
			snprintf(why, why_len, "[backend %s]: cannot load ssl_ca %s: %s", b->name,
				 b->ssl_ca, tls_ctx_error_str(err, sizeof(err)));
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
