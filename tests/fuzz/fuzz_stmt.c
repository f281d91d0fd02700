/* fuzz_stmt: the statement relay's packet parsers on input cut at every length, as it arrives in segments. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "my_stmt.h"

static volatile int sink;

/* same_execute: two parses of one packet agree. */
static int same_execute(const struct my_execute *a, const struct my_execute *b,
			const uint8_t *base_a, const uint8_t *base_b)
{
	return a->id == b->id && a->flags == b->flags && a->types_bound == b->types_bound &&
	       a->bound_offset == b->bound_offset &&
	       (!a->types_bound || a->types - base_a == b->types - base_b);
}

/* check_execute: a parse that succeeds on what has arrived (a prefix) says
 * what the whole packet says; a rebuilt packet parses with its types. */
static void check_execute(const uint8_t *p, size_t len, uint16_t n_params)
{
	struct my_execute whole, part;
	int whole_ok = my_execute_parse(my_cur_make(p, len), n_params, &whole);
	for (size_t cut = 0; cut <= len; cut++) {
		/* A copy of exactly |cut| bytes: ASan sees any read past them. */
		uint8_t *prefix = xmalloc(cut ? cut : 1);
		memcpy(prefix, p, cut);
		if (my_execute_parse(my_cur_make(prefix, cut), n_params, &part) &&
		    (!whole_ok || !same_execute(&part, &whole, prefix, p)))
			__builtin_trap();
		xfree(prefix);
	}
	if (!whole_ok || n_params == 0 || len < 5)
		return;
	uint8_t *types = xcalloc(n_params, 2);
	struct buf out = {0};
	struct my_bld b;
	my_bld_init(&b, &out, BUF_NO_LIMIT);
	my_execute_build_with_types(&b, my_cur_make(p, len), n_params, &whole, 77, types);
	struct my_execute again;
	if (my_bld_ok(&b) &&
	    (!my_execute_parse(my_cur_make(buf_head(&out) + 4, buf_avail(&out) - 4), n_params,
			       &again) ||
	     !again.types_bound || again.id != 77 || again.flags != whole.flags))
		__builtin_trap();
	buf_cleanup(&out);
	xfree(types);
}

/* check_prepare_ok: the same for the first packet of a prepare's reply. */
static void check_prepare_ok(const uint8_t *p, size_t len)
{
	uint32_t id, id2;
	uint16_t cols, cols2, params, params2;
	int whole_ok = my_prepare_ok_parse(my_cur_make(p, len), &id, &cols, &params);
	for (size_t cut = 0; cut <= len && cut <= MY_PREPARE_OK_LEN; cut++) {
		uint8_t *prefix = xmalloc(cut ? cut : 1);
		memcpy(prefix, p, cut);
		if (my_prepare_ok_parse(my_cur_make(prefix, cut), &id2, &cols2, &params2) &&
		    (!whole_ok || id2 != id || cols2 != cols || params2 != params))
			__builtin_trap();
		xfree(prefix);
	}
}

/* Bytes 0-1: the statement's parameter count (at most 300); the rest is
 * the packet, an execute (command byte included) or a prepare OK. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2 || size > 4096)
		return 0;
	uint16_t n_params = (uint16_t)((data[0] | data[1] << 8) % 301);
	check_execute(data + 2, size - 2, n_params);
	check_prepare_ok(data + 2, size - 2);
	sink++;
	return 0;
}
