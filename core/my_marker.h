/* my_marker: the statements of the commit marker, a row a transaction writes just before its COMMIT so that a COMMIT lost in flight can be told committed or not from another connection. */
#ifndef WP_MY_MARKER_H
#define WP_MY_MARKER_H

#include <stdbool.h>
#include <stdint.h>

#include "my_cursor.h"
#include "my_result.h"

/* my_marker_table_valid: |table| is "schema.table", each part of letters,
 * digits, '_' and '$' (written into statements as it is). */
bool my_marker_table_valid(const char *table);

/* The bit a marker row's txn carries when the session that wrote it had a
 * completion_type other than NO_CHAIN: its COMMIT began a new transaction
 * or ended the session, which an OK on a new connection would not do.
 * Transaction numbers stay below it. */
#define MY_MARKER_CHAINED (UINT64_C(1) << 63)

/* my_marker_write_query appends the statement that records, inside the
 * open transaction, that transaction |txn| of backend connection |key|
 * committed: "INSERT INTO table (conn, txn) VALUES (key, txn) ON DUPLICATE
 * KEY UPDATE txn = txn", txn with MY_MARKER_CHAINED when the session's
 * completion_type, read by the server as it writes the row, is not
 * NO_CHAIN. One row per connection, overwritten by each of its
 * transactions. */
void my_marker_write_query(struct my_bld *b, const char *table, uint64_t key, uint64_t txn);

/* my_marker_check_query appends the statement that tells, on another
 * connection, whether that transaction committed: a locking read, so that
 * it waits for the transaction while its session is still alive on the
 * server (a cut network), and answers once it committed or rolled back.
 * Its one value is 1 (the row of |txn| is there: committed), 0 (it is not:
 * rolled back), or NULL when an OK could not stand for the lost one's:
 * - the row says MY_MARKER_CHAINED: that COMMIT chained or released;
 * - the table is not InnoDB: one that does not take part in transactions
 *   (MyISAM, Aria) keeps the row of a transaction that rolled back, and it
 *   would answer OK for a COMMIT that never ran.
 * |table| must be valid. */
void my_marker_check_query(struct my_bld *b, const char *table, uint64_t key, uint64_t txn);

/* my_marker_reply_ok reads the answer to either statement: true for an OK
 * (the write's); false for anything else, with the server's error in |err|
 * when it is one (code 0 otherwise: the check's result, or garbage). */
bool my_marker_reply_ok(struct my_cur reply, struct my_err *err);

#endif
