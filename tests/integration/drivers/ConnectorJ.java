// ConnectorJ: MariaDB Connector/J with its default settings through warmpool (see test_drivers.py); prints "ok" or throws.
import java.sql.*;
import java.util.concurrent.*;

public class ConnectorJ {
    static String url;

    static Connection connect() throws SQLException {
        return DriverManager.getConnection(url, "app", "app-secret");
    }

    static void check(boolean ok, String what) {
        if (!ok) throw new AssertionError(what);
    }

    static long scalar(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) ps.setObject(i + 1, args[i]);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    // lockedByOther: the row is locked by another session (a SERIALIZABLE read holds it).
    static boolean lockedByOther(Connection probe) {
        try (Statement s = probe.createStatement()) {
            s.executeQuery("SELECT id FROM mux.t WHERE id = 1 FOR UPDATE NOWAIT").close();
            return false;
        } catch (SQLException e) {
            return true;
        }
    }

    // ordinary: connect, prepared statements with arguments, a transaction with an isolation level.
    static void ordinary(Connection c, Connection probe) throws SQLException {
        check(scalar(c, "SELECT ? + 1", 41) == 42, "prepared statement");
        c.setTransactionIsolation(Connection.TRANSACTION_SERIALIZABLE);
        c.setAutoCommit(false);
        scalar(c, "SELECT COUNT(*) FROM mux.t WHERE id = ?", 1);
        check(lockedByOther(probe), "SERIALIZABLE read did not lock");
        c.commit();
        c.setAutoCommit(true);
        check(!lockedByOther(probe), "lock kept after commit");
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT @@session.tx_isolation")) {
            rs.next();
            check(rs.getString(1).equals("SERIALIZABLE"), "session isolation " + rs.getString(1));
        }
        c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
        try (PreparedStatement ps = c.prepareStatement("UPDATE mux.t SET b = ? WHERE id = 2")) {
            ps.setBytes(1, new byte[100000]);
            ps.executeUpdate();
        }
    }

    static void stacked(Connection c) {
        try (Statement s = c.createStatement()) {
            s.execute("DO 1; DO 2");
            throw new AssertionError("stacked queries ran");
        } catch (SQLException e) {
            check(e.getErrorCode() == 1064, "stacked: " + e);
        }
    }

    // cancel: Statement.cancel() interrupts this statement, not another client's.
    static void cancel(Connection c, Connection other) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        Future<Long> bystander = pool.submit(() -> scalar(other, "SELECT SLEEP(3)"));
        Statement s = c.createStatement();
        Future<Long> victim = pool.submit(() -> {
            try (ResultSet rs = s.executeQuery("SELECT SLEEP(30)")) {
                rs.next();
                return rs.getLong(1); // 1: interrupted
            } catch (SQLException e) {
                return e.getErrorCode() == 1317 ? 1L : -1L;
            }
        });
        Thread.sleep(1000);
        s.cancel();
        check(victim.get(20, TimeUnit.SECONDS) == 1, "cancel did not interrupt");
        check(bystander.get(20, TimeUnit.SECONDS) == 0, "bystander interrupted");
        check(scalar(c, "SELECT ?", 7) == 7, "connection unusable after cancel");
        pool.shutdown();
    }

    public static void main(String[] argv) throws Exception {
        url = "jdbc:mariadb://127.0.0.1:" + argv[0] + "/";
        String mode = argv.length > 1 ? argv[1] : "all";
        if (mode.equals("connections")) { // argv[2] connections, each used the ordinary way
            for (int i = 0; i < Integer.parseInt(argv[2]); i++) {
                try (Connection c = connect()) {
                    scalar(c, "SELECT ? + 1", i);
                    c.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
                    c.setAutoCommit(false);
                    scalar(c, "SELECT COUNT(*) FROM mux.t WHERE id = ?", 1);
                    c.commit();
                }
            }
        } else if (mode.equals("qps")) { // argv[2] threads, argv[3] seconds
            int threads = Integer.parseInt(argv[2]);
            long until = System.nanoTime() + Long.parseLong(argv[3]) * 1_000_000_000L;
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            java.util.List<Future<Long>> done = new java.util.ArrayList<>();
            for (int t = 0; t < threads; t++) {
                done.add(pool.submit(() -> {
                    long n = 0;
                    try (Connection c = connect();
                         PreparedStatement ps = c.prepareStatement("SELECT id FROM mux.t WHERE id = ?")) {
                        while (System.nanoTime() < until) {
                            ps.setInt(1, 1);
                            try (ResultSet rs = ps.executeQuery()) { rs.next(); }
                            n++;
                        }
                    }
                    return n;
                }));
            }
            long total = 0, failed = 0;
            for (Future<Long> f : done) {
                try {
                    total += f.get();
                } catch (ExecutionException e) {
                    failed++; // could not connect in time (every backend connection pinned)
                }
            }
            pool.shutdown();
            System.out.println("queries " + total + " failed_threads " + failed);
        } else {
            try (Connection c = connect(); Connection probe = connect(); Connection other = connect()) {
                ordinary(c, probe);
                stacked(c);
                if (mode.equals("all")) cancel(c, other);
            }
        }
        System.out.println("ok");
    }
}
