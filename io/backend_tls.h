/* backend_tls: a pool's side of the process-wide TLS session stash: who opens now, who waits, who is woken. */
#ifndef WP_BACKEND_TLS_H
#define WP_BACKEND_TLS_H

#include "backend.h"
#include "tls_cache.h"

/* backend_tls_cache: the backend's stash, or NULL when its connections never
 * resume (ssl_mode=disabled, tls_resumption=false). */
struct tls_cache *backend_tls_cache(struct backend_pool *bp);

/* backend_tls_admit asks whether |bp| may open one more connection now:
 * TLS_ADMIT_WAIT means not before a pilot connection brings or checks the
 * tickets; every worker is woken then (backend_pools_refill). Any other
 * answer is a claim the connection keeps until backend_tls_release. */
enum tls_admit backend_tls_admit(struct backend_pool *bp);
/* backend_tls_release ends |*claim| (once: it becomes TLS_ADMIT_FREE) and
 * wakes the workers when some were told to wait. */
void backend_tls_release(struct backend_pool *bp, enum tls_admit *claim);
/* backend_tls_suspect: a connection was lost or could not open; the stash's
 * tickets are checked by one connection before the others use them. */
void backend_tls_suspect(struct backend_pool *bp);
/* backend_tls_greeting: the server's greeting offered TLS or not
 * (ssl_mode=preferred: a restart may turn it off or on). */
void backend_tls_greeting(struct backend_pool *bp, bool offers_tls);

#endif
