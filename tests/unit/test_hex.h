/* test_hex: decode hex strings of captured packets in unit tests. */
#ifndef WP_TEST_HEX_H
#define WP_TEST_HEX_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* test_unhex returns a malloc'd buffer with the bytes of |hex|. */
static inline uint8_t *test_unhex(const char *hex, size_t *out_len)
{
	size_t n = strlen(hex) / 2;
	uint8_t *out = malloc(n ? n : 1);
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		sscanf(hex + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
	*out_len = n;
	return out;
}

#endif
