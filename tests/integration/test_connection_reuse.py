"""What a backend connection must not carry to its next client (found by an adversarial
review): a prepared XA branch, MariaDB's "last prepared statement" id, and a KILL QUERY
that arrives after its statement ended."""
import struct
import threading
import time

import pymysql
import pytest

from rawclient import RawClient, err_of


def connect(wp, **kw):
    return pymysql.connect(host="127.0.0.1", port=wp.port, user="app", password="app-secret",
                           autocommit=True, read_timeout=60, **kw)


def one(conn, sql):
    with conn.cursor() as cur:
        cur.execute(sql)
        row = cur.fetchone()
        return row[0] if row else None


@pytest.fixture(params=["session", "transaction"])
def one_connection(warmpool_factory, request):
    return warmpool_factory(warmpool={"workers": "1"},
                            listener_main={"pool_mode": request.param},
                            backend_main={"min_idle": "0", "max_connections": "1"})


def test_a_prepared_xa_branch_closes_its_connection(one_connection, mariadb, request):
    """XA PREPARE survives COM_CHANGE_USER and COM_RESET_CONNECTION: the
    connection it ran on is closed, and the next client's writes work."""
    mariadb.root_sql("CREATE DATABASE IF NOT EXISTS reuse; "
                     "CREATE TABLE IF NOT EXISTS reuse.xt (v VARCHAR(40)) ENGINE=InnoDB; "
                     "GRANT ALL ON reuse.* TO 'app'@'%'")
    xid = f"reuse-{request.node.callspec.id}"
    a = connect(one_connection)
    a_id = one(a, "SELECT CONNECTION_ID()")
    for sql in [f"XA START '{xid}'", "INSERT INTO reuse.xt VALUES ('A')", f"XA END '{xid}'",
                f"XA PREPARE '{xid}'"]:
        one(a, sql)
    a.close()
    b = connect(one_connection)
    assert one(b, "SELECT CONNECTION_ID()") != a_id, "a new backend connection"
    one(b, "INSERT INTO reuse.xt VALUES ('B')")  # ERR 1399/1031 on the poisoned one
    assert one(b, "SELECT COUNT(*) FROM reuse.xt WHERE v = 'B'") >= 1
    b.close()
    assert xid in mariadb.root_sql("XA RECOVER")  # A's branch is the server's now
    mariadb.root_sql(f"XA ROLLBACK '{xid}'")


def prepare_raw(c, sql):
    c.send(b"\x16" + sql.encode())


def execute_last(c):
    c.send(b"\x17" + struct.pack("<IBI", 0xFFFFFFFF, 0, 1))


def read_result(c):
    """The packets of a result set (or the one OK/ERR)."""
    packets = [c.read_packet()[1]]
    if packets[0][0] in (0x00, 0xFF):
        return packets
    eofs = 0
    while eofs < 2:
        p = c.read_packet()[1]
        packets.append(p)
        eofs += p[0] == 0xFE and len(p) < 9
    return packets


def test_last_prepared_id_names_only_the_clients_own(one_connection):
    """Id -1 (MariaDB's "the statement just prepared") runs the client's own
    statement when pipelined behind its prepare, and nobody else's."""
    # A statement prepared the usual way stays cached on the connection
    # when A leaves (nothing pins it): the server's last prepared is A's.
    a = RawClient(one_connection.port).login()
    a.prepare("SELECT 'A-private-statement'")
    a.send(b"\x01")
    a.close()
    time.sleep(0.3)
    b = RawClient(one_connection.port).login()
    code, _, _ = err_of(b.command(b"\x17" + struct.pack("<IBI", 0xFFFFFFFF, 0, 1)))
    assert code == 1243
    assert b.command(b"\x0e")[0] == 0x00
    # Pipelined behind its own prepare, -1 is B's statement.
    prepare_raw(b, "SELECT 'B-own-statement'")
    execute_last(b)
    assert b.read_packet()[1][0] == 0x00, "the prepare's OK"
    for _ in range(2):  # one column definition and its EOF
        b.read_packet()
    rows = read_result(b)
    assert any(b"B-own-statement" in p for p in rows), rows
    b.close()


def test_kill_query_never_reaches_another_clients_statement(warmpool_factory):
    """Transaction mode, one backend connection shared by V (short queries)
    and W (short sleeps): KILL QUERY of V, many times, never interrupts W,
    whose statement may be running on that thread by the time a side
    connection logs in."""
    wp = warmpool_factory(warmpool={"workers": "1"}, listener_main={"pool_mode": "transaction"},
                          backend_main={"min_idle": "1", "max_connections": "1"})
    stop = threading.Event()
    w_interrupted = []

    def v_loop(v):
        while not stop.is_set():
            try:
                one(v, "SELECT 1")
            except pymysql.err.MySQLError:
                pass

    def w_loop(w):
        while not stop.is_set():
            try:
                if one(w, "SELECT SLEEP(0.02)") == 1:
                    w_interrupted.append("sleep returned 1")
            except pymysql.err.MySQLError as e:
                w_interrupted.append(e.args)

    v, w, attacker = connect(wp), connect(wp), connect(wp)
    threads = [threading.Thread(target=v_loop, args=(v,)),
               threading.Thread(target=w_loop, args=(w,))]
    for t in threads:
        t.start()
    for _ in range(300):
        one(attacker, f"KILL QUERY {v.server_thread_id[0]}")
        time.sleep(0.01)
    stop.set()
    for t in threads:
        t.join(30)
    assert w_interrupted == []
    assert "backend KILL sent for a client" in wp.read_log() or \
        "KILL QUERY dropped" in wp.read_log(), "some KILLs met a running statement"
    for c in (v, w, attacker):
        c.close()
