/* tls_layer_test: two sessions of the TLS layer talking through buffers: round trips, and output memory that stays bounded after a large write. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "test_tls.h"
#include "tls_layer.h"

/* A client and a server session and the ciphertext each has to send. */
struct pair {
	SSL_CTX *sctx, *cctx;
	struct tls_conn *server, *client;
	struct buf to_server, to_client; /* ciphertext in flight */
	struct buf server_plain, client_plain;
};

/* shuttle delivers the ciphertext in flight until neither side has any. */
static void shuttle(struct pair *p)
{
	while (buf_avail(&p->to_server) > 0 || buf_avail(&p->to_client) > 0) {
		struct buf in = p->to_server;
		p->to_server = (struct buf){0};
		cr_assert_eq(tls_conn_input(p->server, buf_head(&in), buf_avail(&in), &p->server_plain,
					    &p->to_client), TLS_IO_OK);
		buf_cleanup(&in);
		in = p->to_client;
		p->to_client = (struct buf){0};
		cr_assert_eq(tls_conn_input(p->client, buf_head(&in), buf_avail(&in), &p->client_plain,
					    &p->to_server), TLS_IO_OK);
		buf_cleanup(&in);
	}
}

static void pair_open(struct pair *p)
{
	memset(p, 0, sizeof(*p));
	p->sctx = test_server_ctx(TLS1_3_VERSION);
	p->cctx = SSL_CTX_new(TLS_method());
	p->server = tls_conn_new(p->sctx, &(struct tls_conn_opts){.role = TLS_ROLE_SERVER});
	p->client = tls_conn_new(p->cctx, &(struct tls_conn_opts){.role = TLS_ROLE_CLIENT});
	cr_assert(p->server && p->client);
	cr_assert_eq(tls_conn_start(p->client, &p->to_server), TLS_IO_OK);
	shuttle(p);
	cr_assert(tls_conn_established(p->client) && tls_conn_established(p->server));
}

static void pair_close(struct pair *p)
{
	tls_conn_free(p->server);
	tls_conn_free(p->client);
	SSL_CTX_free(p->sctx);
	SSL_CTX_free(p->cctx);
	buf_cleanup(&p->to_server);
	buf_cleanup(&p->to_client);
	buf_cleanup(&p->server_plain);
	buf_cleanup(&p->client_plain);
}

Test(tls_layer, small_write_round_trip)
{
	struct pair p;
	pair_open(&p);
	cr_assert(tls_conn_write(p.client, (const uint8_t *)"ping", 4, &p.to_server));
	shuttle(&p);
	cr_assert_eq(buf_avail(&p.server_plain), 4);
	cr_assert(memcmp(buf_head(&p.server_plain), "ping", 4) == 0);
	pair_close(&p);
}

/* After a 4 MiB write, the session keeps no 4 MiB output buffer: a pooled
 * connection that once carried a large statement must neither hold that
 * memory nor clear it on every later write (BoringSSL's BIO_reset zeroes a
 * mem BIO's whole capacity). */
Test(tls_layer, output_memory_bounded_after_large_write)
{
	struct pair p;
	pair_open(&p);
	size_t big = 4u << 20;
	uint8_t *data = malloc(big);
	for (size_t i = 0; i < big; i++)
		data[i] = (uint8_t)(i * 31);
	cr_assert(tls_conn_write(p.server, data, big, &p.to_client));
	cr_assert_gt(buf_avail(&p.to_client), big);
	cr_assert_leq(tls_conn_output_capacity(p.server), 64u << 10);
	shuttle(&p);
	cr_assert_eq(buf_avail(&p.client_plain), big);
	cr_assert(memcmp(buf_head(&p.client_plain), data, big) == 0);
	/* Later small writes still work on the fresh output. */
	buf_reset(&p.client_plain);
	cr_assert(tls_conn_write(p.server, (const uint8_t *)"after", 5, &p.to_client));
	shuttle(&p);
	cr_assert_eq(buf_avail(&p.client_plain), 5);
	cr_assert(memcmp(buf_head(&p.client_plain), "after", 5) == 0);
	free(data);
	pair_close(&p);
}
