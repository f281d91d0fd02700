"""Hostile backends (the fault-injecting fake of fake_mysql.py): a backend that stalls,
resets, lies about sequence ids or parameter counts, floods, or shows a bad
certificate hurts only the client whose query met it; warmpool stays up, bounded,
and serves the others."""
import datetime
import json
import socket
import struct
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pymysql
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from conftest import cli
from rawclient import RawClient, err_of


def pool(warmpool_factory, port, **warmpool):
    return warmpool_factory(warmpool={"client_wait_timeout_ms": "3000", **warmpool},
                            backend_main={"port": str(port), "ssl_mode": "verify_identity",
                                          "ssl_server_name": "localhost", "min_idle": "1"})


def connect(wp, **kw):
    return pymysql.connect(host="127.0.0.1", port=wp.port, user="app", password="app-secret",
                           connect_timeout=10, **kw)


def query(conn, sql):
    with conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


def bystander_served(wp):
    c = connect(wp)
    assert query(c, "SELECT 'fine'") == (("fast:tls",),)
    c.close()


def rss(wp):
    with open(f"/proc/{wp.proc.pid}/statm") as f:
        return int(f.read().split()[1]) * 4096


@pytest.mark.parametrize("fault", ["stall", "reset", "badseq"])
def test_a_misbehaving_backend_hurts_only_its_client(warmpool_factory, fake_backend, fault):
    port, _ = fake_backend()
    wp = pool(warmpool_factory, port)
    victim = connect(wp, read_timeout=2)
    with pytest.raises(pymysql.err.MySQLError):
        query(victim, f"SELECT 'fault:{fault}'")
    bystander_served(wp)
    victim.close()
    time.sleep(0.3)
    bystander_served(wp)
    assert wp.alive()


def test_a_flooding_backend_is_held_back(warmpool_factory, fake_backend):
    """An endless result to a client that stops reading: warmpool stops
    reading the backend (4 MiB high-water mark) instead of buffering it."""
    port, _ = fake_backend()
    wp = pool(warmpool_factory, port)
    before = rss(wp)
    victim = connect(wp)
    cur = victim.cursor(pymysql.cursors.SSCursor)
    cur.execute("SELECT 'fault:flood'")
    for _ in range(100):
        cur.fetchone()
    time.sleep(3)  # the client reads nothing; the fake keeps sending
    grown = rss(wp) - before
    assert grown < 48 << 20, f"warmpool grew {grown >> 20} MiB"
    bystander_served(wp)
    cur._result.unbuffered_active = False  # no draining of an endless result at close
    victim._sock.shutdown(socket.SHUT_RDWR)
    victim.close()
    time.sleep(0.5)
    bystander_served(wp)


def test_a_packet_larger_than_16_mib_goes_through_in_bounded_memory(warmpool_factory, fake_backend):
    port, _ = fake_backend()
    wp = pool(warmpool_factory, port)
    before = rss(wp)
    c = connect(wp, max_allowed_packet=64 << 20)
    (value,), = query(c, "SELECT 'fault:oversized'")
    assert len(value) == 40 << 20 and value[:1] == "z"
    assert rss(wp) - before < 48 << 20  # relayed frame by frame, not gathered
    bystander_served(wp)
    c.close()


def make_cert(ca_cert_path, ca_key_path, out_dir, name, expired=False, foreign=False):
    """A server certificate for localhost: expired, or signed by a CA nobody trusts."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if foreign:
        ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        issuer = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "someone else's CA")])
    else:
        ca_key = serialization.load_pem_private_key(Path(ca_key_path).read_bytes(), None)
        issuer = x509.load_pem_x509_certificate(Path(ca_cert_path).read_bytes()).subject
    now = datetime.datetime.now(datetime.timezone.utc)
    start, end = (now - datetime.timedelta(days=30), now - datetime.timedelta(days=1)) if expired \
        else (now - datetime.timedelta(days=1), now + datetime.timedelta(days=30))
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(issuer).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), False)
            .sign(ca_key, hashes.SHA256()))
    cert_path, key_path = out_dir / f"{name}-cert.pem", out_dir / f"{name}-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.TraditionalOpenSSL,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


@pytest.mark.parametrize("kind", ["expired", "foreign"])
def test_a_certificate_that_expires_or_changes_takes_the_backend_down(
        warmpool_factory, fake_backend, mariadb, tmp_path, kind):
    port, good = fake_backend()
    wp = pool(warmpool_factory, port)
    bystander_served(wp)
    certs = Path(mariadb.env["certs"])
    cert, key = make_cert(certs / "ca.pem", certs / "ca-key.pem", tmp_path, kind,
                          expired=kind == "expired", foreign=kind == "foreign")
    good.kill()
    good.wait()
    fake_backend(port=port, cert=cert, key=key)  # the "restarted" backend, with the new certificate
    with pytest.raises(pymysql.err.OperationalError) as refused:
        connect(wp)  # the login waits for a backend connection that never comes
    assert refused.value.args[0] == 9001, refused.value.args
    assert "certificate" in refused.value.args[1].lower() or "CERTIFICATE" in wp.read_log()
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{wp.admin_port}/readyz", timeout=5)
        raise AssertionError("ready with a bad certificate")
    except urllib.error.HTTPError as e:
        reasons = json.loads(e.read())["reasons"]
        assert e.code == 503 and any("down" in r for r in reasons), reasons
    assert wp.alive()


def test_a_setup_answered_by_a_server_shutting_down_moves_to_another_connection(
        warmpool_factory, fake_backend, tmp_path):
    """MySQL answers what arrives during its shutdown with ERR 1053. When that
    is the answer to warmpool's own session setup (here the USE of a client's
    schema), the client is not refused as if its schema did not exist: it
    gets a connection to the server that came back, and the other idle
    connections to the one that left are dropped."""
    shutdown = tmp_path / "shutdown"
    port, _ = fake_backend(shutdown=shutdown)
    wp = warmpool_factory(warmpool={"workers": "1", "client_wait_timeout_ms": "5000"},
                          listener_main={"pool_mode": "transaction"},
                          backend_main={"port": str(port), "ssl_mode": "verify_identity",
                                        "ssl_server_name": "localhost", "min_idle": "2"})
    first = connect(wp, database="d1")
    assert query(first, "SELECT 1") == (("fast:tls",),)
    time.sleep(0.1)
    shutdown.touch()  # every connection open so far is now "shutting down"
    second = connect(wp, database="d2")  # its USE d2 meets one of them
    assert query(second, "SELECT 1") == (("fast:tls",),)
    assert query(first, "SELECT 1") == (("fast:tls",),)
    log = wp.read_log()
    assert "backend going away: Server shutdown in progress" in log, log
    assert "another connection was told so" in log, log
    first.close()
    second.close()


def test_an_error_sent_between_statements_is_not_taken_for_the_next_answer(
        warmpool_factory, fake_backend, tmp_path):
    """MySQL shutting down sends ERR 1053 unasked to connections between
    statements. Relayed, the client would read it as the answer to its next
    statement, and every answer after would be one off; warmpool drops the
    connection instead, as lost between statements: the client's next
    statement gets a new connection (the server that came back)."""
    shutdown = tmp_path / "shutdown"
    port, _ = fake_backend(shutdown=shutdown, unasked=True)
    wp = warmpool_factory(warmpool={"workers": "1", "client_wait_timeout_ms": "5000"},
                          listener_main={"pool_mode": "session"},
                          backend_main={"port": str(port), "ssl_mode": "verify_identity",
                                        "ssl_server_name": "localhost", "min_idle": "1"})
    c = connect(wp, autocommit=True)
    assert query(c, "SELECT 1") == (("fast:tls",),)  # linked for the whole session
    time.sleep(0.1)
    shutdown.touch()
    time.sleep(0.5)  # the fake polls every 20 ms: its ERR has reached warmpool
    assert query(c, "SELECT 2") == (("fast:tls",),)  # not the 1053, and in step
    assert query(c, "SELECT 3") == (("fast:tls",),)
    assert "backend spoke between commands: Server shutdown in progress" in wp.read_log()
    c.close()


def test_a_read_killed_after_its_result_header_is_re_sent(warmpool_factory, fake_backend):
    """MySQL shutting down kills a SELECT after its result header went out: the
    header and ERR 1053 arrive together. Nothing of it has reached the client
    yet, so with retry_reads the read is re-sent on a new connection instead
    of answering ERR 1053."""
    port, _ = fake_backend()
    wp = warmpool_factory(warmpool={"workers": "1", "client_wait_timeout_ms": "5000"},
                          listener_main={"pool_mode": "transaction", "retry_reads": "true"},
                          backend_main={"port": str(port), "ssl_mode": "verify_identity",
                                        "ssl_server_name": "localhost", "min_idle": "1"})
    c = connect(wp)
    assert query(c, "SELECT 'fault:killmid'") == (("fast:tls",),)
    assert "read statement re-sent on a new backend connection" in wp.read_log()
    c.close()


def plain_transaction_pool(warmpool_factory, port, **backend):
    """Transaction mode, one worker, a plaintext fake backend."""
    return warmpool_factory(warmpool={"workers": "1"}, listener_main={"pool_mode": "transaction"},
                            backend_main={"port": str(port), "ssl_mode": "disabled",
                                          "min_idle": "1", **backend})


def plain_bystander_served(wp):
    r = cli(wp.port, "SELECT 'fine'")
    assert r.returncode == 0 and r.stdout.strip() == "fast:plain", r.stderr


def execute(stmt, values, bind_types=True):
    """COM_STMT_EXECUTE of |stmt| with BIGINT |values|, their types sent or not."""
    body = struct.pack("<BIBI", 0x17, stmt, 0, 1)
    if values:
        body += bytes((len(values) + 7) // 8) + (b"\x01" if bind_types else b"\x00")
        body += b"\x08\x00" * len(values) if bind_types else b""
        body += b"".join(struct.pack("<q", v) for v in values)
    return body


def echoed(reply, sent, params):
    """The fake's OK to an execute says the backend got exactly |sent| (after
    the statement id, which warmpool rewrites) for a statement of |params|."""
    assert reply[0] == 0x00, f"not an OK: {reply!r}"
    info = dict(kv.split(b"=") for kv in reply[7:].split(b" "))
    assert info[b"params"] == str(params).encode()
    assert info[b"rest"] == sent[5:].hex().encode(), "the backend got other bytes"


def refused_as_contradicting(reply):
    code, state, message = err_of(reply)
    assert (code, state) == (1243, "HY000")
    assert b"prepared the statement differently" in message


@pytest.mark.parametrize("again", [1, 3], ids=["fewer", "more"])
def test_a_re_prepare_reporting_other_parameters_is_refused(warmpool_factory, fake_backend,
                                                            again):
    """The statement's first connection dies; prepared again on another, the
    backend reports another parameter count than the first time. The execute
    gets ERR 1243 (types sent or not): warmpool never reads types or a cache
    entry by a count the other side does not share."""
    port, _ = fake_backend(tls=False)
    wp = plain_transaction_pool(warmpool_factory, port)
    c = RawClient(wp.port).login()
    stmt = c.prepare(f"SELECT ?, ?, 'fault:params=2,{again} fault:close-after-prepare'")
    assert wp.wait_for_log('msg="idle backend connection closed"')
    # Both sent before judging: without the check, the first runs with the
    # types cached by the wrong count and the second reads past them.
    replies = [c.command(execute(stmt, [7, 8], bind)) for bind in (True, False)]
    for reply in replies:
        refused_as_contradicting(reply)
    assert c.command(b"\x0e")[0] == 0x00  # still in step
    c.close()
    plain_bystander_served(wp)


@pytest.mark.parametrize("again", [1, 3], ids=["fewer", "more"])
def test_one_connection_reporting_two_parameter_counts_for_one_text(warmpool_factory,
                                                                    fake_backend, again):
    """The same text prepared twice on one backend connection, the second
    time with another parameter count: the first statement runs with exactly
    the client's bytes; the second, whose count contradicts the statement
    warmpool keeps for that text there, gets ERR 1243, never the first's id."""
    port, _ = fake_backend(tls=False)
    wp = plain_transaction_pool(warmpool_factory, port, max_connections="1")
    c = RawClient(wp.port).login()
    text = f"SELECT ?, ?, 'fault:params=2,{again}'"
    first, second = c.prepare(text), c.prepare(text)
    for bind in (True, False):
        sent = execute(first, [7, 8], bind)
        echoed(c.command(sent), sent, 2)
    replies = [c.command(execute(second, list(range(again)), bind)) for bind in (True, False)]
    for reply in replies:
        refused_as_contradicting(reply)
    sent = execute(first, [7, 8], bind_types=False)
    echoed(c.command(sent), sent, 2)
    assert c.command(b"\x0e")[0] == 0x00
    c.close()
    plain_bystander_served(wp)


@pytest.mark.parametrize("reported", [1, 3], ids=["fewer", "more"])
def test_a_prepare_reporting_other_parameters_than_its_text(warmpool_factory, fake_backend,
                                                            reported):
    """The backend reports more or fewer parameters than the text's two '?';
    the client executes with its own two. warmpool reads the execute by the
    reported count, within the packet, and the backend gets the client's
    bytes unchanged (its to refuse)."""
    port, _ = fake_backend(tls=False)
    wp = plain_transaction_pool(warmpool_factory, port)
    c = RawClient(wp.port).login()
    stmt = c.prepare(f"SELECT ?, ?, 'fault:params={reported}'")
    for bind in (True, False, True):
        sent = execute(stmt, [7, 8], bind)
        echoed(c.command(sent), sent, reported)
    assert c.command(b"\x0e")[0] == 0x00
    c.close()
    plain_bystander_served(wp)


def test_a_statement_crossed_by_the_servers_farewell_is_sent_again(warmpool_factory,
                                                                  fake_backend):
    """A server closing a connection says why first, unasked, numbered 0 (MySQL
    when wait_timeout ends it: ERR 4031). A statement that crossed that ERR on
    the wire was never read: even a write, without retry_reads, goes to a new
    connection, and the client gets its answer, not an ERR out of step."""
    port, _ = fake_backend()
    wp = warmpool_factory(warmpool={"workers": "1", "client_wait_timeout_ms": "5000"},
                          listener_main={"pool_mode": "transaction"},
                          backend_main={"port": str(port), "ssl_mode": "verify_identity",
                                        "ssl_server_name": "localhost", "min_idle": "1"})
    c = connect(wp, autocommit=True)
    assert query(c, "INSERT INTO t VALUES ('fault:farewell')") == (("fast:tls",),)
    assert query(c, "SELECT 2") == (("fast:tls",),)
    assert "statement the backend never read re-sent" in wp.read_log()
    c.close()


def test_a_read_re_sent_waits_for_a_connection_opened_after_the_loss(warmpool_factory,
                                                                   fake_backend):
    """A restart closes every connection at once; one may still get an answer
    out first. Its connection, given back as the lost read waits, is not
    where the read is re-sent: that connection's close is on its way. Sent
    there, the read would be lost a second time, spending its retries (CI
    saw sysbench's prepared point selects run out of them)."""
    port, _ = fake_backend()
    wp = warmpool_factory(warmpool={"workers": "1", "client_wait_timeout_ms": "5000"},
                          listener_main={"pool_mode": "transaction", "retry_reads": "true"},
                          backend_main={"port": str(port), "ssl_mode": "verify_identity",
                                        "ssl_server_name": "localhost", "min_idle": "2"})
    first, second = connect(wp), connect(wp)
    answers = {}
    lost = threading.Thread(target=lambda: answers.update(
        first=query(first, "SELECT 'fault:dies-first'")))
    lost.start()
    time.sleep(0.3)  # its statement is in flight on a connection of its own
    assert query(second, "SELECT 'fault:answers-then-dies'") == (("fast:tls",),)
    lost.join(10)
    assert answers.get("first") == (("fast:tls",),)
    log = wp.read_log()
    assert log.count("read statement re-sent on a new backend connection") == 1, log
    first.close()
    second.close()
