"""Hostile and broken clients: each gets a clear error or a clean close in bounded time,
and nobody else notices."""
import os
import resource
import socket
import struct
import time

import pytest

from conftest import cli, wait_until
from rawclient import RawClient, err_of, frame, login_payload, native_token


def fd_count(wp):
    return len(os.listdir(f"/proc/{wp.proc.pid}/fd"))


def greeting(sock):
    """Reads the server's greeting frame; returns its payload."""
    header = recv_exact(sock, 4)
    return recv_exact(sock, header[0] | header[1] << 8 | header[2] << 16)


def recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            return data
        data += chunk
    return data


def read_reply(sock, timeout=5):
    """The next frame's payload, or b'' if warmpool closed the connection."""
    sock.settimeout(timeout)
    header = recv_exact(sock, 4)
    if len(header) < 4:
        return b""
    return recv_exact(sock, header[0] | header[1] << 8 | header[2] << 16)


def closed_within(sock, seconds):
    sock.settimeout(seconds)
    try:
        while sock.recv(4096):
            pass
        return True
    except (socket.timeout, TimeoutError):
        return False
    except ConnectionResetError:
        return True


@pytest.fixture
def wp(warmpool_factory):
    return warmpool_factory(warmpool={"workers": "1"})


@pytest.fixture
def wp_short(warmpool_factory):
    """A short handshake timeout, for the tests of it. Not for the others: a
    CLI's TLS handshake took over a second on a loaded machine."""
    return warmpool_factory(warmpool={"workers": "1", "handshake_timeout_ms": "5000"})


def others_still_served(wp):
    r = cli(wp.port, "SELECT 'fine'")
    assert r.returncode == 0 and r.stdout.strip() == "fine", r.stderr


def login_packet(seq=1, user=b"app", auth=b"\x00" * 20, caps=0x000aa205):
    payload = struct.pack("<IIB", caps, 1 << 24, 45) + b"\x00" * 23 + user + b"\x00" + \
        bytes([len(auth)]) + auth + b"mysql_native_password\x00"
    return struct.pack("<I", len(payload))[:3] + bytes([seq]) + payload


@pytest.mark.parametrize("name,payload", [
    ("garbage", b"\x05\x00\x00\x01hello-garbage-bytes"),
    ("tls hello on plaintext", bytes.fromhex("16030100f8010000f40303") + bytes(range(64))),
    ("wrong sequence id", login_packet(seq=7)),
    ("lying lengths", login_packet()[:40] + b"\xff" + b"x" * 8),
    ("http", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
], ids=["garbage", "tls_hello_on_plaintext", "wrong_sequence_id", "lying_lengths", "http"])
def test_bad_login_gets_an_error_and_a_close(wp_short, name, payload):
    wp = wp_short  # a lying length is cut at the handshake timeout
    with socket.create_connection(("127.0.0.1", wp.sha2_port)) as s:
        greeting(s)
        s.sendall(payload)
        reply = read_reply(s, timeout=60)
        assert reply[:1] in (b"\xff", b""), f"{name}: {reply!r}"
        if reply:
            code = struct.unpack("<H", reply[1:3])[0]
            assert code in (1043, 1045), f"{name}: error {code}"
        assert closed_within(s, 3), f"{name}: still open"
    others_still_served(wp)


def test_oversized_login_packet_is_refused_from_its_header(wp):
    with socket.create_connection(("127.0.0.1", wp.port)) as s:
        greeting(s)
        s.sendall(b"\xff\xff\xff\x01" + b"x" * 1000)  # claims 16 MiB
        reply = read_reply(s)
        assert reply[:1] == b"\xff" and struct.unpack("<H", reply[1:3])[0] == 1043
        assert closed_within(s, 3)
    others_still_served(wp)


def test_plaintext_after_ssl_request_is_closed(wp):
    with socket.create_connection(("127.0.0.1", wp.port)) as s:
        greeting(s)
        ssl_request = struct.pack("<IIB", 0x000aaa05, 1 << 24, 45) + b"\x00" * 23
        s.sendall(b"\x20\x00\x00\x01" + ssl_request)
        s.sendall(login_packet(seq=2))  # plaintext where a ClientHello belongs
        assert closed_within(s, 3)
    others_still_served(wp)


def test_slowloris_is_cut_at_the_handshake_timeout(wp_short):
    wp = wp_short
    with socket.create_connection(("127.0.0.1", wp.port)) as s:
        greeting(s)
        packet = login_packet()
        closed = False
        for byte in packet:
            try:
                s.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            if closed_within(s, 0.3):
                closed = True
                break
        assert closed, "a one-byte-at-a-time client was never cut off"  # after ~12 s
    assert wp.wait_for_log("client handshake timed out")
    others_still_served(wp)


def test_abandoned_handshakes_release_their_descriptors(wp_short):
    wp = wp_short
    others_still_served(wp)
    baseline = fd_count(wp)
    socks = []
    for _ in range(300):
        s = socket.create_connection(("127.0.0.1", wp.port))
        socks.append(s)
    # They are held for now (accepted, before their timeout)...
    wait_until(lambda: fd_count(wp) >= baseline + 250, what="300 connections accepted")
    others_still_served(wp)  # ...without disturbing anyone
    deadline = time.monotonic() + 10
    while fd_count(wp) > baseline + 5 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert fd_count(wp) <= baseline + 5, "handshake timeout did not free the descriptors"
    for s in socks:
        s.close()
    others_still_served(wp)


def test_unknown_user_is_answered_like_a_wrong_password(wp):
    """Neither the reply nor the log tells which users exist: an unknown user
    gets what a known user with a wrong password gets (both go through the
    same hashing, against a password no token matches)."""
    def deny(user):
        c = RawClient(wp.port)
        c.sock.sendall(frame(1, login_payload(user.encode(), native_token("guess", c.scramble))))
        _, reply = c.read_packet()
        c.close()
        code, state, message = err_of(reply)
        return code, state, message.replace(user.encode(), b"USER")
    known, unknown = deny("app"), deny("nobody_here")
    assert known == unknown and known[0] == 1045, (known, unknown)
    log = wp.read_log()
    assert log.count('msg="authentication failed"') == 2, log
    assert 'user="app"' in log and 'user="nobody_here"' in log
    others_still_served(wp)


def test_repeated_wrong_passwords(wp):
    for _ in range(30):
        r = cli(wp.port, "SELECT 1", password="guess")
        assert "ERROR 1045" in r.stderr
    others_still_served(wp)
    assert wp.read_log().count('msg="authentication failed"') == 30


def test_out_of_descriptors_refuses_clients_cleanly(warmpool_factory):
    """Past the nofile limit, new clients get ERR 1040 (not a hang), the
    connected ones keep working, and room comes back as clients leave."""
    wp = warmpool_factory(nofile=48, warmpool={"workers": "1"})
    assert wp.wait_for_log("descriptor limit below max_clients")
    held, refused = [], 0
    for _ in range(60):
        s = socket.create_connection(("127.0.0.1", wp.port), timeout=5)
        payload = read_reply(s)
        if payload[:1] == b"\xff":
            code = struct.unpack("<H", payload[1:3])[0]
            assert code == 1040 and b"file descriptors" in payload, payload
            refused += 1
            assert closed_within(s, 5)
            s.close()
        else:
            assert payload[:1] == b"\x0a", payload  # a greeting
            held.append(s)
    assert refused > 0 and held, (refused, len(held))
    assert wp.wait_for_log("out of file descriptors; refusing new clients")
    for s in held:
        s.close()
    time.sleep(0.5)
    others_still_served(wp)


def cpu_ticks(wp):
    """User + system CPU time of warmpool so far, in clock ticks."""
    with open(f"/proc/{wp.proc.pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def ticks_over(wp, seconds):
    """The CPU ticks warmpool uses over |seconds| of wall time."""
    start = cpu_ticks(wp)
    time.sleep(seconds)  # a sampling window, the same for both samples compared
    return cpu_ticks(wp) - start


def fill_descriptors(wp):
    """Opens clients until warmpool refuses one for want of descriptors (it
    has then used every descriptor its limit allows); returns the held ones."""
    held = []
    for _ in range(200):
        s = socket.create_connection(("127.0.0.1", wp.port), timeout=5)
        payload = read_reply(s)
        if payload[:1] == b"\xff":
            s.close()
            return held
        assert payload[:1] == b"\x0a", payload
        held.append(s)
    raise AssertionError("never out of descriptors")


def test_no_descriptor_even_in_reserve_pauses_accepting_without_spinning(warmpool_factory):
    """Out of descriptors, warmpool frees its reserve descriptor to refuse a
    client. If the freed one is taken before it (another thread, or here the
    nofile limit lowered under it with prlimit), the reserve is lost and the
    client stays in the backlog: accepting fails at once, every time. warmpool
    must not retry in a busy loop (before the fix it spun at the limit even
    with nobody waiting: the accept fails before it looks at the backlog),
    and must accept again once descriptors are free."""
    wp = warmpool_factory(nofile=48, warmpool={"workers": "1", "handshake_timeout_ms": "60000"})
    idle = ticks_over(wp, 2)
    held = fill_descriptors(wp)
    soft, hard = resource.prlimit(wp.proc.pid, resource.RLIMIT_NOFILE)
    resource.prlimit(wp.proc.pid, resource.RLIMIT_NOFILE, (3, hard))  # 0, 1 and 2 are open
    try:
        waiting = socket.create_connection(("127.0.0.1", wp.port), timeout=5)
        exhausted = ticks_over(wp, 2)
    finally:
        resource.prlimit(wp.proc.pid, resource.RLIMIT_NOFILE, (soft, hard))
    # A busy loop takes a whole CPU: about 200 ticks in 2 s, against a few idle.
    assert exhausted <= 5 * max(idle, 4), (idle, exhausted)
    for s in held[:5]:
        s.close()
    assert read_reply(waiting, timeout=10)[:1] == b"\x0a", "a greeting once descriptors are free"
    waiting.close()
    before = fd_count(wp)
    for s in held[5:]:
        s.close()
    wait_until(lambda: fd_count(wp) <= before - len(held[5:]),
               what="the clients' descriptors freed")
    others_still_served(wp)
    # The reserve is back: the next client past the limit is refused with
    # ERR 1040 again, not left hanging.
    for s in fill_descriptors(wp):
        s.close()
