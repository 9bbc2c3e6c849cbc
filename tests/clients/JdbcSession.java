// pgjdbc (Debian libpostgresql-jdbc-java) against a running tarn: server-side prepared
// statements (pgjdbc switches to named statements after 5 executions), fetch-size cursors
// (Execute with a row limit, PortalSuspended), common types, SQLSTATEs, transactions.
// Usage: java -cp /usr/share/java/postgresql.jar JdbcSession.java <jdbc url> <user> <password>
import java.math.BigDecimal;
import java.sql.*;

public class JdbcSession {
    static void check(boolean ok, String what) {
        if (!ok) throw new AssertionError(what);
    }

    public static void main(String[] args) throws Exception {
        try (Connection c = DriverManager.getConnection(args[0], args[1], args[2])) {
            try (Statement s = c.createStatement()) {
                s.execute("CREATE TABLE j (id bigint, name string, amount decimal(10,2), day date)");
                s.execute("INSERT INTO j VALUES (1, 'a', 1.50, DATE '2024-01-01'), (2, 'b', NULL, NULL)");
            }
            try (PreparedStatement p = c.prepareStatement("SELECT id, name, amount, day FROM j WHERE id = ?")) {
                for (int i = 0; i < 8; i++) {
                    p.setLong(1, 1);
                    try (ResultSet r = p.executeQuery()) {
                        check(r.next(), "a row");
                        check(r.getLong(1) == 1 && r.getString(2).equals("a"), "values");
                        check(r.getBigDecimal(3).compareTo(new BigDecimal("1.50")) == 0, "numeric");
                        check(r.getDate(4).toString().equals("2024-01-01"), "date " + r.getDate(4));
                        check(!r.next(), "one row");
                    }
                }
            }
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.setFetchSize(3);
                int n = 0;
                try (ResultSet r = s.executeQuery("SELECT * FROM generate_series(1, 10) AS g(x)")) {
                    while (r.next()) n++;
                }
                check(n == 10, "fetch-size cursor saw " + n);
                try {
                    s.executeQuery("SELECT * FROM missing_table");
                    check(false, "expected an error");
                } catch (SQLException e) {
                    check("42P01".equals(e.getSQLState()), "sqlstate " + e.getSQLState());
                }
                try {
                    s.executeQuery("SELECT 1");
                    check(false, "expected 25P02");
                } catch (SQLException e) {
                    check("25P02".equals(e.getSQLState()), "sqlstate " + e.getSQLState());
                }
                c.rollback();
                try (ResultSet r = s.executeQuery("SELECT count(*) FROM j")) {
                    check(r.next() && r.getLong(1) == 2, "count");
                }
                c.commit();
            }
        }
        System.out.println("jdbc ok");
    }
}
