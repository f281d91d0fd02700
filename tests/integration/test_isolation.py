"""Leak matrix (issue #14): with one backend connection, client B always gets client A's
connection; whatever state A leaves, in whatever way it sent it, B must find a pristine
session, as the server itself reports it; A must find the state warmpool restores."""
import json
import struct
import time
import urllib.request

import pymysql
import pytest
from pymysql.constants import CLIENT

from conftest import wait_until
from rawclient import CLIENT_CAPS, RawClient, err_of, frame, login_payload, native_token

COM_STMT_PREPARE, COM_STMT_EXECUTE, COM_STMT_CLOSE, COM_SET_OPTION = 0x16, 0x17, 0x19, 0x1B
WAIT_MS = 1000  # how long B waits for the one connection while A holds it (a pin)


@pytest.fixture(scope="module")
def iso_db(mariadb):
    mariadb.root_sql(
        "CREATE DATABASE IF NOT EXISTS wp_iso; CREATE DATABASE IF NOT EXISTS wp_iso2; "
        "CREATE TABLE IF NOT EXISTS wp_iso.t (a INT); "
        "CREATE TABLE IF NOT EXISTS wp_iso.t2 (a INT); "
        "DROP PROCEDURE IF EXISTS wp_iso.leave_state; DROP FUNCTION IF EXISTS wp_iso.leave_fn; "
        "CREATE SEQUENCE IF NOT EXISTS wp_iso.seq; DROP PROCEDURE IF EXISTS wp_iso.rows; "
        "CREATE PROCEDURE wp_iso.rows() SELECT 1")
    mariadb.root_sql(
        "DELIMITER //\nCREATE PROCEDURE wp_iso.leave_state() BEGIN SET @proc_var = 7; "
        "SET SESSION sql_mode = 'ANSI_QUOTES'; CREATE TEMPORARY TABLE wp_iso.proc_tmp (a INT); "
        "END //\n"
        "CREATE FUNCTION wp_iso.leave_fn() RETURNS INT DETERMINISTIC BEGIN SET @fn_var = 7; "
        "RETURN 1; END //")
    # a procedure named like a keyword: sql_mode=ORACLE calls it from "BEGIN WORK; END"
    mariadb.root_sql("DROP PROCEDURE IF EXISTS wp_iso.work")
    mariadb.root_sql("DELIMITER //\nCREATE PROCEDURE wp_iso.work() BEGIN "
                     "SET SESSION time_zone = '+05:00'; END //")
    return mariadb


@pytest.fixture
def one_conn_pool(warmpool_factory, iso_db):
    return one_connection(warmpool_factory, iso_db)


def one_connection(warmpool_factory, db):
    """A transaction-mode warmpool whose one backend connection is open: the
    clients' wait (WAIT_MS) is for each other, not for its first connect,
    which a loaded machine can make longer."""
    wp = warmpool_factory(db=db, warmpool={"workers": "1", "client_wait_timeout_ms": str(WAIT_MS)},
                          listener_main={"pool_mode": "transaction"},
                          backend_main={"min_idle": "1", "max_connections": "1"})
    wait_until(lambda: "backend connection ready" in wp.read_log(), timeout=30,
               what="the backend connection")
    return wp


def connect(port, multi=False, db=None):
    return pymysql.connect(host="127.0.0.1", port=port, user="app", password="app-secret",
                           database=db, autocommit=True, connect_timeout=30,
                           client_flag=CLIENT.MULTI_STATEMENTS if multi else 0)


def query(conn, sql):
    """Runs a (multi-)statement text; returns the rows of its first result."""
    with conn.cursor() as cur:
        cur.execute(sql)
        rows = cur.fetchall()
        while cur.nextset():
            pass
        return rows


def value(conn, sql):
    return query(conn, sql)[0][0]


def error_code(conn, sql):
    try:
        query(conn, sql)
    except pymysql.MySQLError as e:
        return e.args[0]
    return 0


# --- raw protocol: what PyMySQL cannot send -------------------------------

def read_response(conn):
    """Reads one response to a command (OK, ERR, or a result set in either
    protocol); raises on ERR."""
    first = conn._read_packet()
    if first.is_ok_packet():
        return
    columns = first.read_length_encoded_integer()
    for _ in range(columns):
        conn._read_packet()
    conn._read_packet()  # EOF after the definitions
    while not conn._read_packet().is_eof_packet():
        pass


def prepare_and_execute(conn, sql):
    """COM_STMT_PREPARE then COM_STMT_EXECUTE (no parameters), as Go and JDBC send SQL."""
    conn._execute_command(COM_STMT_PREPARE, sql)
    ok = conn._read_packet()
    stmt_id, columns, params = struct.unpack("<IHH", ok._data[1:9])
    for _ in range(params + (1 if params else 0) + columns + (1 if columns else 0)):
        conn._read_packet()
    conn._execute_command(COM_STMT_EXECUTE, struct.pack("<IBI", stmt_id, 0, 1))
    read_response(conn)
    conn._execute_command(COM_STMT_CLOSE, struct.pack("<I", stmt_id))


def set_option(conn, on):
    """COM_SET_OPTION: multi-statements on or off for the session (mysqlnd's multi_query)."""
    conn._execute_command(COM_SET_OPTION, struct.pack("<H", 0 if on else 1))
    assert conn._read_packet().is_eof_packet()


def pipelined(conn, first, second):
    """Two commands in one write, before either is answered: each a COM_QUERY's
    text, or bytes (a whole command payload)."""
    packets = b""
    for command in (first, second):
        payload = command if isinstance(command, bytes) else b"\x03" + command.encode()
        packets += struct.pack("<I", len(payload))[:3] + b"\x00" + payload
    conn._write_bytes(packets)
    for _ in range(2):
        conn._next_seq_id = 1
        result = pymysql.connections.MySQLResult(conn)
        result.read()


# --- state kinds -----------------------------------------------------------
# Each: the statement that leaves it, the check that B's session is pristine
# (asked of the server), and, when the README promises to restore it, the
# check that A still sees it.

def global_equal(var):
    return lambda b: value(b, f"SELECT @@session.{var} = @@global.{var}") == 1


def next_transaction_read_only(conn):
    """Whether the session's next transaction is READ ONLY, asked of the server."""
    query(conn, "START TRANSACTION")
    read_only = error_code(conn, "UPDATE wp_iso.t SET a = a WHERE 0") == 1792
    query(conn, "ROLLBACK")
    return read_only


STATES = {
    "variable_literal": ("SET SESSION time_zone = '+05:00'", global_equal("time_zone"),
                         lambda a: value(a, "SELECT @@session.time_zone") == "+05:00"),
    "variable_expression": ("SET SESSION wait_timeout = @@global.wait_timeout + 23",
                            global_equal("wait_timeout"),
                            lambda a: value(a, "SELECT @@session.wait_timeout - "
                                               "@@global.wait_timeout") == 23),
    "sql_mode": ("SET SESSION sql_mode = 'ANSI_QUOTES,NO_BACKSLASH_ESCAPES'",
                 global_equal("sql_mode"),
                 lambda a: value(a, "SELECT @@session.sql_mode") ==
                 "ANSI_QUOTES,NO_BACKSLASH_ESCAPES"),
    "autocommit": ("SET autocommit = 0", lambda b: value(b, "SELECT @@autocommit") == 1,
                   lambda a: value(a, "SELECT @@autocommit") == 0),
    "isolation": ("SET SESSION TRANSACTION ISOLATION LEVEL SERIALIZABLE",
                  global_equal("tx_isolation"),
                  lambda a: value(a, "SELECT @@session.tx_isolation") == "SERIALIZABLE"),
    "next_transaction": ("SET TRANSACTION READ ONLY", lambda b: not next_transaction_read_only(b),
                         None),
    "charset": ("SET NAMES latin1",
                lambda b: query(b, "SELECT @@character_set_client, @@character_set_results, "
                                   "@@character_set_connection")[0] == ("utf8mb4",) * 3,
                lambda a: value(a, "SELECT @@character_set_client") == "latin1"),
    "schema": ("USE wp_iso2", lambda b: value(b, "SELECT DATABASE()") is None,
               lambda a: value(a, "SELECT DATABASE()") == "wp_iso2"),
    "user_variable": ("SET @secret = 42", lambda b: value(b, "SELECT @secret") is None, None),
    "temporary_table": ("CREATE TEMPORARY TABLE wp_iso.tmp_x (a INT)",
                        lambda b: error_code(b, "SELECT * FROM wp_iso.tmp_x") == 1146, None),
    "sql_prepare": ("PREPARE wp_stmt FROM 'SELECT 1'",
                    lambda b: error_code(b, "EXECUTE wp_stmt") == 1243, None),
    "named_lock": ("SELECT GET_LOCK('wp_iso_lock', 0)",
                   lambda b: value(b, "SELECT IS_USED_LOCK('wp_iso_lock')") is None, None),
    "lock_tables": ("LOCK TABLES wp_iso.t READ",
                    lambda b: error_code(b, "SELECT COUNT(*) FROM wp_iso.t2") == 0, None),
    "global_read_lock": ("FLUSH TABLES WITH READ LOCK",
                         lambda b: error_code(b, "INSERT INTO wp_iso.t VALUES (1)") == 0, None),
    # a quoted name before "(" is the builtin of that name (adversarial review, t1/t5)
    "named_lock_backtick": ("SELECT `GET_LOCK`('wp_iso_lock', 0)",
                            lambda b: value(b, "SELECT IS_USED_LOCK('wp_iso_lock')") is None,
                            None),
    "last_insert_id_backtick": ("SELECT `LAST_INSERT_ID`(4242)",
                                lambda b: value(b, "SELECT LAST_INSERT_ID()") == 0, None),
    "stored_function": ("SELECT wp_iso.leave_fn()",
                        lambda b: value(b, "SELECT @fn_var") is None, None),
    # compound statements outside a routine run the functions they name
    "stored_function_compound": ("BEGIN NOT ATOMIC DO wp_iso.leave_fn(); END",
                                 lambda b: value(b, "SELECT @fn_var") is None, None),
    "stored_function_if": ("IF wp_iso.leave_fn() THEN DO 1; END IF",
                           lambda b: value(b, "SELECT @fn_var") is None, None),
    "sequence": ("SELECT NEXTVAL(wp_iso.seq)",
                 lambda b: value(b, "SELECT LASTVAL(wp_iso.seq)") is None, None),
    "procedure": ("CALL wp_iso.leave_state()",
                  lambda b: value(b, "SELECT @proc_var") is None and global_equal("sql_mode")(b)
                  and error_code(b, "SELECT * FROM wp_iso.proc_tmp") == 1146, None),
}

# How A sends the statement.
WAYS = {
    "plain": lambda a, sql: query(a, sql),
    "multi_statement_tail": lambda a, sql: query(a, "SELECT 1; " + sql),
    "prepared": prepare_and_execute,
    "executable_comment": lambda a, sql: query(a, "/*!40000 " + sql + " */"),
    "pipelined": lambda a, sql: pipelined(a, "SELECT 1", sql),
}
# Statements the server does not take in some ways.
NOT_SENDABLE = {("sql_prepare", "prepared"), ("lock_tables", "prepared"),
                ("schema", "prepared"), ("stored_function_compound", "prepared"),
                ("stored_function_if", "prepared")}
# What warmpool tracks and restores (README, "Transaction pooling"): sent
# plainly or in a multi-statement, these must not keep A's connection.
RESTORED = {"variable_literal", "sql_mode", "autocommit", "charset", "schema", "isolation"}
# Read back after the SET (a statement of its own only): restored when sent plainly.
RESTORED_PLAIN = {"variable_expression"}

CELLS = [pytest.param(state, way, id=f"{state}-{way}")
         for state in STATES for way in WAYS if (state, way) not in NOT_SENDABLE]


def backend_of(port):
    """A client B; its CONNECTION_ID(), or None when the one connection is held by A."""
    try:
        b = connect(port)
        return b, value(b, "SELECT CONNECTION_ID()")
    except pymysql.MySQLError:
        return None, None


@pytest.mark.parametrize("state,way", CELLS)
def test_leak_matrix(one_conn_pool, state, way):
    sql, pristine, a_sees = STATES[state]
    a = connect(one_conn_pool.port, multi=way == "multi_statement_tail")
    a_id = value(a, "SELECT CONNECTION_ID()")
    WAYS[way](a, sql)
    if a_sees:
        assert a_sees(a), "A does not see its own state"

    # A idle between statements: if warmpool lets B have the connection, B
    # must not see A's state, and A must get its state back afterwards.
    b, b_id = backend_of(one_conn_pool.port)
    if (state in RESTORED and way in ("plain", "multi_statement_tail")) or \
            (state in RESTORED_PLAIN and way == "plain"):
        assert b is not None, "a restored state kept A's connection (pinned)"
    if b is not None:
        assert b_id == a_id, "B did not get A's backend connection"
        assert pristine(b), f"B sees A's {state} ({way}) while A is idle"
        if a_sees:
            assert a_sees(a), "A lost its state to B"
            assert pristine(b), f"B sees A's {state} ({way}) after A came back"
        b.close()

    # A leaves: the next client gets the same connection, reset.
    a.close()
    b = connect(one_conn_pool.port)
    assert value(b, "SELECT CONNECTION_ID()") == a_id, "B did not get A's backend connection"
    assert pristine(b), f"B sees A's {state} ({way}) after A left"
    b.close()


@pytest.mark.parametrize("mode,text", [
    ("NO_BACKSLASH_ESCAPES", "SELECT '\\', @lexed := 1 -- '"),
    ("ANSI_QUOTES", 'SELECT 1 AS "\\", @lexed := 1 -- "'),
], ids=["no_backslash_escapes", "ansi_quotes"])
def test_lexing_follows_sql_mode(one_conn_pool, mode, text):
    """Defect 7: after A sets an sql_mode that changes how strings end, a text that
    sets a user variable outside what the default lexing sees as a string still pins."""
    a = connect(one_conn_pool.port)
    a_id = value(a, "SELECT CONNECTION_ID()")
    query(a, f"SET SESSION sql_mode = '{mode}'")
    query(a, text)
    b, b_id = backend_of(one_conn_pool.port)
    if b is not None:
        assert b_id == a_id
        assert value(b, "SELECT @lexed") is None, "B sees A's user variable"
        b.close()
    assert value(a, "SELECT @lexed") == 1  # the server did read it that way
    a.close()
    b = connect(one_conn_pool.port)
    assert value(b, "SELECT CONNECTION_ID()") == a_id
    assert value(b, "SELECT @lexed") is None
    assert value(b, "SELECT @@session.sql_mode = @@global.sql_mode") == 1
    b.close()


@pytest.mark.parametrize("a_multi", [False, True], ids=["login_without", "login_with"])
def test_multi_statement_option_survives_reset(one_conn_pool, a_multi):
    """COM_SET_OPTION, then a pin, then A leaves: warmpool resets the connection with
    COM_CHANGE_USER, which does not reset the option; each next client still gets
    exactly the option it logged in with."""
    a = connect(one_conn_pool.port, multi=a_multi)
    a_id = value(a, "SELECT CONNECTION_ID()")
    set_option(a, not a_multi)
    query(a, "SET @pinned = 1")
    a.close()
    for b_multi in (a_multi, not a_multi, a_multi):
        b = connect(one_conn_pool.port, multi=b_multi)
        assert value(b, "SELECT CONNECTION_ID()") == a_id
        assert (error_code(b, "DO 1; DO 2") == 0) == b_multi
        assert value(b, "SELECT @pinned") is None
        b.close()


@pytest.mark.parametrize("a_multi", [False, True], ids=["login_without", "login_with"])
def test_multi_statement_option_follows_each_client(one_conn_pool, a_multi):
    """A flips the multi-statement option with COM_SET_OPTION; B (who logged in the
    other way) gets what it asked for, on A's connection, while A is idle and after
    it left; A keeps its option."""
    a = connect(one_conn_pool.port, multi=a_multi)
    a_id = value(a, "SELECT CONNECTION_ID()")
    set_option(a, not a_multi)
    assert (error_code(a, "DO 1; DO 2") == 0) == (not a_multi)
    for leave in (False, True):
        if leave:
            a.close()
        b = connect(one_conn_pool.port, multi=a_multi)
        assert value(b, "SELECT CONNECTION_ID()") == a_id
        assert (error_code(b, "DO 1; DO 2") == 0) == a_multi, "B got A's multi-statement option"
        b.close()
        if not leave:
            assert (error_code(a, "DO 1; DO 2") == 0) == (not a_multi), "A lost its option"


@pytest.mark.parametrize("mode", ["session", "transaction"])
def test_stacked_queries_refused_without_multi_statements(warmpool_factory, iso_db, mode):
    """Defect 1: a client that did not ask for multi-statements gets ERR 1064 for
    "DO 1; CREATE TABLE ..." and the second statement never runs."""
    wp = warmpool_factory(db=iso_db, listener_main={"pool_mode": mode},
                          warmpool={"workers": "1"},
                          backend_main={"min_idle": "1", "max_connections": "4"})
    iso_db.root_sql("DROP TABLE IF EXISTS wp_iso.stacked")
    c = connect(wp.port)
    assert error_code(c, "DO 1; CREATE TABLE wp_iso.stacked (x INT)") == 1064
    assert iso_db.root_sql("SHOW TABLES FROM wp_iso LIKE 'stacked'").strip() == ""
    m = connect(wp.port, multi=True)
    assert error_code(m, "DO 1; DO 2") == 0
    assert error_code(c, "DO 1; DO 2") == 1064, "the other client's option leaked"
    c.close()
    m.close()


def test_multi_query_in_transaction_mode(one_conn_pool):
    """mysqlnd's multi_query: option ON, the query, option OFF, in transaction mode."""
    a = connect(one_conn_pool.port)
    set_option(a, True)
    assert query(a, "SELECT 1; SELECT 2") == ((1,),)
    set_option(a, False)
    assert error_code(a, "DO 1; DO 2") == 1064
    a.close()


def test_pipelined_reset_connection(one_conn_pool):
    """Defect 7: COM_RESET_CONNECTION sent behind another command resets the session
    without warmpool attributing it; A must not get its old variables back later."""
    a = connect(one_conn_pool.port)
    query(a, "SET SESSION time_zone = '+05:00'")
    pipelined(a, "SELECT 1", b"\x1f")  # COM_RESET_CONNECTION
    assert value(a, "SELECT @@session.time_zone = @@global.time_zone") == 1
    b, _ = backend_of(one_conn_pool.port)  # takes the connection if A let it go
    if b is not None:
        assert value(b, "SELECT @@session.time_zone = @@global.time_zone") == 1
        b.close()
    assert value(a, "SELECT @@session.time_zone = @@global.time_zone") == 1, \
        "warmpool restored a variable the client had reset"
    a.close()



def test_multi_statement_failing_part_way(one_conn_pool):
    """A tracked statement ran, a later one failed: which ones ran is not known from
    the reply, so A keeps its connection and B never sees the variable."""
    a = connect(one_conn_pool.port, multi=True)
    a_id = value(a, "SELECT CONNECTION_ID()")
    assert error_code(a, "SELECT 1; SET SESSION time_zone = '+05:00'; "
                         "SELECT no_such_column FROM wp_iso.t; SET autocommit = 0") == 1054
    assert value(a, "SELECT @@session.time_zone") == "+05:00"
    b, b_id = backend_of(one_conn_pool.port)
    if b is not None:
        assert b_id == a_id
        assert value(b, "SELECT @@session.time_zone = @@global.time_zone") == 1
        b.close()
    a.close()
    b = connect(one_conn_pool.port)
    assert value(b, "SELECT CONNECTION_ID()") == a_id
    assert value(b, "SELECT @@session.time_zone = @@global.time_zone") == 1
    assert value(b, "SELECT @@autocommit") == 1
    b.close()


def test_pipelined_set_option(one_conn_pool):
    """COM_SET_OPTION behind another command cannot be attributed: A keeps its
    connection, and after A left (warmpool's COM_CHANGE_USER keeps the option) B
    still gets the option it logged in with."""
    a = connect(one_conn_pool.port)
    a_id = value(a, "SELECT CONNECTION_ID()")
    packets = b""
    for payload in (b"\x03SELECT 1", struct.pack("<BH", COM_SET_OPTION, 0)):
        packets += struct.pack("<I", len(payload))[:3] + b"\x00" + payload
    a._write_bytes(packets)
    a._next_seq_id = 1
    pymysql.connections.MySQLResult(a).read()
    a._next_seq_id = 1
    assert a._read_packet().is_eof_packet()  # COM_SET_OPTION's answer
    assert error_code(a, "DO 1; DO 2") == 0  # A asked for it
    b, b_id = backend_of(one_conn_pool.port)
    if b is not None:
        assert b_id == a_id
        assert error_code(b, "DO 1; DO 2") == 1064, "B got A's multi-statement option"
        b.close()
    a.close()
    b = connect(one_conn_pool.port)
    assert value(b, "SELECT CONNECTION_ID()") == a_id
    assert error_code(b, "DO 1; DO 2") == 1064, "B got A's multi-statement option"
    b.close()


def admin_status(wp):
    with urllib.request.urlopen(f"http://127.0.0.1:{wp.admin_port}/status", timeout=5) as r:
        return json.load(r)


def test_backslash_escapes_after_a_setup_do_not_pin(one_conn_pool):
    """The server's NO_BACKSLASH_ESCAPES status flag, read from the OK of warmpool's
    own setup, tells how 'O\\'Brien' ends: a client that escapes with backslashes
    (mysqlclient, PHP) is not pinned on a connection another client's variables
    were just taken off."""
    a = connect(one_conn_pool.port)
    query(a, "SET SESSION time_zone = '+05:00'")  # tracked: B's setup takes it back
    b = connect(one_conn_pool.port)
    before = admin_status(one_conn_pool)["queries"]
    assert value(b, "SELECT 'O\\'Brien'") == "O'Brien"
    deadline = time.monotonic() + 30
    while (status := admin_status(one_conn_pool))["queries"] <= before:
        assert time.monotonic() < deadline, "/status never counted the query"
        time.sleep(0.1)
    assert status["pins"].get("sql_mode", 0) == 0, status["pins"]
    a.close()
    b.close()


# --- character sets whose characters may end in a backslash byte -----------
# In gbk (and big5, cp932, sjis, gb18030) 0xBF 0x5C is one character: a lexer
# that reads 0x5C as a backslash sees one string where the server runs two
# statements (adversarial review, t2/t2b/t3).
GBK_BF5C = b"\xbf\x5c".decode("gbk")
HIDDEN = "SELECT 'x" + GBK_BF5C + "' AS s; SET @stolen = 'A-secret', @lexed := 1 #'"


def gbk_by_login(port):
    return pymysql.connect(host="127.0.0.1", port=port, user="app", password="app-secret",
                           autocommit=True, charset="gbk", client_flag=CLIENT.MULTI_STATEMENTS)


def gbk_by(statement):
    def make(port):
        a = connect(port, multi=True)
        query(a, statement)
        a.encoding = "gbk"  # what PyMySQL encodes the next texts in
        return a
    return make


CHARSET_WAYS = {
    "login": gbk_by_login,
    "set_names": gbk_by("SET NAMES gbk"),
    "set_character_set": gbk_by("SET CHARACTER SET gbk"),
    "set_character_set_client": gbk_by("SET SESSION character_set_client = gbk, "
                                       "character_set_results = gbk"),
}


@pytest.mark.parametrize("way", CHARSET_WAYS)
def test_gbk_text_hides_no_state(one_conn_pool, way):
    a = CHARSET_WAYS[way](one_conn_pool.port)
    a_id = value(a, "SELECT CONNECTION_ID()")
    query(a, HIDDEN)
    b, b_id = backend_of(one_conn_pool.port)
    if b is not None:
        assert value(b, "SELECT @stolen") is None, "B sees A's hidden user variable"
    assert b is None, "a gbk client did not keep its connection (reason charset)"
    assert value(a, "SELECT @lexed") == 1  # the server did run the SET
    a.close()
    b = connect(one_conn_pool.port)
    assert value(b, "SELECT CONNECTION_ID()") == a_id
    assert value(b, "SELECT @stolen") is None
    assert value(b, "SELECT @@character_set_client") == "utf8mb4"
    b.close()


def test_gbk_login_pins_with_reason_charset(warmpool_factory, iso_db):
    wp = warmpool_factory(db=iso_db, listener_main={"pool_mode": "transaction"})
    a = gbk_by_login(wp.port)
    assert value(a, "SELECT 'x" + GBK_BF5C + "'") == "x" + GBK_BF5C
    with urllib.request.urlopen(f"http://127.0.0.1:{wp.admin_port}/status", timeout=5) as r:
        deadline = time.monotonic() + 5
        status = json.load(r)
    while status["pins"].get("charset", 0) < 1 and time.monotonic() < deadline:
        time.sleep(0.2)  # published at the next tick
        with urllib.request.urlopen(f"http://127.0.0.1:{wp.admin_port}/status", timeout=5) as r:
            status = json.load(r)
    assert status["pins"].get("charset", 0) == 1, status["pins"]
    a.close()


# --- aliases of one variable (t22) -----------------------------------------

@pytest.mark.parametrize("mine,theirs", [("default_storage_engine", "storage_engine"),
                                         ("storage_engine", "default_storage_engine")])
def test_variable_set_through_its_alias(one_conn_pool, mine, theirs):
    """B's variable, set again by another client under its other name, is
    B's when B comes back: a restore names one variable once."""
    b = connect(one_conn_pool.port)
    query(b, f"SET SESSION {mine} = 'MyISAM'")
    a = connect(one_conn_pool.port)
    query(a, f"SET SESSION {theirs} = 'Aria'")
    assert value(a, f"SELECT @@{theirs}") == "Aria"
    assert value(b, f"SELECT @@{mine}") == "MyISAM"
    assert value(a, f"SELECT @@{mine}") == "Aria"
    a.close()
    assert value(b, f"SELECT @@{mine}") == "MyISAM"
    b.close()
    c = connect(one_conn_pool.port)
    assert value(c, "SELECT @@default_storage_engine = @@global.default_storage_engine") == 1
    c.close()


# --- optimizer trace (t15) -------------------------------------------------

def test_optimizer_trace_stays_with_its_session(one_conn_pool):
    a = connect(one_conn_pool.port)
    a_id = value(a, "SELECT CONNECTION_ID()")
    query(a, "SET SESSION optimizer_trace = 'enabled=on'")
    query(a, "SELECT a FROM wp_iso.t WHERE a = 31337")
    b, _ = backend_of(one_conn_pool.port)
    if b is not None:
        assert value(b, "SELECT COUNT(*) FROM information_schema.OPTIMIZER_TRACE "
                        "WHERE QUERY LIKE '%31337%'") == 0, "B reads A's optimizer trace"
        b.close()
    a.close()
    b = connect(one_conn_pool.port)
    assert value(b, "SELECT CONNECTION_ID()") == a_id
    assert value(b, "SELECT COUNT(*) FROM information_schema.OPTIMIZER_TRACE "
                    "WHERE QUERY LIKE '%31337%'") == 0, "B reads A's optimizer trace"
    b.close()


# --- diagnostics area (t4) -------------------------------------------------

@pytest.mark.parametrize("cause,read", [
    ("SELECT CAST('A-secret-value' AS INTEGER)", "SHOW WARNINGS"),
    ("SELECT * FROM wp_iso.`no_such_A-secret`", "SHOW ERRORS"),
    ("SELECT * FROM wp_iso.`no_such_A-secret`", "SHOW WARNINGS"),
], ids=["warning", "error", "error_as_warning"])
def test_diagnostics_stay_with_their_session(one_conn_pool, cause, read):
    """A's warnings or error stay in the server's diagnostics area through
    statements that use no table (SELECT 1); B, next on the connection, must
    not read them."""
    a = connect(one_conn_pool.port)
    a_id = value(a, "SELECT CONNECTION_ID()")
    error_code(a, cause)
    query(a, "SELECT 1")  # keeps them, on MariaDB
    b = connect(one_conn_pool.port)
    assert value(b, "SELECT CONNECTION_ID()") == a_id
    assert "A-secret" not in repr(query(b, read)), f"B reads A's diagnostics ({read})"
    query(b, "GET DIAGNOSTICS @n = NUMBER")
    assert value(b, "SELECT @n") == 0
    b.close()
    a.close()


CLIENT_MULTI_RESULTS = 0x20000


@pytest.mark.parametrize("first", ["without", "with"])
def test_multi_results_follow_each_client(one_conn_pool, iso_db, first):
    """A client that did not ask for CLIENT_MULTI_RESULTS gets ERR 1312 for a
    CALL that returns rows, as from the server itself; one that asked gets
    the rows, whichever came first."""
    def call_rows(port, multi_results):
        caps = CLIENT_CAPS | CLIENT_MULTI_RESULTS if multi_results else \
            CLIENT_CAPS & ~CLIENT_MULTI_RESULTS
        c = RawClient(port).login(caps=caps)
        reply = c.command(b"\x03CALL wp_iso.rows()")
        c.close()
        return err_of(reply)[0] if reply[0] == 0xFF else "rows"

    assert call_rows(iso_db.port, False) == 1312  # what the server itself says
    order = [False, True] if first == "without" else [True, False]
    for multi_results in order + order:
        want = "rows" if multi_results else 1312
        assert call_rows(one_conn_pool.port, multi_results) == want, multi_results


# --- second adversarial pass: both servers ---------------------------------
# Each hole was found with max_connections = 1 against MariaDB 10.11 and MySQL
# 9.7; B asks the server what the session holds.

@pytest.fixture(params=["mariadb", "mysql"])
def one_conn_any(request, warmpool_factory):
    return one_connection(warmpool_factory, request.getfixturevalue(request.param))


def raw_query(conn, sql_bytes):
    """A COM_QUERY of exactly these bytes (PyMySQL would encode a str)."""
    conn._execute_command(COM_QUERY, sql_bytes)
    conn._read_query_result()
    return conn._result.rows


COM_QUERY = 0x03
SESSION_PROBE = ("SELECT @@session.time_zone = @@global.time_zone, @@autocommit, "
                 "IS_USED_LOCK('wp_iso_hidden'), LAST_INSERT_ID()")


def assert_b_pristine(port, a_id, when):
    """B, on A's connection, finds the server's defaults, no lock of A's, no
    LAST_INSERT_ID of A's and no temporary table of A's. While A is idle, B
    may find the connection held (False); once A left, B waits for its reset
    (B's own wait is WAIT_MS, shorter than a reset on a loaded machine)."""
    def got_one():
        pair = backend_of(port)
        return pair if pair[0] is not None else None
    if when == "A left":
        b, b_id = wait_until(got_one, timeout=60, what="A's connection back in the pool")
    else:
        b, b_id = backend_of(port)
    if b is None:
        return False
    assert b_id == a_id, "B did not get A's backend connection"
    assert query(b, SESSION_PROBE)[0] == (1, 1, None, 0), f"B sees A's session ({when})"
    assert error_code(b, "SELECT * FROM sbtest.wp_iso_hidden_tmp") == 1146, \
        f"B sees A's temporary table ({when})"
    b.close()
    return True


# In latin1 (and latin2, cp1250, greek... on both servers) byte 0xA0 is a space
# to the server's lexer: "SET\xa0autocommit=0" is a SET (t: latin1 space).
LATIN1_SPACED = [b"SET\xa0SESSION time_zone = '+05:00'",
                 b"SELECT\xa0GET_LOCK('wp_iso_hidden', 0)",
                 b"CREATE\xa0TEMPORARY\xa0TABLE sbtest.wp_iso_hidden_tmp (a INT)",
                 b"SET\xa0autocommit = 0"]


@pytest.mark.parametrize("sql", LATIN1_SPACED, ids=["set", "get_lock", "temporary", "autocommit"])
def test_latin1_space_byte_hides_no_state(one_conn_any, sql):
    a = pymysql.connect(host="127.0.0.1", port=one_conn_any.port, user="app",
                        password="app-secret", charset="latin1", autocommit=True)
    a_id = value(a, "SELECT CONNECTION_ID()")
    raw_query(a, sql)
    assert_b_pristine(one_conn_any.port, a_id, "A idle")
    a.close()
    assert assert_b_pristine(one_conn_any.port, a_id, "A left")


# Vertical tab and form feed are spaces to the server between a function's
# name and its "(" (t: \v before paren).
@pytest.mark.parametrize("sql", ["SELECT LAST_INSERT_ID\x0c(4242)",
                                 "SELECT `GET_LOCK`\x0b('wp_iso_hidden', 0)",
                                 "SELECT `LAST_INSERT_ID`\x0b\x0c(4242)"],
                         ids=["last_insert_id", "quoted_get_lock", "quoted_last_insert_id"])
def test_vertical_space_before_paren_hides_no_state(one_conn_any, sql):
    a = connect(one_conn_any.port)
    a_id = value(a, "SELECT CONNECTION_ID()")
    query(a, sql)
    assert_b_pristine(one_conn_any.port, a_id, "A idle")
    a.close()
    assert assert_b_pristine(one_conn_any.port, a_id, "A left")


def test_split_execute_runs_the_statement_it_names(one_conn_any):
    """A COM_STMT_EXECUTE whose frame arrives in two writes (its id in the first)
    runs the statement the client named, not the one whose warmpool id equals
    the backend id it was rewritten to (t: split execute)."""
    other = RawClient(one_conn_any.port).login()
    other.prepare("SELECT 'other'")  # backend id 1 on the one connection
    other.close()
    a = RawClient(one_conn_any.port).login()
    x = a.prepare("SELECT 'X'")
    y = a.prepare("SELECT 'Y'")
    assert (x, y) == (1, 2)
    execute = frame(0, struct.pack("<BIBI", COM_STMT_EXECUTE, x, 0, 1))
    a.sock.sendall(execute[:11])  # header, command, id, flags, one byte of the count
    time.sleep(0.3)  # let warmpool read the first part on its own (no wall-clock assertion)
    a.sock.sendall(execute[11:])
    assert a.read_packet()[1] == b"\x01"  # one column
    a.read_packet()  # its definition
    a.read_packet()  # EOF
    assert a.read_packet()[1] == b"\x00\x00\x01X", "the execute ran another statement"
    a.close()


def test_unknown_login_collation_gets_no_other_clients_charset(one_conn_any):
    """A client whose handshake names a collation warmpool does not know (9,
    latin2_general_ci) gets warmpool's default character set, never the one the
    previous client left on the connection (t: unknown collation)."""
    a = pymysql.connect(host="127.0.0.1", port=one_conn_any.port, user="app",
                        password="app-secret", charset="latin1", autocommit=True)
    assert value(a, "SELECT @@character_set_client") == "latin1"
    b = RawClient(one_conn_any.port)
    token = native_token("app-secret", b.scramble)
    b.sock.sendall(frame(1, struct.pack("<IIB", CLIENT_CAPS, 1 << 24, 9) + b"\x00" * 23 +
                         b"app\x00" + bytes([len(token)]) + token + b"mysql_native_password\x00"))
    assert b.read_packet()[1][0] == 0x00
    b.send(b"\x03SELECT @@character_set_client")
    for _ in range(3):
        b.read_packet()  # column count, definition, EOF
    assert b.read_packet()[1] == b"\x07utf8mb4", "B got A's character set"
    b.close()
    a.close()


@pytest.mark.parametrize("block", ["BEGIN SET SESSION time_zone = '+05:00'; END",
                                   "begin\nset session time_zone = '+05:00'; end",
                                   "BEGIN WORK; END"],
                         ids=["begin", "lower_case", "begin_work"])
def test_oracle_mode_anonymous_block(one_conn_pool, block):
    """MariaDB's sql_mode=ORACLE runs BEGIN ... END as one compound statement
    (WORK there is a procedure call): what it sets must not stay on the
    connection unseen (t: oracle block)."""
    a = connect(one_conn_pool.port, db="wp_iso")
    a_id = value(a, "SELECT CONNECTION_ID()")
    query(a, "SET SESSION sql_mode = 'ORACLE'")
    query(a, block)
    assert value(a, "SELECT @@session.time_zone") == "+05:00"
    try:  # B in the same schema: its setup has no schema change to make
        b = connect(one_conn_pool.port, db="wp_iso")
    except pymysql.MySQLError:
        b = None  # A keeps its connection
    if b is not None:
        assert value(b, "SELECT CONNECTION_ID()") == a_id
        assert value(b, "SELECT @@session.time_zone = @@global.time_zone") == 1, \
            "B sees the time zone A's block set"
        b.close()
    a.close()
    b = connect(one_conn_pool.port, db="wp_iso")
    assert value(b, "SELECT CONNECTION_ID()") == a_id
    assert value(b, "SELECT @@session.time_zone = @@global.time_zone") == 1
    b.close()


def test_latin1_space_byte_behind_set_names_in_flight(one_conn_any):
    """SET NAMES latin1 and, in the same write, a SET cut by 0xA0: when warmpool
    reads the second, the first is not answered yet (t: pipelined SET NAMES)."""
    a = connect(one_conn_any.port)
    a_id = value(a, "SELECT CONNECTION_ID()")
    pipelined(a, b"\x03SET NAMES latin1", b"\x03SET\xa0SESSION time_zone = '+05:00'")
    assert value(a, "SELECT @@session.time_zone") == "+05:00"
    assert_b_pristine(one_conn_any.port, a_id, "A idle")
    a.close()
    assert assert_b_pristine(one_conn_any.port, a_id, "A left")


def test_upload_sent_before_the_server_asks(one_conn_pool):
    """LOAD DATA LOCAL with its file and the empty packet that ends it in the
    same write, before the server's request (0xFB) arrives: the connection is
    not left taking the next commands, A's or B's, for file data; both are
    answered (t: pipelined upload)."""
    a = RawClient(one_conn_pool.port)
    token = native_token("app-secret", a.scramble)
    a.sock.sendall(frame(1, login_payload(b"app", token, caps=CLIENT_CAPS | 0x80)))  # LOCAL_FILES
    assert a.read_packet()[1][0] == 0x00
    a.sock.sendall(frame(0, b"\x03LOAD DATA LOCAL INFILE 'f' INTO TABLE wp_iso.t") +
                   frame(2, b"5\n") + frame(3, b""))
    assert a.read_packet()[1][0] == 0xFB  # the server asks (the file is already there)
    assert a.read_packet()[1][0] == 0x00  # OK: one row
    assert a.command(b"\x03DO 1")[0] == 0x00, "A's next command was not answered"
    a.close()
    b = pymysql.connect(host="127.0.0.1", port=one_conn_pool.port, user="app",
                        password="app-secret", autocommit=True, read_timeout=10)
    assert value(b, "SELECT 1") == 1, "B's command was not answered"
    b.close()


def test_dollar_quoted_routine_body_hides_nothing(warmpool_factory, mysql):
    """MySQL 9 reads $$ ... $$ (and $tag$ ... $tag$) as one string in the body of a
    LANGUAGE JAVASCRIPT routine, which it creates even without the component
    that runs it; a quote inside must not hide the statements after it
    (t: dollar quote)."""
    wp = one_connection(warmpool_factory, mysql)
    a = connect(wp.port, multi=True)
    a_id = value(a, "SELECT CONNECTION_ID()")
    query(a, "DROP FUNCTION IF EXISTS sbtest.wp_js")
    query(a, "CREATE FUNCTION sbtest.wp_js() RETURNS INT LANGUAGE JAVASCRIPT AS $$ ' $$; "
             "SET SESSION time_zone = '+05:00'; DO GET_LOCK('wp_iso_hidden', 0) -- '")
    assert value(a, "SELECT @@session.time_zone") == "+05:00"  # the server ran them
    assert_b_pristine(wp.port, a_id, "A idle")
    a.close()
    assert assert_b_pristine(wp.port, a_id, "A left")
