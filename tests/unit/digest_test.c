/* digest_test: my_digest: two answers digest alike exactly when they differ at most in the run flags of their OK and EOF packets, whatever the pieces they arrive in. */
#include <criterion/criterion.h>
#include <string.h>

#include "my_digest.h"

#define COM_QUERY 0x03

/* digest of |len| answer bytes to a COM_QUERY, fed |piece| bytes at a time. */
static uint64_t digest(const uint8_t *answer, size_t len, size_t piece)
{
	struct my_digest d;
	my_digest_start(&d, COM_QUERY);
	for (size_t off = 0; off < len; off += piece)
		my_digest_feed(&d, answer + off, len - off < piece ? len - off : piece);
	return my_digest_end(&d);
}

/* An OK: 1 row affected, insert id 0, |status|, no warnings, info "x". */
static size_t ok(uint8_t *out, uint16_t status, uint8_t affected)
{
	const uint8_t p[] = {8, 0, 0, 1, 0x00, affected, 0x00, (uint8_t)status,
			     (uint8_t)(status >> 8), 0, 0, 'x'};
	memcpy(out, p, sizeof(p));
	return sizeof(p);
}

/* A result set of one column and one row |cell| (one byte), ended by an
 * EOF with |status|. */
static size_t result(uint8_t *out, uint8_t cell, uint16_t status)
{
	const uint8_t p[] = {
		1, 0, 0, 1, 1,						  /* 1 column */
		8, 0, 0, 2, 3, 'd', 'e', 'f', 0, 0, 0, 0,		  /* a definition, cut short */
		5, 0, 0, 3, 0xfe, 0, 0, 0x01, 0x00,			  /* EOF after it */
		2, 0, 0, 4, 1, cell,					  /* the row */
		5, 0, 0, 5, 0xfe, 0, 0, (uint8_t)status, (uint8_t)(status >> 8), /* EOF */
	};
	memcpy(out, p, sizeof(p));
	return sizeof(p);
}

static const size_t pieces[] = {1, 2, 3, 5, 7, 64};

Test(digest, an_ok_slow_once_or_planned_otherwise_is_the_same_answer)
{
	uint8_t a[32], b[32];
	size_t na = ok(a, 0x0003, 1);
	uint16_t run_flags[] = {0x0800, 0x0010, 0x0020, 0x0830};
	for (size_t f = 0; f < sizeof(run_flags) / sizeof(*run_flags); f++) {
		size_t nb = ok(b, (uint16_t)(0x0003 | run_flags[f]), 1);
		for (size_t i = 0; i < sizeof(pieces) / sizeof(*pieces); i++)
			cr_assert_eq(digest(a, na, pieces[i]), digest(b, nb, 64), "flags %#x, pieces of %zu",
				     run_flags[f], pieces[i]);
	}
}

Test(digest, an_ok_that_says_anything_else_differs)
{
	uint8_t a[32], b[32];
	size_t na = ok(a, 0x0003, 1);
	size_t nb = ok(b, 0x0002, 1); /* not in a transaction */
	cr_assert_neq(digest(a, na, 64), digest(b, nb, 64));
	nb = ok(b, 0x0003, 2); /* two rows affected */
	cr_assert_neq(digest(a, na, 1), digest(b, nb, 1));
	nb = ok(b, 0x0003, 1);
	b[nb - 1] = 'y'; /* the info */
	cr_assert_neq(digest(a, na, 3), digest(b, nb, 3));
}

Test(digest, a_result_set_differs_by_its_rows_not_by_its_eof_run_flags)
{
	uint8_t a[64], b[64];
	size_t na = result(a, '1', 0x0001);
	for (size_t i = 0; i < sizeof(pieces) / sizeof(*pieces); i++) {
		size_t nb = result(b, '1', 0x0821);
		cr_assert_eq(digest(a, na, pieces[i]), digest(b, nb, 64));
		nb = result(b, '2', 0x0001);
		cr_assert_neq(digest(a, na, pieces[i]), digest(b, nb, 64));
	}
}

Test(digest, a_row_that_looks_like_an_ok_is_digested_whole)
{
	/* A row of 7 bytes starting with 0x00, as an OK would (a binary row
	 * always does): the bit where an OK carries "slow" is data here. */
	uint8_t a[64], b[64];
	size_t n = result(a, '1', 0x0001);
	const uint8_t row[] = {7, 0, 0, 4, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
	const size_t at = 26; /* the row's frame in result() */
	cr_assert_eq(a[at + 3], 4);
	memmove(a + at + sizeof(row), a + at + 6, n - at - 6);
	memcpy(a + at, row, sizeof(row));
	n += sizeof(row) - 6;
	memcpy(b, a, n);
	b[at + 4 + 4] = 0x08; /* an OK's status would be payload bytes 3 and 4 */
	for (size_t i = 0; i < sizeof(pieces) / sizeof(*pieces); i++)
		cr_assert_neq(digest(a, n, pieces[i]), digest(b, n, 64));
}

Test(digest, bytes_that_follow_no_protocol_are_all_digested)
{
	cr_assert_neq(digest((const uint8_t *)"OK", 2, 1), digest((const uint8_t *)"KO", 2, 1));
	cr_assert_neq(digest((const uint8_t *)"row 1", 5, 2), digest((const uint8_t *)"row 2", 5, 2));
}
