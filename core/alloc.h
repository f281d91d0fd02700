/* alloc: the one allocation facade; jemalloc sits underneath in the daemon. */
#ifndef WP_ALLOC_H
#define WP_ALLOC_H

#include <stddef.h>

#define WP_MUST_CHECK __attribute__((warn_unused_result))

/* xmalloc, xcalloc, xrealloc and xstrdup abort the process on exhaustion.
 * Use them for startup objects and fixed-size per-connection state; sizes a
 * peer controls go through try_realloc and a limit instead. */
void *xmalloc(size_t len);
void *xcalloc(size_t n, size_t len);
void *xrealloc(void *p, size_t len);
char *xstrdup(const char *s);

/* try_realloc returns NULL on exhaustion and leaves |p| untouched. */
WP_MUST_CHECK void *try_realloc(void *p, size_t len);

/* xfree accepts NULL. */
void xfree(void *p);

#endif
