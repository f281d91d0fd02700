"""warmpool in front of a real MySQL 9.7 (caching_sha2_password, OpenSSL, TLS
toggled by restarts), as managed MySQL runs it. The server runs in a Debian sid
root that tools/mariadb-fixture.sh builds on first use; these tests fail, never
skip, when it cannot. Each check asks the server (its status counters, its
sessions) rather than warmpool where the server can tell."""
import re
import subprocess
import time
import urllib.request

import pymysql
import pytest

from conftest import cli


def connect(port, **kw):
    return pymysql.connect(host="127.0.0.1", port=port, user="app", password="app-secret",
                           connect_timeout=30, read_timeout=60, autocommit=True, **kw)


def one(conn, sql):
    with conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchone()


def server_status(db, name):
    """A global status counter, read from the server itself."""
    return int(db.root_sql(f"SHOW GLOBAL STATUS LIKE '{name}'").split()[1])


def metrics(wp):
    with urllib.request.urlopen(f"http://127.0.0.1:{wp.admin_port}/metrics", timeout=5) as r:
        return r.read().decode()


def metric(wp, name, labels=""):
    m = re.search(rf"^{name}{{?{re.escape(labels)}}}? (\S+)$", metrics(wp), re.M)
    assert m, f"{name}{{{labels}}} not in /metrics"
    return float(m.group(1))


def backend_connects(wp):
    return metric(wp, "warmpool_backend_connects_total", 'backend="main"')


def through(factory, db, mode="session", pool=4, **sections):
    """warmpool on `db` with exactly `pool` backend connections (2 workers)."""
    backend = {"min_idle": str(pool), "max_connections": str(pool), **sections.pop("backend", {})}
    return factory(db=db, warmpool={"client_wait_timeout_ms": "20000", **sections.pop("warmpool", {})},
                   listener_main={"pool_mode": mode}, backend_main=backend, **sections)


def wait_pool(wp, n):
    deadline = time.monotonic() + 20
    while backend_connects(wp) < n and time.monotonic() < deadline:
        time.sleep(0.05)
    assert backend_connects(wp) == n, wp.read_log()


def test_thousand_sequential_clients_reuse_the_session_pool(warmpool_factory, mysql):
    """Each client that leaves is reset with COM_CHANGE_USER, which MySQL answers
    for a caching_sha2_password account with AuthMoreData (fast auth) then OK."""
    before = server_status(mysql, "Connections")
    wp = through(warmpool_factory, mysql, "session", pool=4)
    wait_pool(wp, 4)
    ids = set()
    for _ in range(1000):
        c = connect(wp.port)
        ids.add(one(c, "SELECT CONNECTION_ID()")[0])
        c.close()
    # The server saw the pool's 4 logins (and this query's own), nothing else.
    assert server_status(mysql, "Connections") - before - 1 == 4
    assert len(ids) <= 4, ids
    assert backend_connects(wp) == 4
    log = wp.read_log()
    assert "reset failed" not in log and "backend connect failed" not in log, log[-3000:]


def test_transaction_mode_with_and_without_a_schema(warmpool_factory, mysql):
    """A client without a schema after one with it makes warmpool drop the
    schema with COM_CHANGE_USER during the session setup."""
    mysql.root_sql("CREATE DATABASE IF NOT EXISTS wp_tx")
    wp = through(warmpool_factory, mysql, "transaction", pool=2)
    wait_pool(wp, 2)
    for i in range(200):
        db = "wp_tx" if i % 2 else None
        c = connect(wp.port, database=db)
        assert one(c, "SELECT DATABASE()") == (db,)
        assert one(c, "SELECT @@SESSION.transaction_isolation")[0] == "REPEATABLE-READ"
        c.close()
    assert backend_connects(wp) == 2
    log = wp.read_log()
    for bad in ("unexpected reply to session setup", "reset failed", "retrying"):
        assert bad not in log, log[-3000:]
