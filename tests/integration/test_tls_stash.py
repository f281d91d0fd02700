"""One TLS session stash per backend for the whole process: at start and after each
restart one full handshake serves every worker, and a burst of new backend
connections resumes (against MariaDB and MySQL, which both resume a TLS 1.3 ticket
more than once). Everything is counted from /metrics."""
import re
import threading
import urllib.request

import pymysql
import pytest

from conftest import wait_until, run_threads

WORKERS = 4
MIN_IDLE = 4
BURST = 32


def metrics(wp):
    with urllib.request.urlopen(f"http://127.0.0.1:{wp.admin_port}/metrics", timeout=5) as r:
        return r.read().decode()


def sample(text, name, labels, default=None):
    m = re.search(rf"^{name}{{{re.escape(labels)}}} (\S+)$", text, re.M)
    assert m or default is not None, f"{name}{{{labels}}} not in /metrics"
    return float(m.group(1)) if m else default


def pool_state(wp):
    """(full, resumed, idle, connecting, ticket reuse accepted) for backend main."""
    text = metrics(wp)
    hs = 'side="backend",peer="main",kind="{}"'
    conns = 'backend="main",state="{}"'
    return (sample(text, "warmpool_tls_handshakes_total", hs.format("full")),
            sample(text, "warmpool_tls_handshakes_total", hs.format("resumed")),
            sample(text, "warmpool_backend_connections", conns.format("idle")),
            sample(text, "warmpool_backend_connections", conns.format("connecting")),
            sample(text, "warmpool_tls_ticket_reuse", 'backend="main",state="accepted"', 0.0))


def settled(wp, idle, exact=True):
    """The pool state once |idle| connections (or more, unless exact) are idle
    and none opens."""
    def check():
        s = pool_state(wp)
        return s if (s[2] == idle or (not exact and s[2] > idle)) and s[3] == 0 else None
    return wait_until(check, timeout=60, what=f"{idle} idle backend connections")


def burst(port, n):
    """n clients connected at once (session mode: n backend connections), then gone."""
    barrier = threading.Barrier(n, timeout=60)
    errors = []

    def client():
        try:
            c = pymysql.connect(host="127.0.0.1", port=port, user="app", password="app-secret",
                                connect_timeout=30, read_timeout=60)
            with c.cursor() as cur:
                cur.execute("SELECT 1")
            barrier.wait()
            c.close()
        except Exception as e:  # reported below, with the others
            errors.append(repr(e))
            barrier.abort()

    run_threads(client, n)
    assert not errors, errors


@pytest.mark.parametrize("server", ["mariadb", "mysql"])
def test_one_full_handshake_per_start_and_restart_then_bursts_resume(warmpool_factory, request,
                                                                     server):
    db = request.getfixturevalue("private_db" if server == "mariadb" else "private_mysql")
    wp = warmpool_factory(db=db, warmpool={"workers": str(WORKERS),
                                           "client_wait_timeout_ms": "30000"},
                          # The whole burst opens at once: a stash of single-use
                          # tickets (two per full handshake, one per resumption)
                          # could not serve it.
                          backend_main={"min_idle": str(MIN_IDLE), "max_connections": "160",
                                        "connect_concurrency": str(BURST)})
    full, resumed = 0.0, 0.0
    for round_ in range(4):  # the start, then three restarts
        if round_:
            db.restart(ssl="on")  # new ticket keys: every ticket of the stash is refused
        f, r, _, _, _ = settled(wp, MIN_IDLE)
        assert f - full == 1, f"round {round_}: {f - full} full handshakes refilling " \
                              f"{MIN_IDLE} connections on {WORKERS} workers\n{wp.read_log()[-4000:]}"
        full, resumed = f, r
        burst(wp.port, BURST)
        # A worker the burst missed keeps its idle connection: BURST or more.
        f, r, _, _, accepted = settled(wp, BURST, exact=False)
        opened = (f - full) + (r - resumed)
        assert opened >= BURST - MIN_IDLE, (round_, f, r)
        assert (r - resumed) / opened >= 0.95, f"round {round_}: {r - resumed} of {opened} resumed"
        assert accepted == 1, f"{server} resumes a ticket more than once: reuse must be learned"
        full, resumed = f, r
