"""A client's COM_CHANGE_USER (issue #14): authenticated against warmpool's users like
a login, never forwarded, and never leaves another user's session in a pool."""
import signal

import pytest

from conftest import cli
from rawclient import RawClient, change_user_payload, err_of


@pytest.fixture
def two_users(warmpool_factory, mariadb, request):
    """warmpool with users app and bob (both real MariaDB accounts), one backend
    connection per pool so that the next client gets the same one; and an
    account 'outsider' that MariaDB knows and warmpool does not."""
    mariadb.root_sql(
        "CREATE USER IF NOT EXISTS 'bob'@'%' IDENTIFIED BY 'bob-secret'; "
        "CREATE USER IF NOT EXISTS 'outsider'@'%' IDENTIFIED BY 'outsider-secret'; "
        "GRANT SELECT ON mysql.* TO 'outsider'@'%'")
    wp = warmpool_factory(warmpool={"workers": "1"},
                          listener_main={"pool_mode": request.param},
                          backend_main={"min_idle": "0", "max_connections": "1"})
    (wp.workdir / "users.txt").write_text("app:app-secret\nbob:bob-secret\n")
    wp.proc.send_signal(signal.SIGHUP)
    assert wp.wait_for_log('msg="configuration reloaded"')
    return wp


def query_one(c, sql):
    """The first column of the one row of a text query (raw protocol)."""
    c.send(b"\x03" + sql.encode())
    packets = []
    while True:
        _, p = c.read_packet()
        packets.append(p)
        if p[0] == 0xFF:
            raise AssertionError(err_of(p))
        if p[0] == 0x00 and len(packets) == 1:
            return None  # an OK: no result set
        if p[0] == 0xFE and len(p) < 9 and len(packets) > 3:
            break
    row = packets[3]
    return row[1:1 + row[0]].decode()


@pytest.mark.parametrize("two_users", ["session", "transaction"], indirect=True)
def test_change_user_switches_identity_and_pool(two_users):
    c = RawClient(two_users.port).login()
    query_one(c, "SET @mine = 'app-state'")
    reply = c.command(change_user_payload("bob", "bob-secret", c.scramble))
    assert reply[0] == 0x00, err_of(reply)
    assert query_one(c, "SELECT CURRENT_USER()") == "bob@%"
    assert query_one(c, "SELECT IFNULL(@mine, 'none')") == "none"
    assert c.command(b"\x1f")[0] == 0x00  # COM_RESET_CONNECTION
    c.send(b"\x01")  # COM_QUIT
    c.close()
    # The next client of app gets app's pool, whatever bob did.
    r = cli(two_users.port, "SELECT CURRENT_USER()")
    assert r.returncode == 0 and r.stdout.strip() == "app@%", r.stderr


@pytest.mark.parametrize("two_users", ["session"], indirect=True)
@pytest.mark.parametrize("user,password", [("outsider", "outsider-secret"), ("bob", "wrong")])
def test_change_user_refused_like_a_login(two_users, user, password):
    """A backend account warmpool does not list, or a wrong password: access
    denied and the connection closed, as MySQL does; others are served."""
    c = RawClient(two_users.port).login()
    reply = c.command(change_user_payload(user, password, c.scramble))
    assert err_of(reply)[0] == 1045
    c.sock.settimeout(5)
    assert c.sock.recv(100) == b""
    c.close()
    r = cli(two_users.port, "SELECT CURRENT_USER()")
    assert r.returncode == 0 and r.stdout.strip() == "app@%", r.stderr
