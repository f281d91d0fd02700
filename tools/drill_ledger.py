"""drill_ledger: the restart drill's accounting: ledger writers through warmpool, and every row checked on the server itself.

A ledger writer runs, back to back, through warmpool:
    BEGIN; INSERT INTO drill.ledger (writer, seq) VALUES (w, s);
    UPDATE drill.ledger_totals SET n = n + 1 WHERE writer = w; COMMIT
and records, per seq, what it was told: committed (COMMIT answered OK),
rolled back (an error before its COMMIT was sent, or an ERR at the COMMIT that
says the transaction was rolled back and nothing about an unknown outcome), or
unknown (any other error at the COMMIT). Afterwards, with the server's own rows
(queried as root on its socket, not through warmpool): every committed seq is
there exactly once, every rolled-back seq is absent, an unknown one is there at
most once, nothing else is there, and each writer's total equals its rows.
sysbench's tables: each holds exactly the ids 1..table_size (oltp_read_write
deletes and inserts the same id inside one transaction: a transaction applied
in part or twice leaves an id missing or the count off).
"""
import subprocess
import threading
import time

import pymysql

COMMITTED, ROLLED_BACK, UNKNOWN = "committed", "rolled_back", "unknown"


def server_rows(socket_path, sql):
    """Runs |sql| as root on the server's unix socket; its rows, as lists of strings."""
    out = subprocess.run(["mariadb", "--no-defaults", "-uroot", "-S", socket_path, "-N", "-B",
                          "-e", sql], check=True, capture_output=True, text=True,
                         timeout=600).stdout
    return [line.split("\t") for line in out.splitlines()]


def create_tables(socket_path, writers):
    # No primary key on purpose: a transaction applied twice shows as a
    # duplicate row, where a key would turn it into an error (and an
    # auto-increment id would make every replay differ).
    server_rows(socket_path,
                "CREATE TABLE drill.ledger (writer INT NOT NULL, seq INT NOT NULL, "
                "KEY (writer, seq)) ENGINE=InnoDB; "
                "CREATE TABLE drill.ledger_totals (writer INT PRIMARY KEY, n INT NOT NULL) "
                "ENGINE=InnoDB; INSERT INTO drill.ledger_totals VALUES "
                + ", ".join(f"({w}, 0)" for w in range(writers)))


def told(error, commit_sent):
    """What an error says of the transaction it ended."""
    if not commit_sent:
        return ROLLED_BACK  # no COMMIT left the client: nothing of it may commit
    code = error.args[0] if error.args else None
    message = str(error.args[1]) if len(error.args) > 1 else ""
    if code == 1927 and "rolled back" in message and "unknown" not in message:
        return ROLLED_BACK
    return UNKNOWN


class LedgerWriter:
    """One writer: transactions back to back until |stop|; outcome per seq."""

    def __init__(self, port, writer, stop):
        self.port, self.writer, self.stop = port, writer, stop
        self.outcomes = {}  # seq -> COMMITTED | ROLLED_BACK | UNKNOWN
        self.errors = {}    # seq -> the error, for the ones not committed
        self.conn = None
        self.thread = threading.Thread(target=self.run)

    def run(self):
        seq = 0
        while not self.stop.is_set():
            seq += 1
            self.outcomes[seq] = self.transaction(seq)

    def transaction(self, seq):
        commit_sent = False
        try:
            if self.conn is None:
                self.conn = pymysql.connect(host="127.0.0.1", port=self.port, user="app",
                                            password="app-secret", autocommit=True,
                                            connect_timeout=60, read_timeout=120)
            with self.conn.cursor() as cur:
                cur.execute("BEGIN")
                cur.execute("INSERT INTO drill.ledger (writer, seq) VALUES (%s, %s)",
                            (self.writer, seq))
                cur.execute("UPDATE drill.ledger_totals SET n = n + 1 WHERE writer = %s",
                            (self.writer,))
                commit_sent = True
                cur.execute("COMMIT")
            return COMMITTED
        except pymysql.MySQLError as e:
            self.errors[seq] = str(e.args)[:300]
            self.close()  # an application would start over on a new connection
            time.sleep(0.01)
            return told(e, commit_sent)

    def close(self):
        if self.conn is not None:
            try:
                self.conn.close()
            except pymysql.MySQLError:
                pass
            self.conn = None


def check_writer(w, present, total):
    """Problems of one writer: |present| maps seq -> rows on the server."""
    problems = []
    for seq, outcome in sorted(w.outcomes.items()):
        rows = present.get(seq, 0)
        if (outcome == COMMITTED and rows != 1) or (outcome == ROLLED_BACK and rows != 0) or \
                rows > 1:
            problems.append(f"writer {w.writer} seq {seq}: told {outcome}, {rows} rows "
                            f"({w.errors.get(seq, 'no error')})")
    problems += [f"writer {w.writer} seq {seq}: {rows} rows, never attempted"
                 for seq, rows in sorted(present.items()) if seq not in w.outcomes]
    if total != sum(present.values()):
        problems.append(f"writer {w.writer}: ledger_totals.n = {total}, "
                        f"{sum(present.values())} rows")
    return problems


def check_ledger(socket_path, writers):
    """The ledger against what its writers were told: (summary, problems)."""
    present = {}
    for writer, seq, rows in server_rows(socket_path, "SELECT writer, seq, COUNT(*) FROM "
                                                      "drill.ledger GROUP BY writer, seq"):
        present.setdefault(int(writer), {})[int(seq)] = int(rows)
    totals = {int(w): int(n) for w, n in server_rows(
        socket_path, "SELECT writer, n FROM drill.ledger_totals")}
    summary = {COMMITTED: 0, ROLLED_BACK: 0, UNKNOWN: 0, "unknown_committed": [],
               "unknown_not_committed": [], "rolled_back_errors": []}
    problems = []
    for w in writers:
        mine = present.get(w.writer, {})
        problems += check_writer(w, mine, totals.get(w.writer))
        for seq, outcome in w.outcomes.items():
            summary[outcome] += 1
            if outcome == ROLLED_BACK and len(summary["rolled_back_errors"]) < 20:
                summary["rolled_back_errors"].append(f"{w.writer}:{seq} {w.errors.get(seq, '')}")
            if outcome == UNKNOWN:
                key = "unknown_committed" if mine.get(seq) else "unknown_not_committed"
                summary[key].append(f"{w.writer}:{seq} {w.errors.get(seq, '')}")
    return summary, problems


def check_sbtest(socket_path, tables, table_size):
    """sysbench's tables hold ids 1..table_size, each once (id is their
    primary key: count, min and max say the rest): (summary, problems).
    One cause is sysbench's own: it ignores ERR 1205 (a lock wait timeout,
    which rolls back only the statement) and its next BEGIN commits the half
    transaction; innodb_lock_wait_timeout (50 s) is not reached in a drill."""
    summary, problems = {}, []
    for i in range(1, tables + 1):
        count, low, high = (int(v) for v in server_rows(
            socket_path, f"SELECT COUNT(*), MIN(id), MAX(id) FROM drill.sbtest{i}")[0])
        summary[f"sbtest{i}"] = count
        if (count, low, high) != (table_size, 1, table_size):
            problems.append(f"sbtest{i}: {count} rows, ids {low}..{high}, "
                            f"expected {table_size} rows, ids 1..{table_size}")
    return summary, problems
