"""Session pooling: warm connections are reused and reset, waits are bounded, dead ones dropped."""
import socket
import subprocess
import threading
import time

from conftest import cli, connect


def backend_ids(port, n, sql="SELECT CONNECTION_ID()"):
    ids = []
    for _ in range(n):
        r = cli(port, sql)
        assert r.returncode == 0, r.stderr
        ids.append(r.stdout.strip())
    return ids


def test_backend_connections_are_reused_and_reset(warmpool_factory):
    wp = warmpool_factory(warmpool={"workers": "1"}, backend_main={"min_idle": "1"})
    ids = backend_ids(wp.port, 6)
    # Six clients, one after another, share the warm connections.
    assert len(set(ids)) <= 2, ids
    # State left by one client is gone for the next (COM_RESET_CONNECTION).
    r = cli(wp.port, "SET @leak = 'x'; CREATE TEMPORARY TABLE wp_tmp (a INT); SELECT @leak",
            database="sbtest")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "x"
    for _ in range(3):
        r = cli(wp.port, "SELECT @leak IS NULL, (SELECT COUNT(*) FROM information_schema.tables "
                         "WHERE table_name = 'wp_tmp' AND table_type = 'TEMPORARY')")
        assert r.returncode == 0, r.stderr
        assert r.stdout.split() == ["1", "0"], r.stdout


def test_pool_is_prewarmed(warmpool_factory, mariadb):
    wp = warmpool_factory(backend_main={"min_idle": "4"})
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        n = int(mariadb.root_sql("SELECT COUNT(*) FROM information_schema.processlist "
                                 "WHERE user = 'app'").strip())
        if n >= 4:
            break
        time.sleep(0.1)
    assert n >= 4
    assert wp.read_log().count("backend connection ready") >= 4


def test_exhausted_pool_queues_then_serves(warmpool_factory):
    wp = warmpool_factory(warmpool={"workers": "1", "client_wait_timeout_ms": "20000"},
                          backend_main={"min_idle": "1", "max_connections": "1"})
    holder = connect(wp.port)
    result = {}

    def second_client():
        t0 = time.monotonic()
        try:
            c = connect(wp.port)
            with c.cursor() as cur:
                cur.execute("SELECT 'served'")
                result["value"] = cur.fetchone()[0]
            c.close()
        except Exception as e:  # recorded and asserted below
            result["error"] = e
        result["done"] = time.monotonic() - t0

    t = threading.Thread(target=second_client)
    t.start()
    t.join(1.5)
    assert t.is_alive(), f"second client was not made to wait: {result}"
    assert "done" not in result
    holder.close()  # frees the only backend connection
    t.join(15)
    assert not t.is_alive()
    assert result.get("value") == "served", result


def test_exhausted_pool_times_out_with_clear_error(warmpool_factory):
    wp = warmpool_factory(warmpool={"workers": "1", "client_wait_timeout_ms": "500"},
                          backend_main={"min_idle": "1", "max_connections": "1"})
    holder = connect(wp.port)
    r = cli(wp.port, "SELECT 1")
    assert "ERROR 1040 (08004)" in r.stderr, r.stderr
    assert "no free connection to backend 'main' within 500 ms" in r.stderr
    with holder.cursor() as cur:  # the holder is undisturbed
        cur.execute("SELECT 5")
        assert cur.fetchone() == (5,)
    holder.close()
    assert cli(wp.port, "SELECT 1").returncode == 0


def test_dead_idle_connection_is_never_handed_out(warmpool_factory, mariadb):
    wp = warmpool_factory(warmpool={"workers": "1"}, backend_main={"min_idle": "2"})
    assert wp.wait_for_log("backend connection ready")
    time.sleep(0.5)
    ids = mariadb.root_sql("SELECT id FROM information_schema.processlist WHERE user = 'app'").split()
    assert ids
    for i in ids:
        try:
            mariadb.root_sql(f"KILL {i}")
        except subprocess.CalledProcessError as e:
            # A connection of an earlier test's warmpool may be gone already.
            assert "Unknown thread id" in e.stderr, e.stderr
    # The kills are noticed at once (receive armed on idle connections) ...
    assert wp.wait_for_log("idle backend connection closed")
    # ... and every client is served by a live connection.
    for _ in range(4):
        r = cli(wp.port, "SELECT 1")
        assert r.returncode == 0, r.stderr


def test_client_vanishing_while_idle_leaves_nothing_behind(warmpool_factory, mariadb):
    wp = warmpool_factory(warmpool={"workers": "1"},
                          backend_main={"min_idle": "1", "max_connections": "1"})
    c = connect(wp.port, database="sbtest")
    with c.cursor() as cur:
        cur.execute("SET @left = 'behind'")
        cur.execute("SELECT CONNECTION_ID()")
        used = cur.fetchone()[0]
    # Vanish without COM_QUIT, between statements. shutdown, not close:
    # pymysql's makefile() keeps the descriptor open after close().
    c._sock.shutdown(socket.SHUT_RDWR)
    time.sleep(0.3)
    # Nothing was in flight: the connection is reset and reused, state gone.
    r = cli(wp.port, "SELECT CONNECTION_ID(), @left IS NULL, DATABASE() IS NULL")
    assert r.stdout.split() == [str(used), "1", "1"], r.stdout + r.stderr


def test_client_vanishing_mid_response_closes_its_connection(warmpool_factory, mariadb):
    wp = warmpool_factory(warmpool={"workers": "1", "log_level": "debug"},
                          backend_main={"min_idle": "1", "max_connections": "2"})
    c = connect(wp.port)
    with c.cursor() as cur:
        cur.execute("SELECT CONNECTION_ID()")
        used = cur.fetchone()[0]
    query = b"\x03SELECT SLEEP(0.5), 1"  # COM_QUERY whose answer is never read
    c._sock.sendall(len(query).to_bytes(3, "little") + b"\x00" + query)
    c._sock.shutdown(socket.SHUT_RDWR)
    time.sleep(1.0)
    # A response was on its way: that connection is closed, never reused.
    assert wp.wait_for_log('reason="its client left mid-response"')
    ids = backend_ids(wp.port, 3)
    assert str(used) not in ids


def test_reset_restores_the_login_charset(warmpool_factory):
    # One connection in all: the second client surely reuses the first's.
    wp = warmpool_factory(warmpool={"workers": "1"},
                          backend_main={"min_idle": "1", "max_connections": "1"})
    r = cli(wp.port, "SELECT CONNECTION_ID(), @@character_set_client",
            extra=["--default-character-set=latin1"])
    first_id, charset = r.stdout.split()
    assert charset == "latin1"
    c = connect(wp.port, charset="utf8mb4")  # pymysql 1.0 sends collation 45
    with c.cursor() as cur:
        cur.execute("SELECT CONNECTION_ID(), @@character_set_client, @@collation_connection")
        conn_id, charset, collation = cur.fetchone()
    c.close()
    assert str(conn_id) == first_id
    assert (charset, collation) == ("utf8mb4", "utf8mb4_general_ci")


def test_readme_documents_every_config_key():
    import subprocess
    from conftest import ROOT, WARMPOOL
    example = subprocess.run([str(WARMPOOL), "--example-config"], capture_output=True,
                             text=True, check=True).stdout
    keys = [line[1:].split(" = ")[0] for line in example.splitlines()
            if line.startswith(";") and " = " in line and not line.startswith("; ")]
    readme = (ROOT / "README.md").read_text()
    assert len(keys) > 20
    missing = [k for k in keys if f"`{k}`" not in readme]
    assert not missing, missing
