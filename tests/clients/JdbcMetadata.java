// pgjdbc (Debian libpostgresql-jdbc-java) DatabaseMetaData against a running tarn: what
// DBeaver, DataGrip, Metabase and Tableau call to browse a database. Expects the fixture's
// `sales.orders (id int, amount double) PARTITIONED BY (day date)`, `visits (id int COMMENT
// 'visit id', page string) COMMENT 'page visits'` and view `recent`.
// Usage: java -cp /usr/share/java/postgresql.jar JdbcMetadata.java <jdbc url> <user> <password>
import java.sql.*;
import java.util.*;

public class JdbcMetadata {
    static void check(boolean ok, String what) {
        if (!ok) throw new AssertionError(what);
    }

    /** One column of every row, in order. */
    static List<String> column(ResultSet r, String name) throws SQLException {
        List<String> out = new ArrayList<>();
        try (r) {
            while (r.next()) out.add(r.getString(name));
        }
        return out;
    }

    public static void main(String[] args) throws Exception {
        try (Connection c = DriverManager.getConnection(args[0], args[1], args[2])) {
            DatabaseMetaData md = c.getMetaData();
            check(md.getDatabaseProductName().equals("PostgreSQL"), md.getDatabaseProductName());
            check(md.getDatabaseMajorVersion() >= 14, "version " + md.getDatabaseProductVersion());
            check(column(md.getCatalogs(), "TABLE_CAT").equals(List.of("tarn")), "catalogs");
            List<String> schemas = column(md.getSchemas(), "TABLE_SCHEM");
            check(schemas.containsAll(List.of("public", "sales", "pg_catalog")), "schemas " + schemas);
            check(column(md.getSchemas(null, "sal%"), "TABLE_SCHEM").equals(List.of("sales")), "schema pattern");
            List<String> types = column(md.getTableTypes(), "TABLE_TYPE");
            check(types.contains("TABLE") && types.contains("VIEW"), "table types " + types);

            List<String> tables = column(md.getTables(null, "public", "%", new String[] {"TABLE"}), "TABLE_NAME");
            check(tables.equals(List.of("visits")), "tables " + tables);
            List<String> views = column(md.getTables(null, "public", "%", new String[] {"VIEW"}), "TABLE_NAME");
            check(views.equals(List.of("recent")), "views " + views);
            try (ResultSet r = md.getTables(null, "public", "visits", null)) {
                check(r.next(), "visits listed");
                check("page visits".equals(r.getString("REMARKS")), "remarks " + r.getString("REMARKS"));
            }
            List<String> all = column(md.getTables(null, null, "%", new String[] {"TABLE", "VIEW"}), "TABLE_NAME");
            check(all.containsAll(List.of("orders", "visits", "recent")), "all tables " + all);

            try (ResultSet r = md.getColumns(null, "sales", "orders", "%")) {
                List<String> seen = new ArrayList<>();
                while (r.next()) {
                    seen.add(r.getString("COLUMN_NAME") + ":" + r.getString("TYPE_NAME") + ":" + r.getInt("DATA_TYPE")
                            + ":" + r.getInt("ORDINAL_POSITION") + ":" + r.getString("IS_NULLABLE"));
                }
                check(seen.equals(List.of(
                        "id:int4:" + Types.INTEGER + ":1:YES",
                        "amount:float8:" + Types.DOUBLE + ":2:YES",
                        "day:date:" + Types.DATE + ":3:YES")), "columns " + seen);
            }
            try (ResultSet r = md.getColumns(null, "public", "visits", "id")) {
                check(r.next() && "visit id".equals(r.getString("REMARKS")), "column remarks");
            }
            check(column(md.getPrimaryKeys(null, "public", "visits"), "COLUMN_NAME").isEmpty(), "no primary keys");
            check(column(md.getImportedKeys(null, "public", "visits"), "FKCOLUMN_NAME").isEmpty(), "no foreign keys");
            check(column(md.getExportedKeys(null, "public", "visits"), "FKCOLUMN_NAME").isEmpty(), "no exported keys");
            check(column(md.getIndexInfo(null, "public", "visits", false, true), "INDEX_NAME").isEmpty(), "no indexes");
            List<String> typeNames = column(md.getTypeInfo(), "TYPE_NAME");
            check(typeNames.containsAll(List.of("int4", "text", "date", "float8", "bool")), "type info " + typeNames);
            column(md.getFunctions(null, "public", "%"), "FUNCTION_NAME");
            column(md.getProcedures(null, "public", "%"), "PROCEDURE_NAME");
            column(md.getTablePrivileges(null, "public", "visits"), "PRIVILEGE");
            column(md.getUDTs(null, "public", "%", null), "TYPE_NAME");

            // ResultSetMetaData asks the catalog about the table columns a result came from.
            try (Statement s = c.createStatement();
                    ResultSet r = s.executeQuery("SELECT id, page FROM visits")) {
                ResultSetMetaData rmd = r.getMetaData();
                check(rmd.getColumnCount() == 2 && rmd.getColumnLabel(2).equals("page"), "labels");
                check(rmd.getColumnType(1) == Types.INTEGER, "type " + rmd.getColumnType(1));
                rmd.isNullable(1);
                rmd.getTableName(1);
                rmd.isAutoIncrement(1);
            }
            // A LIKE pattern bound as a parameter, as the metadata queries do.
            try (PreparedStatement p = c.prepareStatement(
                    "SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
                            + " WHERE n.nspname LIKE ? AND c.relname LIKE ? ORDER BY 1")) {
                p.setString(1, "sal%");
                p.setString(2, "ord%");
                check(column(p.executeQuery(), "relname").equals(List.of("orders")), "LIKE parameters");
            }
            // An array parameter (setArray), as tools filter relkinds and schemas.
            try (PreparedStatement p = c.prepareStatement(
                    "SELECT relname FROM pg_catalog.pg_class WHERE relkind = ANY(?) AND relname LIKE 'vis%'")) {
                p.setArray(1, c.createArrayOf("text", new String[] {"r", "v"}));
                check(column(p.executeQuery(), "relname").equals(List.of("visits")), "array parameter");
            }
        }
        System.out.println("jdbc metadata ok");
    }
}
