"""Integration fixtures: a real MariaDB (tools/mariadb-fixture.sh) and warmpool processes."""
import atexit
import os
import random
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import pymysql
import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tools" / "mariadb-fixture.sh"
WARMPOOL = Path(os.environ.get("WARMPOOL_BIN", ROOT / "build" / "io" / "warmpool"))


_handed_out = set()


def _port_range():
    """Ports below the kernel's ephemeral range: an outgoing connection (of
    any process on the machine) never takes one between free_port and the
    bind of whoever it was for. Test processes side by side draw at random
    and reserve what they draw (_reserve_port)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    return 10000, max(low, 12000)


# Ports handed out by any test process of the machine (the xdist workers, the
# release and ASan runs side by side): one file each, made with O_EXCL, removed
# when the process that made it ends.
_PORT_DIR = Path(tempfile.gettempdir()) / "warmpool-test-ports"
_PORT_STALE_S = 3 * 3600  # left by a run that died


def _reserve_port(port):
    """True when |port| is this process's from now on, in every test process."""
    path = _PORT_DIR / str(port)
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
    except FileExistsError:
        try:
            if time.time() - path.stat().st_mtime > _PORT_STALE_S:
                path.unlink()
        except OSError:
            pass
        return False
    if not _handed_out:
        atexit.register(_release_ports)
    _handed_out.add(port)
    return True


def _release_ports():
    for port in _handed_out:
        try:
            (_PORT_DIR / str(port)).unlink()
        except OSError:
            pass


def free_port():
    """A port nothing listens on, never handed out twice while the test run
    lives, in any of its processes: between free_port and the bind of
    whoever it is for (a server start takes seconds), no other test may take
    it, and warmpool's listeners share theirs (SO_REUSEPORT), so two of its
    sockets on one port would split the connections."""
    first, end = _port_range()
    _PORT_DIR.mkdir(exist_ok=True)
    rng = random.SystemRandom()
    while True:
        port = rng.randrange(first, end)
        if port in _handed_out:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        if _reserve_port(port):
            return port


def start_threads(target, n, indexed=False):
    """|n| threads running |target| (given its index when |indexed|), started."""
    threads = [threading.Thread(target=target, args=(i,) if indexed else ())
               for i in range(n)]
    for t in threads:
        t.start()
    return threads


def run_threads(target, n, indexed=False, timeout=600):
    """start_threads, then waits for every one (up to |timeout| s each)."""
    for t in start_threads(target, n, indexed):
        t.join(timeout)


@pytest.fixture
def proxy(mariadb):
    """A fault proxy (tests/integration/fault_proxy.py) in front of the shared MariaDB."""
    from fault_proxy import FaultProxy
    p = FaultProxy(mariadb.port)
    yield p
    p.close()


class MariaDB:
    """A throwaway mariadbd or (server="mysql") MySQL 9.7 in its Debian sid root;
    start/restart/stop go through the fixture script."""

    def __init__(self, directory, server="mariadb"):
        self.dir = Path(directory)
        self.server = server
        self.env = {}

    def _run(self, *args):
        # The first MySQL start builds the root with debootstrap (about a minute).
        out = subprocess.run([str(FIXTURE), *args, "--dir", str(self.dir)],
                             capture_output=True, text=True, timeout=600)
        if out.returncode != 0:
            raise AssertionError(f"{FIXTURE.name} {' '.join(args)} failed "
                                 f"({out.returncode}):\n{out.stderr}")
        self.env = dict(line.split("=", 1) for line in out.stdout.splitlines() if "=" in line)
        return self.env

    def start(self, ssl="on"):
        return self._run("start", "--server", self.server, "--ssl", ssl)

    def restart(self, ssl):
        return self._run("restart", "--ssl", ssl)

    def stop(self):
        subprocess.run([str(FIXTURE), "stop", "--dir", str(self.dir)], check=True, timeout=60)

    def discard(self):
        """Stops the server and removes its data (a few hundred MB), keeping its
        logs: the suite starts dozens of servers of a test's own."""
        self.stop()
        shutil.rmtree(self.dir / "data", ignore_errors=True)

    @property
    def port(self):
        return int(self.env["port"])

    def root_sql(self, sql):
        """Runs SQL as root over the unix socket (not through warmpool)."""
        return subprocess.run(["mariadb", "--no-defaults", "-uroot", "-S", self.env["socket"],
                               "-N", "-B", "-e", sql],
                              check=True, capture_output=True, text=True, timeout=60).stdout

    def lock_conflicts(self):
        """Deadlocks and lock wait timeouts InnoDB has counted since the server
        started: the only errors sysbench ignores (1213, 1205) that a run of
        oltp_read_write can meet, whoever stands between it and the server."""
        return int(self.root_sql(
            "SELECT SUM(COUNT) FROM information_schema.INNODB_METRICS "
            "WHERE NAME IN ('lock_deadlocks', 'lock_timeouts')").strip())

    def mysql_client(self, *args, timeout=60):
        """Runs MySQL's own mysql client from the server's root (MySQL only); the
        fixture directory is /srv/instance there (certs under /srv/instance/certs)."""
        return subprocess.run([str(FIXTURE), "client", "--dir", str(self.dir), "--", *args],
                              capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def mariadb(tmp_path_factory):
    db = MariaDB(tmp_path_factory.mktemp("mariadb"))
    db.start(ssl="on")
    yield db
    db.stop()


@pytest.fixture
def private_db(tmp_path):
    """A MariaDB of the test's own, for tests that stop, restart or count it."""
    db = MariaDB(tmp_path / "db")
    db.start(ssl="on")
    yield db
    db.discard()


@pytest.fixture(scope="session")
def mysql(tmp_path_factory):
    """A MySQL 9.7 shared by the session; fails (never skips) when its root cannot be built."""
    db = MariaDB(tmp_path_factory.mktemp("mysql"), server="mysql")
    db.start(ssl="on")
    yield db
    db.stop()


@pytest.fixture
def private_mysql(tmp_path):
    """A MySQL of the test's own, for tests that stop, restart or count it."""
    db = MariaDB(tmp_path / "mysql", server="mysql")
    db.start(ssl="on")
    yield db
    db.discard()


class Warmpool:
    """One warmpool process with a generated config."""

    def __init__(self, workdir, db, **overrides):
        self.workdir = Path(workdir)
        self.port = free_port()
        self.sha2_port = free_port()
        self.admin_port = free_port()
        self.config = self.workdir / "warmpool.ini"
        self.log_path = self.workdir / "warmpool.log"
        self.proc = None
        self.exit_code = None  # set once stop() ran
        users = self.workdir / "users.txt"
        users.write_text("app:app-secret\n")
        users.chmod(0o600)
        certs = db.env["certs"]
        settings = {
            "warmpool": {"workers": "2", "log_level": "info", "users_file": str(users),
                         "client_wait_timeout_ms": "5000", "admin_port": str(self.admin_port),
                         "drain_timeout_ms": "5000"},
            "listener main": {"address": "127.0.0.1", "port": str(self.port),
                              "tls_cert": f"{certs}/server-cert.pem",
                              "tls_key": f"{certs}/server-key.pem"},
            "listener sha2": {"address": "127.0.0.1", "port": str(self.sha2_port),
                              "backend": "main", "auth_plugin": "caching_sha2_password"},
            "backend main": {"host": "127.0.0.1", "port": str(db.port),
                             "ssl_mode": "verify_identity", "ssl_ca": f"{certs}/ca.pem",
                             "ssl_server_name": "localhost", "min_idle": "2",
                             "max_connections": "64"},
        }
        for section, values in overrides.items():
            section = section.replace("_", " ", 1) if section.startswith(("listener_", "backend_")) else section
            settings.setdefault(section, {}).update(values)
        lines = []
        for section, values in settings.items():
            lines.append(f"[{section}]")
            lines += [f"{k} = {v}" for k, v in values.items() if v is not None]
            lines.append("")
        self.config.write_text("\n".join(lines))

    def start(self, nofile=None):
        self.log = open(self.log_path, "ab")
        limit = (lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))) if nofile else None
        self.proc = subprocess.Popen([str(WARMPOOL), "--config", str(self.config)],
                                     stdout=self.log, stderr=subprocess.STDOUT, preexec_fn=limit)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"warmpool exited:\n{self.read_log()}"
            if "warmpool started" in self.read_log():
                return self
            time.sleep(0.05)
        raise AssertionError(f"warmpool did not start:\n{self.read_log()}")

    def read_log(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_for_log(self, needle, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.read_log():
                return True
            time.sleep(0.05)
        return False

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.exit_code is not None or not self.alive():
            return self.exit_code if self.exit_code is not None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.exit_code = self.proc.wait(timeout=15)
            return self.exit_code
        finally:
            self.log.close()


@pytest.fixture
def warmpool_factory(tmp_path, request):
    started = []

    def make(db=None, nofile=None, **overrides):
        # The shared MariaDB starts only for tests that use it (not MySQL's).
        db = db or request.getfixturevalue("mariadb")
        wp = Warmpool(tempfile.mkdtemp(dir=tmp_path), db, **overrides)
        started.append(wp)
        return wp.start(nofile=nofile)

    yield make
    for wp in started:
        was_alive = wp.exit_code is not None or wp.alive()
        rc = wp.stop()
        # Every test also checks that warmpool survived it and stops cleanly.
        assert was_alive, f"warmpool died during the test:\n{wp.read_log()}"
        assert rc == 0, f"warmpool exited {rc} on SIGTERM:\n{wp.read_log()}"


FAKE = Path(__file__).with_name("fake_mysql.py")


@pytest.fixture
def fake_backend(mariadb):
    """Starts fake_mysql.py backends (fault injection, caching_sha2 paths):
    start(auth, tls, password, port, cert, key, record, change_user, shutdown,
    unasked, segment) returns
    (port, process)."""
    procs = []

    def start(auth="fast", tls=True, password="app-secret", port=None, cert=None, key=None,
              record=None, change_user=None, shutdown=None, unasked=False, segment=False):
        port = port or free_port()
        args = [sys.executable, str(FAKE), "--port", str(port), "--auth", auth,
                "--password", password] + (["--segment"] if segment else [])
        if record:
            args += ["--record", str(record)]
        if change_user:
            args += ["--change-user", change_user]
        if shutdown:
            args += ["--shutdown", str(shutdown)] + (["--unasked"] if unasked else [])
        if tls:
            args += ["--cert", cert or mariadb.env["server_cert"],
                     "--key", key or mariadb.env["server_key"]]
        p = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        procs.append(p)
        assert p.stdout.readline().strip() == "ready"
        return port, p

    yield start
    for p in procs:
        p.kill()
        p.wait()


@pytest.fixture
def warmpool(warmpool_factory):
    return warmpool_factory()


def wait_until(predicate, timeout=10, what="condition"):
    """Polls |predicate| until it returns something true (returned), or fails."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def connect(target, **kw):
    """A PyMySQL connection as app to |target| (a warmpool or a port), in
    autocommit mode; |kw| adds or overrides options."""
    options = dict(host="127.0.0.1", port=getattr(target, "port", target), user="app",
                   password="app-secret", autocommit=True, connect_timeout=30, read_timeout=90)
    return pymysql.connect(**{**options, **kw})


def row(conn, sql, args=None):
    """The first row of |sql|'s result (None when it has none)."""
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchone()


def value(conn, sql, args=None):
    """The first column of |sql|'s first row."""
    return row(conn, sql, args)[0]


def pin_summary(wp):
    """Pins by reason, nonzero only, from the summary warmpool logs as it stops
    (exact: every worker's count, after the last client). Stops warmpool."""
    wp.stop()
    m = re.search(r'msg="pin summary" (.*)', wp.read_log())
    found = re.findall(r"(\w+)=(\d+)", m.group(1)) if m else []
    return {k: int(v) for k, v in found if int(v)}


def metric_counts(wp, family, label):
    """{label value: count} of one counter family in warmpool's /metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{wp.admin_port}/metrics", timeout=5) as r:
        text = r.read().decode()
    pattern = rf'^{family}\{{{label}="(\w+)"\}} (\S+)$'
    return {m.group(1): int(float(m.group(2))) for m in re.finditer(pattern, text, re.M)}


def cli(port, sql, user="app", password="app-secret", database=None, extra=(), timeout=60):
    """Runs the real mariadb CLI; returns the CompletedProcess."""
    args = ["mariadb", "--no-defaults", "-h", "127.0.0.1", "-P", str(port), "-u", user,
            f"-p{password}", "-N", "-B", *extra, "-e", sql]
    if database:
        args.append(database)
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout)
