"""sysbench (a client nobody here wrote) through warmpool: zero errors.

Tables of 100k rows keep InnoDB deadlocks (which sysbench counts as ignored
errors, and which happen just as well on a direct connection) out of a 20 s run."""
import re
import subprocess

from conftest import cli


def sysbench(port, command, threads=16, seconds=20, extra=()):
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
    run = sysbench(wp.port, "run", threads=16, seconds=20)
    assert run.returncode == 0, run.stdout + run.stderr
    transactions, _ = stat(run.stdout, "transactions")
    errors, _ = stat(run.stdout, "ignored errors")
    reconnects, _ = stat(run.stdout, "reconnects")
    assert transactions > 0
    assert errors == 0
    assert reconnects == 0
    assert cli(wp.port, "SELECT 1").returncode == 0
