"""replay_transactions: a transaction whose backend connection died with nothing
committed runs again on a new connection, each answer checked against the
original; the client goes on as if nothing happened, or is told (ERR 1927) when
an answer differs, when the statement in flight may have committed, or when the
transaction was over the size bound. Checked with the server's own rows (a fault
proxy in front of the real MariaDB cuts connections on purpose)."""
import re
import threading
import time
import urllib.request
import uuid

import pymysql
import pytest

from conftest import connect, row, value


def scratch_table(db, prefix, columns, rows=""):
    """A table of its own in schema rr, dropped after the test."""
    name = f"rr.{prefix}_{uuid.uuid4().hex[:12]}"
    db.root_sql(f"CREATE DATABASE IF NOT EXISTS rr; "
                f"CREATE TABLE {name} ({columns}) ENGINE=InnoDB"
                + (f"; INSERT INTO {name} VALUES {rows}" if rows else ""))
    yield name
    db.root_sql(f"DROP TABLE IF EXISTS {name}")


@pytest.fixture
def table(mariadb):
    yield from scratch_table(mariadb, "x", "id INT PRIMARY KEY, v INT", "(1, 10)")



def replaying(factory, proxy, mode="transaction", max_bytes="65536", marker=None, db=None):
    """A warmpool replaying transactions, its backend |proxy| in plaintext
    (in front of the shared MariaDB, or of |db|: MySQL's caching_sha2_password
    over plaintext needs the server's RSA key)."""
    listener = {"pool_mode": mode, "replay_transactions": "true", "replay_max_bytes": max_bytes}
    if marker:
        listener["replay_commit_marker"] = marker
    backend = {"port": str(proxy.port), "ssl_mode": "disabled", "min_idle": "1",
               "max_connections": "4"}
    if db is not None and db.server == "mysql":
        backend["server_public_key"] = db.env["rsa_public_key"]
    return factory(db=db, warmpool={"workers": "1", "client_wait_timeout_ms": "20000"},
                   listener_main=listener, backend_main=backend)


def replays_now(wp):
    with urllib.request.urlopen(f"http://127.0.0.1:{wp.admin_port}/metrics", timeout=5) as r:
        text = r.read().decode()
    return {m.group(1): int(float(m.group(2))) for m in re.finditer(
        r'^warmpool_replays_total\{outcome="(\w+)"\} (\S+)$', text, re.M) if float(m.group(2))}


def replays(wp, expected):
    """warmpool_replays_total by outcome (nonzero), once |expected| or after a
    while, and still so a moment later."""
    deadline = time.monotonic() + 1.5
    while replays_now(wp) != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    return replays_now(wp)


def ids(db, table):
    return db.root_sql(f"SELECT GROUP_CONCAT(id ORDER BY id) FROM {table}").strip()


def lost_transaction(e):
    return e.value.args[0] == 1927 and "transaction was rolled back" in e.value.args[1]


def unknown_outcome(e):
    """ERR 1927 saying a lost COMMIT's outcome is unknown."""
    return e.value.args[0] == 1927 and "outcome is then unknown" in e.value.args[1]


def plain_commit(payload):
    """A fault proxy match: the text query COMMIT."""
    return payload[:1] == b"\x03" and payload[1:].upper() == b"COMMIT"


def cut_and_told(c, proxy, db, table, id_):
    """The connection goes between statements; the client's next statement
    (an INSERT of |id_|) is told that the transaction was rolled back, and
    nothing of it is in the table."""
    proxy.cut()
    with pytest.raises(pymysql.err.OperationalError) as lost:
        row(c, f"INSERT INTO {table} VALUES ({id_}, 0)")
    assert lost_transaction(lost)
    assert ids(db, table) == "1"


@pytest.mark.parametrize("mode", ["transaction", "session"])
def test_lost_between_statements_the_transaction_runs_again(warmpool_factory, mariadb, proxy,
                                                            table, mode):
    wp = replaying(warmpool_factory, proxy, mode)
    c = connect(wp)
    row(c, "BEGIN")
    row(c, f"INSERT INTO {table} VALUES (2, 20)")
    assert value(c, f"SELECT v FROM {table} WHERE id = 1") == 10
    proxy.cut()
    row(c, f"INSERT INTO {table} VALUES (3, 30)")
    row(c, "COMMIT")
    assert ids(mariadb, table) == "1,2,3"
    assert replays(wp, {"replayed": 1}) == {"replayed": 1}
    assert wp.wait_for_log("transaction lost with its backend connection replayed")
    c.close()


def test_a_statement_in_flight_runs_again_after_the_transaction(warmpool_factory, mariadb,
                                                                proxy, table):
    """The INSERT ran, its answer was lost with the connection: the server
    rolled the transaction back, so both statements run again, once."""
    wp = replaying(warmpool_factory, proxy)
    c = connect(wp)
    row(c, "BEGIN")
    row(c, f"INSERT INTO {table} VALUES (2, 20)")
    proxy.arm("lost", lambda p: p[:1] == b"\x03" and b"VALUES (3" in p)
    row(c, f"INSERT INTO {table} VALUES (3, 30)")
    row(c, "COMMIT")
    assert ids(mariadb, table) == "1,2,3"
    assert replays(wp, {"replayed": 1}) == {"replayed": 1}
    c.close()


def test_a_replay_whose_connection_dies_too_runs_again(warmpool_factory, mariadb, proxy, table):
    """A restart's new connection may die with the old server's last
    sessions: the server rolled back what the replay ran, so the transaction
    runs once more on another connection, and each row is written once."""
    wp = replaying(warmpool_factory, proxy)
    c = connect(wp)
    row(c, "BEGIN")
    row(c, f"INSERT INTO {table} VALUES (2, 20)")
    proxy.arm("lost", lambda p: p[:1] == b"\x03" and b"VALUES (3" in p)
    proxy.arm("lost", lambda p: p[:1] == b"\x03" and b"VALUES (2" in p)  # the replay's
    row(c, f"INSERT INTO {table} VALUES (3, 30)")
    row(c, "COMMIT")
    assert proxy.fired == ["lost", "lost"]
    assert ids(mariadb, table) == "1,2,3"
    assert replays(wp, {"replayed": 1}) == {"replayed": 1}
    log = wp.read_log()
    assert "in_flight=again run=2" in log, log[-3000:]
    c.close()


def test_a_statement_aborted_by_a_shutdown_runs_again_after_the_transaction(
        warmpool_factory, mariadb, proxy, table):
    wp = replaying(warmpool_factory, proxy)
    c = connect(wp)
    row(c, "BEGIN")
    row(c, f"UPDATE {table} SET v = v + 1 WHERE id = 1")
    proxy.arm("abort", lambda p: p[:1] == b"\x03" and b"VALUES (4" in p)
    row(c, f"INSERT INTO {table} VALUES (4, 40)")
    row(c, "COMMIT")
    assert ids(mariadb, table) == "1,4"
    assert mariadb.root_sql(f"SELECT v FROM {table} WHERE id = 1").strip() == "11"
    assert replays(wp, {"replayed": 1}) == {"replayed": 1}
    c.close()


def test_a_different_result_on_replay_is_refused(warmpool_factory, mariadb, proxy, table):
    """Another session changed the row the transaction read: its answer on
    the new connection differs, so the client is told; nothing of it stays."""
    wp = replaying(warmpool_factory, proxy)
    c = connect(wp)
    row(c, "BEGIN")
    assert value(c, f"SELECT v FROM {table} WHERE id = 1") == 10
    row(c, f"INSERT INTO {table} VALUES (5, 50)")
    mariadb.root_sql(f"UPDATE {table} SET v = 99 WHERE id = 1")
    cut_and_told(c, proxy, mariadb, table, 6)
    assert replays(wp, {"different_result": 1}) == {"different_result": 1}
    row(c, "BEGIN")  # the client goes on
    row(c, f"INSERT INTO {table} VALUES (7, 70)")
    row(c, "COMMIT")
    assert ids(mariadb, table) == "1,7"
    c.close()


def test_a_non_deterministic_statement_is_refused(warmpool_factory, mariadb, proxy, table):
    wp = replaying(warmpool_factory, proxy)
    c = connect(wp)
    row(c, "BEGIN")
    row(c, "SELECT RAND(), NOW(6)")
    cut_and_told(c, proxy, mariadb, table, 8)
    assert replays(wp, {"different_result": 1}) == {"different_result": 1}
    c.close()


def test_a_commit_lost_in_flight_is_never_run_again(warmpool_factory, mariadb, proxy, table):
    """The COMMIT reached the server and committed; its answer was lost (as
    under a kill -9 of the server right after): its outcome is unknown, so
    nothing runs again, and the rows are there once."""
    wp = replaying(warmpool_factory, proxy)
    c = connect(wp)
    row(c, "BEGIN")
    row(c, f"INSERT INTO {table} VALUES (9, 90)")
    proxy.arm("lost", lambda p: p[:1] == b"\x03" and b"COMMIT" in p.upper())
    with pytest.raises(pymysql.err.OperationalError) as lost:
        row(c, "COMMIT")
    assert lost.value.args[0] == 1927
    assert "outcome is then unknown" in lost.value.args[1]  # not only "rolled back"
    assert ids(mariadb, table) == "1,9"
    assert replays(wp, {"unknown_outcome": 1}) == {"unknown_outcome": 1}
    c.close()


def test_a_transaction_over_the_size_bound_is_refused(warmpool_factory, mariadb, proxy, table):
    wp = replaying(warmpool_factory, proxy, max_bytes="1024")
    c = connect(wp)
    row(c, "BEGIN")
    row(c, f"INSERT INTO {table} VALUES (10, 100) /* {'x' * 1100} */")
    cut_and_told(c, proxy, mariadb, table, 11)
    assert replays(wp, {"not_kept": 1}) == {"not_kept": 1}
    c.close()


def test_without_the_option_nothing_runs_again(warmpool_factory, mariadb, proxy, table):
    wp = warmpool_factory(warmpool={"workers": "1", "client_wait_timeout_ms": "20000"},
                          listener_main={"pool_mode": "transaction"},
                          backend_main={"port": str(proxy.port), "ssl_mode": "disabled",
                                        "min_idle": "1"})
    c = connect(wp)
    row(c, "BEGIN")
    row(c, f"INSERT INTO {table} VALUES (12, 120)")
    cut_and_told(c, proxy, mariadb, table, 13)
    assert replays(wp, {}) == {}
    c.close()


def test_a_transaction_with_load_data_local_is_refused(warmpool_factory, mariadb, proxy, table,
                                                       tmp_path):
    """The file went to the old connection; warmpool does not keep it."""
    wp = replaying(warmpool_factory, proxy)
    data = tmp_path / "rows.tsv"
    data.write_text("14\t140\n")
    c = connect(wp, local_infile=True)
    row(c, "BEGIN")
    row(c, f"LOAD DATA LOCAL INFILE '{data}' INTO TABLE {table}")
    cut_and_told(c, proxy, mariadb, table, 15)
    assert replays(wp, {"not_kept": 1}) == {"not_kept": 1}
    c.close()


def test_kill_9_of_the_server_between_statements(warmpool_factory, private_db):
    """A crash rolls the open transaction back too (crash recovery): once the
    server is back, the transaction runs again there, and its rows are there
    once, after its COMMIT."""
    from test_backend_restart import kill_backend
    db = private_db
    db.root_sql("CREATE DATABASE rr; CREATE TABLE rr.t (id INT PRIMARY KEY) ENGINE=InnoDB")
    wp = warmpool_factory(db=db, warmpool={"workers": "1", "client_wait_timeout_ms": "30000"},
                          listener_main={"pool_mode": "transaction",
                                         "replay_transactions": "true"},
                          backend_main={"ssl_mode": "preferred", "min_idle": "1"})
    c = connect(wp)
    row(c, "BEGIN")
    row(c, "INSERT INTO rr.t VALUES (1)")
    kill_backend(db)
    db.start(ssl="off")
    row(c, "INSERT INTO rr.t VALUES (2)")
    row(c, "COMMIT")
    assert db.root_sql("SELECT GROUP_CONCAT(id ORDER BY id) FROM rr.t").strip() == "1,2"
    assert replays(wp, {"replayed": 1}) == {"replayed": 1}
    c.close()


def test_prepared_statements_in_the_transaction(warmpool_factory, mariadb, proxy, table):
    """Executes run again (prepared again on the new connection); a statement
    the client closed inside the transaction makes it one that is not
    replayed (its execute could not run again)."""
    from test_prepared_statements import Stmts
    wp = replaying(warmpool_factory, proxy)
    s = Stmts(wp.port)
    insert, _ = s.prepare(f"INSERT INTO {table} VALUES (?, ?)")
    s.query("BEGIN")
    s.execute(insert, 16, 160)
    proxy.cut()
    s.execute(insert, 17, 170)
    s.query("COMMIT")
    assert ids(mariadb, table) == "1,16,17"
    assert replays(wp, {"replayed": 1}) == {"replayed": 1}
    s.query("BEGIN")
    s.execute(insert, 18, 180)
    s.close_stmt(insert)
    proxy.cut()
    with pytest.raises(pymysql.err.OperationalError) as lost:
        s.query(f"INSERT INTO {table} VALUES (19, 190)")
    assert lost_transaction(lost)
    assert ids(mariadb, table) == "1,16,17"
    assert replays(wp, {"replayed": 1, "not_kept": 1}) == {"replayed": 1, "not_kept": 1}
    s.close()



def test_an_execute_that_no_longer_prepares_on_replay_is_refused(warmpool_factory, mariadb,
                                                                 proxy, table):
    """An execute of the transaction cannot be prepared on the new connection
    (the server allows no more prepared statements): warmpool answers that
    execute itself with the server's error, an answer the client must never
    see (it had its answer; the replay runs as soon as the loss is noticed,
    before the client's next statement). The replay is refused: the client
    gets ERR 1927 at its next statement, and stays in step."""
    from test_prepared_statements import Stmts
    wp = replaying(warmpool_factory, proxy)
    s = Stmts(wp.port)
    select, _ = s.prepare(f"SELECT v FROM {table} WHERE id = ?")
    s.query("BEGIN")
    assert s.execute(select, 1) == [(10,)]
    limit = mariadb.root_sql("SELECT @@GLOBAL.max_prepared_stmt_count").strip()
    mariadb.root_sql("SET GLOBAL max_prepared_stmt_count = 0")
    try:
        proxy.cut()
        assert wp.wait_for_log("outcome=different_result statements=2 at=2")
    finally:
        mariadb.root_sql(f"SET GLOBAL max_prepared_stmt_count = {limit}")
    with pytest.raises(pymysql.err.OperationalError) as lost:
        s.query("SELECT 2")
    assert lost_transaction(lost)
    assert s.query("SELECT 3") == ((3,),)
    assert s.execute(select, 1) == [(10,)]
    assert replays(wp, {"different_result": 1}) == {"different_result": 1}
    s.close()


def test_a_statement_slow_only_the_first_time_is_replayed(warmpool_factory, mariadb, proxy,
                                                          table):
    """The server flags an OK as slow (SERVER_QUERY_WAS_SLOW) when the
    statement took longer than long_query_time: here the UPDATE waited for
    another session's row lock the first time, and not when it runs again.
    How long it waited is not part of its answer: the transaction is
    replayed."""
    wp = replaying(warmpool_factory, proxy)
    c = connect(wp)
    row(c, "SET SESSION long_query_time = 0.1")
    holder = pymysql.connect(unix_socket=mariadb.env["socket"], user="root")
    with holder.cursor() as cur:
        cur.execute("BEGIN")
        cur.execute(f"SELECT v FROM {table} WHERE id = 1 FOR UPDATE")
    release = threading.Timer(0.5, holder.commit)
    release.start()
    row(c, "BEGIN")
    row(c, f"UPDATE {table} SET v = v + 1 WHERE id = 1")  # waits for the holder
    release.join()
    holder.close()
    assert c.server_status & 0x0800  # the OK said "slow"
    proxy.cut()
    row(c, f"INSERT INTO {table} VALUES (21, 210)")
    row(c, "COMMIT")
    assert ids(mariadb, table) == "1,21"
    assert mariadb.root_sql(f"SELECT v FROM {table} WHERE id = 1").strip() == "11"
    assert replays(wp, {"replayed": 1}) == {"replayed": 1}
    c.close()


@pytest.fixture
def auto_table(mariadb):
    yield from scratch_table(mariadb, "a", "id INT AUTO_INCREMENT PRIMARY KEY, v INT")


def test_inserts_of_explicit_ids_are_replayed(warmpool_factory, mariadb, proxy, auto_table):
    """sysbench's oltp_read_write inserts the id it deleted: the OK reports
    that id, and the session's LAST_INSERT_ID() stays what it was (read
    back). The transaction runs again with the same answers, and the
    client's LAST_INSERT_ID() is still the one its own generated insert
    gave, as the server says."""
    wp = replaying(warmpool_factory, proxy)
    c = connect(wp)
    row(c, f"INSERT INTO {auto_table} (v) VALUES (1)")
    generated = c.insert_id()
    row(c, "BEGIN")
    row(c, f"INSERT INTO {auto_table} (id, v) VALUES (100, 2)")
    assert c.insert_id() == 100  # what the OK reported
    assert value(c, "SELECT LAST_INSERT_ID()") == generated
    proxy.cut()
    row(c, f"INSERT INTO {auto_table} (id, v) VALUES (101, 3)")
    assert value(c, "SELECT LAST_INSERT_ID()") == generated
    row(c, "COMMIT")
    assert ids(mariadb, auto_table) == f"{generated},100,101"
    assert replays(wp, {"replayed": 1}) == {"replayed": 1}
    assert value(c, "SELECT LAST_INSERT_ID()") == generated
    c.close()


def test_a_generated_id_in_the_transaction_is_refused(warmpool_factory, mariadb, proxy,
                                                      auto_table):
    """The id a replay generates would be another (auto-increment values are
    not rolled back), and the statements after the insert may have used
    LAST_INSERT_ID(): the transaction is not replayed, and nothing of it
    stays."""
    wp = replaying(warmpool_factory, proxy)
    c = connect(wp)
    row(c, "BEGIN")
    row(c, f"INSERT INTO {auto_table} (v) VALUES (1)")
    row(c, "SELECT 1")  # answered once the id is read back (cut during it, the replay
    # would run and its new id differ: different_result)
    proxy.cut()
    with pytest.raises(pymysql.err.OperationalError) as lost:
        row(c, f"INSERT INTO {auto_table} (id, v) VALUES (200, 2)")
    assert lost_transaction(lost)
    assert ids(mariadb, auto_table) == "NULL"  # no row
    assert replays(wp, {"not_kept": 1}) == {"not_kept": 1}
    c.close()


@pytest.fixture
def marker(mariadb):
    """The commit marker table, as README says to create it."""
    mariadb.root_sql("CREATE DATABASE IF NOT EXISTS rr; "
                     "CREATE TABLE IF NOT EXISTS rr.commit_marker (conn BIGINT UNSIGNED PRIMARY KEY, "
                     "txn BIGINT UNSIGNED NOT NULL, at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP "
                     "ON UPDATE CURRENT_TIMESTAMP) ENGINE=InnoDB")
    return "rr.commit_marker"


def metric(wp, name):
    with urllib.request.urlopen(f"http://127.0.0.1:{wp.admin_port}/metrics", timeout=5) as r:
        m = re.search(rf"^{name} (\S+)$", r.read().decode(), re.M)
    return int(float(m.group(1))) if m else None


@pytest.mark.parametrize("mode", ["transaction", "session"])
def test_a_commit_lost_after_it_committed_gets_its_ok(warmpool_factory, mariadb, proxy, table,
                                                      marker, mode):
    """The COMMIT committed and its answer was lost: the marker row the
    transaction wrote is there, read on a new connection, so the client gets
    the OK it missed; nothing runs again and the row is there once."""
    wp = replaying(warmpool_factory, proxy, mode, marker=marker)
    c = connect(wp)
    row(c, "BEGIN")
    row(c, f"INSERT INTO {table} VALUES (30, 300)")
    proxy.arm("lost", plain_commit)
    row(c, "COMMIT")
    assert proxy.fired == ["lost"]
    assert ids(mariadb, table) == "1,30"
    assert replays(wp, {"committed": 1}) == {"committed": 1}
    assert not c.server_status & 0x0001  # the OK says the transaction is over
    row(c, "BEGIN")  # the client goes on
    row(c, f"INSERT INTO {table} VALUES (31, 310)")
    row(c, "COMMIT")
    assert ids(mariadb, table) == "1,30,31"
    c.close()


@pytest.mark.parametrize("mode", ["transaction", "session"])
def test_a_commit_lost_before_it_ran_runs_again(warmpool_factory, mariadb, proxy, table,
                                               marker, mode):
    """The COMMIT never reached the server and the connection went: the
    server rolled the transaction back, the marker row is not there, so the
    transaction runs again on a new connection, then its COMMIT: the client
    gets its OK and the rows are there once."""
    wp = replaying(warmpool_factory, proxy, mode, marker=marker)
    c = connect(wp)
    row(c, "BEGIN")
    row(c, f"INSERT INTO {table} VALUES (32, 320)")
    row(c, f"UPDATE {table} SET v = v + 1 WHERE id = 1")
    proxy.arm("dropped", plain_commit)
    row(c, "COMMIT")
    assert proxy.fired == ["dropped"]
    assert ids(mariadb, table) == "1,32"
    assert mariadb.root_sql(f"SELECT v FROM {table} WHERE id = 1").strip() == "11"
    assert replays(wp, {"replayed": 1}) == {"replayed": 1}
    assert wp.wait_for_log("COMMIT lost in flight had not committed")
    c.close()


def test_a_lost_commit_is_checked_on_the_group_member_that_ran_it(warmpool_factory, mariadb,
                                                                   private_db, proxy, table,
                                                                   marker):
    """In a group, the check of a lost COMMIT goes to the member that ran the
    transaction. Another member holds the same tables without the row: a
    check there would read "not committed" and run the committed transaction
    again on a server that never had it. Round robin hands the next
    connection to the other member, so a check that took it would."""
    private_db.root_sql(
        f"CREATE DATABASE IF NOT EXISTS rr; CREATE TABLE {table} (id INT PRIMARY KEY, v INT) "
        f"ENGINE=InnoDB; INSERT INTO {table} VALUES (1, 10); "
        f"CREATE TABLE {marker} (conn BIGINT UNSIGNED PRIMARY KEY, "
        f"txn BIGINT UNSIGNED NOT NULL) ENGINE=InnoDB")
    member = {"ssl_mode": "disabled", "min_idle": "0", "max_connections": "4"}
    wp = warmpool_factory(
        warmpool={"workers": "1", "client_wait_timeout_ms": "20000"},
        listener_main={"backend": "pair", "pool_mode": "transaction",
                       "replay_transactions": "true", "replay_commit_marker": marker},
        backend_proxied={**member, "port": str(proxy.port)},
        backend_other={**member, "port": str(private_db.port)},
        **{"group pair": {"members": "proxied, other", "balance": "round_robin"}})
    c = connect(wp)
    for _ in range(4):  # a transaction on the proxied member
        row(c, "BEGIN")
        if value(c, "SELECT @@port") == mariadb.port:
            break
        row(c, "COMMIT")
    else:
        raise AssertionError("no transaction went to the proxied member")
    row(c, f"INSERT INTO {table} VALUES (30, 300)")
    proxy.arm("lost", plain_commit)
    row(c, "COMMIT")
    assert proxy.fired == ["lost"]
    assert replays(wp, {"committed": 1}) == {"committed": 1}
    assert ids(mariadb, table) == "1,30"
    assert ids(private_db, table) == "1"  # nothing ran again on the other member
    c.close()


def test_a_commit_lost_with_the_marker_unwritable_stays_unknown(warmpool_factory, mariadb, proxy,
                                                                table):
    """The marker table is missing: the write fails (one warning, counted),
    the COMMIT goes without a marker, and its loss is told as unknown, as
    without the option."""
    wp = replaying(warmpool_factory, proxy, marker="rr.no_such_marker")
    c = connect(wp)
    row(c, "BEGIN")
    row(c, f"INSERT INTO {table} VALUES (33, 330)")
    proxy.arm("lost", plain_commit)
    with pytest.raises(pymysql.err.OperationalError) as lost:
        row(c, "COMMIT")
    assert lost.value.args[0] == 1927
    assert "outcome is then unknown" in lost.value.args[1]
    assert ids(mariadb, table) == "1,33"
    assert replays(wp, {"unknown_outcome": 1}) == {"unknown_outcome": 1}
    assert metric(wp, "warmpool_commit_markers_failed_total") == 1
    assert wp.wait_for_log("commit marker not written")
    c.close()


def test_a_marker_write_the_shutdown_aborts_runs_the_transaction_again(
        warmpool_factory, mariadb, proxy, table, marker):
    """MySQL answers the next statement on each session ERR 1053 as it shuts
    down, and closes: met by the marker's write, the transaction is lost
    before its COMMIT left, so it runs again, marker and COMMIT included."""
    wp = replaying(warmpool_factory, proxy, marker=marker)
    c = connect(wp)
    row(c, "BEGIN")
    row(c, f"INSERT INTO {table} VALUES (34, 340)")
    proxy.arm("abort", lambda p: p[:1] == b"\x03" and b"commit_marker" in p and b"INSERT" in p)
    row(c, "COMMIT")
    assert proxy.fired == ["abort"]
    assert ids(mariadb, table) == "1,34"
    assert replays(wp, {"replayed": 1}) == {"replayed": 1}
    c.close()


def test_a_check_lost_itself_is_read_again(warmpool_factory, mariadb, proxy, table, marker):
    """The COMMIT committed and its answer was lost; the first read of its
    marker row is aborted by a shutdown too: it is read again on another
    connection, and the client gets its OK."""
    wp = replaying(warmpool_factory, proxy, marker=marker)
    c = connect(wp)
    row(c, "BEGIN")
    row(c, f"INSERT INTO {table} VALUES (35, 350)")
    proxy.arm("lost", plain_commit)
    proxy.arm("abort", lambda p: p[:1] == b"\x03" and b"FOR UPDATE" in p)
    row(c, "COMMIT")
    assert proxy.fired == ["lost", "abort"]
    assert ids(mariadb, table) == "1,35"
    assert replays(wp, {"committed": 1}) == {"committed": 1}
    c.close()


def test_a_transaction_that_only_read_writes_no_marker(warmpool_factory, mariadb, proxy, table,
                                                       marker):
    """A marker row would turn a reading transaction into a writing one (a
    durable commit): none is written. Its lost COMMIT is told unknown, not
    answered OK: a SELECT of a view may call a function that writes."""
    wp = replaying(warmpool_factory, proxy, marker=marker)
    rows_before = mariadb.root_sql(f"SELECT COUNT(*) FROM {marker}").strip()
    c = connect(wp)
    row(c, "BEGIN")
    assert value(c, f"SELECT v FROM {table} WHERE id = 1") == 10
    proxy.arm("lost", plain_commit)
    with pytest.raises(pymysql.err.OperationalError) as lost:
        row(c, "COMMIT")
    assert unknown_outcome(lost)
    assert proxy.fired == ["lost"]
    assert replays(wp, {"unknown_outcome": 1}) == {"unknown_outcome": 1}
    assert mariadb.root_sql(f"SELECT COUNT(*) FROM {marker}").strip() == rows_before
    row(c, "BEGIN")
    row(c, f"UPDATE {table} SET v = 12 WHERE id = 1")
    row(c, "COMMIT")
    assert mariadb.root_sql(f"SELECT COUNT(*) FROM {marker}").strip() == str(int(rows_before) + 1)
    c.close()


@pytest.mark.parametrize("fault", ["lost", "abort", "abort_result"])
def test_a_read_back_of_last_insert_id_lost_in_a_transaction_is_replayed(
        warmpool_factory, mariadb, proxy, auto_table, fault):
    """The connection goes while warmpool reads back LAST_INSERT_ID() after
    an insert naming its id (a restart met sysbench there twice in three):
    the transaction runs again, the value is read back on the new
    connection, and the client's LAST_INSERT_ID() is still the one its own
    generated insert gave, as the server says. "abort": MySQL answers the
    read-back ERR 1053 as it shuts down (after the column definitions:
    "abort_result"), and closes: the same loss."""
    wp = replaying(warmpool_factory, proxy)
    c = connect(wp)
    row(c, f"INSERT INTO {auto_table} (v) VALUES (1)")
    generated = c.insert_id()
    row(c, "BEGIN")
    proxy.arm(fault, lambda p: p == b"\x03SELECT LAST_INSERT_ID()")
    row(c, f"INSERT INTO {auto_table} (id, v) VALUES (300, 2)")
    assert value(c, "SELECT LAST_INSERT_ID()") == generated
    assert proxy.fired == [fault]
    row(c, "COMMIT")
    assert ids(mariadb, auto_table) == f"{generated},300"
    assert replays(wp, {"replayed": 1}) == {"replayed": 1}
    assert wp.wait_for_log("read back again once the transaction has run again")
    c.close()


def test_a_prepare_the_shutdown_aborts_is_a_connection_lost(warmpool_factory, mariadb, proxy,
                                                            table):
    """An execute on a connection where its statement is not prepared yet:
    warmpool prepares it there first, and MySQL, shutting down, answers that
    prepare ERR 1053 and closes. The execute never went: it goes to a new
    connection (outside a transaction), or the transaction runs again
    (inside one), instead of the client getting that ERR as its answer."""
    from test_prepared_statements import Stmts
    wp = replaying(warmpool_factory, proxy)
    s = Stmts(wp.port)
    insert, _ = s.prepare(f"INSERT INTO {table} VALUES (?, ?)")
    proxy.cut()  # the statement is prepared on no connection now
    proxy.arm("abort", lambda p: p[:1] == b"\x16")
    s.execute(insert, 40, 400)
    assert proxy.fired == ["abort"]
    proxy.cut()
    s.query("BEGIN")
    proxy.arm("abort", lambda p: p[:1] == b"\x16")
    s.execute(insert, 41, 410)
    s.query("COMMIT")
    assert proxy.fired == ["abort", "abort"]
    assert ids(mariadb, table) == "1,40,41"
    assert replays(wp, {"replayed": 1}) == {"replayed": 1}
    s.close()


@pytest.mark.parametrize("fault", ["lost", "dropped"])
def test_a_prepared_commit_lost_in_flight_is_settled_by_its_marker(warmpool_factory, mariadb,
                                                                   proxy, table, marker, fault):
    """MariaDB prepares COMMIT, and sysbench executes it so: a lost execute
    of it is checked like a text COMMIT (committed: its OK; not: the
    transaction runs again)."""
    from test_prepared_statements import Stmts
    wp = replaying(warmpool_factory, proxy, marker=marker)
    s = Stmts(wp.port)
    insert, _ = s.prepare(f"INSERT INTO {table} VALUES (?, ?)")
    commit, _ = s.prepare("COMMIT")
    s.query("BEGIN")
    s.execute(insert, 50, 500)
    proxy.arm(fault, lambda p: p[:1] == b"\x17")
    s.execute(commit)
    assert proxy.fired == [fault]
    assert ids(mariadb, table) == "1,50"
    want = {"committed": 1} if fault == "lost" else {"replayed": 1}
    assert replays(wp, want) == want
    s.close()


def test_a_marker_write_that_rolls_the_transaction_back_fails_the_commit(
        warmpool_factory, mariadb, proxy, table, marker):
    """The marker's write is the deadlock victim: the server rolled the
    whole transaction back. Its COMMIT must not be answered OK (nothing
    would be committed): warmpool learns the transaction is gone (DO 0's
    status) and the COMMIT gets the deadlock's ERR."""
    wp = replaying(warmpool_factory, proxy, marker=marker)
    c = connect(wp)
    row(c, "BEGIN")
    row(c, f"INSERT INTO {table} VALUES (60, 600)")
    proxy.arm("deadlock", lambda p: p[:1] == b"\x03" and b"commit_marker" in p and b"INSERT" in p)
    with pytest.raises(pymysql.err.OperationalError) as refused:
        row(c, "COMMIT")
    assert refused.value.args[0] == 1213
    assert proxy.fired == ["deadlock"]
    assert ids(mariadb, table) == "1"
    row(c, "BEGIN")  # the client goes on
    row(c, f"INSERT INTO {table} VALUES (61, 610)")
    row(c, "COMMIT")
    assert ids(mariadb, table) == "1,61"
    c.close()


@pytest.mark.parametrize("fault", ["lost", "dropped"])
def test_a_commit_lost_in_flight_on_mysql_is_settled_by_its_marker(warmpool_factory, mysql,
                                                                   fault):
    """The same on MySQL 9.7 (caching_sha2_password over plaintext, with the
    server's RSA key): committed, the client gets its OK; not, the
    transaction runs again; the row is there once either way."""
    from fault_proxy import FaultProxy
    mysql_proxy = FaultProxy(mysql.port)
    tables = scratch_table(mysql, "m", "id INT PRIMARY KEY, v INT", "(1, 10)")
    table = next(tables)
    mysql.root_sql("CREATE TABLE IF NOT EXISTS rr.commit_marker (conn BIGINT UNSIGNED PRIMARY "
                   "KEY, txn BIGINT UNSIGNED NOT NULL) ENGINE=InnoDB; "
                   "GRANT ALL ON rr.* TO 'app'@'%'")
    try:
        wp = replaying(warmpool_factory, mysql_proxy, marker="rr.commit_marker", db=mysql)
        c = connect(wp)
        row(c, "BEGIN")
        row(c, f"INSERT INTO {table} VALUES (70, 700)")
        mysql_proxy.arm(fault, plain_commit)
        row(c, "COMMIT")
        assert mysql_proxy.fired == [fault]
        assert ids(mysql, table) == "1,70"
        want = {"committed": 1} if fault == "lost" else {"replayed": 1}
        assert replays(wp, want) == want
        c.close()
    finally:
        mysql_proxy.close()
        next(tables, None)
