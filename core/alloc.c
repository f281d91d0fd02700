/* alloc: aborting and fallible allocation wrappers over the process malloc. */
#include "alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void alloc_die(size_t len)
{
	fprintf(stderr, "level=fatal msg=\"out of memory\" bytes=%zu\n", len);
	abort();
}

void *xmalloc(size_t len)
{
	void *p = malloc(len ? len : 1);
	if (!p)
		alloc_die(len);
	return p;
}

void *xcalloc(size_t n, size_t len)
{
	void *p = calloc(n ? n : 1, len ? len : 1);
	if (!p)
		alloc_die(n * len);
	return p;
}

void *xrealloc(void *p, size_t len)
{
	void *q = realloc(p, len ? len : 1);
	if (!q)
		alloc_die(len);
	return q;
}

char *xstrdup(const char *s)
{
	size_t len = strlen(s) + 1;
	return memcpy(xmalloc(len), s, len);
}

void *try_realloc(void *p, size_t len)
{
	return realloc(p, len ? len : 1);
}

void xfree(void *p)
{
	free(p);
}
