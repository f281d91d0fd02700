"""sysbench (a client nobody here wrote) through warmpool: zero errors.

sysbench counts InnoDB deadlocks and lock wait timeouts as ignored errors;
they happen just as well on a direct connection, so each one must be a
conflict the server itself counted in that run. Any other error stops
sysbench, and the test with it."""
import json
import re
import subprocess
import urllib.request

import pytest

from conftest import cli


def sysbench(port, command, threads=16, seconds=10, extra=()):
    args = ["sysbench", "oltp_read_write", "--mysql-host=127.0.0.1", f"--mysql-port={port}",
            "--mysql-user=app", "--mysql-password=app-secret", "--mysql-db=sbtest",
            "--tables=4", "--table-size=100000", f"--threads={threads}", f"--time={seconds}",
            "--report-interval=0", *extra, command]
    return subprocess.run(args, capture_output=True, text=True, timeout=seconds + 120)


def stat(output, name):
    m = re.search(rf"{name}:\s+(\d+)\s+\(([\d.]+) per sec", output)
    assert m, output
    return int(m.group(1)), float(m.group(2))


def test_sysbench_oltp_read_write_through_warmpool(warmpool_factory, mariadb):
    wp = warmpool_factory()
    mariadb.root_sql("DROP DATABASE IF EXISTS sbtest; CREATE DATABASE sbtest")
    prep = sysbench(mariadb.port, "prepare", threads=4)
    assert prep.returncode == 0, prep.stderr
    conflicts = mariadb.lock_conflicts()
    run = sysbench(wp.port, "run", threads=16, seconds=10)
    assert run.returncode == 0, run.stdout + run.stderr
    transactions, _ = stat(run.stdout, "transactions")
    errors, _ = stat(run.stdout, "ignored errors")
    reconnects, _ = stat(run.stdout, "reconnects")
    assert transactions > 0
    assert errors <= mariadb.lock_conflicts() - conflicts, run.stdout  # see above
    assert reconnects == 0
    assert cli(wp.port, "SELECT 1").returncode == 0


@pytest.mark.parametrize("mode", ["session", "transaction"])
def test_prepared_statements_binary_protocol(warmpool_factory, mariadb, mode):
    """sysbench's default: server-side prepared statements, results in the
    binary protocol. In transaction mode 8 such clients share 3 backend
    connections: their statements move with them, nothing pins."""
    wp = warmpool_factory(listener_main={"pool_mode": mode},
                          backend_main={"max_connections": "3" if mode == "transaction" else "16"})
    mariadb.root_sql("DROP DATABASE IF EXISTS sbps; CREATE DATABASE sbps; "
                     "GRANT ALL ON sbps.* TO 'app'@'%'")
    base = ["sysbench", "oltp_point_select", "--mysql-host=127.0.0.1", "--mysql-user=app",
            "--mysql-password=app-secret", "--mysql-db=sbps", "--tables=1",
            "--table-size=1000", "--mysql-ssl=off"]
    prep = subprocess.run(base + [f"--mysql-port={mariadb.port}", "prepare"],
                          capture_output=True, text=True, timeout=120)
    assert prep.returncode == 0, prep.stderr
    run = subprocess.run(base + [f"--mysql-port={wp.port}", "--db-ps-mode=auto", "--threads=8",
                                 "--time=5", "--report-interval=0", "run"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    queries, _ = stat(run.stdout, "queries")
    errors, _ = stat(run.stdout, "ignored errors")
    assert queries > 1000 and errors == 0
    with urllib.request.urlopen(f"http://127.0.0.1:{wp.admin_port}/status", timeout=5) as r:
        pins = json.load(r)["pins"]
    assert pins["prepared_statement"] == 0, pins
