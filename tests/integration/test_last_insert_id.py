"""LAST_INSERT_ID() in transaction mode: the server's own value follows the client, never an explicit id an OK reported."""
import itertools

import pymysql
import pytest

from conftest import connect, pin_summary, row
from test_prepared_statements import Stmts

_schemas = itertools.count()

# Each sequence is run by one client; the statements' lastrowid are compared
# with a direct connection's, then LAST_INSERT_ID() once another client has
# used the connection in between (so warmpool restores the client's value).
SEQUENCES = {
    "statements": ["INSERT INTO t (v) VALUES (1)", "INSERT INTO t (id, v) VALUES (500, 2)"],
    "multi_statement": ["INSERT INTO t (v) VALUES (1); INSERT INTO t (id, v) VALUES (500, 2)"],
    "multi_statement_then_update": ["INSERT INTO t (v) VALUES (1); UPDATE t SET v = 3 WHERE id = 1"],
    "transaction": ["BEGIN", "INSERT INTO t (v) VALUES (1)",
                    "INSERT INTO t (id, v) VALUES (500, 2)", "COMMIT"],
    "explicit_only": ["INSERT INTO t (id, v) VALUES (500, 2)"],
}


@pytest.fixture(params=["mariadb", "mysql"])
def server(request):
    return request.getfixturevalue(request.param)


def fresh_schema(db):
    """A schema of the test's own with empty AUTO_INCREMENT tables t and u."""
    name = f"wp_lii_{next(_schemas)}_{id(db) % 10000}"
    db.root_sql(f"DROP DATABASE IF EXISTS {name}; CREATE DATABASE {name}; "
                f"CREATE TABLE {name}.t (id INT AUTO_INCREMENT PRIMARY KEY, v INT); "
                f"CREATE TABLE {name}.u (id INT AUTO_INCREMENT PRIMARY KEY, v INT)")
    return name


def one_connection_pool(factory, db):
    return factory(db=db, warmpool={"workers": "1", "client_wait_timeout_ms": "20000"},
                   listener_main={"pool_mode": "transaction"},
                   backend_main={"min_idle": "1", "max_connections": "1"})


def run(conn, statements):
    """Runs |statements|; returns each one's lastrowid (the OK's insert id)."""
    ids = []
    with conn.cursor() as cur:
        for sql in statements:
            cur.execute(sql)
            while cur.nextset():
                pass
            ids.append(cur.lastrowid)
    return ids


@pytest.mark.parametrize("sequence", sorted(SEQUENCES))
def test_last_insert_id_is_the_servers_after_an_explicit_id(warmpool_factory, server, sequence):
    """A generated id then an explicit one: the OK reports the explicit id
    (lastrowid), the server's LAST_INSERT_ID() keeps the generated one. Read on
    a connection another client used meanwhile, it is the server's value."""
    statements = SEQUENCES[sequence]
    direct = connect(server.port, database=fresh_schema(server), client_flag=1 << 16)
    want_ids = run(direct, statements)
    want = row(direct, "SELECT LAST_INSERT_ID()")
    direct.close()
    wp = one_connection_pool(warmpool_factory, server)
    a = connect(wp.port, database=fresh_schema(server), client_flag=1 << 16)
    assert run(a, statements) == want_ids  # the explicit id, as the server reported it
    other = connect(wp.port)
    assert row(other, "SELECT 1") == (1,)  # the connection now holds other's session
    assert row(a, "SELECT LAST_INSERT_ID()") == want
    assert row(a, "SELECT LAST_INSERT_ID()") == want
    a.close()
    other.close()
    assert "last_insert_id" not in pin_summary(wp)  # read back, not pinned


def test_prepared_insert_of_an_explicit_id(warmpool_factory, server):
    """COM_STMT_EXECUTE's OK carries the explicit id too."""
    wp = one_connection_pool(warmpool_factory, server)
    a = Stmts(wp.port, database=fresh_schema(server))
    a.query("INSERT INTO t (v) VALUES (1)")
    stmt, params = a.prepare("INSERT INTO t (id, v) VALUES (?, 2)")
    assert params == 1 and a.execute(stmt, 500) == []
    other = connect(wp.port)
    assert row(other, "SELECT 1") == (1,)
    assert a.query("SELECT LAST_INSERT_ID()") == ((1,),)
    a.close()
    other.close()


def test_explicit_id_never_shows_another_clients_id(warmpool_factory, server):
    """Client B writes an explicit id 500; client A, on the same backend
    connection, generates an id then writes the explicit id 500 too. B's
    LAST_INSERT_ID() is what the server says for B alone (nothing generated),
    never A's generated id."""
    direct = connect(server.port, database=fresh_schema(server))
    run(direct, ["INSERT INTO t (id, v) VALUES (500, 2)"])
    want = row(direct, "SELECT LAST_INSERT_ID()")
    direct.close()
    wp = one_connection_pool(warmpool_factory, server)
    schema = fresh_schema(server)
    a, b = connect(wp.port, database=schema), connect(wp.port, database=schema)
    assert run(b, ["INSERT INTO t (id, v) VALUES (500, 2)"]) == [500]
    assert run(a, ["INSERT INTO u (v) VALUES (1)", "INSERT INTO u (id, v) VALUES (500, 2)"]) == [1, 500]
    assert row(b, "SELECT LAST_INSERT_ID()") == want
    assert row(a, "SELECT LAST_INSERT_ID()") == (1,)
    assert row(b, "SELECT LAST_INSERT_ID()") == want
    a.close()
    b.close()


READ_BACK = b"\x03SELECT LAST_INSERT_ID()"


@pytest.mark.parametrize("case", ["autocommit", "transaction", "same_id"])
def test_connection_lost_during_the_read_back(warmpool_factory, mariadb, proxy, case):
    """The backend connection goes while LAST_INSERT_ID() is read back after an
    explicit id (the fault proxy drops the read-back's answer and cuts). The
    session went with its value: the client stays (a restart must not close
    every client that inserts) and keeps the id its OK reported, the value a
    generated id gives; inside a transaction its next statement learns that
    the transaction was lost, as any transaction lost. An id equal to the
    client's value is not read back: it is the value either way."""
    wp = warmpool_factory(warmpool={"workers": "1", "client_wait_timeout_ms": "20000"},
                          listener_main={"pool_mode": "transaction"},
                          backend_main={"port": str(proxy.port), "ssl_mode": "disabled",
                                        "min_idle": "1", "max_connections": "2"})
    a = connect(wp.port, database=fresh_schema(mariadb))
    assert run(a, ["INSERT INTO t (v) VALUES (1)"]) == [1]
    # Its read-back is done when the next statement is answered (that waits).
    run(a, ["BEGIN" if case == "transaction" else "SELECT 1"])
    proxy.arm("lost", lambda payload: payload == READ_BACK)
    explicit = 1 if case == "same_id" else 500
    assert run(a, [f"INSERT INTO u (id, v) VALUES ({explicit}, 2)"]) == [explicit]
    if case == "same_id":
        # Nothing to learn: no read-back was sent (the fault stays armed,
        # hence lowercase here).
        assert row(a, "select last_insert_id()") == (1,)
        assert proxy.fired == []
    else:
        if case == "transaction":
            with pytest.raises(pymysql.err.OperationalError) as lost:
                row(a, "SELECT LAST_INSERT_ID()")
            assert lost.value.args[0] == 1927, lost.value
            assert "transaction was rolled back" in lost.value.args[1]
        assert row(a, "SELECT LAST_INSERT_ID()") == (explicit,)  # what the OK reported
        assert row(a, "SELECT 1") == (1,)  # the client stays
        assert proxy.fired == ["lost"]
        assert wp.wait_for_log("lost while reading back LAST_INSERT_ID(); the id its OK "
                               "reported is kept")
    a.close()
