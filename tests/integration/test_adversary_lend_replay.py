"""Adversary tests of pool lending across workers (#17) and replay (#19): each
one a case found by attacking the two features; the server's own rows and
session are the evidence, never what warmpool says."""
import uuid

import pymysql
import pytest

from conftest import connect, metric_counts, row, value, run_threads, start_threads
from fault_proxy import FaultProxy
from test_transaction_replay import replaying



@pytest.fixture
def two_schemas(mariadb):
    """Two schemas granted to app, each with a table t of the same shape."""
    a, b = (f"adv_{uuid.uuid4().hex[:8]}" for _ in range(2))
    for s in (a, b):
        mariadb.root_sql(f"CREATE DATABASE {s}; CREATE TABLE {s}.t (id INT PRIMARY KEY) "
                         f"ENGINE=InnoDB; GRANT ALL ON {s}.* TO 'app'@'%'")
    yield a, b
    mariadb.root_sql(f"DROP DATABASE {a}; DROP DATABASE {b}")


def rows_of(db, table):
    return db.root_sql(f"SELECT GROUP_CONCAT(id ORDER BY id) FROM {table}").strip()


@pytest.mark.parametrize("mode", ["transaction", "session"])
def test_replay_runs_statements_in_the_schema_they_ran_in(warmpool_factory, mariadb, proxy,
                                                          two_schemas, mode):
    """A USE inside the transaction is tracked (the client's schema is the last
    one), and the replay's connection is set up with the client's state as it is
    now: the statements before the USE would run in the other schema. Their
    answers (an OK of one row) are the same there, so nothing tells."""
    a, b = two_schemas
    wp = replaying(warmpool_factory, proxy, mode)
    c = connect(wp, database=a)
    row(c, "BEGIN")
    row(c, "INSERT INTO t VALUES (1)")  # into a.t
    row(c, f"USE {b}")
    row(c, "INSERT INTO t VALUES (2)")  # into b.t
    proxy.cut()
    try:
        row(c, "INSERT INTO t VALUES (3)")  # into b.t, after a replay
        row(c, "COMMIT")
    except pymysql.err.OperationalError as e:
        assert e.args[0] == 1927, e  # refused: the transaction was rolled back
    c.close()
    # Replayed in the right schemas, or refused; never 1 in b.t.
    assert (rows_of(mariadb, f"{a}.t"), rows_of(mariadb, f"{b}.t")) in (
        ("1", "2,3"), ("NULL", "NULL"))


@pytest.fixture
def two_users(mariadb, tmp_path):
    """app and a second user (adv2) known to warmpool and the server, each with a
    schema of its own."""
    mariadb.root_sql("CREATE USER IF NOT EXISTS 'adv2'@'%' IDENTIFIED BY 'adv2-secret'; "
                     "CREATE DATABASE IF NOT EXISTS adv_u1; CREATE DATABASE IF NOT EXISTS adv_u2; "
                     "GRANT ALL ON adv_u1.* TO 'app'@'%'; GRANT ALL ON adv_u2.* TO 'adv2'@'%'")
    users = tmp_path / "users2.txt"
    users.write_text("app:app-secret\nadv2:adv2-secret\n")
    users.chmod(0o600)
    return str(users)


def session_of(c):
    return row(c, "SELECT CURRENT_USER(), DATABASE(), @v, @@session.wait_timeout, "
                  "(SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = CONNECTION_ID()), "
                  "CONNECTION_ID()")


@pytest.mark.parametrize("mode", ["session", "transaction"])
@pytest.mark.parametrize("tls", [False, True])
def test_lent_connections_carry_nothing_of_the_last_client(warmpool_factory, mariadb, two_users,
                                                           mode, tls):
    """Four workers, one backend connection per user: every client waits for a
    connection that comes free on another worker most of the time. Each client
    leaves state behind (session mode: a user variable, a temporary table, a
    prepared statement; both modes: a schema and a session variable, tracked)
    and checks, on the server, that it sees only its own."""
    wp = warmpool_factory(warmpool={"workers": "4", "users_file": two_users,
                                    "client_wait_timeout_ms": "60000"},
                          listener_main={"pool_mode": mode},
                          backend_main={"min_idle": "1", "max_connections": "1"})
    errors = []
    users = {"app": ("app-secret", "adv_u1"), "adv2": ("adv2-secret", "adv_u2")}

    def client(i):
        user = "app" if i % 2 else "adv2"
        password, schema = users[user]
        try:
            for j in range(12):
                kw = {"ssl": {"check_hostname": False}} if tls else {}
                c = connect(wp, user=user, password=password, read_timeout=120, **kw)
                timeout = 10000 + i * 100 + j
                got = session_of(c)
                if got[0].split("@")[0] != user or got[1] is not None or got[2] is not None:
                    errors.append(f"client {i}/{j} ({user}) found {got}")
                row(c, f"USE {schema}")
                row(c, f"SET SESSION wait_timeout = {timeout}")
                if mode == "session":
                    row(c, f"SET @v = {timeout}")
                    try:
                        row(c, "CREATE TEMPORARY TABLE tmp_adv (a INT)")
                    except pymysql.err.OperationalError as e:
                        errors.append(f"client {i}/{j} ({user}): temporary table left: {e}")
                    row(c, "PREPARE adv_s FROM 'SELECT 1'")
                got = session_of(c)
                want_v = timeout if mode == "session" else None
                if (got[0].split("@")[0], got[1], got[2], got[3]) != (user, schema, want_v, timeout):
                    errors.append(f"client {i}/{j} ({user}) set its own and found {got}")
                c.close()
        except Exception as e:  # collected
            errors.append(f"client {i}: {e!r}")

    run_threads(client, 8, indexed=True)
    assert not errors, errors[:10]
    # The counts: one connection per user on the server, as many in warmpool.
    for user in ("app", "adv2"):
        n = int(mariadb.root_sql("SELECT COUNT(*) FROM information_schema.PROCESSLIST "
                                 f"WHERE USER = '{user}'").strip())
        assert n <= 1, (user, n)


@pytest.mark.parametrize("mode", ["transaction", "session"])
def test_lends_under_kills_disconnects_and_reloads(warmpool_factory, mariadb, mode):
    """Four workers at a limit of 2, 12 clients, while an admin session kills
    warmpool's backend connections, clients vanish mid-transaction and reloads
    move max_connections between 1 and 3. No two clients ever share a
    connection at once (each sees only its own uncommitted row), and at rest
    the process's count is what the server holds."""
    import json
    import signal
    import socket
    import threading
    import time
    import urllib.request
    table = f"rr.lend_{uuid.uuid4().hex[:8]}"
    mariadb.root_sql(f"CREATE DATABASE IF NOT EXISTS rr; CREATE TABLE {table} "
                     "(id INT AUTO_INCREMENT PRIMARY KEY, owner INT) ENGINE=InnoDB; "
                     "GRANT ALL ON rr.* TO 'app'@'%'")
    wp = warmpool_factory(warmpool={"workers": "4", "client_wait_timeout_ms": "60000"},
                          listener_main={"pool_mode": mode},
                          backend_main={"min_idle": "1", "max_connections": "2"})
    stop = threading.Event()
    shared = []
    errors = []

    def client(i):
        n = 0
        while not stop.is_set():
            n += 1
            try:
                c = connect(wp, read_timeout=120)
                row(c, "BEGIN")
                row(c, f"INSERT INTO {table} (owner) VALUES ({i})")
                owners = row(c, f"SELECT GROUP_CONCAT(DISTINCT owner) FROM {table}")[0]
                if owners != str(i):
                    shared.append(f"client {i} saw owners {owners}")
                if n % 5 == 0:  # vanishes mid-transaction
                    c._sock.shutdown(socket.SHUT_RDWR)
                    c._sock.close()
                    continue
                row(c, "ROLLBACK")
                c.close()
            except pymysql.err.MySQLError as e:
                if e.args and e.args[0] not in (1927, 2013, 2006, 1053):
                    errors.append(f"client {i}: {e!r}")

    def killer():
        while not stop.is_set():
            ids = mariadb.root_sql("SELECT ID FROM information_schema.PROCESSLIST "
                                   "WHERE USER = 'app'").split()
            for id_ in ids[:1]:
                try:
                    mariadb.root_sql(f"KILL CONNECTION {id_}")
                except Exception:
                    pass
            time.sleep(0.2)

    def reloader():
        k = 0
        while not stop.is_set():
            k += 1
            text = wp.config.read_text()
            import re
            wp.config.write_text(re.sub(r"max_connections = \d+",
                                        f"max_connections = {1 + k % 3}", text))
            wp.proc.send_signal(signal.SIGHUP)
            time.sleep(0.5)

    threads = ([threading.Thread(target=client, args=(i,)) for i in range(12)]
               + [threading.Thread(target=killer), threading.Thread(target=reloader)])
    for t in threads:
        t.start()
    time.sleep(20)
    stop.set()
    for t in threads:
        t.join(300)
    assert wp.alive(), wp.read_log()[-3000:]
    assert not shared, shared[:5]
    assert not errors, errors[:5]

    def counts():
        with urllib.request.urlopen(f"http://127.0.0.1:{wp.admin_port}/status", timeout=5) as r:
            st = json.loads(r.read().decode())
        ours = st["backends"][0]["pool_connections"]
        theirs = int(mariadb.root_sql("SELECT COUNT(*) FROM information_schema.PROCESSLIST "
                                      "WHERE USER = 'app'").strip())
        return ours, theirs

    try:
        from conftest import wait_until
        wait_until(lambda: counts()[0] == counts()[1] and counts()[0] <= 3, timeout=30,
                   what="warmpool's count to match the server's")
    except AssertionError:
        raise AssertionError(f"counts (warmpool, server) {counts()}")
    c = connect(wp)
    assert value(c, "SELECT 1") == 1
    c.close()
    mariadb.root_sql(f"DROP TABLE {table}")


@pytest.fixture
def counter(mariadb):
    name = f"rr.c_{uuid.uuid4().hex[:12]}"
    mariadb.root_sql(f"CREATE DATABASE IF NOT EXISTS rr; GRANT ALL ON rr.* TO 'app'@'%'; "
                     f"CREATE TABLE {name} (id INT PRIMARY KEY, v INT) ENGINE=InnoDB; "
                     f"INSERT INTO {name} VALUES (1, 10)")
    yield name
    mariadb.root_sql(f"DROP TABLE IF EXISTS {name}")


@pytest.mark.parametrize("committing", [
    "BEGIN",                                  # implicit commit of the open transaction
    "COMMIT AND CHAIN",                       # commits, and a new one is open at once
    "CREATE TABLE rr.t_exists_adv (a INT)",   # implicit commit, then an error
])
def test_replay_never_runs_again_what_a_statement_inside_committed(warmpool_factory, mariadb,
                                                                   proxy, counter, committing):
    """A statement that commits the open transaction and leaves one open (the
    server's flag stays set from one answer to the next) is kept in the log
    with what it committed: replayed, the committed UPDATE would run twice."""
    mariadb.root_sql("CREATE TABLE IF NOT EXISTS rr.t_exists_adv (a INT)")
    wp = replaying(warmpool_factory, proxy)
    c = connect(wp)
    row(c, "BEGIN")
    row(c, f"UPDATE {counter} SET v = v + 1 WHERE id = 1")
    try:
        row(c, committing)
    except pymysql.err.OperationalError as e:
        assert e.args[0] == 1050  # the table exists: the commit came first
    assert mariadb.root_sql(f"SELECT v FROM {counter}").strip() == "11"  # committed
    proxy.cut()
    try:
        row(c, f"SELECT v FROM {counter} WHERE id = 1")
        row(c, "COMMIT")
    except pymysql.err.OperationalError as e:
        assert e.args[0] == 1927, e
    c.close()
    assert mariadb.root_sql(f"SELECT v FROM {counter}").strip() == "11"


def test_replay_after_a_deadlock_never_runs_an_autocommitted_statement_twice(
        warmpool_factory, mariadb, proxy, counter):
    """A deadlock's ERR 1213 rolls the whole transaction back, and an ERR carries
    no status: warmpool still sees the transaction open. The client's next
    UPDATE runs in autocommit and commits; its answer is lost with the
    connection. Replayed, the deadlock comes again (the same lock holder, or
    innodb_rollback_on_timeout with a lock still held), the same ERR, and the
    committed UPDATE would be sent again."""
    wp = replaying(warmpool_factory, proxy)
    c = connect(wp)
    row(c, "BEGIN")
    row(c, f"SELECT COUNT(*) FROM {counter} WHERE id = 2")  # not the row updated below
    for _ in range(2):  # the client's, and the replay's
        proxy.arm("deadlock", lambda p: p[:1] == b"\x03" and b"/* victim */" in p)
    with pytest.raises(pymysql.err.OperationalError) as dead:
        row(c, f"UPDATE {counter} SET v = v /* victim */ WHERE id = 1")
    assert dead.value.args[0] == 1213
    proxy.arm("lost", lambda p: p[:1] == b"\x03" and b"v + 1" in p)
    try:
        row(c, f"UPDATE {counter} SET v = v + 1 WHERE id = 1")  # autocommit: no transaction
    except pymysql.err.OperationalError as e:
        assert e.args[0] == 1927, e  # told it may or may not have run
    c.close()
    assert mariadb.root_sql(f"SELECT v FROM {counter}").strip() == "11"


PROXY_STAMP_LAG_S = 0.2


def test_a_connection_lent_across_a_reload_that_moved_the_backend_is_not_used(
        warmpool_factory, mariadb):
    """A reload that moves the backend (host, port, TLS settings: a failover to
    another primary) retires every connection of the old settings: idle ones
    at once, busy ones when given back. A connection on its way between
    workers is on no worker's lists while they apply the reload: adopted
    afterwards, it served clients on the old backend. Two proxies in front of
    the same server stand for the old and the new backend; after each reload
    no command may start on the old one (autocommit statements only: a busy
    connection finishes its statement and is retired)."""
    import re
    import signal
    import threading
    import time
    old_new = [FaultProxy(mariadb.port), FaultProxy(mariadb.port)]
    seen = {0: [], 1: []}

    def recorder(i):
        def match(payload):
            seen[i].append(time.monotonic())
            return False
        return match

    for i, p in enumerate(old_new):
        # Never fires: a match that records when each command passed.
        p.armed.append(("abort", recorder(i)))
    wp = warmpool_factory(warmpool={"workers": "4", "client_wait_timeout_ms": "60000"},
                          listener_main={"pool_mode": "transaction"},
                          backend_main={"port": str(old_new[0].port), "ssl_mode": "disabled",
                                        "min_idle": "1", "max_connections": "1"})
    stop = threading.Event()
    errors = []

    def client():
        try:
            c = connect(wp, read_timeout=120)
            while not stop.is_set():
                value(c, "SELECT 1")
            c.close()
        except Exception as e:  # collected
            errors.append(repr(e))

    threads = start_threads(client, 16)
    late = []
    try:
        for k in range(1, 41):
            new, old = k % 2, 1 - k % 2
            text = wp.config.read_text()
            wp.config.write_text(re.sub(r"port = %d\n" % old_new[old].port,
                                        "port = %d\n" % old_new[new].port, text))
            before = wp.read_log().count('msg="configuration reloaded"')
            wp.proc.send_signal(signal.SIGHUP)
            wait_until_log = time.monotonic() + 60
            while wp.read_log().count('msg="configuration reloaded"') == before:
                assert time.monotonic() < wait_until_log, "reload not logged"
                time.sleep(0.02)
            # The proxy stamps a command when its thread reads it, which under
            # load lags behind warmpool's send: a statement sent just before
            # the reload may be stamped just after. The bug this guards
            # against sent thousands of commands to the old backend (8,533 in
            # 40 reloads), for as long as the lent connection lived.
            done = time.monotonic() + PROXY_STAMP_LAG_S
            time.sleep(0.3 + PROXY_STAMP_LAG_S)
            late += [round(t - done + PROXY_STAMP_LAG_S, 3) for t in seen[old] if t > done]
    finally:
        stop.set()
        for t in threads:
            t.join(120)
        for p in old_new:
            p.close()
    assert not errors, errors[:3]
    assert not late, (f"{len(late)} commands went to the old backend after a reload "
                      f"(seconds after it was logged: {late[:5]})")


def test_a_transaction_abandoned_by_change_user_is_never_replayed(warmpool_factory, mariadb,
                                                                  proxy, counter):
    """COM_CHANGE_USER inside a transaction: warmpool answers it and resets the
    connection, which rolls the transaction back. The replay log of the
    abandoned transaction must go with it: kept, it was run again in front of the
    next transaction of the session (with a BEGIN that commits it)."""
    from rawclient import RawClient, change_user_payload, err_of
    from test_change_user import query_one
    wp = replaying(warmpool_factory, proxy)
    c = RawClient(wp.port, timeout=60).login()
    query_one(c, "BEGIN")
    query_one(c, f"UPDATE {counter} SET v = v + 1 WHERE id = 1")
    reply = c.command(change_user_payload("app", "app-secret", c.scramble))
    assert reply[0] == 0x00, err_of(reply)
    assert mariadb.root_sql(f"SELECT v FROM {counter}").strip() == "10"  # rolled back
    query_one(c, "BEGIN")
    assert query_one(c, "SELECT 1") == "1"
    proxy.cut()
    c.send(b"\x03SELECT 2")
    _, first = c.read_packet()
    if first[0] != 0xFF:  # replayed: the rest of the result, then the COMMIT
        eofs = 0
        while eofs < 2:
            _, p = c.read_packet()
            eofs += p[0] == 0xFE and len(p) < 9
        query_one(c, "COMMIT")
    c.close()
    assert mariadb.root_sql(f"SELECT v FROM {counter}").strip() == "10"


@pytest.mark.parametrize("mode", ["transaction", "session"])
def test_warnings_never_reach_the_client_a_connection_is_lent_to(warmpool_factory, mode):
    """A warning quotes the data ('secret-...'); the connection it stays on is
    lent to another worker's client, which asks for the session's warnings."""
    wp = warmpool_factory(warmpool={"workers": "4", "client_wait_timeout_ms": "60000"},
                          listener_main={"pool_mode": mode},
                          backend_main={"min_idle": "1", "max_connections": "1"})
    leaks = []
    errors = []

    def client(i):
        try:
            for j in range(30):
                c = connect(wp, read_timeout=120)
                with c.cursor() as cur:
                    cur.execute("SHOW WARNINGS")
                    seen = [r for r in cur.fetchall() if b"secret" in str(r).encode()]
                    if seen:
                        leaks.append((i, j, seen))
                    cur.execute(f"SELECT CAST('secret-{i}-{j}' AS SIGNED)")
                c.close()
        except Exception as e:  # collected
            errors.append(repr(e))

    run_threads(client, 8, indexed=True)
    assert not errors, errors[:3]
    assert not leaks, leaks[:3]
    assert sum(metric_counts(wp, "warmpool_pool_handoffs_total", "backend").values()) > 0


@pytest.mark.parametrize("mode", ["session", "transaction"])
@pytest.mark.parametrize("state", [
    ("SET @adv_x = 5", "@adv_x"),
    ("CREATE TEMPORARY TABLE rr.adv_tmp (a INT) SELECT 5 AS a", "(SELECT a FROM rr.adv_tmp)"),
    ("PREPARE adv_p FROM 'SELECT 5'", "5"),
])
def test_replay_never_runs_without_the_session_state_it_read(warmpool_factory, mariadb, proxy,
                                                             counter, mode, state):
    """Session state set before or inside the transaction that warmpool cannot
    restore (user variables, temporary tables, SQL prepared statements): a
    replay on a new connection would read NULL where the original read 5,
    with the same OK."""
    setup, expr = state
    wp = replaying(warmpool_factory, proxy, mode)
    c = connect(wp)
    row(c, setup)
    row(c, "BEGIN")
    row(c, f"UPDATE {counter} SET v = {expr} WHERE id = 1")
    proxy.cut()
    try:
        row(c, "COMMIT")
    except pymysql.err.OperationalError as e:
        assert e.args[0] in (1927, 2013), e
    c.close()
    assert mariadb.root_sql(f"SELECT IFNULL(v, 'NULL') FROM {counter}").strip() in ("10", "5")


@pytest.mark.parametrize("mode", ["transaction", "session"])
def test_drain_while_connections_move_between_workers(warmpool_factory, mode):
    """SIGTERM while 16 clients on 4 workers share 2 connections (lends on the
    way, waiters everywhere): warmpool drains and exits 0 (the factory checks it;
    the ASan build checks the frees)."""
    import signal
    import threading
    wp = warmpool_factory(warmpool={"workers": "4", "client_wait_timeout_ms": "60000",
                                    "drain_timeout_ms": "3000"},
                          listener_main={"pool_mode": mode},
                          backend_main={"min_idle": "1", "max_connections": "2"})
    stop = threading.Event()

    def client():
        while not stop.is_set():
            try:
                c = connect(wp, read_timeout=60)
                for _ in range(20):
                    value(c, "SELECT 1")
                c.close()
            except Exception:
                return  # the drain closes them

    threads = start_threads(client, 16)
    import time
    deadline = time.monotonic() + 60
    while sum(metric_counts(wp, "warmpool_pool_handoffs_total", "backend").values()) < 50:
        assert time.monotonic() < deadline, "no lends"
        time.sleep(0.1)
    wp.proc.send_signal(signal.SIGTERM)
    rc = wp.exit_code = wp.proc.wait(timeout=60)
    wp.log.close()
    stop.set()
    for t in threads:
        t.join(120)
    assert rc == 0, wp.read_log()[-3000:]


@pytest.mark.parametrize("how", ["kill9", "restart"])
def test_replay_and_lends_through_a_server_crash_write_nothing_twice(warmpool_factory,
                                                                     private_db, how):
    """8 clients on 4 workers share 2 connections with replay_transactions, each
    running BEGIN; INSERT its tag; INSERT its tag again; COMMIT. The server is
    killed -9 (or restarted) under them. Afterwards: every transaction whose
    COMMIT said OK is there, each tag at most twice (its two rows, never
    replayed on top of a commit), no tag of a transaction the client was told
    failed before its COMMIT, and warmpool's count is the server's."""
    import json
    import threading
    import time
    import urllib.request
    from test_backend_restart import kill_backend
    db = private_db
    db.root_sql("CREATE DATABASE rr; CREATE TABLE rr.t (n INT AUTO_INCREMENT PRIMARY KEY, "
                "tag VARCHAR(40)) ENGINE=InnoDB; GRANT ALL ON rr.* TO 'app'@'%'")
    wp = warmpool_factory(db=db, warmpool={"workers": "4", "client_wait_timeout_ms": "60000"},
                          listener_main={"pool_mode": "transaction",
                                         "replay_transactions": "true"},
                          backend_main={"ssl_mode": "preferred", "min_idle": "1",
                                        "max_connections": "2"})
    stop = threading.Event()
    committed, failed_before, unknown, errors = set(), set(), set(), []

    def client(i):
        n = 0
        c = None
        while not stop.is_set():
            n += 1
            tag = f"{i}-{n}"
            stage = "connect"
            try:
                if c is None:
                    c = connect(wp, read_timeout=120)
                stage = "body"
                row(c, "BEGIN")
                row(c, f"INSERT INTO rr.t (tag) VALUES ('{tag}')")
                row(c, f"INSERT INTO rr.t (tag) VALUES ('{tag}')")
                stage = "commit"
                row(c, "COMMIT")
                committed.add(tag)
            except pymysql.err.MySQLError as e:
                (unknown if stage == "commit" else failed_before).add(tag)
                if e.args and e.args[0] in (2013, 2006):
                    c = None
                elif not e.args or e.args[0] not in (1927, 1053, 1213, 1205, 2003):
                    errors.append(f"{tag} {stage}: {e!r}")

    threads = start_threads(client, 8, indexed=True)
    time.sleep(3)
    if how == "kill9":
        kill_backend(db)
        db.start(ssl="on")
    else:
        db.restart(ssl="on")
    time.sleep(5)
    stop.set()
    for t in threads:
        t.join(300)
    assert not errors, errors[:5]
    rows = db.root_sql("SELECT tag, COUNT(*) FROM rr.t GROUP BY tag").split("\n")
    counts = dict(r.split("\t") for r in rows if r)
    assert all(v == "2" for v in counts.values()), {k: v for k, v in counts.items() if v != "2"}
    assert committed <= set(counts), committed - set(counts)
    assert not (failed_before & set(counts)), failed_before & set(counts)

    def both():
        with urllib.request.urlopen(f"http://127.0.0.1:{wp.admin_port}/status", timeout=5) as r:
            ours = json.loads(r.read().decode())["backends"][0]["pool_connections"]
        theirs = int(db.root_sql("SELECT COUNT(*) FROM information_schema.PROCESSLIST "
                                 "WHERE USER = 'app'").strip())
        return ours, theirs

    from conftest import wait_until
    wait_until(lambda: both()[0] == both()[1], timeout=30, what=f"counts to agree {both()}")


@pytest.mark.parametrize("mode", ["transaction", "session"])
def test_prepared_statements_follow_their_client_across_lends(warmpool_factory, mode):
    """Server-side prepared statements (binary protocol): 8 clients on 4 workers,
    one backend connection; each executes its own statement again and again on
    whatever connection comes, lent or not, and must get its own text back."""
    import struct
    from rawclient import RawClient, err_of
    wp = warmpool_factory(warmpool={"workers": "4", "client_wait_timeout_ms": "60000"},
                          listener_main={"pool_mode": mode},
                          backend_main={"min_idle": "1", "max_connections": "1"})
    wrong, errors = [], []

    def execute_one(c, stmt_id):
        c.send(b"\x17" + struct.pack("<IBI", stmt_id, 0, 1))
        packets = []
        while True:
            _, p = c.read_packet()
            if p[0] == 0xFF:
                raise AssertionError(err_of(p))
            packets.append(p)
            if p[0] == 0xFE and len(p) < 9 and len(packets) > 3:
                break
        binary_row = packets[3]  # count, one column, EOF, the row
        return binary_row[3:3 + binary_row[2]].decode()

    def client(i):
        try:
            for _ in range(3):
                c = RawClient(wp.port, timeout=120).login()
                ids = [c.prepare(f"SELECT 'client-{i}-{k}'") for k in range(2)]
                for j in range(15):
                    k = j % 2
                    got = execute_one(c, ids[k])
                    if got != f"client-{i}-{k}":
                        wrong.append((i, k, got))
                c.send(b"\x01")
                c.close()
        except Exception as e:  # collected
            errors.append(f"client {i}: {e!r}")

    run_threads(client, 8, indexed=True)
    assert not errors, errors[:3]
    assert not wrong, wrong[:5]
    from conftest import wait_until
    wait_until(lambda: sum(metric_counts(wp, "warmpool_pool_handoffs_total",
                                         "backend").values()) > 0,
               what="a lend (published each tick)")


@pytest.mark.parametrize("committing", ["BEGIN", "COMMIT AND CHAIN"])
def test_replay_never_runs_again_what_was_committed_mysql(warmpool_factory, mysql, committing):
    """The same on MySQL 9.7."""
    p = FaultProxy(mysql.port)
    try:
        name = f"rr.c_{uuid.uuid4().hex[:12]}"
        mysql.root_sql(f"CREATE DATABASE IF NOT EXISTS rr; CREATE DATABASE IF NOT EXISTS rr2; "
                       f"CREATE TABLE {name} (id INT PRIMARY KEY, v INT) ENGINE=InnoDB; "
                       f"INSERT INTO {name} VALUES (1, 10); GRANT ALL ON rr.* TO 'app'@'%'; "
                       f"GRANT ALL ON rr2.* TO 'app'@'%'")
        wp = warmpool_factory(db=mysql, warmpool={"workers": "1",
                                                  "client_wait_timeout_ms": "20000"},
                              listener_main={"pool_mode": "transaction",
                                             "replay_transactions": "true"},
                              backend_main={"port": str(p.port), "ssl_mode": "disabled",
                                            "allow_public_key_retrieval": "true",
                                            "min_idle": "1", "max_connections": "4"})
        c = connect(wp, database="rr")
        row(c, "BEGIN")
        row(c, f"UPDATE {name} SET v = v + 1 WHERE id = 1")
        row(c, committing)
        p.cut()
        try:
            row(c, f"SELECT v FROM {name} WHERE id = 1")
            row(c, "COMMIT")
        except pymysql.err.OperationalError as e:
            assert e.args[0] == 1927, e
        c.close()
        assert mysql.root_sql(f"SELECT v FROM {name}").strip() == "11"
    finally:
        p.close()


def test_replay_reads_last_insert_id_as_the_transaction_did(warmpool_factory, mariadb, proxy):
    """LAST_INSERT_ID() is restored on a new connection from the client's last
    OK; a replay's connection gets the value at the loss, not the one at the
    transaction's start. An explicit id in an AUTO_INCREMENT column shows in
    the OK (mysql_insert_id) without changing LAST_INSERT_ID(), and it is the
    same on replay, so the answers match while the child row gets another
    parent."""
    p, ch = (f"rr.li_{uuid.uuid4().hex[:8]}" for _ in range(2))
    mariadb.root_sql(f"CREATE DATABASE IF NOT EXISTS rr; GRANT ALL ON rr.* TO 'app'@'%'; "
                     f"CREATE TABLE {p} (id INT AUTO_INCREMENT PRIMARY KEY) ENGINE=InnoDB; "
                     f"CREATE TABLE {ch} (parent INT) ENGINE=InnoDB")
    wp = replaying(warmpool_factory, proxy)
    c = connect(wp)
    row(c, f"INSERT INTO {p} VALUES (NULL)")  # LAST_INSERT_ID() = 1
    row(c, "BEGIN")
    row(c, f"INSERT INTO {ch} VALUES (LAST_INSERT_ID())")  # 1
    row(c, f"INSERT INTO {p} VALUES (100)")  # explicit: LAST_INSERT_ID() stays 1
    proxy.cut()
    try:
        row(c, "COMMIT")
    except pymysql.err.OperationalError as e:
        assert e.args[0] == 1927, e
    c.close()
    assert mariadb.root_sql(f"SELECT IFNULL(GROUP_CONCAT(parent), 'none') FROM {ch}").strip() \
        in ("1", "none")
    mariadb.root_sql(f"DROP TABLE {p}; DROP TABLE {ch}")
