"""Backend restarts (as an SSL toggle causes): clients between commands notice nothing."""
import json
import os
import re
import signal
import subprocess
import threading
import time
import urllib.request

import pymysql
import pytest

from conftest import connect, row


def pool(factory, db, mode):
    db.root_sql("CREATE DATABASE IF NOT EXISTS wp_r")
    return factory(db=db, warmpool={"workers": "1", "client_wait_timeout_ms": "30000"},
                   listener_main={"pool_mode": mode},
                   backend_main={"ssl_mode": "preferred", "min_idle": "1"})


@pytest.mark.parametrize("mode", ["transaction", "session"])
def test_idle_clients_do_not_notice_restarts_with_tls_toggled(warmpool_factory, private_db, mode):
    wp = pool(warmpool_factory, private_db, mode)
    clients = [connect(wp.port, database="wp_r") for _ in range(5)]
    for c in clients:
        row(c, "SELECT 1")
    for ssl in ("off", "on"):
        private_db.restart(ssl=ssl)
        for c in clients:  # each waits for the backend if it is not back yet
            assert row(c, "SELECT DATABASE(), 1") == ("wp_r", 1)
        tls = row(clients[0], "SHOW SESSION STATUS LIKE 'Ssl_version'")[1]
        assert (tls != "") == (ssl == "on"), f"ssl={ssl} but Ssl_version={tls!r}"
    if mode == "session":  # each lost its connection twice and was kept
        assert wp.read_log().count("client kept") >= 10, wp.read_log()
    for c in clients:
        c.close()
    assert wp.alive()


def test_transaction_cut_by_a_restart_gets_a_clear_error(warmpool_factory, private_db):
    wp = pool(warmpool_factory, private_db, "transaction")
    private_db.root_sql("CREATE TABLE wp_r.t (id INT PRIMARY KEY)")
    c = connect(wp.port, database="wp_r")
    row(c, "BEGIN")
    row(c, "INSERT INTO t VALUES (1)")
    private_db.restart(ssl="on")
    with pytest.raises(pymysql.err.OperationalError) as lost:
        row(c, "INSERT INTO t VALUES (2)")
    assert lost.value.args[0] == 1927
    assert "transaction was rolled back" in lost.value.args[1]
    # The same client connection goes on with a new transaction.
    row(c, "BEGIN")
    row(c, "INSERT INTO t VALUES (3)")
    row(c, "COMMIT")
    assert private_db.root_sql("SELECT GROUP_CONCAT(id) FROM wp_r.t").strip() == "3"
    c.close()


@pytest.mark.parametrize("mode", ["transaction", "session"])
def test_session_variables_survive_a_restart(warmpool_factory, private_db, mode):
    wp = pool(warmpool_factory, private_db, mode)
    c = connect(wp.port, database="wp_r")
    row(c, "SET SESSION sql_mode = 'ANSI_QUOTES', max_statement_time = 7")
    before = row(c, "SELECT CONNECTION_ID()")[0]
    private_db.restart(ssl="off")
    assert row(c, "SELECT @@SESSION.sql_mode, @@SESSION.max_statement_time, DATABASE(), "
                  "CONNECTION_ID() <> %d" % before) == ("ANSI_QUOTES", 7.0, "wp_r", 1)
    c.close()
    assert "session state warmpool cannot restore" not in wp.read_log()


def test_session_with_state_warmpool_cannot_rebuild_is_closed(warmpool_factory, private_db):
    wp = pool(warmpool_factory, private_db, "session")
    c = connect(wp.port)
    row(c, "SET @kept = 1")
    private_db.restart(ssl="on")
    with pytest.raises(pymysql.err.OperationalError):
        row(c, "SELECT @kept")  # silently answering NULL would be worse
    assert wp.wait_for_log("session state warmpool cannot restore")
    c2 = connect(wp.port)
    assert row(c2, "SELECT 1") == (1,)
    c2.close()


def unexplained_fds(wp):
    """Descriptors beyond the backend connections the pool reports (the pool
    may keep one more idle connection afterwards; that is not a leak). The
    descriptors are listed before the /status request, whose own admin
    connection may not be closed yet when its answer arrives (slow under
    TSan)."""
    fds = len(os.listdir(f"/proc/{wp.proc.pid}/fd"))
    with urllib.request.urlopen(f"http://127.0.0.1:{wp.admin_port}/status", timeout=5) as r:
        backends = json.load(r)["backends"]
    conns = sum(sum(b["connections"].values()) for b in backends)
    return fds - conns


def kill_backend(db):
    """kill -9 of mariadbd: no goodbye, no ERR, the sockets just die."""
    pid = int(db.env["pid"])
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.02)
    raise AssertionError("mariadbd survived SIGKILL")


@pytest.mark.parametrize("mode", ["transaction", "session"])
def test_statement_in_flight_gets_1927_and_the_client_goes_on(warmpool_factory, private_db,
                                                              mode):
    wp = pool(warmpool_factory, private_db, mode)
    c = connect(wp.port, database="wp_r")
    errors = []

    def sleeper():
        try:
            row(c, "SELECT SLEEP(30)")
        except pymysql.err.OperationalError as e:
            errors.append(e.args)
    t = threading.Thread(target=sleeper)
    t.start()
    time.sleep(0.5)  # the statement is running on the backend
    kill_backend(private_db)
    t.join(timeout=20)
    assert errors and errors[0][0] == 1927, errors
    assert "may or may not have taken effect" in errors[0][1]
    private_db.start(ssl="on")
    # The same connection goes on, with its schema restored.
    assert row(c, "SELECT DATABASE(), 2") == ("wp_r", 2)
    c.close()


def test_kill_9_mid_large_result(warmpool_factory, private_db):
    """The client whose result was cut gets an error; the others are served;
    nothing leaks: descriptors come back to what they were."""
    wp = pool(warmpool_factory, private_db, "transaction")
    bystander = connect(wp.port)
    row(bystander, "SELECT 1")
    fds_before = unexplained_fds(wp)
    reader = connect(wp.port)
    errors = []

    def read_big():
        try:
            with reader.cursor(pymysql.cursors.SSCursor) as cur:
                cur.execute("SELECT seq, REPEAT('x', 2000) FROM seq_1_to_5000000")
                while cur.fetchone():
                    time.sleep(0.0005)  # a slow reader: the result is in flight
        except pymysql.err.OperationalError as e:
            errors.append(e.args)
    t = threading.Thread(target=read_big)
    t.start()
    time.sleep(1.0)
    kill_backend(private_db)
    t.join(timeout=30)
    assert errors, "the cut result must not look complete"
    private_db.start(ssl="on")
    assert row(bystander, "SELECT 3") == (3,)  # waited for the backend, then served
    c = connect(wp.port)
    assert row(c, "SELECT 4") == (4,)
    c.close()
    reader.close()
    deadline = time.monotonic() + 10
    while unexplained_fds(wp) > fds_before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert unexplained_fds(wp) <= fds_before
    bystander.close()


def test_reset_connection_lifts_the_pin(warmpool_factory, private_db):
    """COM_RESET_CONNECTION clears what pinned the client: it keeps its
    charset (restored by warmpool) and survives a restart afterwards."""
    wp = pool(warmpool_factory, private_db, "session")
    c = connect(wp.port, charset="latin1")
    row(c, "SET @kept = 1")  # a pin: this session could not be rebuilt
    c._execute_command(0x1F, b"")  # COM_RESET_CONNECTION
    c._read_ok_packet()
    assert row(c, "SELECT @@character_set_client") == ("latin1",)
    private_db.restart(ssl="on")
    assert row(c, "SELECT 'kept', @@character_set_client") == ("kept", "latin1")
    assert row(c, "SELECT @kept") == (None,)  # (reading it pins again; that is fine now)
    c.close()


def test_prepared_point_selects_survive_restarts_with_retry_reads(warmpool_factory, private_db):
    """sysbench's default prepared point selects (COM_STMT_EXECUTE, binary
    protocol) through a transaction-mode listener with retry_reads, across two
    restarts toggling TLS: MariaDB closes every session at once, executes in
    flight included; each is a read, so it is prepared again and re-sent on the
    server that comes back. Not one error."""
    db = private_db
    db.root_sql("CREATE DATABASE IF NOT EXISTS sbtest")
    wp = warmpool_factory(db=db, warmpool={"workers": "1", "client_wait_timeout_ms": "30000"},
                          listener_main={"pool_mode": "transaction", "retry_reads": "true"},
                          backend_main={"ssl_mode": "preferred", "min_idle": "2",
                                        "max_connections": "8"})
    base = ["sysbench", "oltp_point_select", "--mysql-host=127.0.0.1", f"--mysql-port={wp.port}",
            "--mysql-user=app", "--mysql-password=app-secret", "--mysql-db=sbtest",
            "--mysql-ssl=off", "--tables=1", "--table-size=1000"]
    prep = subprocess.run(base + ["prepare"], capture_output=True, text=True, timeout=120)
    assert prep.returncode == 0, prep.stdout + prep.stderr
    bench = subprocess.Popen(base + ["--threads=4", "--time=14", "--report-interval=0", "run"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(3)
    for ssl in ("off", "on"):
        db.restart(ssl=ssl)
        time.sleep(2)
    output = bench.communicate(timeout=120)[0]
    assert bench.returncode == 0 and "FATAL" not in output, output[-3000:] + wp.read_log()[-8000:]
    assert re.search(r"ignored errors:\s+0\s", output) and re.search(r"reconnects:\s+0\s", output), \
        output
    executes = db.root_sql("SHOW GLOBAL STATUS LIKE 'Com_stmt_execute'").split()[1]
    assert int(executes) > 0  # binary protocol, on the server that came back
