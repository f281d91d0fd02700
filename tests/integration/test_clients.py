"""Real clients (mariadb CLI, pymysql) through warmpool to a real MariaDB over TLS."""
import subprocess

import pymysql
import pytest

from conftest import WARMPOOL, cli


def test_cli_runs_queries(warmpool):
    r = cli(warmpool.port, "SELECT 1+1; SELECT @@version_comment")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == "2"


def test_backend_session_is_tls(warmpool):
    r = cli(warmpool.port, "SHOW SESSION STATUS LIKE 'Ssl_version'")
    assert r.returncode == 0, r.stderr
    name, value = r.stdout.split("\t")
    assert value.strip().startswith("TLSv1."), r.stdout


def test_frontend_tls_with_server_cert_verification(warmpool, mariadb):
    ca = mariadb.env["ca"]
    r = cli(warmpool.port, "status", extra=["--ssl-ca", ca, "--ssl-verify-server-cert"])
    assert r.returncode == 0, r.stderr
    assert "Cipher in use" in r.stdout


def test_frontend_tls_verification_fails_with_another_ca(warmpool, tmp_path):
    other = tmp_path / "other-ca.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=other", "-keyout", str(tmp_path / "k.pem"), "-out", str(other)],
                   check=True, capture_output=True)
    r = cli(warmpool.port, "SELECT 1", extra=["--ssl-ca", str(other), "--ssl-verify-server-cert"])
    assert r.returncode != 0
    assert "SSL" in r.stderr or "certificate" in r.stderr.lower(), r.stderr


def test_wrong_password_is_1045(warmpool):
    r = cli(warmpool.port, "SELECT 1", password="wrong")
    assert r.returncode == 1
    assert "ERROR 1045 (28000)" in r.stderr, r.stderr
    assert "Access denied for user 'app'" in r.stderr
    r = cli(warmpool.port, "SELECT 1", user="nobody")
    assert "ERROR 1045 (28000)" in r.stderr, r.stderr
    # secrets never reach the log
    assert "wrong" not in warmpool.read_log() and "app-secret" not in warmpool.read_log()


def test_schema_and_charset_reach_the_backend(warmpool):
    r = cli(warmpool.port, "SELECT DATABASE(), @@character_set_client", database="sbtest",
            extra=["--default-character-set=latin1"])
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "sbtest\tlatin1"
    r = cli(warmpool.port, "SELECT 1", database="no_such_db")
    assert "ERROR 1049 (42000)" in r.stderr, r.stderr


def test_pymysql(warmpool):
    conn = pymysql.connect(host="127.0.0.1", port=warmpool.port, user="app",
                           password="app-secret", database="sbtest", charset="utf8mb4")
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS wp_pymysql (id INT PRIMARY KEY, v VARCHAR(20))")
        cur.execute("REPLACE INTO wp_pymysql VALUES (1, %s)", ("héllo",))
        conn.commit()
        cur.execute("SELECT v, @@character_set_client FROM wp_pymysql WHERE id = 1")
        assert cur.fetchone() == ("héllo", "utf8mb4")
    conn.close()


def test_pymysql_over_tls(warmpool, mariadb):
    conn = pymysql.connect(host="127.0.0.1", port=warmpool.port, user="app",
                           password="app-secret", ssl={"ca": mariadb.env["ca"]})
    with conn.cursor() as cur:
        cur.execute("SELECT 42")
        assert cur.fetchone() == (42,)
    conn.close()


def test_caching_sha2_password_listener(warmpool, mariadb):
    r = cli(warmpool.sha2_port, "SELECT 'sha2'")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "sha2"
    r = cli(warmpool.sha2_port, "SELECT 1", password="nope")
    assert "ERROR 1045" in r.stderr, r.stderr
    conn = pymysql.connect(host="127.0.0.1", port=warmpool.sha2_port, user="app",
                           password="app-secret")
    with conn.cursor() as cur:
        cur.execute("SELECT 7")
        assert cur.fetchone() == (7,)
    conn.close()


def test_require_tls_refuses_plaintext(warmpool_factory, mariadb):
    wp = warmpool_factory(listener_main={"require_tls": "true"})
    r = cli(wp.port, "SELECT 1", extra=["--skip-ssl"])
    assert "ERROR 3159" in r.stderr, r.stderr
    r = cli(wp.port, "SELECT 1", extra=["--ssl-ca", mariadb.env["ca"]])
    assert r.returncode == 0, r.stderr


def test_check_config_help_version(warmpool, tmp_path):
    ok = subprocess.run([str(WARMPOOL), "--check-config", "--config", str(warmpool.config)],
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "configuration OK" in ok.stdout
    bad = tmp_path / "bad.ini"
    bad.write_text("[warmpool]\nworkers = 1\nmax_cleints = 5\n")
    r = subprocess.run([str(WARMPOOL), "--check-config", "--config", str(bad)],
                       capture_output=True, text=True)
    assert r.returncode == 1
    assert f"{bad}:3: unknown key 'max_cleints' in [warmpool]" in r.stderr
    assert subprocess.run([str(WARMPOOL), "--help"], capture_output=True,
                          text=True).stdout.startswith("Usage: warmpool")
    assert "warmpool 0." in subprocess.run([str(WARMPOOL), "--version"], capture_output=True,
                                           text=True).stdout
    example = subprocess.run([str(WARMPOOL), "--example-config"], capture_output=True, text=True)
    assert ";ssl_mode = preferred" in example.stdout
