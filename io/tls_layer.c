/* tls_layer: BoringSSL sessions driven through memory BIOs by the connection layer. */
#include "tls_layer.h"

#include <openssl/buf.h>
#include <openssl/err.h>
#include <openssl/sha.h>
#include <time.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "tls_ctx.h"

/* The least room SSL_read is given for plaintext. */
#define TLS_READ_CHUNK 1024

struct tls_conn {
	SSL *ssl;
	BIO *rbio; /* ciphertext from the peer, owned by |ssl| */
	BIO *wbio; /* ciphertext for the peer, owned by |ssl| */
	enum tls_role role;
	struct tls_cache *cache;
	struct metric_tls *metrics;
	uint64_t offered_seq;	 /* cache sequence of the offered session; 0: none */
	uint64_t offered_ticket; /* its fingerprint */
	uint64_t started_ns;
	double handshake_seconds;
	bool handshake_done;
	char error[256];
};

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t session_fingerprint(const SSL_SESSION *s)
{
	const uint8_t *data;
	size_t len;
	SSL_SESSION_get0_ticket(s, &data, &len);
	if (len == 0) {
		unsigned id_len;
		data = SSL_SESSION_get_id(s, &id_len);
		len = id_len;
	}
	uint8_t digest[SHA256_DIGEST_LENGTH];
	SHA256(data, len, digest);
	uint64_t fp = 0;
	memcpy(&fp, digest, sizeof(fp));
	return fp ? fp : 1;
}

/* offer_session hands the cache's freshest session to a client SSL. */
static void offer_session(struct tls_conn *t)
{
	uint64_t seq;
	SSL_SESSION *s = tls_cache_take(t->cache, t->cache->clock_ms(), &seq);
	if (!s)
		return;
	if (SSL_set_session(t->ssl, s)) {
		t->offered_seq = seq;
		t->offered_ticket = session_fingerprint(s);
	}
	SSL_SESSION_free(s); /* SSL_set_session took its own reference */
}

struct tls_conn *tls_conn_new(SSL_CTX *ctx, const struct tls_conn_opts *o)
{
	struct tls_conn *t = xcalloc(1, sizeof(*t));
	t->metrics = o->metrics;
	t->role = o->role;
	t->started_ns = mono_ns();
	t->ssl = SSL_new(ctx);
	t->rbio = BIO_new(BIO_s_mem());
	t->wbio = BIO_new(BIO_s_mem());
	if (!t->ssl || !t->rbio || !t->wbio)
		goto fail;
	/* An empty input BIO means "retry later", not end of stream. */
	BIO_set_mem_eof_return(t->rbio, -1);
	SSL_set_bio(t->ssl, t->rbio, t->wbio);
	if (o->role == TLS_ROLE_SERVER) {
		SSL_set_accept_state(t->ssl);
		return t;
	}
	SSL_set_connect_state(t->ssl);
	/* SNI must be a host name, not an IP literal. */
	if (o->sni && strspn(o->sni, "0123456789.:") != strlen(o->sni))
		SSL_set_tlsext_host_name(t->ssl, o->sni);
	if (o->verify_name && !SSL_set1_host(t->ssl, o->verify_name))
		goto fail;
	if (o->cache) {
		t->cache = o->cache;
		tls_cache_bind(t->ssl, t->cache);
		offer_session(t);
	}
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

/* The most output capacity a session keeps between writes. A mem BIO only
 * grows, and BoringSSL's BIO_reset zeroes all of it: after one large write a
 * kept 4 MiB BIO would cost every later small write a 4 MiB memset, and hold
 * the memory while the connection sits idle in the pool. */
#define TLS_OUTPUT_KEEP (64u << 10)

/* output_capacity: what |t|'s output BIO holds allocated. */
static size_t output_capacity(const struct tls_conn *t)
{
	BUF_MEM *mem = NULL;
	BIO_get_mem_ptr(t->wbio, &mem);
	return mem ? mem->max : 0;
}

/* shrink_output gives an output BIO grown past TLS_OUTPUT_KEEP back, by
 * swapping in a fresh one (SSL_set0_wbio frees the old). */
static void shrink_output(struct tls_conn *t)
{
	if (output_capacity(t) <= TLS_OUTPUT_KEEP)
		return;
	BIO *fresh = BIO_new(BIO_s_mem());
	if (!fresh)
		return; /* keep the big one: still correct */
	SSL_set0_wbio(t->ssl, fresh);
	t->wbio = fresh;
}

/* drain_output moves the ciphertext BoringSSL wrote into |cipher_out|.
 * BIO_read, not BIO_reset: an emptied mem BIO then costs nothing, where a
 * reset would zero its whole capacity. */
static bool drain_output(struct tls_conn *t, struct buf *cipher_out)
{
	size_t len;
	while ((len = BIO_pending(t->wbio)) > 0) {
		int chunk = len > (1u << 30) ? (1 << 30) : (int)len;
		uint8_t *dst = buf_reserve(cipher_out, (size_t)chunk, BUF_NO_LIMIT);
		if (!dst)
			return false;
		int n = BIO_read(t->wbio, dst, chunk);
		if (n <= 0)
			return false;
		cipher_out->len += (size_t)n;
	}
	shrink_output(t);
	return true;
}

size_t tls_conn_output_capacity(const struct tls_conn *t)
{
	return output_capacity(t);
}

/* handshake_finished counts the handshake and tells the cache whether the
 * offered session was refused. */
static void handshake_finished(struct tls_conn *t)
{
	t->handshake_done = true;
	t->handshake_seconds = (double)(mono_ns() - t->started_ns) / 1e9;
	/* A BoringSSL server holds its TLS 1.3 tickets until its first write;
	 * a MySQL client may not wait for one (or read them) before it goes,
	 * so flush them now with an empty write. */
	if (t->role == TLS_ROLE_SERVER)
		SSL_write(t->ssl, "", 0);
	bool resumed = SSL_session_reused(t->ssl);
	if (t->offered_seq)
		tls_cache_outcome(t->cache, t->offered_seq, resumed);
	struct metric_tls *m = t->metrics;
	if (!m)
		return;
	m->offered += t->offered_seq != 0;
	m->refused += t->offered_seq != 0 && !resumed;
	if (resumed) {
		m->resumed++;
		metric_hist_observe(&m->resumed_seconds, t->handshake_seconds);
	} else {
		m->full++;
		metric_hist_observe(&m->full_seconds, t->handshake_seconds);
	}
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
	if (!t->handshake_done && t->metrics)
		t->metrics->failed++;
	t->handshake_done = true; /* counted once */
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
		/* SSL_read also drives the handshake until it is done. Reading
		 * into whatever room there is (at least a small chunk) keeps the
		 * usual small reply in the buffer's first 4 KiB: reserving a whole
		 * record's 16 KiB would reallocate on every reply. */
		uint8_t *dst = buf_reserve(plain_out, TLS_READ_CHUNK, BUF_NO_LIMIT);
		if (!dst) {
			snprintf(t->error, sizeof(t->error), "out of memory for TLS plaintext");
			return TLS_IO_ERROR;
		}
		size_t room = buf_room(plain_out) < 16384 ? buf_room(plain_out) : 16384;
		int n = SSL_read(t->ssl, dst, (int)room);
		if (n > 0) {
			plain_out->len += (size_t)n;
			/* Nothing left to decrypt: another SSL_read would only
			 * learn WANT_READ. */
			if (BIO_pending(t->rbio) == 0 && !SSL_has_pending(t->ssl) &&
			    !SSL_in_init(t->ssl))
				break;
			continue;
		}
		r = record_error(t, n);
		break;
	}
	if (r == TLS_IO_OK && !t->handshake_done && !SSL_in_init(t->ssl))
		handshake_finished(t);
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

bool tls_conn_resumed(const struct tls_conn *t)
{
	return SSL_session_reused(t->ssl);
}

uint64_t tls_conn_offered_ticket(const struct tls_conn *t)
{
	return t->offered_ticket;
}

double tls_conn_handshake_seconds(const struct tls_conn *t)
{
	return t->handshake_seconds;
}

const char *tls_conn_version(const struct tls_conn *t)
{
	return SSL_get_version(t->ssl);
}

const char *tls_conn_error(const struct tls_conn *t)
{
	return t->error[0] ? t->error : "unknown TLS error";
}
