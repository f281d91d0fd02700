<?php
// mysqlnd: PHP's mysqli and PDO (mysqlnd) with their default settings through warmpool (see test_drivers.py); prints "ok" or exits 1.
mysqli_report(MYSQLI_REPORT_OFF);
$port = (int)$argv[1];

function check($ok, $what) {
    if (!$ok) { echo "$what\n"; exit(1); }
}

function mysqli_connect_app($port) {
    $m = new mysqli("127.0.0.1", "app", "app-secret", "", $port);
    check(!$m->connect_errno, "connect: " . $m->connect_error);
    return $m;
}

function locked_by_other($probe) {
    return $probe->query("SELECT id FROM mux.t WHERE id = 1 FOR UPDATE NOWAIT") === false;
}

// mysqli: server-side prepared statements, long data, a transaction, KILL QUERY.
function mysqli_ordinary($port) {
    $m = mysqli_connect_app($port);
    $probe = mysqli_connect_app($port);
    $st = $m->prepare("SELECT ? + 1");
    $x = 41;
    $st->bind_param("i", $x);
    $st->execute();
    $st->bind_result($n);
    $st->fetch();
    check($n == 42, "prepared: $n");
    $st->close();
    // Long data: send_long_data, then the execute that consumes it.
    $st = $m->prepare("UPDATE mux.t SET b = ? WHERE id = 2");
    $null = null;
    $st->bind_param("b", $null);
    $st->send_long_data(0, "abc");
    $st->send_long_data(0, "def");
    check($st->execute(), "long data execute: " . $st->error);
    $st->close();
    $r = $m->query("SELECT b FROM mux.t WHERE id = 2")->fetch_row();
    check($r[0] === "abcdef", "long data: " . $r[0]);
    // A transaction with an isolation level (mysqli has no API: the SQL).
    check($m->query("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE"), "set transaction");
    check($m->begin_transaction(), "begin");
    $m->query("SELECT COUNT(*) FROM mux.t WHERE id = 1")->fetch_row();
    check(locked_by_other($probe), "SERIALIZABLE read did not lock");
    check($m->commit(), "commit");
    check(!locked_by_other($probe), "lock kept after commit");
    // Stacked queries: query() never asked for them.
    check($m->query("DO 1; DO 2") === false && $m->errno == 1064, "stacked: " . $m->errno);
    // multi_query: COM_SET_OPTION on, the text, off.
    check($m->multi_query("DO 1; SELECT 5"), "multi_query: " . $m->error);
    do { if ($r = $m->store_result()) $r->free(); } while ($m->more_results() && $m->next_result());
    check($m->query("DO 1; DO 2") === false && $m->errno == 1064, "stacked after multi_query");
    return [$m, $probe];
}

// KILL QUERY <thread_id> interrupts that client's statement, not another's.
function kill_query($m, $probe, $port) {
    $other = mysqli_connect_app($port);
    $other->query("SELECT SLEEP(3)", MYSQLI_ASYNC);
    $m->query("SELECT SLEEP(30)", MYSQLI_ASYNC);
    usleep(1000000);
    check($probe->query("KILL QUERY " . $m->thread_id), "kill: " . $probe->error);
    $r = $m->reap_async_query();
    check(($r && $r->fetch_row()[0] == 1) || $m->errno == 1317, "victim not interrupted");
    $r = $other->reap_async_query();
    check($r && $r->fetch_row()[0] == 0, "bystander interrupted");
    check($m->query("SELECT 7")->fetch_row()[0] == 7, "victim unusable");
}

// PDO: its defaults (emulated prepares, multi-statements on) and with them off.
function pdo_ordinary($port) {
    $dsn = "mysql:host=127.0.0.1;port=$port";
    $p = new PDO($dsn, "app", "app-secret", [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]);
    $st = $p->prepare("SELECT ? + 1");
    $st->execute([41]);
    check($st->fetchColumn() == 42, "pdo prepared");
    $p->exec("SET TRANSACTION ISOLATION LEVEL READ COMMITTED");
    $p->beginTransaction();
    $p->query("SELECT COUNT(*) FROM mux.t")->fetchColumn();
    $p->commit();
    $q = new PDO($dsn, "app", "app-secret", [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION,
        PDO::ATTR_EMULATE_PREPARES => false, PDO::MYSQL_ATTR_MULTI_STATEMENTS => false]);
    $st = $q->prepare("SELECT ? + 1");
    $st->execute([41]);
    check($st->fetchColumn() == 42, "pdo server-side prepared");
    try {
        $q->exec("DO 1; DO 2");
        check(false, "pdo stacked queries ran");
    } catch (PDOException $e) {
        check($e->errorInfo[1] == 1064, "pdo stacked: " . $e->getMessage());
    }
}

if (($argv[2] ?? "") === "connections") {
    for ($i = 0; $i < (int)$argv[3]; $i++) {
        $m = mysqli_connect_app($port);
        $st = $m->prepare("SELECT ? + 1");
        $st->bind_param("i", $i);
        $st->execute();
        $st->close();
        $st = $m->prepare("UPDATE mux.t SET b = ? WHERE id = 2");
        $null = null;
        $st->bind_param("b", $null);
        $st->send_long_data(0, "abc");
        $st->execute();
        $st->close();
        $m->query("SET TRANSACTION ISOLATION LEVEL READ COMMITTED");
        $m->begin_transaction();
        $m->query("SELECT COUNT(*) FROM mux.t")->fetch_row();
        $m->commit();
        $m->close();
        $p = new PDO("mysql:host=127.0.0.1;port=$port", "app", "app-secret");
        $st = $p->prepare("SELECT ? + 1");
        $st->execute([$i]);
        $p->exec("SET TRANSACTION ISOLATION LEVEL READ COMMITTED");
        $p->beginTransaction();
        $p->query("SELECT COUNT(*) FROM mux.t")->fetchColumn();
        $p->commit();
        $p = null;
    }
} else {
    [$m, $probe] = mysqli_ordinary($port);
    kill_query($m, $probe, $port);
    pdo_ordinary($port);
}
echo "ok\n";
