"""Backend groups: one listener balanced over three real MariaDB instances, each with
its own health; a member's restart moves its clients to the others; a rolling restart
of the whole group with TLS toggled under sysbench read-only load."""
import json
import re
import subprocess
import threading
import time
import urllib.request

import pytest

from conftest import MariaDB, connect, row


@pytest.fixture
def three_dbs(tmp_path):
    dbs = [MariaDB(tmp_path / f"db{i}") for i in range(3)]
    for db in dbs:  # one after another: the fixture picks free ports
        db.start(ssl="on")
    yield dbs
    for db in dbs:
        db.stop()


def group_pool(warmpool_factory, dbs, balance="least_outstanding", **listener):
    sections = {f"backend_m{i}": {"host": "127.0.0.1", "port": str(db.port),
                                  "ssl_mode": "preferred", "ssl_ca": db.env["ca"],
                                  "ssl_server_name": "localhost", "min_idle": "2",
                                  "max_connections": "32"}
                for i, db in enumerate(dbs)}
    return warmpool_factory(
        warmpool={"client_wait_timeout_ms": "30000"},
        listener_main={"backend": "replicas", "pool_mode": "transaction", **listener},
        **sections, **{"group replicas": {"members": "m0, m1, m2", "balance": balance}})


def status(wp):
    with urllib.request.urlopen(f"http://127.0.0.1:{wp.admin_port}/status", timeout=5) as r:
        return json.load(r)


def member_queries(wp):
    return {b["name"]: b["queries"] for b in status(wp)["backends"] if b["name"] in ("m0", "m1", "m2")}


@pytest.mark.parametrize("balance", ["least_outstanding", "round_robin"])
def test_queries_spread_over_the_members(warmpool_factory, three_dbs, balance):
    wp = group_pool(warmpool_factory, three_dbs, balance)
    clients = [connect(wp) for _ in range(6)]
    ports = set()
    for _ in range(40):
        for c in clients:
            ports.add(row(c, "SELECT @@port")[0])
    assert ports == {db.port for db in three_dbs}
    time.sleep(0.3)  # the next published statistics
    counts = member_queries(wp)
    total = sum(counts.values())
    assert total >= 240
    for name, n in counts.items():
        assert n >= total * 0.15, counts  # each member takes a fair share
    assert [l["members"] for l in status(wp)["listeners"] if l["name"] == "main"] == \
        [["m0", "m1", "m2"]]
    for c in clients:
        c.close()


def test_a_member_down_sends_its_clients_to_the_others(warmpool_factory, three_dbs):
    wp = group_pool(warmpool_factory, three_dbs)
    clients = [connect(wp) for _ in range(6)]
    three_dbs[1].stop()
    survivors = {three_dbs[0].port, three_dbs[2].port}
    for _ in range(20):
        for c in clients:
            assert row(c, "SELECT @@port")[0] in survivors
    st = status(wp)
    assert st["ready"] is True  # one member down is not the group down
    # down, or probing (down with a connect attempt in flight)
    assert [b["health"] for b in st["backends"] if b["name"] == "m1"] in (["down"], ["probing"])
    three_dbs[1].start(ssl="on")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if [b["health"] for b in status(wp)["backends"] if b["name"] == "m1"] == ["up"]:
            break
        time.sleep(0.1)
    # Back in rotation once every worker has reconnected to it (each probes
    # on its own backoff, at most 500 ms apart).
    ports, deadline = set(), time.monotonic() + 5
    while three_dbs[1].port not in ports and time.monotonic() < deadline:
        for c in clients:
            ports.add(row(c, "SELECT @@port")[0])
    assert three_dbs[1].port in ports
    for c in clients:
        c.close()


def test_rolling_restart_with_tls_toggled_under_sysbench(warmpool_factory, three_dbs):
    """Each member restarts in turn, TLS toggled, while sysbench runs read-only
    autocommit point selects through the group: with retry_reads, statements
    cut by a restart run again on another member, so sysbench sees no error."""
    for db in three_dbs:
        db.root_sql("CREATE DATABASE sbro; GRANT ALL ON sbro.* TO 'app'@'%'")
        prep = subprocess.run(
            ["sysbench", "oltp_read_only", "--mysql-host=127.0.0.1", f"--mysql-port={db.port}",
             "--mysql-user=app", "--mysql-password=app-secret", "--mysql-db=sbro", "--tables=1",
             "--table-size=1000", "--mysql-ssl=off", "prepare"], capture_output=True, text=True)
        assert prep.returncode == 0, prep.stderr
    wp = group_pool(warmpool_factory, three_dbs, retry_reads="true")
    run = subprocess.Popen(
        ["sysbench", "oltp_read_only", "--mysql-host=127.0.0.1", f"--mysql-port={wp.port}",
         "--mysql-user=app", "--mysql-password=app-secret", "--mysql-db=sbro", "--tables=1",
         "--table-size=1000", "--mysql-ssl=off", "--db-ps-mode=disable", "--skip_trx=on",
         "--threads=8", "--time=22", "--report-interval=1", "--percentile=100", "run"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(3)
    for i, db in enumerate(three_dbs):
        db.restart(ssl="off" if i % 2 == 0 else "on")
        time.sleep(2)
    output = run.communicate(timeout=120)[0]
    assert run.returncode == 0, output[-3000:]
    errors = int(re.search(r"ignored errors:\s+(\d+)", output).group(1))
    reconnects = int(re.search(r"reconnects:\s+(\d+)", output).group(1))
    queries = int(re.search(r"queries:\s+(\d+)", output).group(1))
    max_ms = float(re.search(r"max:\s+([\d.]+)", output).group(1))
    per_second = [float(q) for q in re.findall(r"qps: ([\d.]+)", output)]
    with urllib.request.urlopen(f"http://127.0.0.1:{wp.admin_port}/metrics", timeout=5) as r:
        metrics = r.read().decode()
    retried = re.search(r"^warmpool_retried_reads_total (\S+)$", metrics, re.M).group(1)
    print(f"rolling restart: queries={queries} errors={errors} reconnects={reconnects} "
          f"max_latency_ms={max_ms} qps_median={sorted(per_second)[len(per_second) // 2]:.0f} "
          f"qps_min={min(per_second):.0f} retried_reads={retried}")
    assert errors == 0 and reconnects == 0 and queries > 1000
    # Every member was seen going down and coming back.
    for name in ("m0", "m1", "m2"):
        assert f'msg="backend up" backend={name}' in wp.read_log(), name


def test_all_members_down_a_query_waits_for_the_first_back(warmpool_factory, three_dbs):
    wp = group_pool(warmpool_factory, three_dbs)
    c = connect(wp)
    assert row(c, "SELECT 1") == (1,)
    for db in three_dbs:
        db.stop()
    answer = []
    t = threading.Thread(target=lambda: answer.append(row(c, "SELECT @@port")[0]))
    t.start()
    time.sleep(2)  # the query waits: every member is down
    assert not answer
    st = status(wp)
    assert st["ready"] is False and any("group replicas" in r for r in st["readiness"])
    three_dbs[2].start(ssl="on")
    t.join(timeout=30)
    assert answer == [three_dbs[2].port]
    c.close()
