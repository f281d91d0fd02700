"""warmpool-bench itself: many connections on two client threads, the restart scenario, point selects after a large statement, and the naive forwarder it is compared with."""
import json
import os
import re
import resource
import subprocess
import threading
import time
import urllib.request

from conftest import FIXTURE, WARMPOOL, cli, free_port, wait_until

BENCH = WARMPOOL.parents[1] / "bench" / "warmpool-bench"  # same build as warmpool
FORWARD = WARMPOOL.parents[1] / "bench" / "warmpool-forward"


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def run_bench(*args, timeout=180):
    """Runs warmpool-bench; returns (completed process, most threads it had)."""
    proc = subprocess.Popen([str(BENCH), *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=raise_nofile,
                            env={**os.environ, "WARMPOOL_BENCH_PASSWORD": "app-secret"})
    most = [0]

    def watch():
        while proc.poll() is None:
            try:
                status = open(f"/proc/{proc.pid}/status").read()
                most[0] = max(most[0], int(status.split("Threads:")[1].split()[0]))
            except (OSError, IndexError):
                pass
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    out, err = proc.communicate(timeout=timeout)
    watcher.join()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err), most[0]


def bench_table(db):
    db.root_sql("CREATE DATABASE IF NOT EXISTS wp_bench; "
                "CREATE TABLE IF NOT EXISTS wp_bench.t (id INT PRIMARY KEY, k INT NOT NULL, "
                "c CHAR(20), KEY (k)); "
                "INSERT IGNORE INTO wp_bench.t SELECT seq, 0, 'row' FROM wp_bench.seq_1_to_100")
    return ["--table", "wp_bench.t", "--table-size", "100"]


def test_1000_connections_from_two_client_threads(warmpool_factory, mariadb, tmp_path):
    table = bench_table(mariadb)
    wp = warmpool_factory(warmpool={"max_clients": "2000"},
                          listener_main={"pool_mode": "transaction"},
                          backend_main={"max_connections": "8"})
    out = tmp_path / "throughput.json"
    r, threads = run_bench("throughput", "--target", f"wp=127.0.0.1:{wp.port}",
                           "--pid", f"wp={wp.proc.pid}", "--connections", 1000,
                           "--client-threads", 2, "--seconds", 3, "--rounds", 1, *table,
                           "--json", out)
    assert r.returncode == 0, r.stdout + r.stderr
    doc = json.loads(out.read_text())
    t = doc["targets"]["wp"]
    assert (doc["connections"], doc["client_threads"]) == (1000, 2)
    assert t["errors"] == 0 and t["ops"] >= 1000, t
    assert t["cpu_us_per_op"] > 0 and t["rss_mb"] > 0
    assert threads <= 3, f"{threads} threads for 1000 connections"  # main + 2 clients

    r, _ = run_bench("connect", "--target", f"wp=127.0.0.1:{wp.port}", "--connections", 8,
                     "--seconds", 1, "--rounds", 1, *table, "--json", out)
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads(out.read_text())["targets"]["wp"]["ops"] > 8

    # The read-write mix: every committed transaction added 1 to some k.
    before = int(mariadb.root_sql("SELECT SUM(k) FROM wp_bench.t"))
    r, _ = run_bench("throughput", "--mix", "read-write", "--target", f"wp=127.0.0.1:{wp.port}",
                     "--connections", 32, "--seconds", 2, "--rounds", 1, *table, "--json", out)
    assert r.returncode == 0, r.stdout + r.stderr
    t = json.loads(out.read_text())["targets"]["wp"]
    assert t["errors"] == 0 and t["ops"] > 0, t
    assert int(mariadb.root_sql("SELECT SUM(k) FROM wp_bench.t")) - before == t["ops"]


def test_restart_scenario_counts_what_the_application_sees(warmpool_factory, private_db,
                                                           tmp_path):
    """Direct clients lose their connections at each restart; warmpool's do not
    (a point select in flight at the shutdown is re-sent: retry_reads)."""
    table = bench_table(private_db)
    wp = warmpool_factory(db=private_db,
                          listener_main={"pool_mode": "transaction", "retry_reads": "true"},
                          warmpool={"client_wait_timeout_ms": "30000"},
                          backend_main={"ssl_mode": "preferred", "min_idle": "2"})
    restart = f"{FIXTURE} restart --dir {private_db.dir} --ssl"
    out = tmp_path / "restart.json"
    r, _ = run_bench("restart", "--target", f"direct=127.0.0.1:{private_db.port}",
                     "--target", f"wp=127.0.0.1:{wp.port}", "--connections", 10,
                     "--restarts", 2, "--interval", 1, "--restart-cmd", f"{restart} off >/dev/null",
                     "--restart-cmd", f"{restart} on >/dev/null", *table, "--json", out)
    assert r.returncode == 0, r.stdout + r.stderr
    targets = json.loads(out.read_text())["targets"]
    direct, pooled = targets["direct"], targets["wp"]
    # A read cut by the shutdown is re-sent at most twice (retry_reads); when
    # more of the pool's connections die under it in the same restart, the
    # client gets ERR 1927. Rare: allow two, against direct clients' many.
    assert pooled["errors"] <= 2, r.stdout
    assert direct["errors"] >= 10 * max(1, pooled["errors"]), r.stdout
    assert len(pooled["recovery_ms"]) == 2 and len(pooled["outage_s"]) == 2
    assert pooled["answered"] > 0 and direct["answered"] > 0
    # The outage is the restart itself: a client waited through it.
    assert pooled["stall_max_s"] >= min(pooled["outage_s"]) * 0.5, pooled


def test_large_statement_then_point_selects_on_the_same_pooled_connections(
        warmpool_factory, mariadb, tmp_path):
    """--large-first: 4 MiB each way through warmpool, TLS on both sides, on all
    four pooled connections at once; then point selects on those connections.
    Wake-ups per query and the ring's counters are reported."""
    table = bench_table(mariadb)
    wp = warmpool_factory(listener_main={"pool_mode": "transaction"},
                          backend_main={"max_connections": "4"})
    out = tmp_path / "large.json"
    r, _ = run_bench("throughput", "--target", f"fresh=127.0.0.1:{wp.port}/tls",
                     "--target", f"large=127.0.0.1:{wp.port}/tls", "--pid", f"large={wp.proc.pid}",
                     "--large-first", "large", "--connections", 4, "--seconds", 1, "--rounds", 2,
                     "--ssl-ca", f"{mariadb.env['certs']}/ca.pem", "--server-name", "localhost",
                     *table, "--json", out)
    assert r.returncode == 0, r.stdout + r.stderr
    targets = json.loads(out.read_text())["targets"]
    assert targets["fresh"]["errors"] == 0 and targets["large"]["errors"] == 0, r.stdout
    assert targets["large"]["ops"] > 0 and targets["large"]["wakeups_per_op"] > 0, r.stdout
    with urllib.request.urlopen(f"http://127.0.0.1:{wp.admin_port}/metrics", timeout=5) as m:
        text = m.read().decode()
    values = dict(re.findall(r"^(warmpool_\w+) (\S+)$", text, re.M))
    # Two rounds of four 4 MiB results came back from the backend.
    assert float(values["warmpool_backend_received_bytes_total"]) > 8 * (4 << 20), values
    waits = float(values["warmpool_ring_waits_total"])
    assert waits > 0 and float(values["warmpool_ring_completions_total"]) >= waits


def test_forwarder_relays_both_ways_and_frees_each_pair(mariadb, tmp_path):
    """bench/forward.c, the baseline of issue #18: a real client logs in and
    reads through it, the read-write mix's every transaction reaches the
    server, and each client's backend connection ends with the client."""
    table = bench_table(mariadb)
    port = free_port()
    fwd = subprocess.Popen([str(FORWARD), str(port), str(mariadb.port)])
    try:
        wait_until(lambda: cli(port, "SELECT 1").returncode == 0, what="the forwarder to listen")
        r = cli(port, "SELECT CONCAT(CURRENT_USER(), ' ', @@port)")
        assert r.stdout.strip() == f"app@% {mariadb.port}", r.stdout + r.stderr
        before = int(mariadb.root_sql("SELECT SUM(k) FROM wp_bench.t"))
        out = tmp_path / "rw.json"
        r, _ = run_bench("throughput", "--mix", "read-write", "--target", f"fwd=127.0.0.1:{port}",
                         "--pid", f"fwd={fwd.pid}", "--connections", 8, "--seconds", 2,
                         "--rounds", 1, *table, "--json", out)
        assert r.returncode == 0, r.stdout + r.stderr
        t = json.loads(out.read_text())["targets"]["fwd"]
        assert t["errors"] == 0 and t["ops"] > 0 and t["cpu_us_per_op"] > 0, t
        assert int(mariadb.root_sql("SELECT SUM(k) FROM wp_bench.t")) - before == t["ops"]
        # Its clients are gone: so are their backend connections (only the listener is left).
        wait_until(lambda: len(os.listdir(f"/proc/{fwd.pid}/fd")) <= 8, timeout=10,
                   what="the forwarder to close the pairs")
        assert fwd.poll() is None
    finally:
        fwd.kill()
        fwd.wait()


CHURNER = """
import threading, time
def busy():  # a thread that sleeps often (each sleep is a wake-up), then ends
    for _ in range(2000):
        time.sleep(0.0002)
threading.Thread(target=busy).start()
time.sleep(60)
"""


def test_wakeups_of_threads_that_end_are_not_taken_back(mariadb, tmp_path):
    """A server that ends its per-connection threads (MySQL's do) must read
    zero or more wake-ups per query, never fewer than none: a thread's count
    leaves with it, so readings are compared thread by thread."""
    table = bench_table(mariadb)
    churner = subprocess.Popen(["python3", "-c", CHURNER])
    try:
        def busy_thread_switches():
            tasks = os.listdir(f"/proc/{churner.pid}/task")
            return max(int(open(f"/proc/{churner.pid}/task/{t}/status").read()
                           .split("voluntary_ctxt_switches:")[1].split()[0]) for t in tasks)
        wait_until(lambda: busy_thread_switches() > 200, what="the busy thread to sleep often")
        out = tmp_path / "churn.json"
        # The busy thread ends within the measured 2 s; the queries go to MariaDB.
        r, _ = run_bench("throughput", "--target", f"db=127.0.0.1:{mariadb.port}",
                         "--pid", f"db={churner.pid}", "--connections", 1, "--seconds", 2,
                         "--rounds", 1, *table, "--json", out)
        assert r.returncode == 0, r.stdout + r.stderr
        assert len(os.listdir(f"/proc/{churner.pid}/task")) == 1  # it did end
        t = json.loads(out.read_text())["targets"]["db"]
        assert t["ops"] > 0 and t["wakeups_per_op"] >= 0, t
    finally:
        churner.kill()
        churner.wait()
