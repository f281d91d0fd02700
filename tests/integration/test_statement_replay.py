"""Statements lost with their backend connection: one the server answered with
ERR 1053 (it aborted it as it shut down, which rolls it back) runs again on a
new connection, whatever it is, text or prepared; one whose connection merely
closed under it may have run, and is re-sent only when it is a read and
retry_reads allows. Each check counts the server's own rows (a fault proxy in
front of the real MariaDB fails the one command on purpose)."""
import re
import time
import urllib.request
import uuid

import pymysql
import pytest

from conftest import connect, row, value
from test_prepared_statements import COM_STMT_EXECUTE, Stmts


@pytest.fixture
def table(mariadb):
    """A table of the test's own on the shared MariaDB; its name."""
    name = f"rr.t_{uuid.uuid4().hex[:12]}"
    mariadb.root_sql(f"CREATE DATABASE IF NOT EXISTS rr; "
                     f"CREATE TABLE {name} (id INT PRIMARY KEY, v INT) ENGINE=InnoDB")
    yield name
    mariadb.root_sql(f"DROP TABLE IF EXISTS {name}")



def through_proxy(factory, proxy, mode="transaction", retry_reads=False):
    return factory(warmpool={"workers": "1", "client_wait_timeout_ms": "20000"},
                   listener_main={"pool_mode": mode,
                                  "retry_reads": "true" if retry_reads else "false"},
                   backend_main={"port": str(proxy.port), "ssl_mode": "disabled",
                                 "min_idle": "1", "max_connections": "4"})


def rows_of(db, table, id_):
    return int(db.root_sql(f"SELECT COUNT(*) FROM {table} WHERE id = {id_}").strip())


def retried_now(wp):
    with urllib.request.urlopen(f"http://127.0.0.1:{wp.admin_port}/metrics", timeout=5) as r:
        text = r.read().decode()
    return tuple(int(float(re.search(rf"^{name} (\S+)$", text, re.M).group(1)))
                 for name in ("warmpool_retried_reads_total", "warmpool_retried_aborted_total"))


def retried(wp, expected):
    """(reads re-sent, aborted statements re-sent), from /metrics, once they
    are |expected| or after a second (workers publish their counters each
    tick), and still so a moment later: compare with ==."""
    deadline = time.monotonic() + 1.5
    while retried_now(wp) != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # and nothing more comes
    return retried_now(wp)


def query_text(marker):
    return lambda payload: payload[:1] == b"\x03" and marker.encode() in payload


def an_execute(payload):
    return payload[:1] == bytes([COM_STMT_EXECUTE])


@pytest.mark.parametrize("mode", ["transaction", "session"])
def test_a_write_the_server_aborted_runs_again_once(warmpool_factory, mariadb, proxy, table,
                                                    mode):
    wp = through_proxy(warmpool_factory, proxy, mode)
    c = connect(wp)
    proxy.arm("abort", query_text(f"INSERT INTO {table}"))
    row(c, f"INSERT INTO {table} VALUES (1, 10)")  # no error: ran again, elsewhere
    assert proxy.fired == ["abort"]
    assert rows_of(mariadb, table, 1) == 1
    assert retried(wp, (0, 1)) == (0, 1)
    assert wp.wait_for_log("statement the backend aborted as it shut down re-sent")
    assert value(c, "SELECT 2") == 2  # the client goes on
    c.close()


def test_a_write_whose_connection_closed_is_not_run_again(warmpool_factory, mariadb, proxy,
                                                          table):
    """The server ran it and its answer was lost: only the ERR 1927 may tell
    the client, even with retry_reads."""
    wp = through_proxy(warmpool_factory, proxy, retry_reads=True)
    c = connect(wp)
    proxy.arm("lost", query_text(f"INSERT INTO {table}"))
    with pytest.raises(pymysql.err.OperationalError) as lost:
        row(c, f"INSERT INTO {table} VALUES (2, 20)")
    assert lost.value.args[0] == 1927
    assert "may or may not have taken effect" in lost.value.args[1]
    assert rows_of(mariadb, table, 2) == 1  # it ran, once
    assert retried(wp, (0, 0)) == (0, 0)
    assert value(c, "SELECT 3") == 3
    c.close()


def test_a_read_whose_connection_closed_is_re_sent_with_retry_reads(warmpool_factory, proxy):
    wp = through_proxy(warmpool_factory, proxy, retry_reads=True)
    c = connect(wp)
    proxy.arm("lost", query_text("SELECT 40 + 2"))
    assert value(c, "SELECT 40 + 2") == 42
    assert retried(wp, (1, 0)) == (1, 0)
    c.close()


def test_inside_a_transaction_an_aborted_write_is_not_run_again(warmpool_factory, mariadb,
                                                                proxy, table):
    """Its transaction is gone with the connection: the server's ERR 1053
    reaches the client, and nothing of the transaction remains."""
    wp = through_proxy(warmpool_factory, proxy)
    c = connect(wp)
    row(c, "BEGIN")
    row(c, f"INSERT INTO {table} VALUES (3, 30)")
    proxy.arm("abort", query_text(f"INSERT INTO {table} VALUES (4"))
    with pytest.raises(pymysql.err.OperationalError) as aborted:
        row(c, f"INSERT INTO {table} VALUES (4, 40)")
    assert aborted.value.args[0] == 1053
    assert rows_of(mariadb, table, 3) + rows_of(mariadb, table, 4) == 0
    assert retried(wp, (0, 0)) == (0, 0)
    c.close()


def test_a_prepared_write_the_server_aborted_runs_again_once(warmpool_factory, mariadb, proxy,
                                                             table):
    """COM_STMT_EXECUTE: prepared again on the new connection, then run."""
    wp = through_proxy(warmpool_factory, proxy)
    s = Stmts(wp.port)
    stmt, _ = s.prepare(f"INSERT INTO {table} VALUES (?, ?)")
    s.execute(stmt, 5, 50)
    proxy.arm("abort", an_execute)
    s.execute(stmt, 6, 60)
    assert proxy.fired == ["abort"]
    assert rows_of(mariadb, table, 5) == 1 and rows_of(mariadb, table, 6) == 1
    assert retried(wp, (0, 1)) == (0, 1)
    s.close()


@pytest.mark.parametrize("retry_reads", [True, False], ids=["retry_reads", "no_retry_reads"])
def test_a_prepared_read_whose_connection_closed(warmpool_factory, proxy, retry_reads):
    """Re-sent with retry_reads (prepared again on the new connection); the
    client gets ERR 1927 without."""
    wp = through_proxy(warmpool_factory, proxy, retry_reads=retry_reads)
    s = Stmts(wp.port)
    stmt, _ = s.prepare("SELECT CAST(? AS SIGNED) * 2")
    assert s.execute(stmt, 4) == [(8,)]
    proxy.arm("lost", an_execute)
    if retry_reads:
        assert s.execute(stmt, 21) == [(42,)]
        assert retried(wp, (1, 0)) == (1, 0)
    else:
        with pytest.raises(pymysql.err.OperationalError) as lost:
            s.execute(stmt, 21)
        assert lost.value.args[0] == 1927
        assert s.execute(stmt, 5) == [(10,)]  # the statement is still the client's
    s.close()


def test_a_prepared_write_whose_connection_closed_is_not_run_again(warmpool_factory, mariadb,
                                                                   proxy, table):
    wp = through_proxy(warmpool_factory, proxy, retry_reads=True)
    s = Stmts(wp.port)
    stmt, _ = s.prepare(f"INSERT INTO {table} VALUES (?, ?)")
    proxy.arm("lost", an_execute)
    with pytest.raises(pymysql.err.OperationalError) as lost:
        s.execute(stmt, 7, 70)
    assert lost.value.args[0] == 1927
    assert rows_of(mariadb, table, 7) == 1
    assert retried(wp, (0, 0)) == (0, 0)
    s.close()


def test_an_aborted_statement_is_re_sent_at_most_twice(warmpool_factory, mariadb, proxy, table):
    """Aborted three times in a row: the third ERR 1053 reaches the client."""
    wp = through_proxy(warmpool_factory, proxy)
    c = connect(wp)
    for _ in range(3):
        proxy.arm("abort", query_text(f"INSERT INTO {table}"))
    with pytest.raises(pymysql.err.OperationalError) as aborted:
        row(c, f"INSERT INTO {table} VALUES (8, 80)")
    assert aborted.value.args[0] == 1053
    assert proxy.fired == ["abort"] * 3
    assert rows_of(mariadb, table, 8) == 0
    assert retried(wp, (0, 2)) == (0, 2)
    c.close()


def begins_re_sent(wp):
    """warmpool_retried_begins_total, once the workers published it (a tick)."""
    time.sleep(1.2)
    with urllib.request.urlopen(f"http://127.0.0.1:{wp.admin_port}/metrics", timeout=5) as r:
        text = r.read().decode()
    return int(float(re.search(r"^warmpool_retried_begins_total (\S+)$", text, re.M).group(1)))


@pytest.mark.parametrize("begin", ["BEGIN", "START TRANSACTION"])
@pytest.mark.parametrize("mode", ["transaction", "session"])
def test_a_begin_whose_connection_closed_is_re_sent(warmpool_factory, mariadb, proxy, table,
                                                    mode, begin):
    """Sent outside a transaction, a BEGIN whose answer was lost began at
    most a transaction that ended with its connection: it runs again on a
    new one, without retry_reads, and the transaction the client goes on
    with is really open there (its insert is not seen before the COMMIT)."""
    wp = through_proxy(warmpool_factory, proxy, mode)
    c = connect(wp, autocommit=True)
    proxy.arm("lost", query_text(begin))
    row(c, begin)  # no error: ran again, elsewhere
    assert proxy.fired == ["lost"]
    row(c, f"INSERT INTO {table} VALUES (7, 70)")
    assert rows_of(mariadb, table, 7) == 0  # inside the transaction, not committed
    row(c, "COMMIT")
    assert rows_of(mariadb, table, 7) == 1
    assert begins_re_sent(wp) == 1
    assert wp.wait_for_log("BEGIN re-sent on a new backend connection")
    c.close()


def test_a_begin_lost_inside_a_transaction_is_not_re_sent(warmpool_factory, mariadb, proxy,
                                                          table):
    """Inside a transaction a BEGIN commits it first: lost, it may have done
    so (here it did), and only the ERR 1927 may tell the client."""
    wp = through_proxy(warmpool_factory, proxy)
    c = connect(wp, autocommit=True)
    row(c, "BEGIN")
    row(c, f"INSERT INTO {table} VALUES (8, 80)")
    proxy.arm("lost", query_text("BEGIN"))
    with pytest.raises(pymysql.err.OperationalError) as lost:
        row(c, "BEGIN")
    assert lost.value.args[0] == 1927
    assert rows_of(mariadb, table, 8) == 1  # the BEGIN ran, and committed the insert
    assert begins_re_sent(wp) == 0
    assert value(c, "SELECT 3") == 3
    c.close()


def test_an_executed_begin_whose_connection_closed_is_re_sent(warmpool_factory, mariadb, proxy,
                                                              table):
    """MariaDB prepares BEGIN, and sysbench executes it so: lost outside a
    transaction, the execute runs again on a new connection, as a text
    BEGIN does."""
    from test_prepared_statements import Stmts
    wp = through_proxy(warmpool_factory, proxy)
    s = Stmts(wp.port)
    begin, _ = s.prepare("BEGIN")
    s.execute(begin)
    s.query("COMMIT")
    proxy.arm("lost", lambda p: p[:1] == b"\x17")
    s.execute(begin)  # no error: ran again, elsewhere
    assert proxy.fired == ["lost"]
    s.query(f"INSERT INTO {table} VALUES (9, 90)")
    assert rows_of(mariadb, table, 9) == 0  # inside the transaction, not committed
    s.query("COMMIT")
    assert rows_of(mariadb, table, 9) == 1
    assert begins_re_sent(wp) == 1
    s.close()
