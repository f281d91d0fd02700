"""Server-side prepared statements in transaction mode: they follow the client
across backend connections (ids rewritten, prepared again where missing),
and never leak from one client to another."""
import json
import struct
import time
import urllib.request

import pymysql
import pytest

COM_STMT_PREPARE, COM_STMT_EXECUTE, COM_STMT_CLOSE, COM_STMT_RESET = 0x16, 0x17, 0x19, 0x1a
LONGLONG = 8
INT_FORMAT = {1: "<b", 2: "<h", 3: "<i", 8: "<q", 9: "<i"}  # binary row values by column type


class Stmts:
    """A binary-protocol client for prepared statements, on pymysql's
    packet layer (pymysql itself only prepares on the client side)."""

    def __init__(self, port, **kw):
        self.conn = pymysql.connect(host="127.0.0.1", port=port, user="app",
                                    password="app-secret", autocommit=True,
                                    connect_timeout=30, read_timeout=60, **kw)

    def query(self, sql):
        with self.conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()

    def _definitions(self, n):
        """Reads n column (or parameter) definitions and their EOF; returns
        each one's type."""
        types = []
        for _ in range(n):
            pkt = self.conn._read_packet()
            for _ in range(6):  # catalog, schema, table, org_table, name, org_name
                pkt.read_length_coded_string()
            pkt.read_length_encoded_integer()  # length of the fixed fields
            types.append(struct.unpack("<HIB", pkt.read(7))[2])
        if n:
            self.conn._read_packet()  # EOF
        return types

    def prepare(self, sql):
        """Returns (statement id, number of parameters)."""
        self.conn._execute_command(COM_STMT_PREPARE, sql)
        ok = self.conn._read_packet().get_all_data()  # raises on ERR
        stmt_id, columns, params = struct.unpack("<IHH", ok[1:9])
        self._definitions(params)
        self._definitions(columns)
        return stmt_id, params

    def execute(self, stmt_id, *ints, send_types=True):
        """Executes with BIGINT parameters; returns the rows, each a tuple
        of integers (every column of these tests is one)."""
        body = struct.pack("<IBI", stmt_id, 0, 1)
        if ints:
            body += bytes((len(ints) + 7) // 8)  # no NULLs
            body += b"\x01" + struct.pack("<H", LONGLONG) * len(ints) if send_types else b"\x00"
            body += b"".join(struct.pack("<q", v) for v in ints)
        self.conn._execute_command(COM_STMT_EXECUTE, body)
        first = self.conn._read_packet()
        if first.is_ok_packet():
            return []
        types = self._definitions(first.read_length_encoded_integer())
        rows = []
        while True:
            pkt = self.conn._read_packet()
            data = pkt.get_all_data()
            if data[0] == 0xFE and len(data) < 9:
                return rows
            pkt.read(1 + (len(types) + 7 + 2) // 8)  # header, null bitmap
            rows.append(tuple(struct.unpack(INT_FORMAT[t], pkt.read(struct.calcsize(INT_FORMAT[t])))[0]
                              if t in INT_FORMAT else int(pkt.read_length_coded_string())
                              for t in types))

    def close_stmt(self, stmt_id):
        self.conn._execute_command(COM_STMT_CLOSE, struct.pack("<I", stmt_id))

    def reset_stmt(self, stmt_id):
        self.conn._execute_command(COM_STMT_RESET, struct.pack("<I", stmt_id))
        assert self.conn._read_packet().is_ok_packet()

    def close(self):
        self.conn.close()


def pins(wp):
    with urllib.request.urlopen(f"http://127.0.0.1:{wp.admin_port}/status", timeout=5) as r:
        return json.load(r)["pins"]


SCHEMAS = ("DROP DATABASE IF EXISTS ps_a; DROP DATABASE IF EXISTS ps_b; "
           "CREATE DATABASE ps_a; CREATE DATABASE ps_b; "
           "CREATE TABLE ps_a.t (id INT PRIMARY KEY); INSERT INTO ps_a.t VALUES (1); "
           "CREATE TABLE ps_b.t (id INT PRIMARY KEY); INSERT INTO ps_b.t VALUES (1), (2)")


@pytest.fixture
def ps_db(mariadb):
    """The shared MariaDB: these tests kill only their own connections."""
    mariadb.root_sql(SCHEMAS)
    return mariadb


def txn_pool(factory, db, max_conns):
    return factory(db=db, warmpool={"workers": "1", "client_wait_timeout_ms": "20000"},
                   listener_main={"pool_mode": "transaction"},
                   backend_main={"min_idle": "1", "max_connections": str(max_conns)})


TWICE = "SELECT CAST(? AS SIGNED) * 2, CONNECTION_ID()"


def test_statement_follows_the_client_to_another_connection(warmpool_factory, ps_db):
    wp = txn_pool(warmpool_factory, ps_db, max_conns=2)
    a = Stmts(wp.port)
    stmt, params = a.prepare(TWICE)
    assert params == 1
    (doubled, first_conn), = a.execute(stmt, 21)
    assert doubled == 42
    # Its backend connection dies; the next execute, which sends no types
    # (new_params_bound_flag 0), runs on another one: warmpool prepares the
    # statement there and writes the types in.
    ps_db.root_sql(f"KILL {first_conn}")
    time.sleep(0.5)
    (doubled, second_conn), = a.execute(stmt, 50, send_types=False)
    assert doubled == 100 and second_conn != first_conn
    # With types again; on whichever connection: the min_idle refill opened
    # while the second ran may be the most recently idle one.
    (doubled, third_conn), = a.execute(stmt, -4)
    assert doubled == -8 and third_conn != first_conn
    a.reset_stmt(stmt)
    assert pins(wp)["prepared_statement"] == 0  # nothing pinned the client
    a.close()


def test_clients_share_connections_not_statements(warmpool_factory, ps_db):
    """Two clients with their own statements on one backend connection: each
    id is the client's; one client's id means nothing to the other."""
    wp = txn_pool(warmpool_factory, ps_db, max_conns=1)
    a, b = Stmts(wp.port), Stmts(wp.port)
    sa, _ = a.prepare(TWICE)
    sb, _ = b.prepare("SELECT CAST(? AS SIGNED) + 1000, CONNECTION_ID()")
    sb2, _ = b.prepare(TWICE)  # the same text as A's
    for i in range(5):  # one connection, alternating clients
        (x, conn_a), = a.execute(sa, i)
        (y, conn_b), = b.execute(sb, i)
        (z, _), = b.execute(sb2, i, send_types=(i == 0))
        assert (x, y, z) == (2 * i, 1000 + i, 2 * i) and conn_a == conn_b
    fresh = Stmts(wp.port)
    with pytest.raises(pymysql.err.MySQLError) as unknown:
        fresh.execute(sa, 1)  # A's id: this client never prepared it
    assert unknown.value.args[0] == 1243
    a.close_stmt(sa)
    with pytest.raises(pymysql.err.MySQLError) as closed:
        a.execute(sa, 1)
    assert closed.value.args[0] == 1243
    assert b.execute(sb2, 3) == [(6, conn_b)]  # B's statement of the same text lives on
    assert pins(wp)["prepared_statement"] == 0
    for c in (a, b, fresh):
        c.close()


def test_statement_prepared_for_the_clients_schema(warmpool_factory, ps_db):
    """The same text means different tables in different schemas: a client
    never runs a statement prepared for another client's schema."""
    wp = txn_pool(warmpool_factory, ps_db, max_conns=1)
    a, b = Stmts(wp.port, database="ps_a"), Stmts(wp.port, database="ps_b")
    count = "SELECT COUNT(*) + 0 * CAST(? AS SIGNED) FROM t"
    sa, _ = a.prepare(count)
    sb, _ = b.prepare(count)
    for _ in range(3):
        assert a.execute(sa, 0) == [(1,)]
        assert b.execute(sb, 0) == [(2,)]
    a.close()
    b.close()


def test_a_statement_that_no_longer_prepares_gets_the_servers_error(warmpool_factory, ps_db):
    wp = txn_pool(warmpool_factory, ps_db, max_conns=2)
    a = Stmts(wp.port, database="ps_a")
    stmt, _ = a.prepare("SELECT COUNT(*) + CAST(? AS SIGNED), CONNECTION_ID() FROM t")
    (_, conn), = a.execute(stmt, 0)
    ps_db.root_sql(f"KILL {conn}; DROP TABLE ps_a.t")
    time.sleep(0.5)
    with pytest.raises(pymysql.err.MySQLError) as gone:
        a.execute(stmt, 0)
    assert gone.value.args[0] == 1146  # ER_NO_SUCH_TABLE, from the new prepare
    assert a.query("SELECT 7") == ((7,),)  # and the client goes on
    a.close()


@pytest.mark.parametrize("mode", ["session", "transaction"])
def test_statement_survives_a_backend_restart(warmpool_factory, private_db, mode):
    """A managed instance restarts (TLS toggled): the client's statement is
    prepared again on the new connection, and the client notices nothing."""
    wp = warmpool_factory(db=private_db,
                          warmpool={"workers": "1", "client_wait_timeout_ms": "30000"},
                          listener_main={"pool_mode": mode},
                          backend_main={"ssl_mode": "preferred", "min_idle": "1"})
    a = Stmts(wp.port)
    stmt, _ = a.prepare(TWICE)
    (_, before), = a.execute(stmt, 1)
    private_db.restart(ssl="off")
    (doubled, after), = a.execute(stmt, 8, send_types=False)
    assert doubled == 16 and after != before
    a.close()
    assert "session state warmpool cannot restore" not in wp.read_log()
