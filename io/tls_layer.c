/* tls_layer: BoringSSL sessions driven through memory BIOs by the connection layer. */
#include "tls_layer.h"

#include <openssl/err.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "tls_ctx.h"

struct tls_conn {
	SSL *ssl;
	BIO *rbio; /* ciphertext from the peer, owned by |ssl| */
	BIO *wbio; /* ciphertext for the peer, owned by |ssl| */
	char error[256];
};

struct tls_conn *tls_conn_new(SSL_CTX *ctx, enum tls_role role, const char *sni,
			      const char *verify_name)
{
	struct tls_conn *t = xcalloc(1, sizeof(*t));
	t->ssl = SSL_new(ctx);
	t->rbio = BIO_new(BIO_s_mem());
	t->wbio = BIO_new(BIO_s_mem());
	if (!t->ssl || !t->rbio || !t->wbio)
		goto fail;
	/* An empty input BIO means "retry later", not end of stream. */
	BIO_set_mem_eof_return(t->rbio, -1);
	SSL_set_bio(t->ssl, t->rbio, t->wbio);
	if (role == TLS_ROLE_SERVER) {
		SSL_set_accept_state(t->ssl);
		return t;
	}
	SSL_set_connect_state(t->ssl);
	/* SNI must be a host name, not an IP literal. */
	if (sni && strspn(sni, "0123456789.:") != strlen(sni))
		SSL_set_tlsext_host_name(t->ssl, sni);
	if (verify_name && !SSL_set1_host(t->ssl, verify_name))
		goto fail;
	return t;
fail:
	if (t->ssl) {
		SSL_free(t->ssl); /* frees the BIOs once attached */
	} else {
		BIO_free(t->rbio);
		BIO_free(t->wbio);
	}
	xfree(t);
	return NULL;
}

void tls_conn_free(struct tls_conn *t)
{
	if (!t)
		return;
	SSL_free(t->ssl);
	xfree(t);
}

static bool drain_output(struct tls_conn *t, struct buf *cipher_out)
{
	const uint8_t *data;
	size_t len;
	if (!BIO_mem_contents(t->wbio, &data, &len))
		return false;
	if (len == 0)
		return true;
	bool ok = buf_append(cipher_out, data, len, BUF_NO_LIMIT);
	BIO_reset(t->wbio);
	return ok;
}

static enum tls_io record_error(struct tls_conn *t, int ret)
{
	int err = SSL_get_error(t->ssl, ret);
	switch (err) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return TLS_IO_OK;
	case SSL_ERROR_ZERO_RETURN:
		return TLS_IO_EOF;
	default:
		break;
	}
	long verify = SSL_get_verify_result(t->ssl);
	char reason[160];
	tls_ctx_error_str(reason, sizeof(reason));
	if (verify != X509_V_OK)
		snprintf(t->error, sizeof(t->error), "certificate verification failed: %s",
			 X509_verify_cert_error_string(verify));
	else
		snprintf(t->error, sizeof(t->error), "%s", reason);
	return TLS_IO_ERROR;
}

enum tls_io tls_conn_start(struct tls_conn *t, struct buf *cipher_out)
{
	int ret = SSL_do_handshake(t->ssl);
	enum tls_io r = ret == 1 ? TLS_IO_OK : record_error(t, ret);
	if (!drain_output(t, cipher_out))
		return TLS_IO_ERROR;
	return r;
}

enum tls_io tls_conn_input(struct tls_conn *t, const uint8_t *cipher, size_t cipher_len,
			   struct buf *plain_out, struct buf *cipher_out)
{
	if (cipher_len > 0 && BIO_write(t->rbio, cipher, (int)cipher_len) != (int)cipher_len) {
		snprintf(t->error, sizeof(t->error), "out of memory buffering TLS input");
		return TLS_IO_ERROR;
	}
	enum tls_io r = TLS_IO_OK;
	for (;;) {
		/* SSL_read also drives the handshake until it is done. */
		uint8_t *dst = buf_reserve(plain_out, 16384, BUF_NO_LIMIT);
		if (!dst) {
			snprintf(t->error, sizeof(t->error), "out of memory for TLS plaintext");
			return TLS_IO_ERROR;
		}
		int n = SSL_read(t->ssl, dst, 16384);
		if (n > 0) {
			plain_out->len += (size_t)n;
			continue;
		}
		r = record_error(t, n);
		break;
	}
	if (!drain_output(t, cipher_out))
		return TLS_IO_ERROR;
	return r;
}

bool tls_conn_write(struct tls_conn *t, const uint8_t *plain, size_t plain_len,
		    struct buf *cipher_out)
{
	while (plain_len > 0) {
		int chunk = plain_len > (1u << 30) ? (1 << 30) : (int)plain_len;
		int n = SSL_write(t->ssl, plain, chunk);
		if (n <= 0) {
			record_error(t, n);
			return false;
		}
		plain += n;
		plain_len -= (size_t)n;
	}
	return drain_output(t, cipher_out);
}

bool tls_conn_established(const struct tls_conn *t)
{
	return !SSL_in_init(t->ssl);
}

const char *tls_conn_version(const struct tls_conn *t)
{
	return SSL_get_version(t->ssl);
}

const char *tls_conn_error(const struct tls_conn *t)
{
	return t->error[0] ? t->error : "unknown TLS error";
}
