"""Transaction pooling: many clients on few backend connections, no session state leaking."""
import re
import subprocess
import threading
import time

import pymysql
import pytest

from conftest import connect, row


@pytest.fixture
def txn_db(private_db):
    private_db.root_sql("CREATE DATABASE IF NOT EXISTS wp_a; CREATE DATABASE IF NOT EXISTS wp_b; "
                        "SET GLOBAL max_allowed_packet = 64 * 1024 * 1024")
    return private_db


def txn_pool(factory, db, workers="1", max_conns="2", **extra):
    return factory(db=db, warmpool={"workers": workers, "client_wait_timeout_ms": "20000",
                                    **extra.pop("warmpool", {})},
                   listener_main={"pool_mode": "transaction"},
                   backend_main={"min_idle": "1", "max_connections": max_conns, **extra})


def backend_count(db):
    return int(db.root_sql("SELECT COUNT(*) FROM information_schema.processlist "
                           "WHERE user = 'app'").strip())


def test_many_clients_share_few_backend_connections(warmpool_factory, txn_db):
    wp = txn_pool(warmpool_factory, txn_db, max_conns="2")
    clients = [connect(wp.port, database="wp_a") for _ in range(40)]
    for round_ in range(3):
        for i, c in enumerate(clients):
            assert row(c, "SELECT %s + 1, DATABASE()", (i,)) == (i + 1, "wp_a")
    assert backend_count(txn_db) <= 2
    for c in clients:
        c.close()


def test_transaction_keeps_its_connection_until_commit(warmpool_factory, txn_db):
    wp = txn_pool(warmpool_factory, txn_db, max_conns="2")
    txn_db.root_sql("CREATE TABLE wp_a.t (id INT PRIMARY KEY, v INT)")
    a, b = connect(wp.port, database="wp_a"), connect(wp.port, database="wp_a")
    row(a, "BEGIN")
    conn_id = row(a, "SELECT CONNECTION_ID()")[0]
    row(a, "INSERT INTO t VALUES (1, 1)")
    assert row(b, "SELECT COUNT(*) FROM t") == (0,)  # not committed, other connection
    assert row(a, "SELECT CONNECTION_ID()")[0] == conn_id
    row(a, "COMMIT")
    assert row(b, "SELECT COUNT(*) FROM t") == (1,)
    a.close()
    b.close()


def test_session_state_never_leaks(warmpool_factory, txn_db):
    """Client A leaves every kind of session state; B on the same backend
    connection sees none of it; A keeps seeing its own."""
    wp = txn_pool(warmpool_factory, txn_db, max_conns="2",
                  warmpool={"log_level": "debug"})
    a = connect(wp.port, database="wp_a")
    a.select_db("wp_b")  # COM_INIT_DB: tracked and restored, no pin
    assert row(a, "SELECT DATABASE()") == ("wp_b",)
    row(a, "SET @secret = 42")                      # pins A (set)
    row(a, "SET SESSION sql_mode = 'ANSI_QUOTES'")
    row(a, "CREATE TEMPORARY TABLE tmp_a (x INT)")
    row(a, "PREPARE stmt_a FROM 'SELECT 7'")
    a_conn = row(a, "SELECT CONNECTION_ID()")[0]
    # B needs a connection: A's is pinned, so B gets the other one.
    b = connect(wp.port)
    assert row(b, "SELECT CONNECTION_ID()")[0] != a_conn
    assert row(b, "SELECT @secret, @@SESSION.sql_mode LIKE '%ANSI_QUOTES%', DATABASE()") \
        == (None, 0, None)
    with pytest.raises(pymysql.err.MySQLError):
        row(b, "EXECUTE stmt_a")
    with pytest.raises(pymysql.err.MySQLError):
        row(b, "SELECT * FROM tmp_a")
    # A still has all of it.
    assert row(a, "SELECT @secret, DATABASE()") == (42, "wp_b")
    assert row(a, "SELECT COUNT(*) FROM tmp_a") == (0,)
    a.close()
    b.close()
    # A's connection was reset on the way back: nobody inherits its state.
    for _ in range(4):
        c = connect(wp.port)
        assert row(c, "SELECT @secret, @@SESSION.sql_mode LIKE '%ANSI_QUOTES%', DATABASE()") \
            == (None, 0, None)
        with pytest.raises(pymysql.err.MySQLError):
            row(c, "EXECUTE stmt_a")
        c.close()
    wp.stop()
    assert re.search(r'msg="pin summary" set=1 ', wp.read_log()), wp.read_log()


def test_schema_follows_the_client_across_connections(warmpool_factory, txn_db):
    wp = txn_pool(warmpool_factory, txn_db, max_conns="1")
    a = connect(wp.port, database="wp_a")
    b = connect(wp.port, database="wp_b")
    for _ in range(3):  # one backend connection, alternating clients
        assert row(a, "SELECT DATABASE()") == ("wp_a",)
        assert row(b, "SELECT DATABASE()") == ("wp_b",)
    row(a, "USE wp_b")
    assert row(a, "SELECT DATABASE()") == ("wp_b",)
    c = connect(wp.port)  # no schema at all
    assert row(c, "SELECT DATABASE()") == (None,)
    for x in (a, b, c):
        x.close()


def test_response_shapes_match_a_direct_connection(warmpool_factory, txn_db, tmp_path):
    wp = txn_pool(warmpool_factory, txn_db, max_conns="2")
    setup = connect(txn_db.port, database="wp_a")  # direct: the CLI splits at ';'
    row(setup, "CREATE TABLE loaded (id INT PRIMARY KEY, v VARCHAR(10))")
    row(setup, "CREATE PROCEDURE two() BEGIN SELECT 1 AS a; SELECT 'x' AS b, 2 AS c; END")
    setup.close()
    csv = tmp_path / "rows.csv"
    csv.write_text("".join(f"{i},v{i}\n" for i in range(1000)))

    def run_all(port):
        out = []
        conn = pymysql.connect(host="127.0.0.1", port=port, user="app", password="app-secret",
                               database="wp_a", autocommit=True, local_infile=True,
                               client_flag=pymysql.constants.CLIENT.MULTI_STATEMENTS,
                               max_allowed_packet=64 * 1024 * 1024)
        with conn.cursor() as cur:
            cur.execute("SELECT 1; SELECT 'two', 2; DO 1; SELECT 3")
            sets = [cur.fetchall()]
            while cur.nextset():
                sets.append(cur.fetchall())
            out.append(sets)
            cur.execute("CALL two()")
            sets = [cur.fetchall()]
            while cur.nextset():
                sets.append(cur.fetchall())
            out.append(sets)
            try:
                cur.execute("SELECT 1; SELECT * FROM no_such_table; SELECT 3")
                while cur.nextset():
                    pass
            except pymysql.err.ProgrammingError as e:
                out.append(("error", e.args[0]))
            cur.execute("DELETE FROM loaded")
            cur.execute(f"LOAD DATA LOCAL INFILE '{csv}' INTO TABLE loaded FIELDS TERMINATED BY ','")
            out.append(cur.rowcount)
            cur.execute("SELECT SUM(id), COUNT(*) FROM loaded")
            out.append(cur.fetchall())
            cur.execute("SELECT REPEAT('x', 17 * 1024 * 1024) AS big, 'after' AS tail")
            big, tail = cur.fetchone()
            out.append((len(big), big.count("x"), tail))
            cur.execute("SELECT 'still in sync'")
            out.append(cur.fetchall())
        conn.close()
        return out

    direct = run_all(txn_db.port)
    through = run_all(wp.port)
    assert through == direct
    assert through[-2] == (17 * 1024 * 1024, 17 * 1024 * 1024, "after")


def test_sysbench_64_threads_on_8_connections(warmpool_factory, txn_db):
    wp = txn_pool(warmpool_factory, txn_db, workers="2", max_conns="8",
                  warmpool={"client_wait_timeout_ms": "30000"})
    txn_db.root_sql("CREATE DATABASE IF NOT EXISTS sbtest")
    base = ["sysbench", "oltp_read_write", "--mysql-host=127.0.0.1", "--mysql-user=app",
            "--mysql-password=app-secret", "--mysql-db=sbtest", "--tables=4",
            "--table-size=100000", "--report-interval=0"]
    prep = subprocess.run(base + [f"--mysql-port={txn_db.port}", "--threads=4", "prepare"],
                          capture_output=True, text=True, timeout=300)
    assert prep.returncode == 0, prep.stderr
    peak = []
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            peak.append(backend_count(txn_db))
            time.sleep(0.5)

    watcher = threading.Thread(target=watch)
    watcher.start()
    conflicts = txn_db.lock_conflicts()
    # sysbench's default: server-side prepared statements, which move with
    # their clients between the 8 connections.
    run = subprocess.run(base + [f"--mysql-port={wp.port}", "--threads=64", "--time=10",
                                 "--db-ps-mode=auto", "run"],
                         capture_output=True, text=True, timeout=200)
    stop.set()
    watcher.join()
    assert run.returncode == 0, run.stdout + run.stderr
    errors = int(re.search(r"ignored errors:\s+(\d+)", run.stdout).group(1))
    transactions = int(re.search(r"transactions:\s+(\d+)", run.stdout).group(1))
    assert transactions > 0, run.stdout
    # sysbench ignores deadlocks and lock wait timeouts (1213, 1205): with
    # transactions on its hot rows InnoDB may pick a victim, as it would among
    # direct clients. Every one must be a conflict the server itself counted.
    assert errors <= txn_db.lock_conflicts() - conflicts, run.stdout
    assert max(peak) <= 8, peak
    # oltp_read_write deletes and re-inserts rows: every row must be there.
    rows = txn_db.root_sql("SELECT " + " + ".join(
        f"(SELECT COUNT(*) FROM sbtest.sbtest{i})" for i in range(1, 5))).strip()
    assert int(rows) == 4 * 100000


def test_2000_clients_on_16_connections(warmpool_factory, txn_db):
    # Plaintext clients: this is about multiplexing; 2,000 RSA handshakes on a
    # shared 2-CPU machine would only measure the machine.
    wp = txn_pool(warmpool_factory, txn_db, workers="2", max_conns="16",
                  warmpool={"client_wait_timeout_ms": "60000", "max_clients": "5000"})
    run = subprocess.run(
        f"mysqlslap --no-defaults --skip-ssl -h 127.0.0.1 -P {wp.port} -u app -papp-secret "
        f"--concurrency=2000 --iterations=1 --number-of-queries=6000 "
        f"--query='SELECT SLEEP(0.01), 1' --create-schema=wp_a",
        shell=True, capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Number of clients running queries: 2000" in run.stdout, run.stdout
    assert backend_count(txn_db) <= 16


def test_set_names_is_tracked_not_pinned(warmpool_factory, txn_db):
    wp = txn_pool(warmpool_factory, txn_db, max_conns="1")
    a = connect(wp.port, charset="utf8mb4")
    b = connect(wp.port, charset="utf8mb4")
    row(a, "SET NAMES latin1")
    for _ in range(3):  # one backend connection, alternating clients
        assert row(a, "SELECT @@character_set_client") == ("latin1",)
        assert row(b, "SELECT @@character_set_client") == ("utf8mb4",)
    a.close()
    b.close()
    wp.stop()
    assert "pin summary" not in wp.read_log()  # nobody was pinned


def test_session_variables_follow_the_client(warmpool_factory, txn_db):
    """A SET of session variables to literals is tracked, not pinned: on one
    shared backend connection each client sees its own values, a newcomer
    the server's defaults; DEFAULT and a failed SET behave as on MySQL."""
    wp = txn_pool(warmpool_factory, txn_db, max_conns="1")
    a, b = connect(wp.port), connect(wp.port)
    row(a, "SET SESSION sql_mode = 'ANSI_QUOTES', wait_timeout = 123")
    row(a, "SET @@session.time_zone = '+02:00'")
    mine = ("SELECT @@SESSION.sql_mode, @@SESSION.wait_timeout, @@SESSION.time_zone, "
            "CONNECTION_ID()")
    defaults = ("SELECT @@SESSION.sql_mode = @@GLOBAL.sql_mode, "
                "@@SESSION.wait_timeout = @@GLOBAL.wait_timeout, "
                "@@SESSION.time_zone = @@GLOBAL.time_zone, CONNECTION_ID()")
    shared = row(a, mine)[3]
    for _ in range(3):  # one backend connection, alternating clients
        assert row(a, mine) == ("ANSI_QUOTES", 123, "+02:00", shared)
        assert row(b, defaults) == (1, 1, 1, shared)
    row(a, "SET wait_timeout = DEFAULT")
    with pytest.raises(pymysql.err.MySQLError):
        row(a, "SET SESSION no_such_variable = 1, sql_mode = ''")
    assert row(b, defaults) == (1, 1, 1, shared)
    assert row(a, "SELECT @@SESSION.sql_mode, @@SESSION.wait_timeout = @@GLOBAL.wait_timeout, "
                  "@@SESSION.time_zone") == ("ANSI_QUOTES", 1, "+02:00")
    fresh = connect(wp.port)
    assert row(fresh, defaults) == (1, 1, 1, shared)
    # A value warmpool will not read back (an expression of a user variable) pins.
    row(b, "SET SESSION sql_mode = CONCAT(@@sql_mode, IFNULL(@nothing, ''))")
    for c in (a, b, fresh):
        c.close()
    wp.stop()
    assert re.search(r'msg="pin summary" set=1 ', wp.read_log()), wp.read_log()


def test_autocommit_off_follows_the_client(warmpool_factory, txn_db):
    """mysqlclient (Django) turns autocommit off on every connection: that is
    tracked, not pinned. With it off, a statement opens a transaction that
    keeps its connection until COMMIT; in between, the client holds none."""
    wp = txn_pool(warmpool_factory, txn_db, max_conns="2")
    txn_db.root_sql("CREATE TABLE wp_a.ac (id INT PRIMARY KEY)")
    a, b = connect(wp.port, database="wp_a"), connect(wp.port, database="wp_a")
    a.autocommit(False)  # SET autocommit=0
    assert row(a, "SELECT @@autocommit") == (0,)
    assert row(b, "SELECT @@autocommit") == (1,)
    row(a, "INSERT INTO ac VALUES (1)")  # opens a transaction: A keeps its connection
    in_txn = row(a, "SELECT CONNECTION_ID()")[0]
    assert row(b, "SELECT COUNT(*), CONNECTION_ID() <> %s FROM ac", (in_txn,)) == (0, 1)
    a.commit()
    assert row(b, "SELECT COUNT(*) FROM ac") == (1,)
    assert row(a, "SELECT @@autocommit") == (0,)  # restored wherever A lands
    a.rollback()
    for c in (a, b):
        c.close()
    wp.stop()
    assert "pin summary" not in wp.read_log()


def test_last_insert_id_follows_the_client(warmpool_factory, txn_db):
    """Two clients insert through one shared backend connection; each then
    reads its own LAST_INSERT_ID(), restored on the connection it gets."""
    wp = txn_pool(warmpool_factory, txn_db, max_conns="1")
    txn_db.root_sql("CREATE TABLE wp_a.ids (id INT AUTO_INCREMENT PRIMARY KEY, v INT)")
    a, b = connect(wp.port, database="wp_a"), connect(wp.port, database="wp_a")
    with a.cursor() as cur:
        cur.execute("INSERT INTO ids (v) VALUES (1)")
        assert cur.lastrowid == 1
    with b.cursor() as cur:
        cur.execute("INSERT INTO ids (v) VALUES (2), (3)")
        assert cur.lastrowid == 2  # the first id of a multi-row insert, as MySQL says
    assert row(a, "SELECT LAST_INSERT_ID()") == (1,)
    assert row(b, "select last_insert_id()") == (2,)
    assert row(a, "SELECT v FROM ids WHERE id = LAST_INSERT_ID()") == (1,)
    fresh = connect(wp.port)
    assert row(fresh, "SELECT LAST_INSERT_ID()") == (0,)
    for c in (a, b, fresh):
        c.close()
    assert backend_count(txn_db) <= 2  # one pooled connection (and this query's own)
