"""TLS session resumption: backends (TLS 1.3 and 1.2, across a restart) and the frontend."""
import re
import subprocess
import time

import pytest

from conftest import cli

READY = re.compile(r'msg="backend connection ready" conn=s\d+ backend=\w+ user="\w+" '
                   r'tls=(\S+) resumed=(yes|no) ticket=([0-9a-f]{16})')


def ready_lines(wp):
    return READY.findall(wp.read_log())


def replace_backend_connections(db, wp, times):
    """Kills warmpool's idle backend connections, `times` times, waiting for
    each replacement: every replacement is a new TLS handshake."""
    for _ in range(times):
        before = len(ready_lines(wp))
        ids = db.root_sql("SELECT id FROM information_schema.processlist WHERE user = 'app'").split()
        for i in ids:
            try:
                db.root_sql(f"KILL {i}")
            except subprocess.CalledProcessError:
                pass  # already gone
        deadline = time.monotonic() + 10
        while len(ready_lines(wp)) < before + 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)


@pytest.mark.parametrize("version,expect", [("1.3", "TLSv1.3"), ("1.2", "TLSv1.2")])
def test_backend_connections_resume(warmpool_factory, private_db, version, expect):
    wp = warmpool_factory(db=private_db, warmpool={"workers": "1"},
                          backend_main={"min_idle": "1", "tls_max_version": version})
    assert wp.wait_for_log("backend connection ready")
    replace_backend_connections(private_db, wp, 6)
    lines = ready_lines(wp)
    assert len(lines) >= 7, wp.read_log()
    assert all(tls == expect for tls, _, _ in lines)
    first, later = lines[0], lines[1:]
    assert first[1] == "no" and first[2] == "0" * 16, first  # nothing to offer yet
    assert all(resumed == "yes" for _, resumed, _ in later), lines
    if version == "1.3":
        # MariaDB (OpenSSL, stateless tickets) resumes a ticket more than once:
        # the second resumption offers the first one's ticket again (the
        # probe), and reuse is learned (test_tls_stash.py).
        tickets = [t for _, _, t in later]
        assert tickets[0] == tickets[1], f"the probe offers the first ticket again: {tickets}"
    assert cli(wp.port, "SELECT 1").returncode == 0


def test_restart_falls_back_to_full_handshake_then_resumes(warmpool_factory, private_db):
    wp = warmpool_factory(db=private_db, warmpool={"workers": "1", "client_wait_timeout_ms": "20000"},
                          backend_main={"min_idle": "1"})
    assert wp.wait_for_log("backend connection ready")
    replace_backend_connections(private_db, wp, 2)
    before = len(ready_lines(wp))
    private_db.restart(ssl="on")  # new ticket keys on the server
    r = cli(wp.port, "SELECT 'after restart'")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "after restart"
    replace_backend_connections(private_db, wp, 3)
    after = ready_lines(wp)[before:]
    assert len(after) >= 3, wp.read_log()
    tls, resumed, ticket = after[0]
    assert resumed == "no" and ticket != "0" * 16, after[0]  # offered, refused
    assert all(r == "yes" for _, r, _ in after[1:]), after
    wp.stop()
    summary = re.search(r'msg="tls handshake summary" backend=main full=(\d+) resumed=(\d+) '
                        r'offered=(\d+) refused=(\d+)', wp.read_log())
    assert summary, wp.read_log()
    full, resumed, offered, refused = map(int, summary.groups())
    assert refused >= 1 and resumed >= 3 and offered == resumed + refused


def test_quiet_pool_refreshes_its_tickets(warmpool_factory, private_db):
    """No connection opens on its own, yet the stash stays fresh: past half a
    ticket's life one idle connection is replaced, and it resumes."""
    wp = warmpool_factory(db=private_db, warmpool={"workers": "1"},
                          backend_main={"min_idle": "1", "tls_ticket_max_age_ms": "2000"})
    assert wp.wait_for_log("backend connection ready")
    assert wp.wait_for_log('reason="refreshing TLS tickets"', timeout=10), wp.read_log()
    deadline = time.monotonic() + 10
    while len(ready_lines(wp)) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    lines = ready_lines(wp)
    assert len(lines) >= 3, wp.read_log()  # two refreshes, at most one per half life
    assert all(resumed == "yes" for _, resumed, _ in lines[1:]), lines
    assert cli(wp.port, "SELECT 1").returncode == 0


def test_resumption_can_be_turned_off(warmpool_factory, private_db):
    wp = warmpool_factory(db=private_db, warmpool={"workers": "1"},
                          backend_main={"min_idle": "1", "tls_resumption": "false"})
    assert wp.wait_for_log("backend connection ready")
    replace_backend_connections(private_db, wp, 2)
    assert all(resumed == "no" for _, resumed, _ in ready_lines(wp))


def s_client(port, ca, sess_flag, sess_file):
    """openssl s_client speaking MySQL STARTTLS; returns its output."""
    out = subprocess.run(f"sleep 0.3 | openssl s_client -connect 127.0.0.1:{port} -starttls mysql "
                         f"-CAfile {ca} {sess_flag} {sess_file}",
                         shell=True, capture_output=True, text=True, timeout=20)
    return out.stdout


def test_frontend_resumes_on_any_worker(warmpool_factory, mariadb, tmp_path):
    wp = warmpool_factory(warmpool={"workers": "2", "log_level": "debug"})
    ca, sess = mariadb.env["ca"], tmp_path / "sess.pem"
    assert "New, TLSv1.3" in s_client(wp.port, ca, "-sess_out", sess)
    workers = set()
    for _ in range(30):
        assert "Reused, TLSv1.3" in s_client(wp.port, ca, "-sess_in", sess)
        workers = set(re.findall(r'worker=(\d) msg="client TLS established" conn=c\d+ '
                                 r'version=TLSv1.3 resumed=yes', wp.read_log()))
        if len(workers) == 2:
            break
    assert workers == {"0", "1"}, "resumed on one worker only"


def test_ticket_key_file_shared_by_replicas(warmpool_factory, mariadb, tmp_path):
    key = tmp_path / "ticket.key"
    key.write_text("ab" * 48 + "\n")
    a = warmpool_factory(listener_main={"tls_ticket_key_file": str(key)})
    b = warmpool_factory(listener_main={"tls_ticket_key_file": str(key)})
    c = warmpool_factory()  # its own random keys
    ca, sess = mariadb.env["ca"], tmp_path / "sess.pem"
    assert "New," in s_client(a.port, ca, "-sess_out", sess)
    assert "Reused," in s_client(b.port, ca, "-sess_in", sess)
    assert "New," in s_client(c.port, ca, "-sess_in", sess)


def test_bench_handshake_resumes_after_warm_up(mariadb, tmp_path):
    """warmpool-bench itself: resumed connections resume (it uses the daemon's cache code)."""
    import json
    import os
    from conftest import WARMPOOL
    bench = WARMPOOL.parents[1] / "bench" / "warmpool-bench"  # same build as warmpool
    out = tmp_path / "hs.json"
    r = subprocess.run([str(bench), "handshake", "--port", str(mariadb.port), "--ssl-ca",
                        mariadb.env["ca"], "--server-name", "localhost", "--count", "60",
                        "--rounds", "3", "--backend-pid", mariadb.env["pid"], "--json", str(out)],
                       capture_output=True, text=True, timeout=120,
                       env={**os.environ, "WARMPOOL_BENCH_PASSWORD": "app-secret"})
    assert r.returncode == 0, r.stderr
    modes = json.loads(out.read_text())["modes"]
    assert modes["resumed"]["resumed_fraction"] >= 0.99
    assert modes["full"]["resumed_fraction"] == 0
    assert all(m["connections"] == 60 and m["errors"] == 0 for m in modes.values())
