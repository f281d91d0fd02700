"""Backend restarts (as an SSL toggle causes): clients between commands notice nothing."""
import pymysql
import pytest


def connect(port, **kw):
    return pymysql.connect(host="127.0.0.1", port=port, user="app", password="app-secret",
                           connect_timeout=30, read_timeout=60, autocommit=True, **kw)


def one(conn, sql):
    with conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchone()


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
        one(c, "SELECT 1")
    for ssl in ("off", "on"):
        private_db.restart(ssl=ssl)
        for c in clients:  # each waits for the backend if it is not back yet
            assert one(c, "SELECT DATABASE(), 1") == ("wp_r", 1)
        tls = one(clients[0], "SHOW SESSION STATUS LIKE 'Ssl_version'")[1]
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
    one(c, "BEGIN")
    one(c, "INSERT INTO t VALUES (1)")
    private_db.restart(ssl="on")
    with pytest.raises(pymysql.err.OperationalError) as lost:
        one(c, "INSERT INTO t VALUES (2)")
    assert lost.value.args[0] == 1927
    assert "transaction was rolled back" in lost.value.args[1]
    # The same client connection goes on with a new transaction.
    one(c, "BEGIN")
    one(c, "INSERT INTO t VALUES (3)")
    one(c, "COMMIT")
    assert private_db.root_sql("SELECT GROUP_CONCAT(id) FROM wp_r.t").strip() == "3"
    c.close()


def test_session_with_state_warmpool_cannot_rebuild_is_closed(warmpool_factory, private_db):
    wp = pool(warmpool_factory, private_db, "session")
    c = connect(wp.port)
    one(c, "SET @kept = 1")
    private_db.restart(ssl="on")
    with pytest.raises(pymysql.err.OperationalError):
        one(c, "SELECT @kept")  # silently answering NULL would be worse
    assert wp.wait_for_log("session state warmpool cannot restore")
    c2 = connect(wp.port)
    assert one(c2, "SELECT 1") == (1,)
    c2.close()
