#!/usr/bin/python3
"""soak: many clients for a long time through warmpool while MariaDB restarts now and then.

Samples warmpool's RSS and descriptor count every 10 s; both must stay flat
once warm. Not part of CI (it is long by design):

    tools/soak.py                          30 minutes, 500 clients, a restart every 2 min
    tools/soak.py --minutes 3 --build build-asan   shorter, under ASan+LSan: leaks at exit fail it

Clients are pymysql connections in transaction mode; each runs a short
transaction or an autocommit query, then sleeps about a second. Restarts
toggle TLS, as an SSL switch on a managed instance does.
"""
import argparse
import json
import os
import random
import signal
import sys
import threading
import time
from pathlib import Path

import pymysql

sys.path.insert(0, str(Path(__file__).resolve().parent))
from importlib import import_module  # noqa: E402

drill = import_module("restart-drill")


def client(port, stop, counts, lock):
    conn = None
    while not stop.is_set():
        try:
            if conn is None:
                conn = drill.connect(port)
                drill.query(conn, "USE soak")
            if random.random() < 0.5:
                drill.query(conn, "BEGIN")
                drill.query(conn, f"INSERT INTO t (v) VALUES ({random.randint(1, 1000)})")
                drill.query(conn, "COMMIT")
            else:
                drill.query(conn, "SELECT COUNT(*) FROM t WHERE v < 10")
            kind = "ok"
        except pymysql.MySQLError as e:
            kind = f"error {e.args[0]}"
            if e.args[0] not in (1927, 1053):  # those keep the connection usable
                conn = None
        with lock:
            counts[kind] = counts.get(kind, 0) + 1
        stop.wait(random.uniform(0.5, 1.5))


def sample(wp):
    with open(f"/proc/{wp.proc.pid}/statm") as f:
        rss = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    fds = len(os.listdir(f"/proc/{wp.proc.pid}/fd"))
    return rss, fds


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--clients", type=int, default=500)
    ap.add_argument("--restart-every", type=float, default=120, help="seconds")
    ap.add_argument("--build", default=str(drill.ROOT / "build"))
    ap.add_argument("--json")
    args = ap.parse_args()
    work = Path(drill.tempfile.mkdtemp(prefix="warmpool-soak."))
    db_dir = str(work / "db")
    env = drill.fixture("start", "--dir", db_dir, "--ssl", "on")
    db_port = int(env["port"])
    drill.subprocess.run(["mariadb", "--no-defaults", "-uroot", "-S", env["socket"], "-e",
                          "CREATE DATABASE soak; CREATE TABLE soak.t (id INT PRIMARY KEY "
                          "AUTO_INCREMENT, v INT); GRANT ALL ON soak.* TO 'app'@'%'"], check=True)
    wp = drill.Warmpool(str(Path(args.build) / "io" / "warmpool"), work, db_port)
    stop = threading.Event()
    counts, lock = {}, threading.Lock()
    samples, ssl = [], "on"
    try:
        time.sleep(1)
        threads = [threading.Thread(target=client, args=(wp.port, stop, counts, lock))
                   for _ in range(args.clients)]
        for t in threads:
            t.start()
        start = time.monotonic()
        next_restart = start + args.restart_every
        while time.monotonic() - start < args.minutes * 60:
            time.sleep(10)
            rss, fds = sample(wp)
            with lock:
                done = dict(counts)
            samples.append({"t_s": round(time.monotonic() - start), "rss_mb": round(rss / 2**20, 1),
                            "fds": fds, "results": done})
            print(f"t={samples[-1]['t_s']:5d}s rss={rss / 2**20:7.1f} MiB fds={fds:5d} {done}",
                  flush=True)
            if time.monotonic() >= next_restart:
                ssl = "off" if ssl == "on" else "on"
                drill.fixture("restart", "--dir", db_dir, "--ssl", ssl)
                next_restart = time.monotonic() + args.restart_every
        stop.set()
        for t in threads:
            t.join()
    finally:
        stop.set()
        wp.proc.send_signal(signal.SIGTERM)
        code = wp.proc.wait(timeout=60)
        drill.fixture("stop", "--dir", db_dir)
    warm = [s for s in samples if s["t_s"] >= 60] or samples
    result = {"minutes": args.minutes, "clients": args.clients,
              "restart_every_s": args.restart_every, "warmpool_exit_code": code,
              "rss_mb_first_warm": warm[0]["rss_mb"], "rss_mb_last": samples[-1]["rss_mb"],
              "rss_mb_max": max(s["rss_mb"] for s in warm),
              "fds_first_warm": warm[0]["fds"], "fds_last": samples[-1]["fds"],
              "fds_max": max(s["fds"] for s in warm), "results": samples[-1]["results"],
              "log": str(work / "warmpool.log")}
    print(json.dumps(result, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps({**result, "samples": samples}, indent=2) + "\n")
    return 0 if code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
