"""Operations: the admin endpoint (/healthz /readyz /metrics /status), reload on
SIGHUP and drain on SIGTERM, against the real MariaDB and real clients."""
import json
import re
import signal
import subprocess
import urllib.error
import urllib.request

import pymysql
import pytest

from conftest import Warmpool, cli, connect, free_port, value, wait_until


def get(wp, path, token=None):
    """GET on the admin endpoint: (status, body text)."""
    req = urllib.request.Request(f"http://127.0.0.1:{wp.admin_port}{path}")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def status(wp):
    code, body = get(wp, "/status")
    assert code == 200, body
    return json.loads(body)


def metric(text, name, labels=""):
    """The value of one sample in Prometheus text, e.g. metric(t, 'x', 'a="b"')."""
    pattern = rf"^{re.escape(name)}{re.escape('{' + labels + '}') if labels else ''} (\S+)$"
    m = re.search(pattern, text, re.M)
    assert m, f"{name}{{{labels}}} missing"
    return float(m.group(1))


def backend_sessions(db):
    return int(db.root_sql("SELECT COUNT(*) FROM information_schema.PROCESSLIST "
                           "WHERE USER = 'app'").strip())


def test_healthz_and_status(warmpool):
    code, body = get(warmpool, "/healthz")
    assert code == 200
    health = json.loads(body)
    assert health["status"] == "ok"
    assert [w["stuck"] for w in health["workers"]] == [False, False]
    assert cli(warmpool.port, "SELECT 1").returncode == 0
    # The query is counted in the figures its worker publishes at its next tick.
    st = wait_until(lambda: (s := status(warmpool))["queries"] >= 1 and s["ready"] and s,
                    what="a query, and every worker listening")
    assert st["ready"] is True and st["readiness"] == [], st["readiness"]
    backend = st["backends"][0]
    assert backend["name"] == "main" and backend["health"] == "up"
    assert backend["tls"] == "TLSv1.3"  # verify_identity against the fixture
    assert "MariaDB" in backend["server_version"]
    assert backend["connections"]["idle"] >= 1
    assert st["listeners"][0]["accepting"] is True
    assert st["listeners"][0]["accepted"] >= 1
    assert {"set", "prepared_statement"} <= set(st["pins"])
    assert get(warmpool, "/nope")[0] == 404


def test_status_is_whole_as_soon_as_warmpool_says_it_started(warmpool):
    """Each worker publishes its figures before main logs "warmpool started",
    not at its first tick: a readiness probe sent right after the start finds
    every listener accepting on every worker."""
    st = status(warmpool)
    assert [l["accepting"] for l in st["listeners"]] == [True] * len(st["listeners"]), st
    assert "is not accepting" not in " ".join(st["readiness"]), st["readiness"]


def test_readyz_follows_the_backend(warmpool_factory, private_db):
    wp = warmpool_factory(db=private_db)
    wait_until(lambda: get(wp, "/readyz")[0] == 200, what="ready")
    private_db.stop()
    code, body = wait_until(lambda: (r := get(wp, "/readyz"))[0] == 503 and r,
                            what="not ready once the backend is stopped")
    reasons = json.loads(body)["reasons"]
    assert any("backend main is down" in r for r in reasons), reasons
    assert get(wp, "/healthz")[0] == 200  # alive, only not ready
    private_db.start(ssl="on")
    wait_until(lambda: get(wp, "/readyz")[0] == 200, what="ready again")
    assert status(wp)["backends"][0]["health"] == "up"


def test_readyz_reports_a_tls_refusal(warmpool_factory, private_db):
    """verify_identity and a backend restarted without TLS: down, and why."""
    wp = warmpool_factory(db=private_db)
    private_db.restart(ssl="off")
    # While it restarts the reason is "Connection refused"; then the refusal.
    code, body = wait_until(lambda: (r := get(wp, "/readyz"))[1].find("does not offer TLS") > 0
                            and r, what="the TLS refusal as the reason")
    assert code == 503, body
    private_db.restart(ssl="on")
    wait_until(lambda: get(wp, "/readyz")[0] == 200, what="ready again")


def test_metrics_pass_promtool_and_move_with_traffic(warmpool):
    code, before = get(warmpool, "/metrics")
    assert code == 200
    check = subprocess.run(["promtool", "check", "metrics"], input=before, text=True,
                           capture_output=True)
    assert check.returncode == 0, check.stdout + check.stderr
    queries = metric(before, "warmpool_queries_total", 'backend="main"')
    accepted = metric(before, "warmpool_client_connections_accepted_total", 'listener="main"')
    sent = metric(before, "warmpool_client_sent_bytes_total")
    conn = connect(warmpool)
    for i in range(25):
        assert value(conn, f"SELECT {i}") == i
    conn.close()
    assert cli(warmpool.port, "SELECT 1", password="wrong").returncode != 0

    def moved():
        after = get(warmpool, "/metrics")[1]
        return (metric(after, "warmpool_queries_total", 'backend="main"') >= queries + 25
                and metric(after, "warmpool_errors_total", 'kind="client_auth"') >= 1
                and after)
    after = wait_until(moved, what="queries and errors to be counted")
    assert metric(after, "warmpool_client_connections_accepted_total",
                  'listener="main"') >= accepted + 2
    assert metric(after, "warmpool_client_sent_bytes_total") > sent
    assert metric(after, "warmpool_backend_up", 'backend="main"') == 1
    assert metric(after, "warmpool_backend_connections",
                  'backend="main",state="idle"') >= 1
    assert metric(after, "warmpool_tls_handshakes_total",
                  'side="backend",peer="main",kind="full"') >= 1
    assert metric(after, "process_open_fds") > 0


def test_admin_token(warmpool_factory, tmp_path):
    token_file = tmp_path / "admin-token"
    token_file.write_text("s3cret-token\n")
    wp = warmpool_factory(warmpool={"admin_token_file": str(token_file)})
    assert get(wp, "/healthz")[0] == 200  # liveness never needs it
    wait_until(lambda: get(wp, "/readyz", token="s3cret-token")[0] == 200, what="ready")
    for path in ("/status", "/metrics"):
        assert get(wp, path)[0] == 401
        assert get(wp, path, token="wrong")[0] == 401
        assert get(wp, path, token="s3cret-token")[0] == 200
    # A readiness probe cannot send a Secret: /readyz answers without the
    # token, with its verdict only; the reasons are for the token holder.
    assert json.loads(get(wp, "/readyz")[1]) == {"status": "ready"}
    assert json.loads(get(wp, "/readyz", token="wrong")[1]) == {"status": "ready"}
    assert "reasons" in json.loads(get(wp, "/readyz", token="s3cret-token")[1])
    assert "s3cret-token" not in wp.read_log()


def test_sighup_pool_size_applies_while_a_client_stays(warmpool_factory, private_db):
    wp = warmpool_factory(db=private_db)
    conn = connect(wp)
    session = value(conn, "SELECT CONNECTION_ID()")
    wait_until(lambda: status(wp)["backends"][0]["connections"]["idle"] >= 1, what="prewarm")
    assert status(wp)["backends"][0]["min_idle"] == 2
    wp.config.write_text(wp.config.read_text().replace("min_idle = 2", "min_idle = 6"))
    wp.proc.send_signal(signal.SIGHUP)
    assert wp.wait_for_log('msg="configuration reloaded"')
    assert status(wp)["backends"][0]["min_idle"] == 6
    # Six warm connections plus the one the client holds, seen by MariaDB.
    wait_until(lambda: backend_sessions(private_db) >= 7, what="the pool to grow")
    assert value(conn, "SELECT CONNECTION_ID()") == session  # the same backend session
    assert value(conn, "SELECT 41 + 1") == 42
    conn.close()


def test_sighup_with_a_broken_file_changes_nothing(warmpool):
    conn = connect(warmpool)
    good = warmpool.config.read_text()
    for broken in (good + "\nthis is not ini\n",
                   good.replace("min_idle = 2", "min_idle = 1000"),  # above max_connections
                   good.replace(f"port = {warmpool.port}", "port = 1")):  # needs a restart
        warmpool.config.write_text(broken)
        marks = warmpool.read_log().count("reload rejected")
        warmpool.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: warmpool.read_log().count("reload rejected") > marks,
                   what="the rejection")
        assert status(warmpool)["backends"][0]["min_idle"] == 2
        assert value(conn, "SELECT 7") == 7
    assert 'error="' in warmpool.read_log().split("reload rejected")[-1]
    assert "configuration reloaded" not in warmpool.read_log()
    assert cli(warmpool.port, "SELECT 1").returncode == 0
    conn.close()


def test_sighup_removes_a_user_without_dropping_its_client(warmpool):
    users = warmpool.workdir / "users.txt"
    conn = connect(warmpool)
    users.write_text("other:other-secret\n")
    warmpool.proc.send_signal(signal.SIGHUP)
    assert warmpool.wait_for_log('msg="configuration reloaded"')
    denied = cli(warmpool.port, "SELECT 1")
    assert denied.returncode != 0 and "Access denied" in denied.stderr
    assert value(conn, "SELECT 5") == 5  # the connected client keeps working
    conn.close()
    users.write_text("app:app-secret\n")
    warmpool.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: warmpool.read_log().count("configuration reloaded") == 2, what="reload")
    assert cli(warmpool.port, "SELECT 1").returncode == 0


def test_sigterm_lets_an_open_transaction_finish(warmpool, mariadb):
    mariadb.root_sql("CREATE DATABASE IF NOT EXISTS drain; DROP TABLE IF EXISTS drain.t; "
                     "CREATE TABLE drain.t (id INT PRIMARY KEY AUTO_INCREMENT, v INT); "
                     "GRANT ALL ON drain.* TO 'app'@'%'")
    busy = connect(warmpool)
    idle = connect(warmpool)
    with busy.cursor() as cur:
        cur.execute("BEGIN")
        cur.execute("INSERT INTO drain.t (v) VALUES (1)")
        warmpool.proc.send_signal(signal.SIGTERM)
        assert warmpool.wait_for_log('msg="draining"')
        wait_until(lambda: get(warmpool, "/readyz")[0] == 503, what="readyz to say draining")
        with pytest.raises(pymysql.err.OperationalError):
            connect(warmpool, connect_timeout=2)  # listeners are closed
        cur.execute("INSERT INTO drain.t (v) VALUES (2)")
        cur.execute("COMMIT")
    with pytest.raises(pymysql.err.OperationalError):
        value(idle, "SELECT 1")  # an idle client was closed at once
    warmpool.exit_code = warmpool.proc.wait(timeout=10)
    assert warmpool.exit_code == 0
    assert "drain timeout" not in warmpool.read_log()
    assert mariadb.root_sql("SELECT COUNT(*) FROM drain.t").strip() == "2"


def test_sigterm_during_sysbench_exits_cleanly(warmpool_factory, mariadb):
    wp = warmpool_factory(listener_main={"pool_mode": "transaction"})
    mariadb.root_sql("DROP DATABASE IF EXISTS sbdrain; CREATE DATABASE sbdrain; "
                     "GRANT ALL ON sbdrain.* TO 'app'@'%'")
    base = ["sysbench", "oltp_read_write", "--mysql-host=127.0.0.1", "--mysql-user=app",
            "--mysql-password=app-secret", "--mysql-db=sbdrain", "--tables=2",
            "--table-size=10000", "--db-ps-mode=disable", "--mysql-ssl=off"]
    prep = subprocess.run(base + [f"--mysql-port={mariadb.port}", "prepare"],
                          capture_output=True, text=True, timeout=120)
    assert prep.returncode == 0, prep.stderr
    run = subprocess.Popen(base + [f"--mysql-port={wp.port}", "--threads=8", "--time=30",
                                   "run"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
    wait_until(lambda: status(wp)["queries"] > 500, timeout=30, what="sysbench to run")
    wp.proc.send_signal(signal.SIGTERM)
    wp.exit_code = wp.proc.wait(timeout=20)
    assert wp.exit_code == 0
    output = run.communicate(timeout=60)[0]
    log = wp.read_log()
    assert 'msg="drained"' in log and "drain timeout" not in log, log[-2000:]
    # Every transaction either committed whole or never happened: sysbench's
    # delete+insert pairs leave each table at its size.
    for table in ("sbtest1", "sbtest2"):
        rows = mariadb.root_sql(f"SELECT COUNT(*) FROM sbdrain.{table}").strip()
        assert rows == "10000", (table, rows, output[-1500:])


def test_per_user_pool_mode_and_max_clients(warmpool_factory):
    """[user app] pool_mode = transaction on a session listener, max_clients = 2."""
    wp = warmpool_factory(warmpool={"users_file": None},
                          **{"user app": {"password": "app-secret", "pool_mode": "transaction",
                                          "max_clients": "2"}})
    a, b = connect(wp), connect(wp)
    assert value(a, "SELECT 1") == 1 and value(b, "SELECT 2") == 2
    with pytest.raises(pymysql.err.OperationalError) as refused:
        connect(wp)
    assert refused.value.args[0] == 1203, refused.value.args
    # Transaction mode: between statements neither client holds a backend connection.
    wait_until(lambda: status(wp)["clients"]["connected"] == 2, what="two clients")
    assert status(wp)["clients"]["linked"] == 0
    a.close()
    c = wait_until(lambda: _try_connect(wp), what="a slot freed by a client leaving")
    assert value(c, "SELECT 3") == 3
    b.close()
    c.close()


def _try_connect(wp):
    try:
        return connect(wp)
    except pymysql.err.OperationalError:
        return None


def test_admin_endpoint_never_shares_a_listeners_port(mariadb, tmp_path):
    """On a port a listener holds, the admin endpoint fails the start, clearly:
    with SO_REUSEPORT it took half of the listener's connections (a pymysql
    client got an HTTP endpoint: "Lost connection during query")."""
    port = free_port()
    wp = Warmpool(tmp_path, mariadb, warmpool={"admin_port": str(port)},
                  listener_main={"port": str(port)})
    with pytest.raises(AssertionError, match="warmpool exited"):
        wp.start()
    assert wp.proc.wait(timeout=10) != 0
    wp.log.close()
    assert "cannot serve the admin endpoint" in wp.read_log(), wp.read_log()
