// mysql2: node's mysql2 (from npm) with its default settings through warmpool (see test_drivers.py); prints "ok" or exits 1.
const mysql = require('mysql2/promise');

const port = Number(process.argv[2]);
const connect = () => mysql.createConnection({host: '127.0.0.1', port, user: 'app', password: 'app-secret'});

function check(ok, what) {
  if (!ok) { console.log(what); process.exit(1); }
}

async function lockedByOther(probe) {
  try {
    await probe.query('SELECT id FROM mux.t WHERE id = 1 FOR UPDATE NOWAIT');
    return false;
  } catch (e) {
    return true;
  }
}

async function ordinary() {
  const c = await connect(), probe = await connect();
  const [rows] = await c.execute('SELECT ? + 1 AS n', [41]); // server-side prepared
  check(Number(rows[0].n) === 42, 'prepared');
  await c.query('SET TRANSACTION ISOLATION LEVEL SERIALIZABLE');
  await c.beginTransaction();
  await c.execute('SELECT COUNT(*) FROM mux.t WHERE id = ?', [1]);
  check(await lockedByOther(probe), 'SERIALIZABLE read did not lock');
  await c.commit();
  check(!(await lockedByOther(probe)), 'lock kept after commit');
  try {
    await c.query('DO 1; DO 2');
    check(false, 'stacked queries ran');
  } catch (e) {
    check(e.errno === 1064, 'stacked: ' + e);
  }
  await c.end();
  await probe.end();
}

async function main() {
  if (process.argv[3] === 'connections') {
    for (let i = 0; i < Number(process.argv[4]); i++) {
      const c = await connect();
      await c.execute('SELECT ? + 1', [i]);
      await c.query('SET TRANSACTION ISOLATION LEVEL READ COMMITTED');
      await c.beginTransaction();
      await c.execute('SELECT COUNT(*) FROM mux.t WHERE id = ?', [1]);
      await c.commit();
      await c.end();
    }
  } else {
    await ordinary();
  }
  console.log('ok');
}

main().catch((e) => { console.log(String(e)); process.exit(1); });
