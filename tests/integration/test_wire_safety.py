"""Wire safety (issue #15): every read of a response is bounded by what has
arrived, one login attempt per connection, bounded memory whatever a client
pipelines, LOAD DATA LOCAL of any size, and log lines a peer cannot forge."""
import contextlib
import os
import socket
import struct
import threading
import time

import pymysql
import pytest

from conftest import cli
from rawclient import RawClient, err_of, frame, login_payload, native_token

import fake_mysql


def rss(wp):
    with open(f"/proc/{wp.proc.pid}/statm") as f:
        return int(f.read().split()[1]) * 4096


# What one client may make warmpool hold, whatever it sends (README, "Bounded
# memory per client"): its unread answers (CONN_OUT_HIGH, 4 MiB), its backend
# connection's output (4 MiB) and the commands queued behind the one in hand
# (CLIENT_IN_HIGH, 1 MiB), about 9 MiB, plus the allocator's slack. The
# worker's receive ring (16 MiB, touched as it is used) is a fixed cost:
# tests that move more than that through it warm it first.
CLIENT_RSS_BOUND = 12 << 20
# What a multishot receive may already have delivered when reading stops (it
# stops once the completions in hand are handled): at most the worker's
# receive ring, 1024 buffers of 16 KiB.
RECEIVE_RING = 16 << 20


def asan_quarantine(wp):
    """Freed memory ASan holds back before reuse (quarantine_size_mb of
    ASAN_OPTIONS; tools/test.sh sets 16) when warmpool runs under it:
    resident, but no client's."""
    with open(f"/proc/{wp.proc.pid}/maps") as f:
        if "libasan" not in f.read():
            return 0
    options = dict(o.split("=", 1) for o in os.environ.get("ASAN_OPTIONS", "").split(":")
                   if "=" in o)
    return int(options.get("quarantine_size_mb", 256)) << 20


@contextlib.contextmanager
def rss_bounded(wp, bound=CLIENT_RSS_BOUND):
    """Samples warmpool's RSS while the block runs; its peak must stay within
    |bound| (and ASan's quarantine) of what it was before."""
    bound += asan_quarantine(wp)
    before, peak, done = rss(wp), [0], threading.Event()

    def sample():
        while not done.wait(0.02):
            peak[0] = max(peak[0], rss(wp))
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield
    finally:
        done.set()
        sampler.join()
    grown = max(peak[0], rss(wp)) - before
    assert grown < bound, f"RSS grew by {grown / (1 << 20):.1f} MiB"


def bystander_served(wp, expect="fine"):
    """Another client, meanwhile, is served as usual."""
    r = cli(wp.port, "SELECT 'fine'")
    assert r.returncode == 0 and r.stdout.strip() == expect, r.stderr


def segmented_pool(warmpool_factory, port):
    """Transaction mode, one worker, in front of a plaintext fake backend that
    sends each byte of every response in a segment of its own."""
    return warmpool_factory(
        warmpool={"workers": "1", "client_wait_timeout_ms": "5000"},
        listener_main={"pool_mode": "transaction"},
        backend_main={"port": str(port), "ssl_mode": "disabled", "min_idle": "1"})


def test_segmented_responses_reach_the_client_whole_and_alone(warmpool_factory, fake_backend):
    """A long ERR to warmpool's own re-prepare, arriving byte by byte, reaches the
    client exactly as the server sent it: no byte of anything else in memory."""
    port, _ = fake_backend(tls=False, segment=True)
    wp = segmented_pool(warmpool_factory, port)
    c = RawClient(wp.port).login()
    # A query and its one-row result, byte by byte.
    c.send(b"\x03SELECT 'plain'")
    packets = [c.read_packet()[1] for _ in range(5)]
    assert packets[3] == b"\x0afast:plain"
    # Prepared on the first connection, which the backend then closes; the
    # execute needs it prepared again elsewhere, and that fails at length.
    stmt = c.prepare("SELECT 'fault:close-after-prepare'")
    time.sleep(0.3)
    reply = c.command(b"\x17" + struct.pack("<IBI", stmt, 0, 1))
    code, state, message = err_of(reply)
    assert (code, state) == (1146, "42S02")
    assert message == fake_mysql.LONG_PREPARE_ERROR
    # The connection is still in step.
    assert c.command(b"\x0e")[0] == 0x00
    c.close()
    bystander_served(wp, "fast:plain")


def result_text(c):
    """The one value of a one-row, one-column text result, read whole."""
    packets = [c.read_packet()[1] for _ in range(5)]
    assert packets[0] == b"\x01" and packets[2][0] == packets[4][0] == 0xFE, packets
    return packets[3][1:1 + packets[3][0]]


@pytest.mark.parametrize("mode", ["session", "transaction"])
def test_every_response_path_in_one_byte_segments(warmpool_factory, fake_backend, mode):
    """Every kind of response warmpool reads, from the backend's greeting on,
    arriving one byte per TCP segment: the client gets each exactly as the
    server sent it."""
    port, _ = fake_backend(tls=False, segment=True)
    wp = warmpool_factory(
        warmpool={"workers": "1"},
        listener_main={"pool_mode": mode, "retry_reads": "true"},
        backend_main={"port": str(port), "ssl_mode": "disabled", "min_idle": "1"})
    c = RawClient(wp.port).login()  # the backend's login and setup replies
    with rss_bounded(wp):
        c.send(b"\x03SELECT 'plain'")
        assert result_text(c) == b"fast:plain"
        c.send(b"\x03SELECT 'fault:error'")
        assert err_of(c.read_packet()[1]) == (1054, "42S22", fake_mysql.LONG_QUERY_ERROR)
        assert c.command(b"\x02wire")[0] == 0x00  # COM_INIT_DB
        # A SET warmpool reads back (transaction mode) with a query of its own.
        assert c.command(b"\x03SET sql_mode = CONCAT(@@sql_mode, '')")[0] == 0x00
        # LOAD DATA LOCAL: the server's request for the file, then its OK.
        request = c.command(b"\x03LOAD DATA LOCAL INFILE 'fault:infile' INTO TABLE t")
        assert request == b"\xfbrows.tsv"
        c.sock.sendall(frame(2, b"1\tone\n" * 100) + frame(3, b""))
        assert c.read_packet()[1].endswith(b"infile bytes=600")
        assert c.command(b"\x0e")[0] == 0x00  # COM_PING
        # The client's own prepare: its OK, parameter definitions and EOF.
        stmt = c.prepare("SELECT ?, ?, 'fault:params=2'")
        sent = struct.pack("<BIBI", 0x17, stmt, 0, 1) + b"\x00\x01" + b"\x08\x00" * 2 \
            + struct.pack("<qq", 7, 8)
        reply = c.command(sent)
        assert reply[0] == 0x00 and reply.endswith(b"params=2 rest=" + sent[5:].hex().encode())
        # A prepare the server refuses at length, relayed.
        c.prepare("SELECT 'twice'")
        code, state, message = err_of(c.command(b"\x16SELECT 'twice'"))
        assert (code, state, message) == (1146, "42S02", fake_mysql.LONG_PREPARE_ERROR)
        # A read killed after its result header: re-sent on another connection
        # when the ERR 1053 is seen with the header, else (the header already
        # relayed, as bytes trickle in) the result ends with that ERR.
        c.send(b"\x03SELECT 'fault:killmid'")
        packets = [c.read_packet()[1] for _ in range(4)]
        if packets[3][0] == 0xFF:
            assert packets[0] == b"\x01" and packets[2][0] == 0xFE
            assert err_of(packets[3])[:2] == (1053, "28000")
        else:
            assert packets[3] == b"\x08fast:tls" and c.read_packet()[1][0] == 0xFE
    c.send(b"\x01")  # COM_QUIT: in session mode, the connection is reset
    c.close()
    bystander_served(wp, "fast:plain")


def test_one_login_attempt_per_connection(warmpool_factory):
    """Fifty wrong passwords and then the right one, in one write: one
    'access denied', then the close; the right password is never tried."""
    wp = warmpool_factory(warmpool={"workers": "1"})
    c = RawClient(wp.port)
    wrong = native_token("guess", c.scramble)
    right = native_token("app-secret", c.scramble)
    batch = b"".join(frame(1 + 2 * i, login_payload(b"app", wrong)) for i in range(50))
    batch += frame(101, login_payload(b"app", right))
    with rss_bounded(wp):
        c.sock.sendall(batch)
        _, reply = c.read_packet()
    assert err_of(reply)[0] == 1045
    c.sock.settimeout(5)
    assert c.sock.recv(4096) == b"", "nothing but the close follows the refusal"
    assert wp.read_log().count('msg="authentication failed"') == 1
    c.close()
    bystander_served(wp)


def flood_pings(c, count, read_while_sending, head=b"", head_answers=0, command=b"\x0e"):
    """Sends |head| (commands answered by |head_answers| OKs) and |count| pings
    (or other |command|s answered by an OK) in one go; returns after reading
    every answer."""
    sender = threading.Thread(target=c.sock.sendall, args=(head + frame(0, command) * count,),
                              daemon=True)
    sender.start()
    if not read_while_sending:
        time.sleep(2)  # the client reads nothing: both sides' buffers fill
    # An OK is 7 bytes + the header.
    received, want = 0, (count + head_answers) * 11
    c.sock.settimeout(60)
    while received < want:
        chunk = c.sock.recv(1 << 20)
        assert chunk, f"closed after {received} of {want} bytes"
        received += len(chunk)
    sender.join(30)
    assert received == want


def test_pipelined_pings_are_all_answered_in_bounded_memory(warmpool_factory):
    """20 MiB of pings in one go, with the client not reading: warmpool stops
    reading at its bound instead of buffering them all, then answers every one."""
    wp = warmpool_factory(warmpool={"workers": "1"}, listener_main={"pool_mode": "transaction"})
    c = RawClient(wp.port).login()
    # Read as they come, they touch every buffer of the worker's receive
    # ring (16 MiB, a fixed cost) but pile up nowhere.
    flood_pings(c, (17 << 20) // 5, read_while_sending=True)
    before = rss(wp)
    grown = []
    threading.Timer(1.5, lambda: grown.append(rss(wp) - before)).start()
    flood_pings(c, (20 << 20) // 5, read_while_sending=False)
    # The bound is CONN_OUT_HIGH + CLIENT_IN_HIGH (5 MiB) plus what the
    # allocator keeps; buffering the pings would take 20 MiB and more.
    assert grown[0] < 12 << 20, f"RSS grew by {grown[0] >> 20} MiB"
    c.close()
    bystander_served(wp)


def test_commands_behind_a_waiting_statement_in_bounded_memory(warmpool_factory):
    """Two executes of a statement that takes 3 s, the second waiting for the
    first's answer, then 20 MiB of statements, unread: input stops at the
    bound while a statement command waits too (it did not), and everything
    is answered in order."""
    wp = warmpool_factory(warmpool={"workers": "1"}, listener_main={"pool_mode": "transaction"})
    c = RawClient(wp.port).login()
    flood_pings(c, (17 << 20) // 5, read_while_sending=True)  # the ring, warmed
    execute = frame(0, struct.pack("<BIBI", 0x17, c.prepare("DO SLEEP(3)"), 0, 1))
    # Statements of 1 KiB, few enough for the server to answer in a moment.
    statement = b"\x03DO 1 /*" + b"x" * 1000 + b"*/"
    with rss_bounded(wp):
        flood_pings(c, (20 << 20) // len(statement), read_while_sending=False,
                    head=execute * 2, head_answers=2, command=statement)
    c.close()
    bystander_served(wp)


def test_a_slow_reader_of_a_large_result_in_bounded_memory(warmpool_factory):
    """64 MiB of result read slowly but steadily: each send to the client is
    short, and what it leaves must count against the bound that stops reading
    from the backend, or the whole result piles up in warmpool."""
    wp = warmpool_factory(warmpool={"workers": "1"})
    c = RawClient(wp.port).login()
    # 17 MiB read at full speed first, through every buffer of the receive ring.
    c.send(megabyte_rows(17))
    drain_result(c, 17, pause=0)
    # Before the fix the whole 64 MiB piled up (RSS grew by 63 MiB).
    with rss_bounded(wp, CLIENT_RSS_BOUND + RECEIVE_RING):
        c.send(megabyte_rows(64))
        drain_result(c, 64, pause=0.001)
    assert c.command(b"\x0e")[0] == 0x00
    c.close()
    bystander_served(wp)


def megabyte_rows(rows):
    """A COM_QUERY whose result is |rows| rows of 1,000,000 bytes."""
    return (b"\x03WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < %d) "
            b"SELECT REPEAT('x', 1000000) FROM r" % rows)


def drain_result(c, rows, pause):
    """Reads a result of |rows| rows of one 1,000,000-byte column, 64 KiB at a
    time, sleeping |pause| seconds between reads (a slow reader); returns
    once its final EOF is in."""
    want = 0
    packets = [c.read_packet()[1] for _ in range(3)]  # column count, definition, EOF
    assert packets[0] == b"\x01", packets[0]
    for _ in range(rows):
        header = c.recv_exact(4)
        left = header[0] | header[1] << 8 | header[2] << 16
        want += left
        while left:
            left -= len(c.sock.recv(min(left, 65536)))
            time.sleep(pause)
    assert want == rows * (1000000 + 4)  # each row: a 4-byte length and the bytes
    assert c.read_packet()[1][0] == 0xFE


def test_short_stmt_close_does_not_wedge_the_connection(warmpool_factory):
    wp = warmpool_factory(warmpool={"workers": "1"}, listener_main={"pool_mode": "transaction"})
    c = RawClient(wp.port).login()
    c.send(b"\x19\x01")  # COM_STMT_CLOSE with half an id
    assert c.command(b"\x0e")[0] == 0x00
    assert c.command(b"\x03SELECT 1")[0] == 1  # a result set: one column
    c.close()
    bystander_served(wp)


# The statement commands, and whether the server answers them.
STMT_COMMANDS = {0x16: True, 0x17: True, 0x18: False, 0x19: False, 0x1A: True, 0x1C: True,
                 0xFA: True}  # PREPARE, EXECUTE, SEND_LONG_DATA, CLOSE, RESET, FETCH, BULK


def answer_or_nothing(c, payload, answered):
    """Sends |payload|; an ERR must answer it when |answered| (else nothing
    does), and the connection stays in step: a ping is answered next."""
    c.send(payload)
    if answered:
        assert c.read_packet()[1][0] == 0xFF, payload
    assert c.command(b"\x0e")[0] == 0x00, payload


@pytest.mark.parametrize("mode", ["session", "transaction"])
def test_short_statement_packets(warmpool_factory, mode):
    """Every statement command cut short, with no id or part of one, and an
    execute of a real statement cut at every byte: an ERR (or nothing, for
    the commands without a reply), never a wedge or a read past the packet."""
    wp = warmpool_factory(warmpool={"workers": "1"}, listener_main={"pool_mode": mode})
    c = RawClient(wp.port).login()
    with rss_bounded(wp):
        for command, answered in STMT_COMMANDS.items():
            for cut in range(5):
                answer_or_nothing(c, bytes([command]) + b"\x01\x00\x00\x00"[:cut], answered)
        stmt = c.prepare("DO ?, ?")
        whole = struct.pack("<BIBI", 0x17, stmt, 0, 1) + b"\x00\x01" + b"\x08\x00" * 2 \
            + struct.pack("<qq", 7, 8)
        for cut in range(5, len(whole)):
            answer_or_nothing(c, whole[:cut], True)
        assert c.command(whole)[0] == 0x00
    c.close()
    bystander_served(wp)


def test_statement_texts_are_bounded_per_client(warmpool_factory):
    """Prepared texts beyond 4 MiB in all are refused with a clear error; the
    client keeps its connection and its other statements."""
    wp = warmpool_factory(warmpool={"workers": "1"})
    c = RawClient(wp.port).login()
    text = "SELECT '" + "x" * 1_000_000 + "' AS v"
    for i in range(4):
        c.prepare(text.replace("AS v", f"AS v{i}"))
    code, _, message = err_of(c.command(b"\x16" + text.encode()))
    assert code == 1461 and b"4 MiB" in message
    assert c.command(b"\x0e")[0] == 0x00
    c.close()
    bystander_served(wp)


# Bytes below 0x20 but tab and newline (LOAD DATA's separators).
CONTROL = [b for b in range(1, 32) if b not in (9, 10)]


def write_rows(path, size):
    """A LOAD DATA file of |size| bytes; returns its row count."""
    rows = 0
    with open(path, "wb") as f:
        while f.tell() < size:
            # Control bytes at every offset, so that whichever byte starts a
            # chunk, it looks like some command.
            f.write(b"%d\t%s\n" % (rows, bytes([CONTROL[rows % len(CONTROL)]]) * 200))
            rows += 1
    return rows


@pytest.mark.parametrize("mode", ["session", "transaction"])
def test_load_data_local_of_64_mib(warmpool_factory, mariadb, tmp_path, mode):
    """The upload's sequence ids wrap many times; no file chunk is taken for a
    command (a chunk starting with 0x01 would be COM_QUIT), and the connection
    serves statements afterwards."""
    wp = warmpool_factory(listener_main={"pool_mode": mode})
    mariadb.root_sql("CREATE DATABASE IF NOT EXISTS wire; "
                     "CREATE OR REPLACE TABLE wire.upload (n INT, pad TEXT); "
                     "GRANT ALL ON wire.* TO 'app'@'%'")
    warm_rows = write_rows(tmp_path / "warm.tsv", 17 << 20)
    rows = write_rows(tmp_path / "rows.tsv", 64 << 20)
    conn = pymysql.connect(host="127.0.0.1", port=wp.port, user="app", password="app-secret",
                           database="wire", local_infile=True, read_timeout=120)
    with conn.cursor() as cur:
        # 17 MiB first, through every buffer of the receive ring, whichever
        # worker the client is on; then the 64 MiB within the client's bound.
        cur.execute(f"LOAD DATA LOCAL INFILE '{tmp_path / 'warm.tsv'}' INTO TABLE upload")
        cur.execute("DELETE FROM upload")
        assert cur.rowcount == warm_rows
        with rss_bounded(wp):
            cur.execute(f"LOAD DATA LOCAL INFILE '{tmp_path / 'rows.tsv'}' INTO TABLE upload")
        cur.execute("SELECT COUNT(*), MAX(n) FROM upload")
        assert cur.fetchone() == (rows, rows - 1)
    conn.commit()
    conn.close()
    assert mariadb.root_sql("SELECT COUNT(*) FROM wire.upload").strip() == str(rows)
    bystander_served(wp)


def test_a_user_name_cannot_forge_log_lines(warmpool_factory):
    wp = warmpool_factory(warmpool={"workers": "1"})
    c = RawClient(wp.port)
    evil = b'x\nts=2026-01-01T00:00:00.000Z level=error msg="forged" user="root'
    c.sock.sendall(frame(1, login_payload(evil, b"\x00" * 20)))
    assert err_of(c.read_packet()[1])[0] == 1045
    c.close()
    assert wp.wait_for_log('msg="authentication failed"')
    lines = wp.read_log().splitlines()
    assert not any(line.startswith("ts=2026-01-01") for line in lines)
    failed = next(line for line in lines if "authentication failed" in line)
    assert 'user="x\\x0ats=2026-01-01T00:00:00.000Z level=error msg=\\"forged\\" user=\\"root"' in failed


def raw_from(port, source):
    """A RawClient whose connection comes from loopback address |source|."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10,
                                    source_address=(source, 0))
    c = RawClient.__new__(RawClient)
    c.sock = sock
    header = c.recv_exact(4)
    c.first = c.recv_exact(header[0] | header[1] << 8 | header[2] << 16)
    return c


def served_from(wp, source):
    conn = pymysql.connect(host="127.0.0.1", port=wp.port, user="app", password="app-secret",
                           bind_address=source, connect_timeout=10)
    with conn.cursor() as cur:
        cur.execute("SELECT 'fine'")
        fine = cur.fetchone() == ("fine",)
    conn.close()
    return fine


def test_failed_logins_block_their_address_only(warmpool_factory):
    """Past max_auth_failures_per_address, even the right password is refused
    from that address (ERR 1129 in place of the greeting); others log in."""
    wp = warmpool_factory(warmpool={"workers": "2", "max_auth_failures_per_address": "3"})
    for _ in range(3):
        r = cli(wp.port, "SELECT 1", password="guess")
        assert "Access denied" in r.stderr
    blocked = raw_from(wp.port, "127.0.0.1")
    assert err_of(blocked.first)[0] == 1129
    blocked.close()
    r = cli(wp.port, "SELECT 1")
    assert r.returncode != 0 and "blocked" in r.stderr
    other = raw_from(wp.port, "127.0.0.2")
    assert other.first[0] == 0x0A, "a greeting"
    other.close()
    assert served_from(wp, "127.0.0.3")


def test_connections_logging_in_are_bounded_per_address(warmpool_factory):
    wp = warmpool_factory(warmpool={"workers": "2", "max_handshakes_per_address": "2"})
    idle = [raw_from(wp.port, "127.0.0.1") for _ in range(2)]
    assert all(c.first[0] == 0x0A for c in idle)
    third = raw_from(wp.port, "127.0.0.1")
    assert err_of(third.first)[0] == 1040
    third.close()
    assert served_from(wp, "127.0.0.2")
    idle[0].close()
    time.sleep(0.3)  # the close reaches warmpool
    again = raw_from(wp.port, "127.0.0.1")
    assert again.first[0] == 0x0A
    again.close()
    idle[1].close()
