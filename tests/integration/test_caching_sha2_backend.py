"""warmpool as a caching_sha2_password client, against a fake MySQL 8 backend.

MariaDB has no caching_sha2_password server plugin, so these paths run
against tests/integration/fake_mysql.py; everything else uses MariaDB.
"""
import json
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from conftest import cli, wait_until

def through_fake(warmpool_factory, port, ssl_mode, backend=None, **warmpool):
    return warmpool_factory(warmpool={"client_wait_timeout_ms": "3000", **warmpool},
                            backend_main={"port": str(port), "ssl_mode": ssl_mode,
                                          "ssl_server_name": "localhost", "min_idle": "1",
                                          **(backend or {})})


@pytest.mark.parametrize("auth,tls,ssl_mode,backend,expect", [
    ("fast", True, "verify_identity", {}, "fast:tls"),
    ("full", True, "verify_identity", {}, "full-tls:tls"),
    ("full", False, "disabled", {"allow_public_key_retrieval": "true"}, "full-rsa:plain"),
])
def test_sha2_paths(warmpool_factory, fake_backend, auth, tls, ssl_mode, backend, expect):
    port, _ = fake_backend(auth, tls)
    wp = through_fake(warmpool_factory, port, ssl_mode, backend=backend)
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


# Issue #15, item 3: the backend password never meets a peer warmpool cannot
# trust. The fake backend plays a man in the middle that stripped TLS (or a
# server asking for more than it should) and records every answer it gets.

def readyz_reasons(wp):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{wp.admin_port}/readyz", timeout=5) as r:
            return r.status, json.load(r)["reasons"]
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)["reasons"]


def wait_down_because(wp, needle):
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        code, reasons = readyz_reasons(wp)
        if code == 503 and any(needle in r for r in reasons):
            return reasons
        time.sleep(0.1)
    raise AssertionError(f"/readyz never said {needle!r}: {readyz_reasons(wp)}\n{wp.read_log()}")


def answers(record):
    return record.read_text().splitlines() if record.exists() else []


@pytest.mark.parametrize("ssl_mode", ["preferred", "disabled"])
def test_plaintext_full_auth_without_a_key_is_refused(warmpool_factory, fake_backend, tmp_path,
                                                      ssl_mode):
    """TLS stripped under ssl_mode=preferred, then "perform full
    authentication": warmpool neither sends the password nor asks for a key."""
    record = tmp_path / "answers"
    port, _ = fake_backend("full", tls=False, record=record)
    wp = through_fake(warmpool_factory, port, ssl_mode)
    reasons = wait_down_because(wp, "needs server_public_key")
    assert answers(record) == [], answers(record)  # not even a request for the key
    r = cli(wp.port, "SELECT 1", timeout=20)
    assert r.returncode != 0 and "needs server_public_key" in r.stderr, (r.stderr, reasons)
    assert answers(record) == []
    # Said once per worker, not once per retry (there were retries meanwhile).
    warned = [line for line in wp.read_log().splitlines()
              if "level=warn" in line and "backend connect failed" in line]
    assert 1 <= len(warned) <= 2, warned


def test_plaintext_full_auth_uses_the_configured_key(warmpool_factory, fake_backend, tmp_path):
    record = tmp_path / "answers"
    port, _ = fake_backend("full", tls=False, record=record)
    wp = through_fake(warmpool_factory, port, "preferred",
                      backend={"server_public_key": f"{record}.pub"})
    r = cli(wp.port, "SELECT 1")
    assert r.returncode == 0, r.stderr + wp.read_log()
    assert r.stdout.strip() == "full-rsa-configured:plain"
    # Encrypted straight to the configured key: the server's was never asked for.
    assert all(line.startswith(("full-answer tls=False len=256 password=no", "rsa-decrypted"))
               for line in answers(record)), answers(record)


def test_a_key_the_peer_pushes_gets_nothing(warmpool_factory, fake_backend, tmp_path):
    """A peer that sends a key of its own, unasked, never gets the password
    encrypted to it (warmpool is configured with the real server's key)."""
    record = tmp_path / "answers"
    port, _ = fake_backend("pushkey", tls=False, record=record)
    real_key = tmp_path / "real_public_key.pem"
    subprocess.run(f"openssl genrsa 2048 2>/dev/null | openssl rsa -pubout -out {real_key}",
                   shell=True, check=True, capture_output=True)
    wp = through_fake(warmpool_factory, port, "preferred",
                      backend={"server_public_key": str(real_key)})
    wait_down_because(wp, "did not ask for")
    lines = answers(record)
    assert lines and not any("rsa-decrypted" in line or "password=yes" in line for line in lines), lines
    assert not any(line.startswith("pushed-key-answer") for line in lines), lines


@pytest.mark.parametrize("ssl_mode,tls,backend,allowed", [
    ("verify_identity", True, {}, True),
    ("required", True, {"ssl_ca": None}, False),  # TLS, but whose certificate?
    ("required", True, {"ssl_ca": None, "enable_cleartext_plugin": "true"}, True),
    ("preferred", False, {"enable_cleartext_plugin": "true"}, False),  # never in plaintext
])
def test_clear_password_only_over_verified_tls(warmpool_factory, fake_backend, tmp_path,
                                               ssl_mode, tls, backend, allowed):
    record = tmp_path / "answers"
    port, _ = fake_backend("clear", tls=tls, record=record)
    wp = through_fake(warmpool_factory, port, ssl_mode, backend=backend)
    if allowed:
        r = cli(wp.port, "SELECT 1")
        assert r.returncode == 0 and r.stdout.strip() == "clear:tls", r.stderr + wp.read_log()
        return
    wait_down_because(wp, "mysql_clear_password")
    assert answers(record) == [], answers(record)


@pytest.mark.parametrize("change_user,tls,ssl_mode,key,kept", [
    ("switch", True, "verify_identity", False, True),
    ("full", True, "verify_identity", False, True),
    ("full", False, "preferred", True, True),
    ("full", False, "preferred", False, False),
])
def test_reset_answered_with_more_authentication(warmpool_factory, fake_backend, tmp_path,
                                                 change_user, tls, ssl_mode, key, kept):
    """The reset's COM_CHANGE_USER answered with an auth switch, or with "perform
    full authentication" (as MySQL does when its cache was flushed): the same
    rules as a login, and the connection stays in the pool when they allow it."""
    record = tmp_path / "answers"
    port, _ = fake_backend("fast", tls=tls, record=record, change_user=change_user)
    # One connection: the next client waits for the reset instead of opening another.
    backend = {"max_connections": "1", **({"server_public_key": f"{record}.pub"} if key else {})}
    wp = through_fake(warmpool_factory, port, ssl_mode, backend=backend, workers="1")
    for _ in range(3):  # each client's leaving resets the connection
        r = cli(wp.port, "SELECT 1")
        assert r.returncode == 0 and r.stdout.strip().startswith("fast:"), r.stderr + wp.read_log()
    def resets():
        return [line for line in answers(record) if line.startswith("change-user")]
    if kept:
        # The third client's reset runs after its CLI has exited.
        lines = wait_until(lambda: len(resets()) >= 3 and resets(), what="three resets")
        assert len(lines) == 3, lines
        assert wp.read_log().count("backend connection ready") == 1, wp.read_log()
        assert "reset failed" not in wp.read_log()
        if change_user == "full" and not tls:
            assert all("len=256 password=no" in line for line in lines), lines
    else:
        assert wp.wait_for_log("needs server_public_key"), wp.read_log()
        assert resets() == [], resets()  # neither the password nor a request for a key
