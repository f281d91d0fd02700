/* tls_cache_test: real BoringSSL sessions through the stash: reuse learned, single use, refusal, admission, expiry, refresh. */
#include <criterion/criterion.h>
#include <openssl/bio.h>
#include <openssl/ec_key.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/obj.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <string.h>

#include "tls_cache.h"
#include "test_tls.h"

static uint64_t now_ms = 1000000;

static uint64_t test_clock(void)
{
	return now_ms;
}

static SSL_CTX *client_ctx(int max_version)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_method());
	SSL_CTX_set_max_proto_version(ctx, max_version);
	tls_cache_install(ctx);
	return ctx;
}

/* connect_once runs one handshake (offering from the cache), lets the
 * tickets arrive, and says whether the session was resumed. */
static bool connect_once(SSL_CTX *cctx, SSL_CTX *sctx, struct tls_cache *cache, uint64_t *offered)
{
	SSL *c = SSL_new(cctx), *s = SSL_new(sctx);
	BIO *cb, *sb;
	cr_assert(BIO_new_bio_pair(&cb, 0, &sb, 0));
	SSL_set_bio(c, cb, cb);
	SSL_set_bio(s, sb, sb);
	SSL_set_connect_state(c);
	SSL_set_accept_state(s);
	tls_cache_bind(c, cache);
	uint64_t seq = 0;
	SSL_SESSION *sess = tls_cache_take(cache, now_ms, &seq);
	if (sess) {
		SSL_set_session(c, sess);
		SSL_SESSION_free(sess);
	}
	*offered = seq;
	for (int i = 0; i < 20 && (SSL_in_init(c) || SSL_in_init(s)); i++) {
		SSL_do_handshake(c);
		SSL_do_handshake(s);
	}
	cr_assert_not(SSL_in_init(c));
	cr_assert_not(SSL_in_init(s));
	/* As in tls_layer: the outcome is known when the handshake ends,
	 * before the tickets arrive. */
	bool resumed = SSL_session_reused(c);
	if (seq)
		tls_cache_outcome(cache, seq, resumed);
	/* A zero-length write makes a BoringSSL server flush its TLS 1.3
	 * tickets (it sends them with the first write otherwise); the client
	 * processes them on read. */
	uint8_t byte;
	SSL_write(s, "", 0);
	cr_assert_eq(SSL_read(c, &byte, 1), -1);
	SSL_free(c);
	SSL_free(s);
	return resumed;
}

Test(tls_cache, reuse_is_learned_then_one_ticket_serves_every_connection)
{
	/* A BoringSSL server, like OpenSSL's (MariaDB, MySQL), resumes a
	 * stateless ticket as often as it is offered. */
	SSL_CTX *sctx = test_server_ctx(TLS1_3_VERSION), *cctx = client_ctx(TLS1_3_VERSION);
	struct tls_cache cache;
	tls_cache_init(&cache, true, 0, test_clock);
	uint64_t offered, first;
	cr_expect_not(connect_once(cctx, sctx, &cache, &offered));
	cr_expect_eq(offered, 0);
	cr_assert_eq(cache.n, 2, "BoringSSL servers send two tickets");
	cr_expect(connect_once(cctx, sctx, &cache, &first), "first offer resumes");
	cr_expect_eq(cache.reuse, TLS_REUSE_UNKNOWN);
	cr_expect(connect_once(cctx, sctx, &cache, &offered), "the probe resumes");
	cr_expect_eq(offered, first, "the probe offers the same ticket again");
	cr_expect_eq(cache.reuse, TLS_REUSE_ACCEPTED);
	for (int i = 0; i < 10; i++)
		cr_expect(connect_once(cctx, sctx, &cache, &offered), "connection %d resumes", i);
	cr_expect_leq(cache.n, TLS_CACHE_STASH);
	tls_cache_cleanup(&cache);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
}

/* A server whose tickets are single use: it refuses (a full handshake) any
 * ticket it decrypted before, recognized by its IV. */
static uint8_t seen_iv[64][16];
static int n_seen;

static int single_use_ticket_cb(SSL *ssl, uint8_t *key_name, uint8_t *iv, EVP_CIPHER_CTX *ctx,
				HMAC_CTX *hctx, int encrypt)
{
	(void)ssl;
	static const uint8_t key[16] = {1}, hmac_key[32] = {2};
	if (encrypt) {
		memset(key_name, 7, 16);
		RAND_bytes(iv, 16);
	} else {
		for (int i = 0; i < n_seen; i++)
			if (memcmp(seen_iv[i], iv, 16) == 0)
				return 0;
		if (n_seen < 64)
			memcpy(seen_iv[n_seen++], iv, 16);
	}
	if (!EVP_CipherInit_ex(ctx, EVP_aes_128_cbc(), NULL, key, iv, encrypt) ||
	    !HMAC_Init_ex(hctx, hmac_key, sizeof(hmac_key), EVP_sha256(), NULL))
		return -1;
	return 1;
}

Test(tls_cache, refused_reuse_is_learned_then_no_ticket_is_offered_twice)
{
	SSL_CTX *sctx = test_server_ctx(TLS1_3_VERSION), *cctx = client_ctx(TLS1_3_VERSION);
	SSL_CTX_set_tlsext_ticket_key_cb(sctx, single_use_ticket_cb);
	struct tls_cache cache;
	tls_cache_init(&cache, true, 0, test_clock);
	uint64_t offered, first;
	cr_expect_not(connect_once(cctx, sctx, &cache, &offered));
	/* A refused probe may also be a restart: it takes two in a row. */
	for (int probe = 0; probe < 2; probe++) {
		cr_expect_eq(cache.reuse, TLS_REUSE_UNKNOWN);
		cr_expect(connect_once(cctx, sctx, &cache, &first));
		cr_expect_not(connect_once(cctx, sctx, &cache, &offered), "probe %d refused", probe);
		cr_expect_eq(offered, first);
	}
	cr_expect_eq(cache.reuse, TLS_REUSE_REFUSED);
	uint64_t seen[10];
	for (int i = 0; i < 10; i++) {
		cr_expect(connect_once(cctx, sctx, &cache, &offered), "connection %d resumes", i);
		for (int j = 0; j < i; j++)
			cr_expect_neq(seen[j], offered, "ticket %lu offered twice", (unsigned long)offered);
		seen[i] = offered;
	}
	tls_cache_cleanup(&cache);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
}

Test(tls_cache, one_pilot_opens_alone_then_the_burst_follows)
{
	SSL_CTX *sctx = test_server_ctx(TLS1_3_VERSION), *cctx = client_ctx(TLS1_3_VERSION);
	struct tls_cache cache;
	tls_cache_init(&cache, true, 0, test_clock);
	uint64_t offered;
	cr_assert_eq(tls_cache_admit(&cache, now_ms), TLS_ADMIT_PILOT, "empty stash: one alone");
	cr_expect_eq(tls_cache_admit(&cache, now_ms), TLS_ADMIT_WAIT);
	cr_expect_eq(tls_cache_admit(&cache, now_ms), TLS_ADMIT_WAIT);
	connect_once(cctx, sctx, &cache, &offered); /* the pilot: full handshake, tickets */
	cr_expect(tls_cache_release(&cache, TLS_ADMIT_PILOT), "waiters to wake");
	/* Reuse unknown: the first offer and the probe go one at a time. */
	for (int i = 0; i < 2; i++) {
		cr_expect_eq(tls_cache_admit(&cache, now_ms), TLS_ADMIT_PILOT);
		cr_expect_eq(tls_cache_admit(&cache, now_ms), TLS_ADMIT_WAIT);
		cr_expect(connect_once(cctx, sctx, &cache, &offered));
		tls_cache_release(&cache, TLS_ADMIT_PILOT);
	}
	cr_expect_eq(cache.reuse, TLS_REUSE_ACCEPTED);
	for (int i = 0; i < 32; i++)
		cr_expect_eq(tls_cache_admit(&cache, now_ms), TLS_ADMIT_FREE, "burst %d", i);
	/* A lost connection (a restart?): one checks the tickets first. */
	tls_cache_suspect(&cache);
	cr_expect_eq(tls_cache_admit(&cache, now_ms), TLS_ADMIT_PILOT);
	cr_expect_eq(tls_cache_admit(&cache, now_ms), TLS_ADMIT_WAIT);
	cr_expect(connect_once(cctx, sctx, &cache, &offered));
	cr_expect(tls_cache_release(&cache, TLS_ADMIT_PILOT));
	cr_expect_eq(tls_cache_admit(&cache, now_ms), TLS_ADMIT_FREE);
	cr_expect_not(tls_cache_release(&cache, TLS_ADMIT_FREE), "nothing held");
	/* A server without TLS (ssl_mode=preferred): nothing to wait for. */
	tls_cache_suspect(&cache);
	tls_cache_note_greeting(&cache, false);
	cr_expect_eq(tls_cache_admit(&cache, now_ms), TLS_ADMIT_FREE);
	cr_expect_eq(tls_cache_admit(&cache, now_ms), TLS_ADMIT_FREE);
	/* TLS again (a restart turned it on): a pilot first. */
	tls_cache_note_greeting(&cache, true);
	cr_expect_eq(tls_cache_admit(&cache, now_ms), TLS_ADMIT_PILOT);
	tls_cache_cleanup(&cache);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
}

Test(tls_cache, single_use_tickets_are_set_aside_one_per_connection)
{
	SSL_CTX *sctx = test_server_ctx(TLS1_3_VERSION), *cctx = client_ctx(TLS1_3_VERSION);
	SSL_CTX_set_tlsext_ticket_key_cb(sctx, single_use_ticket_cb);
	struct tls_cache cache;
	tls_cache_init(&cache, true, 0, test_clock);
	uint64_t offered;
	for (int i = 0; i < 5; i++)
		connect_once(cctx, sctx, &cache, &offered); /* full, then twice: first offer, refused probe */
	cr_assert_eq(cache.reuse, TLS_REUSE_REFUSED);
	size_t n = cache.n;
	cr_assert_gt(n, 0);
	for (size_t i = 0; i < n; i++)
		cr_expect_eq(tls_cache_admit(&cache, now_ms), TLS_ADMIT_TICKET);
	cr_expect_eq(tls_cache_admit(&cache, now_ms), TLS_ADMIT_WAIT, "every ticket set aside");
	cr_expect(connect_once(cctx, sctx, &cache, &offered), "a reserved ticket resumes");
	cr_expect(tls_cache_release(&cache, TLS_ADMIT_TICKET), "its new ticket serves a waiter");
	cr_expect_eq(tls_cache_admit(&cache, now_ms), TLS_ADMIT_TICKET);
	tls_cache_cleanup(&cache);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
}

Test(tls_cache, tls12_session_is_reused_and_kept)
{
	SSL_CTX *sctx = test_server_ctx(TLS1_2_VERSION), *cctx = client_ctx(TLS1_2_VERSION);
	struct tls_cache cache;
	tls_cache_init(&cache, true, 0, test_clock);
	uint64_t offered;
	cr_expect_not(connect_once(cctx, sctx, &cache, &offered));
	cr_assert_eq(cache.n, 1);
	for (int i = 0; i < 3; i++)
		cr_expect(connect_once(cctx, sctx, &cache, &offered));
	cr_expect_eq(cache.n, 1, "a TLS 1.2 session stays for the next connection");
	tls_cache_cleanup(&cache);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
}

Test(tls_cache, restart_refusal_drops_old_tickets_then_resumes_again)
{
	SSL_CTX *sctx = test_server_ctx(TLS1_3_VERSION), *cctx = client_ctx(TLS1_3_VERSION);
	struct tls_cache cache;
	tls_cache_init(&cache, true, 0, test_clock);
	uint64_t offered;
	connect_once(cctx, sctx, &cache, &offered);
	connect_once(cctx, sctx, &cache, &offered);
	cr_assert_geq(cache.n, 2);
	/* A "restarted" server: a new context, so new ticket keys. */
	SSL_CTX_free(sctx);
	sctx = test_server_ctx(TLS1_3_VERSION);
	cr_expect_not(connect_once(cctx, sctx, &cache, &offered), "old ticket refused");
	cr_expect_neq(offered, 0);
	/* Only tickets from the new server remain, so the next one resumes. */
	for (size_t i = 0; i < cache.n; i++)
		cr_expect_gt(cache.stash[i].seq, offered);
	cr_expect(connect_once(cctx, sctx, &cache, &offered));
	tls_cache_cleanup(&cache);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
}

Test(tls_cache, expiry_and_refresh)
{
	SSL_CTX *sctx = test_server_ctx(TLS1_3_VERSION), *cctx = client_ctx(TLS1_3_VERSION);
	SSL_CTX_set_session_psk_dhe_timeout(sctx, 100); /* TLS 1.3 ticket lifetime, s */
	struct tls_cache cache;
	tls_cache_init(&cache, true, 0, test_clock);
	uint64_t offered;
	connect_once(cctx, sctx, &cache, &offered);
	cr_assert_gt(cache.n, 0);
	uint64_t t0 = now_ms;
	/* The server's 100 s lifetime, less the tenth kept as a margin. */
	cr_expect_eq(cache.stash[cache.n - 1].expires_ms, t0 + 90000);
	cr_expect_not(tls_cache_refresh_due(&cache, t0 + 10000));
	cr_expect(tls_cache_refresh_due(&cache, t0 + 46000), "past half of 90 s");
	cr_expect_not(tls_cache_refresh_due(&cache, t0 + 47000), "once per half life");
	uint64_t seq;
	cr_expect_null(tls_cache_take(&cache, t0 + 91000, &seq), "expired: not offered");
	cr_expect_eq(cache.n, 0);
	cr_expect_gt(cache.expired, 0);
	tls_cache_cleanup(&cache);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
}

Test(tls_cache, disabled_cache_offers_nothing)
{
	SSL_CTX *sctx = test_server_ctx(TLS1_3_VERSION), *cctx = client_ctx(TLS1_3_VERSION);
	struct tls_cache cache;
	tls_cache_init(&cache, false, 0, test_clock);
	uint64_t offered;
	cr_expect_not(connect_once(cctx, sctx, &cache, &offered));
	cr_expect_not(connect_once(cctx, sctx, &cache, &offered));
	cr_expect_eq(cache.n, 0);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
}

Test(tls_cache, max_age_caps_the_server_lifetime)
{
	SSL_CTX *sctx = test_server_ctx(TLS1_3_VERSION), *cctx = client_ctx(TLS1_3_VERSION);
	struct tls_cache cache;
	tls_cache_init(&cache, true, 2000, test_clock);
	uint64_t offered, seq;
	connect_once(cctx, sctx, &cache, &offered);
	cr_assert_gt(cache.n, 0);
	cr_expect_eq(cache.stash[cache.n - 1].expires_ms, now_ms + 2000);
	cr_expect(tls_cache_refresh_due(&cache, now_ms + 1000));
	cr_expect_null(tls_cache_take(&cache, now_ms + 2000, &seq));
	tls_cache_cleanup(&cache);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
}
