"""warmpool in front of a real MySQL 9.7 (caching_sha2_password, OpenSSL, TLS
toggled by restarts), as managed MySQL runs it. The server runs in a Debian sid
root that tools/mariadb-fixture.sh builds on first use; these tests fail, never
skip, when it cannot. Each check asks the server (its status counters, its
sessions) rather than warmpool where the server can tell."""
import re
import socket
import subprocess
import threading
import time
import urllib.request

import pymysql
import pytest

from conftest import connect, free_port, row, wait_until


def server_status(db, name):
    """A global status counter, read from the server itself."""
    return int(db.root_sql(f"SHOW GLOBAL STATUS LIKE '{name}'").split()[1])


def metrics(wp):
    with urllib.request.urlopen(f"http://127.0.0.1:{wp.admin_port}/metrics", timeout=5) as r:
        return r.read().decode()


def metric(wp, name, labels=""):
    m = re.search(rf"^{name}{{?{re.escape(labels)}}}? (\S+)$", metrics(wp), re.M)
    assert m, f"{name}{{{labels}}} not in /metrics"
    return float(m.group(1))


def backend_connects(wp):
    return metric(wp, "warmpool_backend_connects_total", 'backend="main"')


def through(factory, db, mode="session", pool=4, **sections):
    """warmpool on `db` with exactly `pool` backend connections (2 workers)."""
    backend = {"min_idle": str(pool), "max_connections": str(pool), **sections.pop("backend", {})}
    return factory(db=db, warmpool={"client_wait_timeout_ms": "20000", **sections.pop("warmpool", {})},
                   listener_main={"pool_mode": mode, **sections.pop("listener", {})},
                   backend_main=backend, **sections)


def wait_pool(wp, n):
    deadline = time.monotonic() + 20
    while backend_connects(wp) < n and time.monotonic() < deadline:
        time.sleep(0.05)
    assert backend_connects(wp) == n, wp.read_log()


def test_thousand_sequential_clients_reuse_the_session_pool(warmpool_factory, mysql):
    """Each client that leaves is reset with COM_CHANGE_USER, which MySQL answers
    for a caching_sha2_password account with AuthMoreData (fast auth) then OK."""
    before = server_status(mysql, "Connections")
    wp = through(warmpool_factory, mysql, "session", pool=4)
    wait_pool(wp, 4)
    ids = set()
    for _ in range(1000):
        c = connect(wp.port)
        ids.add(row(c, "SELECT CONNECTION_ID()")[0])
        c.close()
    # The server saw the pool's 4 logins (and this query's own), nothing else.
    assert server_status(mysql, "Connections") - before - 1 == 4
    assert len(ids) <= 4, ids
    assert backend_connects(wp) == 4
    log = wp.read_log()
    assert "reset failed" not in log and "backend connect failed" not in log, log[-3000:]


def test_transaction_mode_with_and_without_a_schema(warmpool_factory, mysql):
    """A client without a schema after one with it makes warmpool drop the
    schema with COM_CHANGE_USER during the session setup."""
    mysql.root_sql("CREATE DATABASE IF NOT EXISTS wp_tx")
    wp = through(warmpool_factory, mysql, "transaction", pool=2)
    wait_pool(wp, 2)
    for i in range(200):
        db = "wp_tx" if i % 2 else None
        c = connect(wp.port, database=db)
        assert row(c, "SELECT DATABASE()") == (db,)
        assert row(c, "SELECT @@SESSION.transaction_isolation")[0] == "REPEATABLE-READ"
        c.close()
    assert backend_connects(wp) == 2
    log = wp.read_log()
    for bad in ("unexpected reply to session setup", "reset failed", "retrying"):
        assert bad not in log, log[-3000:]


def sysbench(port, test, command, threads, seconds=10, extra=()):
    args = ["sysbench", test, "--mysql-host=127.0.0.1", f"--mysql-port={port}",
            "--mysql-user=app", "--mysql-password=app-secret", "--mysql-db=sbtest",
            "--mysql-ssl=off", f"--threads={threads}", f"--time={seconds}",
            "--report-interval=0", *extra, command]
    return subprocess.run(args, capture_output=True, text=True, timeout=seconds + 180)


def stat(output, name):
    m = re.search(rf"{name}:\s+(\d+)\s+\(([\d.]+) per sec", output)
    assert m, output
    return int(m.group(1))


def test_prepared_statements_move_between_backend_connections(warmpool_factory, mysql):
    """sysbench's server-side prepared statements (binary protocol), 8 clients
    on 3 backend connections in transaction mode: nothing pins."""
    mysql.root_sql("DROP DATABASE IF EXISTS sbtest; CREATE DATABASE sbtest")
    wp = through(warmpool_factory, mysql, "transaction", pool=3)
    table = ["--tables=1", "--table-size=1000"]
    prep = sysbench(wp.port, "oltp_point_select", "prepare", 1, extra=table)
    assert prep.returncode == 0, prep.stdout + prep.stderr
    prepared_before = server_status(mysql, "Com_stmt_prepare")
    run = sysbench(wp.port, "oltp_point_select", "run", 8, seconds=5,
                   extra=table + ["--db-ps-mode=auto"])
    assert run.returncode == 0, run.stdout + run.stderr
    assert stat(run.stdout, "queries") > 1000 and stat(run.stdout, "ignored errors") == 0
    # The server itself prepared them (binary protocol, not client-side emulation).
    assert server_status(mysql, "Com_stmt_prepare") - prepared_before >= 8
    assert backend_connects(wp) == 3
    assert metric(wp, "warmpool_pins_total", 'reason="prepared_statement"') == 0


def test_backend_tls_sessions_resume(warmpool_factory, mysql):
    """Each replacement of a killed backend connection resumes a TLS session
    of MySQL's OpenSSL: counted full vs resumed in /metrics, and confirmed by
    the server (Ssl_sessions_reused of the connection a client lands on)."""
    wp = through(warmpool_factory, mysql, "session", pool=1, warmpool={"workers": "1"})
    wait_pool(wp, 1)
    backend = 'side="backend",peer="main",kind="%s"'
    reused = []
    for _ in range(5):
        c = connect(wp.port)
        conn_id, = row(c, "SELECT CONNECTION_ID()")
        reused.append(row(c, "SHOW SESSION STATUS LIKE 'Ssl_sessions_reused'")[1])
        c.close()
        connects = backend_connects(wp)
        mysql.root_sql(f"KILL {conn_id}")
        wait_pool(wp, connects + 1)
    c = connect(wp.port)
    reused.append(row(c, "SHOW SESSION STATUS LIKE 'Ssl_sessions_reused'")[1])
    c.close()
    assert metric(wp, "warmpool_tls_handshakes_total", backend % "full") == 1
    assert metric(wp, "warmpool_tls_handshakes_total", backend % "resumed") == 5
    assert reused == ["0", "1", "1", "1", "1", "1"], reused


def test_restarts_with_tls_toggled_and_full_authentication(warmpool_factory, private_mysql,
                                                          tmp_path):
    """on -> off -> on: an idle client notices nothing. After the SSL-off
    restart the server's caching_sha2_password cache is empty, so the first
    login takes full authentication in plaintext, encrypted to the configured
    public key. A second warmpool, for another account and without the key,
    shows that the server did ask for it: that one is refused, with why."""
    db = private_mysql
    db.root_sql("CREATE DATABASE wp_r; CREATE USER 'nokey'@'%' IDENTIFIED WITH "
                "caching_sha2_password BY 'nokey-secret'; GRANT ALL ON *.* TO 'nokey'@'%'")
    wp = through(warmpool_factory, db, "transaction", pool=1,
                 warmpool={"workers": "1"},
                 backend={"ssl_mode": "preferred",
                          "server_public_key": db.env["rsa_public_key"]})
    users = tmp_path / "nokey.txt"
    users.write_text("nokey:nokey-secret\n")
    users.chmod(0o600)
    control = through(warmpool_factory, db, "transaction", pool=1,
                      warmpool={"workers": "1", "users_file": str(users),
                                "client_wait_timeout_ms": "2000"},
                      backend={"ssl_mode": "preferred"})
    c = connect(wp.port, database="wp_r")
    assert row(c, "SELECT DATABASE()") == ("wp_r",)
    # MySQL's name for it (no tx_isolation): restored on the new connections.
    row(c, "SET SESSION transaction_isolation = 'READ-COMMITTED'")
    for ssl in ("off", "on"):
        db.restart(ssl=ssl)
        assert row(c, "SELECT DATABASE(), @@SESSION.transaction_isolation") == \
            ("wp_r", "READ-COMMITTED")
        tls = row(c, "SHOW SESSION STATUS LIKE 'Ssl_version'")[1]
        assert (tls != "") == (ssl == "on"), f"ssl={ssl} but Ssl_version={tls!r}"
        if ssl == "off":
            assert "auth=full-rsa-configured-key" in wp.read_log(), wp.read_log()
            assert control.wait_for_log("needs server_public_key"), control.read_log()
    c.close()
    assert "reset failed" not in wp.read_log()
    assert "needs server_public_key" not in wp.read_log()


def test_restarts_under_load(warmpool_factory, private_mysql):
    """Two SSL-toggle restarts (off, then on) under sysbench read-write in
    transaction mode and autocommit readers. MySQL answers what arrives during
    its shutdown with ERR 1053 and sends it unasked between statements:
    sysbench (which counts 1927 and 1053 as the errors of transactions cut by a
    restart) must neither lose its connection nor read an answer out of step,
    and the readers (retry_reads) see no error at all."""
    db = private_mysql  # the fixture made its sbtest database
    wp = through(warmpool_factory, db, "transaction", pool=4,
                 warmpool={"client_wait_timeout_ms": "30000"}, listener={"retry_reads": "true"},
                 backend={"ssl_mode": "preferred", "server_public_key": db.env["rsa_public_key"],
                          "max_connections": "32"})  # idle ones to meet the shutdown
    tables = ["--tables=2", "--table-size=10000", "--db-ps-mode=disable"]
    prep = sysbench(wp.port, "oltp_read_write", "prepare", 2, extra=tables)
    assert prep.returncode == 0, prep.stdout + prep.stderr
    bench = subprocess.Popen(
        ["sysbench", "oltp_read_write", "--mysql-host=127.0.0.1", f"--mysql-port={wp.port}",
         "--mysql-user=app", "--mysql-password=app-secret", "--mysql-db=sbtest",
         "--mysql-ssl=off", "--threads=8", "--time=20", "--report-interval=0",
         "--mysql-ignore-errors=1927,1053,1213,1205", *tables, "run"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    errors, stop = [], threading.Event()

    def reader():
        c = connect(wp.port)
        while not stop.is_set():
            try:
                row(c, "SELECT 1")
            except pymysql.MySQLError as e:
                errors.append(repr(e))
            time.sleep(0.05)
        c.close()

    readers = [threading.Thread(target=reader) for _ in range(2)]
    for t in readers:
        t.start()
    time.sleep(3)
    for ssl in ("off", "on"):
        db.restart(ssl=ssl)
        time.sleep(2)
    output = bench.communicate(timeout=120)[0]
    stop.set()
    for t in readers:
        t.join()
    assert bench.returncode == 0, output[-3000:]
    assert "FATAL" not in output, output[-3000:]
    assert stat(output, "transactions") > 0 and stat(output, "reconnects") == 0, output
    assert errors == [], errors


def accepting(port):
    """The server greets on |port|: its listener is open."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            return s.recv(1) != b""
    except OSError:
        return False


def test_after_a_statement_meets_the_shutdown_the_next_wait_for_the_new_server(
        warmpool_factory, private_mysql):
    """MySQL marks every session for shutdown at once, kills the next command
    of each (ERR 1053) and closes the idle ones only about 2 s later. Once one
    statement met the shutdown (that one cannot be proven not to have run: it
    gets the ERR), warmpool sends nothing more to that server: the next
    statements wait and run on the server that comes back, instead of each
    meeting another doomed session: those of the same client and of another
    (transaction mode), and of session clients holding a connection each, on
    either worker (the one that learnt it tells the other)."""
    db = private_mysql
    session_port = free_port()
    wp = through(warmpool_factory, db, "transaction", pool=4,
                 warmpool={"workers": "2", "client_wait_timeout_ms": "30000"},
                 backend={"ssl_mode": "preferred", "max_connections": "24"},
                 listener_session={"port": str(session_port), "backend": "main",
                                   "pool_mode": "session"})
    wait_pool(wp, 4)
    db.root_sql("SET GLOBAL max_connect_errors = 4242")  # gone with the old server
    sql = "SELECT @@GLOBAL.max_connect_errors"
    first, second = connect(wp.port), connect(wp.port)
    sessions = [connect(session_port) for _ in range(6)]  # spread by the kernel
    for c in [first, second, *sessions]:
        assert row(c, sql) == (4242,)
    restart = threading.Thread(target=db.restart, kwargs={"ssl": "on"})
    restart.start()
    wait_until(lambda: not accepting(db.port), timeout=60, what="the shutdown to begin")
    errors, answers = [], []
    while not answers:  # until a statement is answered by the new server
        try:
            value = row(first, sql)[0]
            if value != 4242:
                answers.append(value)
        except pymysql.MySQLError as e:
            errors.append(e.args[0])
            # At once, within MySQL's 2 s grace: the session clients first
            # (the others wait for the new server).
            answers += [row(c, sql)[0] for c in [*sessions, second, first]]
        assert len(errors) < 10, errors
    restart.join()
    assert errors in ([], [1053]), (errors, wp.read_log()[-3000:])
    assert all(v != 4242 for v in answers), answers
    for c in [first, second, *sessions]:
        c.close()


def test_a_group_of_two_mysql_servers_survives_a_member_shutting_down(
        warmpool_factory, mysql, private_mysql):
    """The core of test_backend_groups.py on MySQL, with two members (the
    session's server and one of the test's own, to keep the time small):
    statements spread over both; while one shuts down (MySQL kills what meets
    it with ERR 1053) and is gone, reads go to the other without an error
    (retry_reads); started again, it is back in rotation."""
    dbs = [mysql, private_mysql]
    members = {f"backend_m{i}": {"host": "127.0.0.1", "port": str(db.port),
                                 "ssl_mode": "verify_identity", "ssl_ca": db.env["ca"],
                                 "ssl_server_name": "localhost", "min_idle": "2",
                                 "max_connections": "16"}
               for i, db in enumerate(dbs)}
    wp = warmpool_factory(db=mysql, warmpool={"client_wait_timeout_ms": "30000"},
                          listener_main={"backend": "pair", "pool_mode": "transaction",
                                         "retry_reads": "true"},
                          **members, **{"group pair": {"members": "m0, m1"}})
    clients = [connect(wp.port) for _ in range(4)]

    def ports_seen(rounds):
        return {row(c, "SELECT @@port")[0] for _ in range(rounds) for c in clients}

    assert ports_seen(20) == {mysql.port, private_mysql.port}
    stop = threading.Thread(target=private_mysql.stop)
    stop.start()
    while stop.is_alive():  # statements meet the shutdown: none may fail
        ports_seen(1)
    stop.join()
    assert ports_seen(10) == {mysql.port}
    private_mysql.start(ssl="on")
    wait_until(lambda: private_mysql.port in ports_seen(2), timeout=30,
               what="the member to be back in rotation")
    for c in clients:
        c.close()


def test_mysql_client_verifies_warmpool_identity(warmpool_factory, mysql):
    """MySQL's own client, as managed services tell their users to connect:
    --ssl-ca and --ssl-mode=VERIFY_IDENTITY, to warmpool's frontend TLS."""
    wp = through(warmpool_factory, mysql, "session", pool=1)
    r = mysql.mysql_client("-h", "127.0.0.1", "-P", str(wp.port), "-uapp", "-papp-secret",
                           "--ssl-ca=/srv/instance/certs/ca.pem", "--ssl-mode=VERIFY_IDENTITY",
                           "-N", "-B", "-e", "SELECT CURRENT_USER(), @@version; "
                           "SHOW SESSION STATUS LIKE 'Ssl_version'")
    assert r.returncode == 0, r.stderr + wp.read_log()
    lines = r.stdout.splitlines()
    assert lines[0].startswith("app@%\t9.7"), r.stdout
    assert lines[1].startswith("Ssl_version\tTLSv1."), r.stdout  # warmpool -> MySQL, verified
    # The same client refuses a CA that did not sign warmpool's certificate.
    bad = mysql.mysql_client("-h", "127.0.0.1", "-P", str(wp.port), "-uapp", "-papp-secret",
                             "--ssl-ca=/srv/instance/data/ca.pem", "--ssl-mode=VERIFY_IDENTITY",
                             "-e", "SELECT 1")
    assert bad.returncode != 0, bad.stdout


def test_sysbench_read_write_64_threads_on_8_connections(warmpool_factory, mysql):
    mysql.root_sql("DROP DATABASE IF EXISTS sbtest; CREATE DATABASE sbtest")
    wp = through(warmpool_factory, mysql, "transaction", pool=8)
    tables = ["--tables=4", "--table-size=100000"]
    prep = sysbench(wp.port, "oltp_read_write", "prepare", 4, extra=tables)
    assert prep.returncode == 0, prep.stdout + prep.stderr
    conflicts = mysql.lock_conflicts()
    run = sysbench(wp.port, "oltp_read_write", "run", 64, seconds=10, extra=tables)
    assert run.returncode == 0, run.stdout + run.stderr
    assert stat(run.stdout, "transactions") > 0
    # sysbench ignores deadlocks and lock wait timeouts (1213, 1205): with
    # transactions on its hot rows InnoDB may pick a victim, as it would among
    # direct clients. Every one must be a conflict the server itself counted.
    assert stat(run.stdout, "ignored errors") <= mysql.lock_conflicts() - conflicts, run.stdout
    assert stat(run.stdout, "reconnects") == 0
    assert backend_connects(wp) == 8
    log = wp.read_log()
    assert "reset failed" not in log and "unexpected reply" not in log, log[-3000:]


def test_reset_after_a_cache_flush_takes_full_authentication(warmpool_factory, tmp_path):
    """FLUSH PRIVILEGES empties MySQL's caching_sha2_password cache: the next
    COM_CHANGE_USER (the reset of a session connection) must authenticate in
    full. Without TLS, warmpool A (with server_public_key) encrypts to the key
    and keeps its connection; warmpool B (without) refuses to go on, and says
    why, rather than sending the password or asking for a key."""
    from conftest import MariaDB
    db = MariaDB(tmp_path / "mysql", server="mysql")
    db.start(ssl="off")
    try:
        plain = {"ssl_mode": "preferred", "ssl_ca": None}
        a = through(warmpool_factory, db, "session", pool=1, warmpool={"workers": "1"},
                    backend={**plain, "server_public_key": db.env["rsa_public_key"]})
        wait_pool(a, 1)  # a full authentication: fills the server's cache
        b = through(warmpool_factory, db, "session", pool=1, warmpool={"workers": "1"},
                    backend=plain)
        wait_pool(b, 1)
        assert "auth=scramble" in b.read_log()  # the fast path: A filled the cache
        db.root_sql("FLUSH PRIVILEGES")
        c = connect(b.port)
        assert row(c, "SELECT 1") == (1,)
        c.close()  # B's reset: the server asks for full authentication
        assert b.wait_for_log("needs server_public_key"), b.read_log()
        c = connect(a.port)
        a_id, = row(c, "SELECT CONNECTION_ID()")
        c.close()  # A's reset: full authentication to the configured key
        c = connect(a.port)
        assert row(c, "SELECT CONNECTION_ID()") == (a_id,)  # the same connection, kept
        c.close()
        assert backend_connects(a) == 1
        assert "reset failed" not in a.read_log() and "needs server_public_key" not in a.read_log()
    finally:
        db.stop()


def ca_file(tmp_path, ca_pem, kind):
    """The fixture's CA as managed MySQL services also ship it, made by the
    tools their users have: keytool (.jks) and openssl (.p7b)."""
    out = tmp_path / f"ca.{kind}"
    commands = {
        "jks": ["keytool", "-importcert", "-noprompt", "-alias", "mysql-ca", "-file", ca_pem,
                "-keystore", str(out), "-storepass", "changeit", "-storetype", "JKS"],
        "p7b": ["openssl", "crl2pkcs7", "-nocrl", "-certfile", ca_pem, "-out", str(out)],
        "der.p7b": ["openssl", "crl2pkcs7", "-nocrl", "-certfile", ca_pem, "-outform", "DER",
                    "-out", str(out)],
        "p12": ["keytool", "-importcert", "-noprompt", "-alias", "mysql-ca", "-file", ca_pem,
                "-keystore", str(out), "-storepass", "changeit", "-storetype", "PKCS12"],
    }
    subprocess.run(commands[kind], check=True, capture_output=True, timeout=60)
    return out


@pytest.mark.parametrize("kind", ["jks", "p7b", "der.p7b"])
def test_ssl_ca_as_jks_or_p7b_verifies_the_server(warmpool_factory, mysql, tmp_path, kind):
    ca = ca_file(tmp_path, mysql.env["ca"], kind)
    wp = through(warmpool_factory, mysql, "session", pool=1,
                 backend={"ssl_mode": "verify_identity", "ssl_ca": str(ca)})
    c = connect(wp.port)
    assert row(c, "SHOW SESSION STATUS LIKE 'Ssl_version'")[1].startswith("TLSv1.")
    c.close()


def test_ssl_ca_that_cannot_be_read_is_named(tmp_path, mysql):
    """A PKCS#12 store (keytool's default type) needs a password: refused at
    start, naming the file; so is a file with no certificate at all."""
    from conftest import WARMPOOL, Warmpool
    for bad in (ca_file(tmp_path, mysql.env["ca"], "p12"), mysql.env["rsa_public_key"]):
        wp = Warmpool(tmp_path, mysql, backend_main={"ssl_ca": str(bad)})
        r = subprocess.run([str(WARMPOOL), "--check-config", "--config", str(wp.config)],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 1 and str(bad) in r.stdout + r.stderr, r.stdout + r.stderr


def test_writes_that_meet_the_shutdown_run_once_on_the_new_server(warmpool_factory,
                                                                  private_mysql):
    """Without retry_reads: MySQL aborts what arrives at its sessions as it shuts
    down (ERR 1053 as the answer: rolled back), and warmpool runs it again on the
    server that comes back (TLS toggled off). Writers insert numbered rows and
    add to a counter. No ERR 1053 reaches them; a statement run twice would
    show (a duplicate key, or a counter above what they were told). The only
    error allowed is warmpool's ERR 1927 "may or may not have taken effect":
    at the signal MySQL also closes a connection under a statement without a
    word, now and then, and such a statement is never sent again."""
    db = private_mysql
    db.root_sql("CREATE DATABASE rr; CREATE TABLE rr.t (id INT PRIMARY KEY); "
                "CREATE TABLE rr.c (id INT PRIMARY KEY, n INT); INSERT INTO rr.c VALUES (1, 0)")
    wp = through(warmpool_factory, db, "transaction", pool=4,
                 warmpool={"workers": "2", "client_wait_timeout_ms": "30000"},
                 backend={"ssl_mode": "preferred", "max_connections": "24",
                          "server_public_key": db.env["rsa_public_key"]})
    wait_pool(wp, 4)
    stop, errors, unknown = threading.Event(), [], {"insert": [], "update": 0}
    inserted, updated = [], []

    def writer(k):
        c = connect(wp.port)
        i = 0
        while not stop.is_set():
            i += 1
            for kind, sql, args in (("insert", "INSERT INTO rr.t VALUES (%s)", (k * 1000000 + i,)),
                                    ("update", "UPDATE rr.c SET n = n + 1 WHERE id = 1", None)):
                try:
                    row(c, sql, args)
                    (inserted.append(args[0]) if kind == "insert" else updated.append(1))
                except pymysql.MySQLError as e:
                    if e.args[0] != 1927 or "may or may not" not in e.args[1]:
                        errors.append(repr(e))
                    elif kind == "insert":
                        unknown["insert"].append(args[0])
                    else:
                        unknown["update"] += 1
        c.close()

    writers = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in writers:
        t.start()
    time.sleep(1)
    db.restart(ssl="off")
    time.sleep(1)
    stop.set()
    for t in writers:
        t.join()
    assert errors == [], (errors[:5], wp.read_log()[-3000:])
    ids = set(int(v) for v in db.root_sql("SELECT id FROM rr.t").split())
    assert set(inserted) <= ids <= set(inserted) | set(unknown["insert"])
    n = int(db.root_sql("SELECT n FROM rr.c").strip())
    assert len(updated) <= n <= len(updated) + unknown["update"]
    assert len(unknown["insert"]) + unknown["update"] <= 4, unknown  # at most one per writer
    assert metric(wp, "warmpool_retried_aborted_total") >= 1, wp.read_log()[-3000:]
    assert metric(wp, "warmpool_retried_reads_total") == 0


def test_prepared_point_selects_across_restarts(warmpool_factory, private_mysql):
    """sysbench's default prepared point selects (COM_STMT_EXECUTE) through a
    transaction-mode listener with retry_reads, across two restarts toggling
    TLS: not one error. MySQL answers most executes its shutdown meets with
    ERR 1053 (they run again whatever they are), but closes some connections
    under a statement without a word at the signal: only retry_reads re-sends
    those (reads), so without it such a run may see an ERR 1927 or two."""
    retry_reads = True
    db = private_mysql  # the fixture made its sbtest database
    wp = through(warmpool_factory, db, "transaction", pool=4,
                 warmpool={"client_wait_timeout_ms": "30000"},
                 listener={"retry_reads": "true" if retry_reads else "false"},
                 backend={"ssl_mode": "preferred", "server_public_key": db.env["rsa_public_key"],
                          "max_connections": "32"})
    table = ["--tables=1", "--table-size=1000"]
    prep = sysbench(wp.port, "oltp_point_select", "prepare", 1, extra=table)
    assert prep.returncode == 0, prep.stdout + prep.stderr
    bench = subprocess.Popen(
        ["sysbench", "oltp_point_select", "--mysql-host=127.0.0.1", f"--mysql-port={wp.port}",
         "--mysql-user=app", "--mysql-password=app-secret", "--mysql-db=sbtest",
         "--mysql-ssl=off", "--threads=4", "--time=22", "--report-interval=0", *table, "run"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(3)
    for ssl in ("off", "on"):
        db.restart(ssl=ssl)
        time.sleep(2)
    output = bench.communicate(timeout=180)[0]
    assert bench.returncode == 0 and "FATAL" not in output, output[-3000:]
    assert stat(output, "ignored errors") == 0 and stat(output, "reconnects") == 0, output
    assert stat(output, "queries") > 0
    assert server_status(db, "Com_stmt_execute") > 0  # binary protocol, on the new server
    assert "lost while the statement ran" not in wp.read_log()
