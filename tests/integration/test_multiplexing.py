"""Transaction mode multiplexes what real drivers send at connect and around transactions: a SET of expressions read back, SET [SESSION] TRANSACTION, long data, without pins."""
import json
import struct
import threading
import time
import urllib.request

import pymysql
import pytest

from conftest import connect, metric_counts, pin_summary, row, wait_until
from rawclient import RawClient


def holds(wp):
    """warmpool_holds_total by kind, from /metrics."""
    return metric_counts(wp, "warmpool_holds_total", "kind")


def holds_counted(wp, **want):
    """Waits for /metrics (a snapshot the workers refresh) to count |want|."""
    expected = {"transaction": 0, "long_data": 0, "readback": 0, **want}
    wait_until(lambda: holds(wp) == expected, what=f"holds {expected} (seen {holds(wp)})")


@pytest.fixture
def wp(warmpool_factory, mariadb):
    """One backend connection: client B is guaranteed A's connection."""
    mariadb.root_sql("CREATE DATABASE IF NOT EXISTS mux; "
                     "CREATE TABLE IF NOT EXISTS mux.t (id INT PRIMARY KEY, b LONGBLOB) "
                     "ENGINE=InnoDB; REPLACE INTO mux.t VALUES (1, NULL)")
    return warmpool_factory(warmpool={"workers": "1", "client_wait_timeout_ms": "20000"},
                            listener_main={"pool_mode": "transaction"},
                            backend_main={"min_idle": "1", "max_connections": "1"})


PRISTINE = ("SELECT @@session.sql_mode = @@global.sql_mode, "
            "@@session.tx_isolation = @@global.tx_isolation, "
            "@@session.tx_read_only = @@global.tx_read_only, "
            "@@session.autocommit, CONNECTION_ID()")


def test_connector_j_connect_set_is_read_back_and_tracked(wp, mariadb):
    """Connector/J's connect-time SET of an expression: applied, its value read
    back on the same connection and tracked as a literal; no pin."""
    a, b = connect(wp), connect(wp)
    row(a, "set autocommit=1, sql_mode = concat(@@sql_mode,',STRICT_TRANS_TABLES')")
    row(a, "set sql_mode = concat(@@sql_mode,',PIPES_AS_CONCAT')")  # a real change
    want = row(a, "SELECT @@session.sql_mode")[0]
    assert "STRICT_TRANS_TABLES" in want and "PIPES_AS_CONCAT" in want
    glob = mariadb.root_sql("SELECT @@global.sql_mode").strip()
    for _ in range(3):
        assert row(b, PRISTINE)[:4] == (1, 1, 1, 1)
        assert row(a, "SELECT @@session.sql_mode")[0] == want
    # An expression of another variable, and a numeric one.
    row(b, "SET wait_timeout = @@global.wait_timeout + 7")
    assert row(b, "SELECT @@session.wait_timeout - @@global.wait_timeout")[0] == 7
    assert row(a, "SELECT @@session.wait_timeout = @@global.wait_timeout")[0] == 1
    assert row(b, "SELECT @@session.wait_timeout - @@global.wait_timeout")[0] == 7
    assert glob != want
    holds_counted(wp, readback=3)  # each SET of an expression was read back once
    assert pin_summary(wp) == {}


def test_expression_with_side_effects_still_pin_summary(wp):
    a = connect(wp)
    row(a, "SET sql_mode = CONCAT(@@sql_mode, IF(GET_LOCK('mux', 0), '', ''))")
    a.close()
    assert pin_summary(wp) == {"set": 1}


def test_set_session_transaction_is_tracked_as_the_variable(wp):
    """JDBC setTransactionIsolation / setReadOnly: SET SESSION TRANSACTION is
    the session's tx_isolation (tx_read_only); restored, never leaked."""
    a, b = connect(wp), connect(wp)
    row(a, "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
    row(a, "SET SESSION TRANSACTION READ ONLY")
    for _ in range(2):
        assert row(b, PRISTINE)[:3] == (1, 1, 1)
        assert row(a, "SELECT @@session.tx_isolation, @@session.tx_read_only") == \
            ("READ-COMMITTED", 1)
    assert pin_summary(wp) == {}


def wait_for_waiting_clients(wp, n, must=True):
    """Until /status says |n| clients wait for a backend connection (false
    after 10 s when not |must|)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"http://127.0.0.1:{wp.admin_port}/status",
                                    timeout=5) as r:
            if json.load(r)["clients"]["waiting"] >= n:
                return True
        time.sleep(0.05)
    assert not must, "no client is waiting"
    return False


def read_only_now(conn):
    """Asks the server whether the open transaction is READ ONLY: a write in
    it fails with ERR 1792 (the table is TEMPORARY-free, nothing is kept)."""
    try:
        row(conn, "UPDATE mux.t SET id = id WHERE id = 1")
        return False
    except pymysql.err.MySQLError as e:
        assert e.args[0] == 1792, e
        return True


def test_set_transaction_holds_until_its_transaction_ends(wp):
    """Go's BeginTx with options: SET TRANSACTION, then START TRANSACTION.
    The characteristics belong to the next transaction only (on MariaDB,
    statements in autocommit mode do not use them up): the connection is held
    from the SET to that transaction's end, then released, with no pin."""
    a, b = connect(wp), connect(wp)
    row(a, "SET TRANSACTION READ ONLY")
    row(a, "SELECT 1")
    seen_by_b = []

    def b_transaction():  # waits for the one connection, held by A
        row(b, "START TRANSACTION")
        seen_by_b.append(read_only_now(b))
        row(b, "COMMIT")

    t = threading.Thread(target=b_transaction)
    t.start()
    wait_for_waiting_clients(wp, 1)  # B asked first: it would win the connection
    row(a, "START TRANSACTION")
    assert read_only_now(a)
    row(a, "COMMIT")
    t.join()
    assert seen_by_b == [False]
    for c in (b, a):
        row(c, "START TRANSACTION")
        assert not read_only_now(c)
        row(c, "COMMIT")
    holds_counted(wp, transaction=1)  # A's; B's transaction had no SET TRANSACTION
    assert pin_summary(wp) == {}


def test_set_transaction_not_yet_used_is_not_given_away(wp):
    """A client with a SET TRANSACTION still unused keeps it off other
    clients: the connection is held, and reset when the client leaves."""
    a, b = connect(wp), connect(wp)
    row(a, "SET TRANSACTION READ ONLY")
    row(a, "SELECT 1")
    a.close()
    row(b, "START TRANSACTION")
    assert not read_only_now(b)
    row(b, "COMMIT")
    assert pin_summary(wp) == {}


COM_STMT_EXECUTE, COM_STMT_SEND_LONG_DATA = 0x17, 0x18


def execute_blob(raw, stmt):
    """Executes a one-parameter statement whose value came as long data
    (type MYSQL_TYPE_BLOB, bound now, no value in the packet)."""
    return raw.command(bytes([COM_STMT_EXECUTE]) + struct.pack("<IBI", stmt, 0, 1) +
                       b"\x00" + b"\x01" + struct.pack("<H", 0xfc))


def test_long_data_holds_until_the_execute(wp):
    """COM_STMT_SEND_LONG_DATA (mysqli send_long_data, JDBC streams): the
    connection is held from the long data to the execute that consumes it,
    then released; no pin, and the data lands where it was sent."""
    raw, b = RawClient(wp.port).login(), connect(wp)
    stmt = raw.prepare("UPDATE mux.t SET b = ? WHERE id = 1")
    for part in (b"abc", b"def"):
        raw.send(bytes([COM_STMT_SEND_LONG_DATA]) + struct.pack("<IH", stmt, 0) + part)
    # B asks for the one connection meanwhile: it waits for the execute.
    reply = execute_blob(raw, stmt)
    assert reply[0] == 0, reply
    assert row(b, "SELECT b FROM mux.t WHERE id = 1")[0] == b"abcdef"
    holds_counted(wp, long_data=1)  # two pieces of one statement's parameter: one hold
    assert pin_summary(wp) == {}
    raw.close()


def execute_text(raw, stmt, text):
    """Executes a one-parameter statement with |text| inline (VAR_STRING)."""
    return raw.command(bytes([COM_STMT_EXECUTE]) + struct.pack("<IBI", stmt, 0, 1) +
                       b"\x00" + b"\x01" + struct.pack("<H", 0xfd) + bytes([len(text)]) + text)


def test_long_data_is_not_given_to_another_client(wp):
    """A's long data waits on the backend's statement, which B shares when it
    prepares the same text on that connection: B must not get the connection
    (and A's data in its execute) before A's execute has taken it, even when A
    runs another statement in between."""
    a, b = RawClient(wp.port).login(), RawClient(wp.port).login()
    sql = "UPDATE mux.t SET b = ? WHERE id = 1"
    a_stmt = a.prepare(sql)
    a.send(bytes([COM_STMT_SEND_LONG_DATA]) + struct.pack("<IH", a_stmt, 0) + b"from A")
    assert a.command(b"\x03DO 1")[0] == 0  # a response ends: A is at a boundary
    seen_by_b = []

    def b_execute():
        b_stmt = b.prepare(sql)
        assert execute_text(b, b_stmt, b"from B")[0] == 0
        assert b.command(b"\x03SELECT b FROM mux.t WHERE id = 1") == b"\x01"  # one column
        b.read_packet(), b.read_packet()  # its definition, EOF
        seen_by_b.append(b.read_packet()[1])  # the row
        b.read_packet()  # EOF

    t = threading.Thread(target=b_execute)
    t.start()
    waited = wait_for_waiting_clients(wp, 1, must=False)
    t.join(timeout=0 if waited else 10)
    assert execute_blob(a, a_stmt)[0] == 0
    t.join()
    assert seen_by_b == [b"\x06from B"]  # not A's long data
    assert waited
    a.close()
    b.close()
    assert pin_summary(wp) == {}


def test_callproc_pins(wp, mariadb):
    """Python's callproc (SET @_p_0=..., CALL p(@_p_0), SELECT @_p_0) pins:
    the CALL must (a procedure can leave anything in the session), so the
    user variables around it are not worth tracking. B never sees them."""
    mariadb.root_sql("CREATE OR REPLACE PROCEDURE mux.bump(INOUT x INT) SET x = x + 1; "
                     "GRANT EXECUTE ON PROCEDURE mux.bump TO 'app'@'%'")
    a = connect(wp)
    with a.cursor() as cur:
        cur.callproc("mux.bump", (41,))
        cur.execute("SELECT @_mux.bump_0")
        assert cur.fetchone()[0] == 42
    a_id = row(a, "SELECT CONNECTION_ID()")[0]
    a.close()
    b = connect(wp)
    assert row(b, "SELECT CONNECTION_ID(), @`_mux.bump_0`") == (a_id, None)
    b.close()
    assert pin_summary(wp) == {"set": 1, "user_variable": 1}  # A's SET @_p_0, B's read of @x
