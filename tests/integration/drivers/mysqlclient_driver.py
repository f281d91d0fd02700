"""mysqlclient_driver: Python's mysqlclient (MySQLdb) with its default settings through warmpool (see test_drivers.py); prints "ok" or exits 1."""
import sys

import MySQLdb


def connect(port):
    return MySQLdb.connect(host="127.0.0.1", port=port, user="app", password="app-secret")


def locked_by_other(probe):
    try:
        probe.cursor().execute("SELECT id FROM mux.t WHERE id = 1 FOR UPDATE NOWAIT")
        return False
    except MySQLdb.MySQLError:
        return True


def ordinary(port):
    c, probe = connect(port), connect(port)
    probe.autocommit(True)
    cur = c.cursor()
    cur.execute("SELECT %s + 1", (41,))
    assert cur.fetchone()[0] == 42
    # Its default: autocommit off, so every statement opens a transaction.
    cur.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
    cur.execute("SELECT COUNT(*) FROM mux.t WHERE id = %s", (1,))
    assert locked_by_other(probe), "SERIALIZABLE read did not lock"
    c.commit()
    assert not locked_by_other(probe), "lock kept after commit"
    # Stacked queries: mysqlclient does not ask for multi-statements.
    try:
        cur.execute("DO 1; DO 2")
        raise AssertionError("stacked queries ran")
    except MySQLdb.ProgrammingError as e:
        assert e.args[0] == 1064, e
    c.commit()
    c.close()
    probe.close()


def main():
    port = int(sys.argv[1])
    if len(sys.argv) > 3 and sys.argv[2] == "connections":
        for i in range(int(sys.argv[3])):
            c = connect(port)
            cur = c.cursor()
            cur.execute("SELECT %s + 1", (i,))
            c.commit()
            cur.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
            cur.execute("SELECT COUNT(*) FROM mux.t WHERE id = %s", (1,))
            c.commit()
            c.close()
    else:
        ordinary(port)
    print("ok")


main()
