"""Pool lifecycle: after a burst the pool shrinks back to min_idle
(idle_timeout_ms), and connections are renewed once old (max_age_ms) but
never under a client, counted from MariaDB's side of the connections."""
import json
import signal
import urllib.request

from conftest import connect, value, wait_until

BURST = 12


def server_ids(db):
    """Thread ids of warmpool's backend connections, as MariaDB sees them."""
    out = db.root_sql("SELECT id FROM information_schema.processlist WHERE user = 'app'")
    return {int(x) for x in out.split()}


def status(wp):
    with urllib.request.urlopen(f"http://127.0.0.1:{wp.admin_port}/status", timeout=10) as r:
        return json.loads(r.read())


def test_pool_shrinks_back_to_min_idle_after_a_burst(warmpool_factory, private_db):
    """idle_timeout_ms off at start, turned on by a reload: the idle
    connections above min_idle close, down to min_idle, and not below."""
    wp = warmpool_factory(db=private_db, backend_main={"min_idle": "2", "idle_timeout_ms": "0",
                                                        "max_age_ms": "0"})
    wait_until(lambda: len(server_ids(private_db)) == 2, timeout=60, what="prewarm")
    # Session mode: each client holds a backend connection of its own.
    clients = [connect(wp.port) for _ in range(BURST)]
    for c in clients:
        assert value(c, "SELECT 1") == 1
    assert len(server_ids(private_db)) >= BURST
    for c in clients:
        c.close()
    wait_until(lambda: status(wp)["backends"][0]["connections"]["idle"] >= BURST,
               timeout=60, what="the burst's connections back in the pool")
    assert len(server_ids(private_db)) >= BURST  # kept: idle_timeout_ms = 0

    wp.config.write_text(wp.config.read_text().replace("idle_timeout_ms = 0",
                                                       "idle_timeout_ms = 1000"))
    wp.proc.send_signal(signal.SIGHUP)
    assert wp.wait_for_log('msg="configuration reloaded"')
    wait_until(lambda: len(server_ids(private_db)) == 2, timeout=60,
               what="the pool to shrink to min_idle")
    st = status(wp)["backends"][0]
    assert st["idle_timeout_ms"] == 1000
    assert st["closed"]["idle_timeout"] >= BURST - 2
    assert st["lost"] == 0
    # min_idle stays warm, and the pool serves and grows again.
    c = connect(wp.port)
    assert value(c, "SELECT 2") == 2
    c.close()
    assert len(server_ids(private_db)) >= 2


def test_connections_are_renewed_after_max_age_never_under_a_client(warmpool_factory,
                                                                      private_db):
    wp = warmpool_factory(db=private_db,
                          backend_main={"min_idle": "2", "max_age_ms": "2000",
                                        "idle_timeout_ms": "0"},
                          listener_sha2={"pool_mode": "transaction"})
    wait_until(lambda: len(server_ids(private_db)) >= 2, timeout=60, what="prewarm")
    # A session-mode client holds its connection: it must never be renewed.
    holder = connect(wp.port)
    held = value(holder, "SELECT CONNECTION_ID()")
    # A transaction-mode client, idle between transactions.
    idle = connect(wp.sha2_port)
    assert value(idle, "SELECT 1") == 1
    first = server_ids(private_db) - {held}
    assert first
    # Every connection the pool holds free is replaced: none of the first is left.
    wait_until(lambda: not (server_ids(private_db) & first) and
               len(server_ids(private_db) - {held}) >= 2, timeout=60,
               what="every free connection renewed")
    assert held in server_ids(private_db)
    assert value(holder, "SELECT CONNECTION_ID()") == held
    # The idle client notices nothing: its next statements run, on new connections.
    for _ in range(3):
        assert value(idle, "SELECT CONNECTION_ID()") not in first
    st = status(wp)["backends"][0]
    assert st["max_age_ms"] == 2000
    assert st["closed"]["max_age"] >= len(first)
    assert st["lost"] == 0
    holder.close()
    idle.close()
