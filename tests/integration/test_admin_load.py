"""The admin endpoint under load and against strangers: the probes answer with
10,000 clients logged in, and idle connections from one address do not lock
out the others."""
import hashlib
import os
import resource
import socket
import struct
import threading
import time
import urllib.error
import urllib.request

import pytest

N_CLIENTS = 10_000
BATCH = 250
# CLIENT_LONG_PASSWORD | CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION | CLIENT_PLUGIN_AUTH
CAPS = 0x1 | 0x200 | 0x8000 | 0x80000


def healthz(port, source="127.0.0.1", timeout=10):
    """GET /healthz from |source|: the status code, or the error that stopped it."""
    class Source(urllib.request.HTTPHandler):
        def http_open(self, req):
            import http.client
            return self.do_open(lambda host, **kw: http.client.HTTPConnection(
                host, source_address=(source, 0), **kw), req)
    opener = urllib.request.build_opener(Source)
    try:
        with opener.open(f"http://127.0.0.1:{port}/healthz", timeout=timeout) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError as e:
        return repr(e)


@pytest.fixture
def many_fds():
    """Raises this process's descriptor limit for the test's sockets."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < N_CLIENTS + 1000:
        pytest.skip(f"RLIMIT_NOFILE hard limit {hard} < {N_CLIENTS + 1000}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    yield hard
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def read_packet(sock):
    head = b""
    while len(head) < 4:
        chunk = sock.recv(4 - len(head))
        assert chunk, "connection closed"
        head += chunk
    length = int.from_bytes(head[:3], "little")
    body = b""
    while len(body) < length:
        chunk = sock.recv(length - len(body))
        assert chunk, "connection closed"
        body += chunk
    return head[3], body


def native_token(password, scramble):
    p1 = hashlib.sha1(password).digest()
    mix = hashlib.sha1(scramble + hashlib.sha1(p1).digest()).digest()
    return bytes(a ^ b for a, b in zip(p1, mix))


def greeting_scramble(greeting):
    """The 20-byte scramble of a Handshake v10."""
    assert greeting[0] == 10, greeting[:1]
    pos = greeting.index(b"\0", 1) + 1 + 4  # server version, thread id
    part1 = greeting[pos:pos + 8]
    pos += 8 + 1 + 2 + 1 + 2 + 2 + 1 + 10  # filler, caps, charset, status, caps, len, reserved
    part2 = greeting[pos:pos + 12]
    return part1 + part2


def login_packet(scramble, user=b"app", password=b"app-secret"):
    token = native_token(password, scramble)
    body = (struct.pack("<IIB", CAPS, 1 << 24, 45) + b"\0" * 23 + user + b"\0" +
            bytes([len(token)]) + token + b"mysql_native_password\0")
    return len(body).to_bytes(3, "little") + b"\x01" + body


def log_in(port, n):
    """Opens |n| connections and logs each in (plaintext, mysql_native_password),
    a batch at a time; returns the sockets, idle and logged in."""
    socks = []
    while len(socks) < n:
        batch = [socket.create_connection(("127.0.0.1", port), timeout=30)
                 for _ in range(min(BATCH, n - len(socks)))]
        for s in batch:
            _, greeting = read_packet(s)
            s.sendall(login_packet(greeting_scramble(greeting)))
        for s in batch:
            _, reply = read_packet(s)
            assert reply[:1] == b"\x00", reply
        socks += batch
    return socks


# What an idle logged-in client may cost warmpool, resident: its state and
# allocator overhead (ASan's redzones and quarantine included), no buffers.
IDLE_CLIENT_BOUND = 16 << 10


def rss(wp):
    with open(f"/proc/{wp.proc.pid}/statm") as f:
        return int(f.read().split()[1]) * 4096


def test_healthz_with_ten_thousand_clients(warmpool_factory, many_fds):
    """libmicrohttpd's default select() loop drops every connection whose
    descriptor is 1024 or more: with this many clients, every probe would."""
    wp = warmpool_factory(nofile=many_fds, warmpool={"max_clients": str(N_CLIENTS + 1000)},
                          listener_main={"pool_mode": "transaction"})
    before = rss(wp)
    socks = log_in(wp.port, N_CLIENTS)
    try:
        per_client = (rss(wp) - before) / N_CLIENTS
        print(f"RSS per idle logged-in client: {per_client:.0f} bytes")
        # README ("Hostile and greedy clients"): an idle client holds no
        # buffers, only its own state: a few KiB (more under ASan).
        assert per_client < IDLE_CLIENT_BOUND, f"{per_client:.0f} bytes per idle client"
        # The kernel's view: warmpool holds a descriptor per client, so any new
        # one (an admin connection) is numbered far above 1024.
        assert len(os.listdir(f"/proc/{wp.proc.pid}/fd")) > N_CLIENTS
        for _ in range(5):
            assert healthz(wp.admin_port) == 200
        # The clients are still served: the first and the last answer a ping.
        for s in (socks[0], socks[-1]):
            s.sendall(b"\x01\x00\x00\x00\x0e")  # COM_PING
            assert read_packet(s)[1][:1] == b"\x00"
    finally:
        for s in socks:
            s.close()


def hold_admin_connections(port, sources, per_source):
    """Opens idle connections to the admin port from each of |sources|, each
    sending the start of a request that never ends; returns those accepted."""
    held = []
    for source in sources:
        for _ in range(per_source):
            s = socket.socket()
            s.bind((source, 0))
            try:
                s.connect(("127.0.0.1", port))
                s.sendall(b"GET /healthz HTTP/1.1\r\n")
            except OSError:
                s.close()
                continue
            held.append(s)
    return held


class Trickle:
    """Sends one more header line on each socket every half second, from a
    thread, so that none falls silent while the test probes (slowloris)."""

    def __init__(self, socks):
        self.socks = socks
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        i = 0
        while not self.stop.wait(0.5):
            i += 1
            for s in self.socks:
                try:
                    s.send(b"X-Slow-%d: 1\r\n" % i, socket.MSG_DONTWAIT)
                except OSError:
                    pass  # refused or closed by warmpool: as it should

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        for s in self.socks:
            s.close()


def test_stranger_cannot_starve_probes(warmpool_factory):
    """A stranger (127.0.0.2) holds many connections to the admin port and keeps
    each one alive by trickling a request that never ends: the probe from
    another address (127.0.0.1) is still answered."""
    wp = warmpool_factory()
    assert healthz(wp.admin_port) == 200
    with Trickle(hold_admin_connections(wp.admin_port, ["127.0.0.2"], 300)):
        for _ in range(5):
            assert healthz(wp.admin_port, source="127.0.0.1", timeout=10) == 200
            time.sleep(1)
        # The limit is per address: the stranger's own probes are the ones refused.
        assert healthz(wp.admin_port, source="127.0.0.2", timeout=5) != 200


def test_strangers_from_many_addresses_cannot_starve_probes(warmpool_factory):
    """More idle connections than the endpoint holds, from 48 addresses (within
    each one's share): a probe from yet another address is still answered,
    because a new connection closes the quietest one."""
    wp = warmpool_factory()
    assert healthz(wp.admin_port) == 200
    sources = [f"127.0.1.{i}" for i in range(1, 49)]
    with Trickle(hold_admin_connections(wp.admin_port, sources, 8)):
        for _ in range(5):
            assert healthz(wp.admin_port, source="127.0.0.1", timeout=10) == 200
            time.sleep(1)
        with urllib.request.urlopen(f"http://127.0.0.1:{wp.admin_port}/metrics",
                                    timeout=10) as r:
            metrics = r.read().decode()
    evicted = [line for line in metrics.splitlines()
               if line.startswith("warmpool_admin_connections_evicted_total ")]
    assert evicted and float(evicted[0].split()[1]) > 0, evicted
