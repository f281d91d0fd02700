"""warmpool as a caching_sha2_password client, against a fake MySQL 8 backend.

MariaDB has no caching_sha2_password server plugin, so these paths run
against tests/integration/fake_mysql.py; everything else uses MariaDB.
"""
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import cli, free_port

FAKE = Path(__file__).with_name("fake_mysql.py")


@pytest.fixture
def fake_backend(mariadb):
    procs = []

    def start(auth, tls, password="app-secret"):
        port = free_port()
        args = [sys.executable, str(FAKE), "--port", str(port), "--auth", auth,
                "--password", password]
        if tls:
            args += ["--cert", mariadb.env["server_cert"], "--key", mariadb.env["server_key"]]
        p = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        procs.append(p)
        assert p.stdout.readline().strip() == "ready"
        return port, p

    yield start
    for p in procs:
        p.kill()
        p.wait()


def through_fake(warmpool_factory, port, ssl_mode, **warmpool):
    return warmpool_factory(warmpool={"client_wait_timeout_ms": "3000", **warmpool},
                            backend_main={"port": str(port), "ssl_mode": ssl_mode,
                                          "ssl_server_name": "localhost", "min_idle": "1"})


@pytest.mark.parametrize("auth,tls,ssl_mode,expect", [
    ("fast", True, "verify_identity", "fast:tls"),
    ("full", True, "verify_identity", "full-tls:tls"),
    ("full", False, "disabled", "full-rsa:plain"),
])
def test_sha2_paths(warmpool_factory, fake_backend, auth, tls, ssl_mode, expect):
    port, _ = fake_backend(auth, tls)
    wp = through_fake(warmpool_factory, port, ssl_mode)
    r = cli(wp.port, "SELECT 1")
    assert r.returncode == 0, r.stderr + wp.read_log()
    assert r.stdout.strip() == expect


def test_sha2_wrong_backend_password_fails_waiters_at_once(warmpool_factory, fake_backend):
    port, _ = fake_backend("fast", True, password="not-what-warmpool-has")
    wp = through_fake(warmpool_factory, port, "verify_identity",
                      client_wait_timeout_ms="20000")
    r = cli(wp.port, "SELECT 1", timeout=10)
    assert "ERROR 1045" in r.stderr, r.stderr
    assert "backend refused login" in r.stderr
