"""Real drivers (tools/install-deps.sh; mysql2 from npm) with their default settings through a transaction-mode listener: ordinary use pins nothing, stacked queries are refused where the driver did not ask for them, cancel interrupts the right query."""
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from conftest import metric_counts, pin_summary

DRIVERS = Path(__file__).with_name("drivers")
# Compiled programs are kept in tmp under a hash of their sources (Go and Java
# compile once, and again only when a program changes).
SOURCES = hashlib.sha256(b"".join(p.read_bytes() for p in sorted(DRIVERS.iterdir()))).hexdigest()
CACHE = Path(os.environ.get("WARMPOOL_DRIVER_CACHE", tempfile.gettempdir())) / "warmpool-drivers"
BUILT = CACHE / SOURCES[:16]
CONNECTOR_J = "/usr/share/java/mariadb-java-client.jar"
GOPATH = "/usr/share/gocode"
# node's mysql2 comes from npm into the cache, never into the repository.
NODE_MODULES = CACHE / "node" / "node_modules"


def need(path, what):
    if not Path(path).exists():
        pytest.skip(f"{what} is not installed (tools/install-deps.sh)")




def metrics_pins(wp):
    """warmpool_pins_total by reason from /metrics, nonzero only."""
    return {k: v for k, v in metric_counts(wp, "warmpool_pins_total", "reason").items() if v}


@pytest.fixture
def wp(warmpool_factory, mariadb):
    mariadb.root_sql("CREATE DATABASE IF NOT EXISTS mux; "
                     "CREATE TABLE IF NOT EXISTS mux.t (id INT PRIMARY KEY, b LONGBLOB) "
                     "ENGINE=InnoDB; REPLACE INTO mux.t VALUES (1, NULL), (2, NULL)")
    return warmpool_factory(warmpool={"workers": "1", "client_wait_timeout_ms": "20000"},
                            listener_main={"pool_mode": "transaction"},
                            backend_main={"min_idle": "1", "max_connections": "4"})


def run(args, **kw):
    p = subprocess.run(args, capture_output=True, text=True, timeout=120, **kw)
    assert p.returncode == 0 and p.stdout.strip().endswith("ok"), \
        f"{args}: rc={p.returncode}\n{p.stdout}\n{p.stderr}"
    return p.stdout


def java_program():
    need(CONNECTOR_J, "MariaDB Connector/J (libmariadb-java)")
    need("/usr/bin/javac", "a JDK (default-jdk-headless)")
    out = BUILT / "java"
    if not (out / "ConnectorJ.class").exists():
        out.mkdir(parents=True, exist_ok=True)
        subprocess.run(["javac", "-cp", CONNECTOR_J, "-d", str(out),
                        str(DRIVERS / "ConnectorJ.java")], check=True, timeout=120)
    return ["java", "-cp", f"{CONNECTOR_J}:{out}", "ConnectorJ"]


def go_program():
    need(f"{GOPATH}/src/github.com/go-sql-driver/mysql", "go-sql-driver "
         "(golang-github-go-sql-driver-mysql-dev)")
    need("/usr/bin/go", "Go (golang-go)")
    binary = BUILT / "go" / "gosql"
    if not binary.exists():
        binary.parent.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, GO111MODULE="off", GOPATH=GOPATH, GOCACHE=str(CACHE / "gocache"),
                   GOFLAGS="")
        subprocess.run(["go", "build", "-o", str(binary), str(DRIVERS / "gosql.go")],
                       check=True, timeout=300, env=env)
    return [str(binary)]


def node_program():
    need("/usr/bin/node", "node")
    if not (NODE_MODULES / "mysql2").exists():
        (CACHE / "node").mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix",
                        str(CACHE / "node"), "mysql2"], check=True, timeout=300,
                       capture_output=True)
    return ["node", str(DRIVERS / "mysql2.js")]


def php_program():
    need("/usr/bin/php", "PHP (php-cli php-mysql)")
    return ["php", str(DRIVERS / "mysqlnd.php")]


def mysqlclient_program():
    pytest.importorskip("MySQLdb")
    return [sys.executable, str(DRIVERS / "mysqlclient_driver.py")]


PROGRAMS = {"connector_j": java_program, "go": go_program, "mysql2": node_program,
            "mysqlnd": php_program, "mysqlclient": mysqlclient_program}


@pytest.mark.parametrize("driver", sorted(PROGRAMS))
def test_driver_multiplexes_without_pins(wp, driver):
    """Connect, prepared statements with arguments, a transaction with an
    isolation level (checked by the server: a SERIALIZABLE read locks the row
    against another session), long data where the driver sends it, stacked
    queries (refused unless the driver asked for them), cancel / KILL QUERY
    where the driver has it: zero pins, in /metrics and at exit."""
    program = PROGRAMS[driver]()
    env = dict(os.environ, NODE_PATH=str(NODE_MODULES))
    run(program + [str(wp.port)], env=env)
    # Several clients at once, one connection each, ordinary use only.
    run(program + [str(wp.port), "connections", "20"], env=env)
    wp.wait_for_log("warmpool started")  # /metrics reads what workers publish each tick
    time.sleep(0.3)
    assert metrics_pins(wp) == {}
    assert pin_summary(wp) == {}
