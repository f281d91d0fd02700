"""Backend down, TLS downgrade and identity checks, each against its own MariaDB."""
import time

import pytest

from conftest import cli


def test_backend_down_gives_clear_error_and_recovers(warmpool_factory, private_db):
    wp = warmpool_factory(db=private_db, warmpool={"client_wait_timeout_ms": "1000"},
                          backend_main={"min_idle": "1"})
    assert cli(wp.port, "SELECT 1").returncode == 0
    private_db.stop()
    r = cli(wp.port, "SELECT 1")
    assert r.returncode == 1
    assert "ERROR 9001" in r.stderr, r.stderr
    assert "backend 'main' unavailable" in r.stderr, r.stderr
    assert wp.alive()
    private_db.restart(ssl="on")
    deadline = time.monotonic() + 20
    while True:
        r = cli(wp.port, "SELECT 'back'")
        if r.returncode == 0 or time.monotonic() > deadline:
            break
    assert r.stdout.strip() == "back", r.stderr


def test_waiting_client_is_served_when_backend_returns(warmpool_factory, private_db):
    wp = warmpool_factory(db=private_db, warmpool={"client_wait_timeout_ms": "20000"},
                          backend_main={"min_idle": "1"})
    private_db.stop()
    time.sleep(0.3)
    import subprocess
    from conftest import WARMPOOL  # noqa: F401  (same helpers, one process)
    args = ["mariadb", "--no-defaults", "-h", "127.0.0.1", "-P", str(wp.port), "-uapp",
            "-papp-secret", "-N", "-e", "SELECT 'waited'"]
    waiting = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    assert waiting.poll() is None, "client did not wait for the backend"
    private_db.restart(ssl="on")
    out, err = waiting.communicate(timeout=30)
    assert waiting.returncode == 0, err
    assert out.strip() == "waited"


def test_required_ssl_mode_never_falls_back_to_plaintext(warmpool_factory, private_db):
    private_db.restart(ssl="off")
    wp = warmpool_factory(db=private_db, warmpool={"client_wait_timeout_ms": "800"},
                          backend_main={"ssl_mode": "required", "min_idle": "1"})
    r = cli(wp.port, "SELECT 1")
    assert "ERROR 9001" in r.stderr, r.stderr
    assert "server does not offer TLS (ssl_mode=required)" in r.stderr
    assert 'reason="server does not offer TLS (ssl_mode=required)"' in wp.read_log()


def test_preferred_ssl_mode_follows_the_server(warmpool_factory, private_db):
    private_db.restart(ssl="off")
    wp = warmpool_factory(db=private_db, backend_main={"ssl_mode": "preferred"})
    r = cli(wp.port, "SHOW SESSION STATUS LIKE 'Ssl_version'")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\t")[1].strip() == ""


def test_verify_identity_refuses_wrong_name(warmpool_factory, mariadb):
    wp = warmpool_factory(warmpool={"client_wait_timeout_ms": "800"},
                          backend_main={"ssl_mode": "verify_identity",
                                        "ssl_server_name": "db.example.com", "min_idle": "1"})
    r = cli(wp.port, "SELECT 1")
    assert "ERROR 9001" in r.stderr, r.stderr
    assert "certificate verification failed" in r.stderr
    assert wp.wait_for_log("msg=\"backend connect failed\"")
    assert "certificate verification failed: Hostname mismatch" in wp.read_log()


def test_verify_ca_accepts_any_name_signed_by_the_ca(warmpool_factory, mariadb):
    wp = warmpool_factory(backend_main={"ssl_mode": "verify_ca",
                                        "ssl_server_name": "db.example.com"})
    assert cli(wp.port, "SELECT 1").returncode == 0
