"""warmpool as a caching_sha2_password client, against a fake MySQL 8 backend.

MariaDB has no caching_sha2_password server plugin, so these paths run
against tests/integration/fake_mysql.py; everything else uses MariaDB.
"""
import pytest

from conftest import cli

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
