/* my_marker: the statements of the commit marker, a row a transaction writes just before its COMMIT so that a COMMIT lost in flight can be told committed or not from another connection. */
#include "my_marker.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "my_frame.h"
#include "my_proto.h"

/* identifier_ends: where the unquoted identifier starting at |p| ends. */
static const char *identifier_ends(const char *p)
{
	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
	       *p == '_' || *p == '$')
		p++;
	return p;
}

bool my_marker_table_valid(const char *table)
{
	const char *dot = identifier_ends(table);
	if (dot == table || *dot != '.' || dot - table > 64)
		return false;
	const char *end = identifier_ends(dot + 1);
	return end > dot + 1 && *end == '\0' && end - dot - 1 <= 64;
}

/* MARKER_QUERY_MAX: room for either statement with the longest valid table
 * name (64 + 1 + 64 bytes, written three times in the check) and 20-digit
 * numbers. */
#define MARKER_QUERY_MAX 768

/* query_append appends the |n| bytes snprintf wrote into |q|; a statement
 * that did not fit (never, given MARKER_QUERY_MAX) fails the builder
 * rather than go cut. */
static void query_append(struct my_bld *b, const char *q, int n)
{
	if (n < 0 || n >= MARKER_QUERY_MAX) {
		b->err = true;
		return;
	}
	my_bld_bytes(b, q, (size_t)n);
}

/* The value of txn that the write records, as SQL: |txn|, or |txn| with
 * MY_MARKER_CHAINED when the session's COMMIT will not end as a plain one
 * (completion_type CHAIN or RELEASE, set by the server's global, a trigger
 * or a function: the session's own value when the row is written). */
#define MARKER_TXN_SQL "IF(@@completion_type = 'NO_CHAIN', %" PRIu64 ", %" PRIu64 ")"

void my_marker_write_query(struct my_bld *b, const char *table, uint64_t key, uint64_t txn)
{
	char q[MARKER_QUERY_MAX];
	uint64_t chained = txn | MY_MARKER_CHAINED;
	int n = snprintf(q, sizeof(q),
			 "INSERT INTO %s (conn, txn) VALUES (%" PRIu64 ", " MARKER_TXN_SQL
			 ") ON DUPLICATE KEY UPDATE txn = " MARKER_TXN_SQL,
			 table, key, txn, chained, txn, chained);
	query_append(b, q, n);
}

void my_marker_check_query(struct my_bld *b, const char *table, uint64_t key, uint64_t txn)
{
	/* Parts of a valid name (my_marker_table_valid): no quote to escape. */
	int schema_len = (int)(strchr(table, '.') - table);
	char q[MARKER_QUERY_MAX];
	int n = snprintf(q, sizeof(q),
			 "SELECT IF((SELECT ENGINE FROM information_schema.TABLES WHERE "
			 "TABLE_SCHEMA = '%.*s' AND TABLE_NAME = '%s') = 'InnoDB', CASE MAX(txn) "
			 "WHEN %" PRIu64 " THEN 1 WHEN %" PRIu64 " THEN NULL ELSE 0 END, NULL) "
			 "FROM %s WHERE conn = %" PRIu64 " FOR UPDATE",
			 schema_len, table, table + schema_len + 1, txn, txn | MY_MARKER_CHAINED,
			 table, key);
	query_append(b, q, n);
}

bool my_marker_reply_ok(struct my_cur reply, struct my_err *err)
{
	uint32_t len;
	uint8_t seq, header;
	memset(err, 0, sizeof(*err));
	if (!my_cur_u24le(&reply, &len) || !my_cur_u8(&reply, &seq) || reply.len != len)
		return false;
	struct my_cur payload = reply;
	if (!my_cur_u8(&reply, &header))
		return false;
	if (header == MY_OK_HEADER)
		return true;
	if (header == MY_ERR_HEADER && !my_err_parse(payload, err))
		err->code = 0;
	return false;
}
