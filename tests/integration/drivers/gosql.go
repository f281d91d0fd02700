// gosql: Go's database/sql with go-sql-driver/mysql and its default settings through warmpool (see test_drivers.py); prints "ok" or exits 1.
package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"

	"github.com/go-sql-driver/mysql"
)

func check(ok bool, what string, args ...interface{}) {
	if !ok {
		fmt.Printf(what+"\n", args...)
		os.Exit(1)
	}
}

func must(err error, what string) {
	check(err == nil, "%s: %v", what, err)
}

// lockedByOther: the row is locked by another session (a SERIALIZABLE read holds it).
func lockedByOther(probe *sql.Conn) bool {
	_, err := probe.ExecContext(context.Background(), "SELECT id FROM mux.t WHERE id = 1 FOR UPDATE NOWAIT")
	return err != nil
}

func ordinary(db *sql.DB) {
	ctx := context.Background()
	var n int
	// Arguments: the driver prepares on the server, executes, closes.
	must(db.QueryRow("SELECT ? + 1", 41).Scan(&n), "prepared")
	check(n == 42, "prepared: %d", n)
	probe, err := db.Conn(ctx)
	must(err, "probe")
	defer probe.Close()
	// BeginTx with an isolation level: SET TRANSACTION ..., then START TRANSACTION.
	tx, err := db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelSerializable})
	must(err, "begin")
	must(tx.QueryRow("SELECT COUNT(*) FROM mux.t WHERE id = ?", 1).Scan(&n), "select in tx")
	check(lockedByOther(probe), "SERIALIZABLE read did not lock")
	must(tx.Commit(), "commit")
	check(!lockedByOther(probe), "lock kept after commit")
	var level string
	must(db.QueryRow("SELECT @@session.tx_isolation").Scan(&level), "level")
	check(level == "REPEATABLE-READ", "session isolation after the transaction: %s", level)
	// Long data: an argument over maxAllowedPacket/(params+1) goes as COM_STMT_SEND_LONG_DATA.
	blob := make([]byte, 3<<20)
	blob[0] = 'x'
	_, err = db.Exec("UPDATE mux.t SET b = ? WHERE id = 2", blob)
	must(err, "long data")
	must(db.QueryRow("SELECT LENGTH(b) FROM mux.t WHERE id = ?", 2).Scan(&n), "length")
	check(n == 3<<20, "long data length %d", n)
}

func stacked(db *sql.DB) {
	_, err := db.Exec("DO 1; DO 2")
	me, ok := err.(*mysql.MySQLError)
	check(ok && me.Number == 1064, "stacked queries: %v", err)
}

func main() {
	dsn := "app:app-secret@tcp(127.0.0.1:" + os.Args[1] + ")/"
	db, err := sql.Open("mysql", dsn)
	must(err, "open")
	defer db.Close()
	if len(os.Args) > 3 && os.Args[2] == "connections" {
		count, _ := strconv.Atoi(os.Args[3])
		db.SetMaxIdleConns(0) // a new connection each time
		ctx := context.Background()
		for i := 0; i < count; i++ {
			var n int
			c, err := db.Conn(ctx)
			must(err, "conn")
			must(c.QueryRowContext(ctx, "SELECT ? + 1", i).Scan(&n), "query")
			tx, err := c.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
			must(err, "begin")
			must(tx.QueryRow("SELECT COUNT(*) FROM mux.t WHERE id = ?", 1).Scan(&n), "select in tx")
			must(tx.Commit(), "commit")
			c.Close()
		}
	} else {
		ordinary(db)
		stacked(db)
	}
	fmt.Println("ok")
}
