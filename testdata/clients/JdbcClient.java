// PostgreSQL JDBC client for server/app/clients_test.go (TestClientJDBC).
//
// Runs against a Sluice pgwire server given by SLUICE_PG_HOST / SLUICE_PG_PORT (optionally
// SLUICE_PG_USER, SLUICE_PG_PASSWORD, and SLUICE_PG_SSL=1 for sslmode=require): DDL, INSERTs,
// a PreparedStatement pull query with setString executed 6 times (the 5th execution crosses
// prepareThreshold=5: the driver switches to a named server-side statement and binary
// results), and a push query with LIMIT 5 read with setAutoCommit(false) + setFetchSize(2)
// (BEGIN, then Execute(maxRows=2) + Sync repeatedly on a portal that must survive Sync).
// It prints one line per result; the Go test compares the output exactly.
// Build: javac -d DIR JdbcClient.java; run: java -cp /usr/share/java/postgresql.jar:DIR JdbcClient
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.Statement;
import java.util.Properties;

public class JdbcClient {
    static final String PULL = "SELECT userId, cnt, total FROM click_stats WHERE userId = ?";

    static String row(ResultSet rs) throws Exception {
        ResultSetMetaData md = rs.getMetaData();
        StringBuilder sb = new StringBuilder("[");
        for (int i = 1; i <= md.getColumnCount(); i++) {
            if (i > 1) sb.append(", ");
            sb.append(md.getColumnLabel(i)).append('=').append(rs.getString(i));
        }
        return sb.append(']').toString();
    }

    public static void main(String[] args) throws Exception {
        String url = "jdbc:postgresql://" + System.getenv("SLUICE_PG_HOST") + ":" + System.getenv("SLUICE_PG_PORT") + "/sluice";
        Properties props = new Properties();
        String user = System.getenv("SLUICE_PG_USER");
        props.setProperty("user", user == null ? "sluice" : user);
        String pw = System.getenv("SLUICE_PG_PASSWORD");
        if (pw != null) props.setProperty("password", pw);
        props.setProperty("sslmode", System.getenv("SLUICE_PG_SSL") != null ? "require" : "disable");
        props.setProperty("connectTimeout", "5");
        props.setProperty("socketTimeout", "30");
        try (Connection conn = DriverManager.getConnection(url, props)) {
            try (Statement st = conn.createStatement()) {
                st.execute("CREATE STREAM clicks (userId STRING, page STRING, n INT) "
                        + "WITH (KAFKA_TOPIC='clicks', VALUE_FORMAT='JSON', PARTITIONS=1)");
                System.out.println("ddl: stream");
                st.execute("CREATE TABLE click_stats AS SELECT userId, COUNT(*) AS cnt, SUM(n) AS total "
                        + "FROM clicks GROUP BY userId EMIT CHANGES");
                System.out.println("ddl: table");
            }
            Object[][] rows = {{"u1", "home", 10}, {"u2", "cart", 20}, {"u1", "shop", 30},
                    {"u3", "home", 5}, {"u2", "home", 1}, {"u1", "cart", 2}};
            try (PreparedStatement ins = conn.prepareStatement("INSERT INTO clicks (userId, page, n) VALUES (?, ?, ?)")) {
                for (Object[] r : rows) {
                    ins.setString(1, (String) r[0]);
                    ins.setString(2, (String) r[1]);
                    ins.setInt(3, (Integer) r[2]);
                    ins.executeUpdate();
                }
            }
            System.out.println("inserted: " + rows.length);

            // Pull queries read committed state: poll (plain statements, so the prepared
            // statement below is executed exactly 6 times) until every count is in.
            long deadline = System.currentTimeMillis() + 15000;
            try (Statement st = conn.createStatement()) {
                for (;;) {
                    StringBuilder got = new StringBuilder();
                    for (String u : new String[] {"u1", "u2", "u3"}) {
                        try (ResultSet rs = st.executeQuery("SELECT cnt FROM click_stats WHERE userId = '" + u + "'")) {
                            while (rs.next()) got.append(u).append('=').append(rs.getLong(1)).append(' ');
                        }
                    }
                    if (got.toString().equals("u1=3 u2=2 u3=1 ")) break;
                    if (System.currentTimeMillis() > deadline) throw new RuntimeException("pull queries never complete: " + got);
                    Thread.sleep(50);
                }
            }

            try (PreparedStatement ps = conn.prepareStatement(PULL)) {
                String[] users = {"u1", "u2", "u3", "u1", "u2", "u3"};
                for (int i = 0; i < users.length; i++) {
                    ps.setString(1, users[i]);
                    try (ResultSet rs = ps.executeQuery()) {
                        StringBuilder sb = new StringBuilder("pull #" + (i + 1) + " " + users[i] + ":");
                        while (rs.next()) {
                            sb.append(' ').append(row(rs)).append(" cnt=").append(rs.getLong("cnt")).append(" total=").append(rs.getInt("total"));
                        }
                        System.out.println(sb);
                    }
                }
                // Past prepareThreshold the driver uses a named server-side statement.
                System.out.println("server prepared: " + ps.unwrap(org.postgresql.PGStatement.class).isUseServerPrepare());
            }

            conn.setAutoCommit(false);
            try (Statement st = conn.createStatement()) {
                st.execute("SET 'auto.offset.reset'='earliest'");
                st.setFetchSize(2);
                int n = 0;
                try (ResultSet rs = st.executeQuery("SELECT userId, page, n FROM clicks EMIT CHANGES LIMIT 5")) {
                    while (rs.next()) {
                        n++;
                        System.out.println("push: " + row(rs));
                    }
                }
                System.out.println("push rows: " + n);
            }
            conn.commit();
            conn.setAutoCommit(true);
            try (PreparedStatement ps = conn.prepareStatement(PULL)) {
                ps.setString(1, "u3");
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) System.out.println("after push: " + row(rs));
                }
            }
        }
        System.out.println("ok");
    }
}
