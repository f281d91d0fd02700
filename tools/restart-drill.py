#!/usr/bin/python3
"""restart-drill: load through warmpool while MariaDB (or MySQL) restarts K times with TLS toggled.

What a managed instance does each time its SSL setting is switched. Runs, all
at once: sysbench oltp_read_write in transaction mode, idle clients (connected
before the first restart, used after the last) and periodic clients (a query
every 100 ms each). Reports per client kind: queries attempted and failed, the
longest stall; per restart: time from the backend accepting again to the pool
back at min_idle, and the most handshakes warmpool had in flight.

Accounting (tools/drill_ledger.py): ledger writers run transactions through
warmpool alongside, and afterwards every row is checked on the server itself:
each ledger transaction is there once if the client was told it committed,
absent if told it was rolled back; sysbench's tables hold each id once. The
drill exits 1 when a check fails.

    tools/restart-drill.py [--server mariadb|mysql] [--retry-reads] [--replay-transactions]
                           [--commit-marker] [--prepared] [--restarts 5] [--tables 2] [--table-size 10000]
                           [--rand-type special|uniform]
                           [--ledger-writers 2] [--build build] [--json out.json] [--keep]

With --server mysql (MySQL 9.7, see tools/mariadb-fixture.sh), warmpool has the
server's RSA public key: after each SSL-off restart the caching_sha2_password
cache is empty and every first login authenticates in full, in plaintext.

Needs the build (tools/build.sh) and the test packages (tools/install-deps.sh).
"""
import argparse
import json
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import pymysql

import drill_ledger

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tools" / "mariadb-fixture.sh"
MIN_IDLE = 4
CONCURRENCY = 4


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fixture(*args):
    out = subprocess.run([str(FIXTURE), *args], check=True, capture_output=True, text=True).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def accepting(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2) as s:
            return s.recv(1)[:1] != b""  # the server greets: it really is up
    except OSError:
        return False


class Warmpool:
    def __init__(self, binary, workdir, db_port, public_key=None, retry_reads=False,
                 replay=False, marker=None):
        self.port, self.admin = free_port(), free_port()
        users = workdir / "users.txt"
        users.write_text("app:app-secret\n")
        users.chmod(0o600)
        self.config = workdir / "warmpool.ini"
        self.config.write_text(f"""[warmpool]
workers = 2
users_file = {users}
client_wait_timeout_ms = 30000
admin_port = {self.admin}
drain_timeout_ms = 5000

[listener main]
port = {self.port}
pool_mode = transaction
retry_reads = {"true" if retry_reads else "false"}
replay_transactions = {"true" if replay else "false"}
""" + (f"replay_commit_marker = {marker}\n" if marker else "") + f"""

[backend main]
port = {db_port}
ssl_mode = preferred
min_idle = {MIN_IDLE}
max_connections = 32
connect_concurrency = {CONCURRENCY}
""" + (f"server_public_key = {public_key}\n" if public_key else ""))
        self.log = open(workdir / "warmpool.log", "wb")
        self.proc = subprocess.Popen([binary, "--config", str(self.config)], stdout=self.log,
                                     stderr=subprocess.STDOUT)

    def status(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.admin}/status", timeout=5) as r:
            return json.load(r)

    def retried(self):
        """warmpool's re-sent statements, by kind, from /metrics."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.admin}/metrics", timeout=5) as r:
            text = r.read().decode()
        found = {kind: int(float(re.search(rf"^warmpool_retried_{kind}_total (\S+)$", text,
                                           re.M).group(1)))
                 for kind in ("reads", "aborted")}
        found["transaction_replays"] = {
            m.group(1): int(float(m.group(2))) for m in re.finditer(
                r'^warmpool_replays_total\{outcome="(\w+)"\} (\S+)$', text, re.M)}
        return found

    def warm(self):
        b = self.status()["backends"][0]
        return b["connections"]["idle"] + b["connections"]["active"] >= MIN_IDLE


class Clients:
    """Counts per kind: attempted, failed, longest stall (seconds)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.kinds = {}

    def record(self, kind, seconds, error=None):
        with self.lock:
            k = self.kinds.setdefault(kind, {"attempted": 0, "failed": 0, "max_stall_s": 0.0,
                                             "errors": []})
            k["attempted"] += 1
            k["max_stall_s"] = max(k["max_stall_s"], seconds)
            if error:
                k["failed"] += 1
                k["errors"].append(error)


def query(conn, sql):
    with conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


def connect(port):
    return pymysql.connect(host="127.0.0.1", port=port, user="app", password="app-secret",
                           autocommit=True, connect_timeout=30, read_timeout=60)


def periodic(port, clients, stop):
    conn = connect(port)
    while not stop.is_set():
        start = time.monotonic()
        try:
            query(conn, "SELECT 1")
            clients.record("periodic", time.monotonic() - start)
        except pymysql.MySQLError as e:
            clients.record("periodic", time.monotonic() - start, str(e))
            conn = connect(port)
        time.sleep(0.1)


def restart(db_dir, db_port, ssl):
    """Restarts the fixture; returns (seconds until accepting, t of accepting)."""
    start = time.monotonic()
    done = threading.Event()
    t = threading.Thread(target=lambda: (fixture("restart", "--dir", db_dir, "--ssl", ssl),
                                         done.set()))
    t.start()
    while accepting(db_port):  # wait for it to go down...
        time.sleep(0.005)
    while not accepting(db_port):  # ...and to greet again
        time.sleep(0.005)
    up_at = time.monotonic()
    t.join()
    return up_at - start, up_at


def sysbench_prepare(port, tables, table_size, rand_type):
    """Fills sysbench's tables (one thread per table); the seconds it took."""
    start = time.monotonic()
    # Through warmpool: sysbench's plaintext login to MySQL directly would
    # need caching_sha2_password full authentication of its own.
    subprocess.run(sysbench_args(tables, table_size, False, rand_type) +
                   [f"--mysql-port={port}", f"--threads={tables}", "prepare"], check=True,
                   capture_output=True)
    return time.monotonic() - start


def sysbench_args(tables, table_size, prepared, rand_type):
    return ["sysbench", "oltp_read_write", "--mysql-host=127.0.0.1", "--mysql-user=app",
            "--mysql-password=app-secret", "--mysql-db=drill", f"--tables={tables}",
            f"--table-size={table_size}", f"--db-ps-mode={'auto' if prepared else 'disable'}",
            "--mysql-ssl=off", f"--rand-type={rand_type}"]


def sysbench(port, seconds, prepared, tables, table_size, rand_type):
    base = sysbench_args(tables, table_size, prepared, rand_type)
    return subprocess.Popen(base + [f"--mysql-port={port}", "--threads=8", f"--time={seconds}",
                                    "--mysql-ignore-errors=1927,1053,1213,1205", "--report-interval=0",
                                    "--percentile=100", "run"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def sysbench_figures(output):
    figures = {}
    for name, pattern in [("transactions", r"transactions:\s+(\d+)"),
                          ("queries", r"queries:\s+(\d+)"),
                          ("errors", r"ignored errors:\s+(\d+)"),
                          ("reconnects", r"reconnects:\s+(\d+)"),
                          ("max_stall_s", r"max:\s+([\d.]+)")]:
        m = re.search(pattern, output)
        figures[name] = float(m.group(1)) if m else None
    if figures["max_stall_s"] is not None:
        figures["max_stall_s"] /= 1000  # sysbench reports ms
    return figures


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--server", choices=["mariadb", "mysql"], default="mariadb")
    ap.add_argument("--restarts", type=int, default=5)
    ap.add_argument("--retry-reads", action="store_true",
                    help="retry_reads = true: MySQL answers statements that arrive during "
                         "its shutdown with ERR 1053; reads are then re-sent")
    ap.add_argument("--replay-transactions", action="store_true",
                    help="replay_transactions = true: transactions lost with nothing "
                         "committed run again on a new connection")
    ap.add_argument("--prepared", action="store_true",
                    help="sysbench with its default server-side prepared statements "
                         "(COM_STMT_EXECUTE) instead of text queries")
    ap.add_argument("--pause", type=float, default=4.0, help="seconds of load between restarts")
    ap.add_argument("--tables", type=int, default=2, help="sysbench's tables")
    ap.add_argument("--table-size", type=int, default=10000,
                    help="rows per sysbench table: how often its 8 threads meet")
    ap.add_argument("--ledger-writers", type=int, default=2,
                    help="threads running ledger transactions through warmpool")
    ap.add_argument("--rand-type", choices=["special", "uniform"], default="special",
                    help="sysbench's choice of rows: special (its default) sends 75%% of "
                         "the accesses to 1%% of the rows, uniform spreads them")
    ap.add_argument("--commit-marker", action="store_true",
                    help="replay_commit_marker = drill.commit_marker (with "
                         "--replay-transactions): a COMMIT lost in flight is checked")
    ap.add_argument("--build", default=str(ROOT / "build"))
    ap.add_argument("--json")
    ap.add_argument("--keep", action="store_true",
                    help="keep the work directory (warmpool.log, the server's datadir)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="warmpool-drill."))
    db_dir = str(work / "db")
    env = fixture("start", "--server", args.server, "--dir", db_dir, "--ssl", "on")
    db_port = int(env["port"])
    subprocess.run(["mariadb", "--no-defaults", "-uroot", "-S", env["socket"], "-e",
                    "CREATE DATABASE drill; GRANT ALL ON drill.* TO 'app'@'%'; "
                    "CREATE TABLE drill.commit_marker (conn BIGINT UNSIGNED PRIMARY KEY, "
                    "txn BIGINT UNSIGNED NOT NULL, at TIMESTAMP NOT NULL DEFAULT "
                    "CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP) ENGINE=InnoDB"], check=True)
    drill_ledger.create_tables(env["socket"], args.ledger_writers)
    wp = Warmpool(str(Path(args.build) / "io" / "warmpool"), work, db_port,
                  env.get("rsa_public_key"), args.retry_reads, args.replay_transactions,
                  "drill.commit_marker" if args.commit_marker else None)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if wp.warm():
                    break
            except OSError:
                pass
            time.sleep(0.05)
        prepare_s = sysbench_prepare(wp.port, args.tables, args.table_size, args.rand_type)
        print(f"sysbench prepare: {args.tables} tables of {args.table_size} rows in "
              f"{prepare_s:.1f} s", flush=True)
        clients = Clients()
        idle = [connect(wp.port) for _ in range(20)]
        for c in idle:
            query(c, "SELECT 1")
        stop = threading.Event()
        threads = [threading.Thread(target=periodic, args=(wp.port, clients, stop))
                   for _ in range(4)]
        writers = [drill_ledger.LedgerWriter(wp.port, w, stop)
                   for w in range(args.ledger_writers)]
        for t in threads + [w.thread for w in writers]:
            t.start()
        total = args.restarts * (args.pause + 3) + args.pause
        bench = sysbench(wp.port, int(total), args.prepared, args.tables, args.table_size,
                         args.rand_type)
        time.sleep(args.pause)
        restarts = []
        for i in range(args.restarts):
            ssl = "off" if i % 2 == 0 else "on"
            down_s, up_at = restart(db_dir, db_port, ssl)
            while not wp.warm():
                time.sleep(0.005)
            warm_s = time.monotonic() - up_at
            b = wp.status()["backends"][0]
            restarts.append({"tls": ssl, "restart_s": round(down_s, 3),
                             "pool_warm_after_accepting_s": round(warm_s, 3),
                             "backend_tls_now": b["tls"]})
            print(f"restart {i + 1}: ssl={ssl} restart {down_s:.2f} s, pool at min_idle "
                  f"{warm_s * 1000:.0f} ms after the backend accepted (tls={b['tls']})",
                  flush=True)
            time.sleep(args.pause)
        for c in idle:
            start = time.monotonic()
            try:
                query(c, "SELECT 1")
                clients.record("idle", time.monotonic() - start)
            except pymysql.MySQLError as e:
                clients.record("idle", time.monotonic() - start, str(e))
        stop.set()
        for t in threads + [w.thread for w in writers]:
            t.join()
        sb_output = bench.communicate()[0]
        for w in writers:
            w.close()
        ledger, problems = drill_ledger.check_ledger(env["socket"], writers)
        sbtest, sb_problems = drill_ledger.check_sbtest(env["socket"], args.tables,
                                                        args.table_size)
        problems += sb_problems
        sb = sysbench_figures(sb_output)
        if sb["transactions"] is None:
            print(sb_output[-3000:], file=sys.stderr)
        st = wp.status()
        result = {
            "server": args.server,
            "retry_reads": args.retry_reads,
            "prepared": args.prepared,
            "replay_transactions": args.replay_transactions,
            "commit_marker": args.commit_marker,
            "tables": args.tables,
            "table_size": args.table_size,
            "rand_type": args.rand_type,
            "sysbench_prepare_s": round(prepare_s, 1),
            "restarts": restarts,
            "clients": {k: {**v, "max_stall_s": round(v["max_stall_s"], 3),
                            "errors": v["errors"][:5]} for k, v in clients.kinds.items()},
            "sysbench_transaction_mode": sb,
            "connect_concurrency": CONCURRENCY,
            "connecting_peak_bound": st["backends"][0]["connecting_peak"],
            "warmpool_errors": st["errors"],
            "warmpool_retried": wp.retried(),
            "accounting": {"ledger": ledger, "sbtest_rows": sbtest, "problems": problems},
        }
        print(json.dumps(result, indent=2))
        if args.json:
            Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
        print(f"accounting: ledger {ledger['committed']} committed, {ledger['rolled_back']} "
              f"rolled back, {ledger['unknown']} unknown outcome "
              f"({len(ledger['unknown_committed'])} of them committed); sbtest rows "
              f"{sbtest}: {'every row accounted for' if not problems else 'FAILED'}")
        for p in problems:
            print(f"accounting: {p}", file=sys.stderr)
        return 1 if problems else 0
    finally:
        wp.proc.terminate()
        wp.proc.wait(timeout=20)
        fixture("stop", "--dir", db_dir)
        if args.keep:
            print(f"kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)  # a MySQL datadir is some 200 MB


if __name__ == "__main__":
    sys.exit(main())
