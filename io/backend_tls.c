/* backend_tls: the connect path's questions to the shared TLS session stash, and the wake-up of waiting workers. */
#include "backend_tls.h"

#include "worker.h"

struct tls_cache *backend_tls_cache(struct backend_pool *bp)
{
	const struct cfg_backend *b = backend_pool_cfg(bp);
	if (b->ssl_mode == CFG_SSL_DISABLED || !b->tls_resumption)
		return NULL;
	return &bp->w->rt->tls_caches[bp->backend_idx];
}

enum tls_admit backend_tls_admit(struct backend_pool *bp)
{
	struct tls_cache *c = backend_tls_cache(bp);
	if (!c)
		return TLS_ADMIT_FREE;
	enum tls_admit a = tls_cache_admit(c, bp->w->now_ms);
	bp->w->stats.backends[bp->backend_idx].tls_admits[a]++;
	return a;
}

/* wake_all: the workers that were told to wait refill their pools; a
 * worker cannot know which pools of the others wait, so each looks at its
 * own (a few comparisons per pool). Wake descriptors live until every
 * worker has joined (worker_free_stats), so this is safe until then. */
static void wake_all(struct runtime *rt)
{
	for (int i = 0; i < rt->n_workers; i++)
		worker_wake(&rt->workers[i]);
}

void backend_tls_release(struct backend_pool *bp, enum tls_admit *claim)
{
	enum tls_admit held = *claim;
	*claim = TLS_ADMIT_FREE;
	struct tls_cache *c = backend_tls_cache(bp);
	if (c && tls_cache_release(c, held) && !bp->w->stopping)
		wake_all(bp->w->rt);
}

void backend_tls_suspect(struct backend_pool *bp)
{
	struct tls_cache *c = backend_tls_cache(bp);
	if (c)
		tls_cache_suspect(c);
}

void backend_tls_greeting(struct backend_pool *bp, bool offers_tls)
{
	struct tls_cache *c = backend_tls_cache(bp);
	if (c)
		tls_cache_note_greeting(c, offers_tls);
}
