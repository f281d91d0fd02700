"""Adversary tests of pool lending across workers (#17) and replay (#19): each
one a case found by attacking the two features; the server's own rows and
session are the evidence, never what warmpool says."""
import uuid

import pymysql
import pytest

from conftest import connect, row, value
from fault_proxy import FaultProxy
from test_transaction_replay import replays, replaying


@pytest.fixture
def proxy(mariadb):
    p = FaultProxy(mariadb.port)
    yield p
    p.close()


@pytest.fixture
def two_schemas(mariadb):
    """Two schemas granted to app, each with a table t of the same shape."""
    a, b = (f"adv_{uuid.uuid4().hex[:8]}" for _ in range(2))
    for s in (a, b):
        mariadb.root_sql(f"CREATE DATABASE {s}; CREATE TABLE {s}.t (id INT PRIMARY KEY) "
                         f"ENGINE=InnoDB; GRANT ALL ON {s}.* TO 'app'@'%'")
    yield a, b
    mariadb.root_sql(f"DROP DATABASE {a}; DROP DATABASE {b}")


def rows_of(db, table):
    return db.root_sql(f"SELECT GROUP_CONCAT(id ORDER BY id) FROM {table}").strip()


@pytest.mark.parametrize("mode", ["transaction", "session"])
def test_replay_runs_statements_in_the_schema_they_ran_in(warmpool_factory, mariadb, proxy,
                                                          two_schemas, mode):
    """A USE inside the transaction is tracked (the client's schema is the last
    one), and the replay's connection is set up with the client's state as it is
    now: the statements before the USE would run in the other schema. Their
    answers (an OK of one row) are the same there, so nothing tells."""
    a, b = two_schemas
    wp = replaying(warmpool_factory, proxy, mode)
    c = connect(wp, database=a)
    row(c, "BEGIN")
    row(c, "INSERT INTO t VALUES (1)")  # into a.t
    row(c, f"USE {b}")
    row(c, "INSERT INTO t VALUES (2)")  # into b.t
    proxy.cut()
    try:
        row(c, "INSERT INTO t VALUES (3)")  # into b.t, after a replay
        row(c, "COMMIT")
    except pymysql.err.OperationalError as e:
        assert e.args[0] == 1927, e  # refused: the transaction was rolled back
    c.close()
    # Replayed in the right schemas, or refused; never 1 in b.t.
    assert (rows_of(mariadb, f"{a}.t"), rows_of(mariadb, f"{b}.t")) in (
        ("1", "2,3"), ("NULL", "NULL"))
