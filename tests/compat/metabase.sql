-- Metabase 0.50 PostgreSQL driver (src/metabase/driver/postgres.clj): connection settings,
-- describe-database (tables with row estimates from pg_stat_user_tables, privileges) and
-- describe-fields (information_schema.columns with udt_name, primary keys from the
-- constraint views, comments through format('%I.%I')::regclass::oid).
-- message
SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ UNCOMMITTED
-- message
-- expect columns: schema, name, type, description, estimated_row_count
-- expect contains: page visits
SELECT n.nspname AS schema, c.relname AS name,
  CASE c.relkind WHEN 'r' THEN 'TABLE' WHEN 'p' THEN 'PARTITIONED TABLE' WHEN 'v' THEN 'VIEW'
    WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE NULL END AS type,
  d.description AS description, stat.n_live_tup AS estimated_row_count
FROM pg_catalog.pg_class AS c
INNER JOIN pg_catalog.pg_namespace AS n ON c.relnamespace = n.oid
LEFT JOIN pg_catalog.pg_description AS d ON ((c.oid = d.objoid) AND (d.objsubid = 0) AND (d.classoid = 'pg_class'::regclass))
LEFT JOIN pg_stat_user_tables AS stat ON (n.nspname = stat.schemaname) AND (c.relname = stat.relname)
WHERE (c.relnamespace = n.oid) AND (c.relkind IN ('r', 'p', 'v', 'f', 'm'))
  AND (n.nspname !~ '^information_schema$') AND (n.nspname <> 'pg_catalog')
  AND has_schema_privilege(n.nspname, 'USAGE')
  AND (has_table_privilege(CONCAT(quote_ident(n.nspname), '.', quote_ident(c.relname)), 'SELECT')
    OR has_any_column_privilege(CONCAT(quote_ident(n.nspname), '.', quote_ident(c.relname)), 'SELECT'))
ORDER BY schema, name
-- message
-- expect columns: name, database-type, database-position, table-schema, table-name, pk?, field-comment, database-required, database-is-auto-increment
-- expect contains: visit id
SELECT c.column_name AS name, c.udt_name AS "database-type", c.ordinal_position - 1 AS "database-position",
  c.table_schema AS "table-schema", c.table_name AS "table-name", pk.column_name IS NOT NULL AS "pk?",
  col_description(CAST(CAST(format('%I.%I', CAST(c.table_schema AS TEXT), CAST(c.table_name AS TEXT)) AS regclass) AS oid), c.ordinal_position) AS "field-comment",
  ((column_default IS NULL) OR (LOWER(column_default) = 'null')) AND (is_nullable = 'NO')
    AND NOT (((column_default IS NOT NULL) AND (column_default LIKE '%nextval(%')) OR (is_identity <> 'NO')) AS "database-required",
  ((column_default IS NOT NULL) AND (column_default LIKE '%nextval(%')) OR (is_identity <> 'NO') AS "database-is-auto-increment"
FROM information_schema.columns AS c
LEFT JOIN (SELECT tc.table_schema, tc.table_name, kc.column_name
  FROM information_schema.table_constraints AS tc
  INNER JOIN information_schema.key_column_usage AS kc
    ON (tc.constraint_name = kc.constraint_name) AND (tc.table_schema = kc.table_schema) AND (tc.table_name = kc.table_name)
  WHERE tc.constraint_type = 'PRIMARY KEY') AS pk
  ON (c.table_schema = pk.table_schema) AND (c.table_name = pk.table_name) AND (c.column_name = pk.column_name)
WHERE (c.table_schema !~ '^information_schema$') AND (c.table_schema <> 'pg_catalog') AND (c.table_schema IN ('public', 'sales'))
ORDER BY "table-schema" ASC, "table-name" ASC, "database-position" ASC
-- message
-- expect columns: fk-table-schema, fk-table-name, fk-column-name, pk-table-schema, pk-table-name, pk-column-name
SELECT fk_ns.nspname AS "fk-table-schema", fk_table.relname AS "fk-table-name", fk_column.attname AS "fk-column-name",
  pk_ns.nspname AS "pk-table-schema", pk_table.relname AS "pk-table-name", pk_column.attname AS "pk-column-name"
FROM pg_constraint AS c
INNER JOIN pg_class AS fk_table ON c.conrelid = fk_table.oid
INNER JOIN pg_namespace AS fk_ns ON fk_table.relnamespace = fk_ns.oid
INNER JOIN pg_attribute AS fk_column ON c.conrelid = fk_column.attrelid
INNER JOIN pg_class AS pk_table ON c.confrelid = pk_table.oid
INNER JOIN pg_namespace AS pk_ns ON pk_table.relnamespace = pk_ns.oid
INNER JOIN pg_attribute AS pk_column ON c.confrelid = pk_column.attrelid
WHERE (fk_ns.nspname !~ '^information_schema$') AND (fk_ns.nspname <> 'pg_catalog')
  AND (c.contype = 'f'::char) AND (fk_column.attnum = ANY(c.conkey)) AND (pk_column.attnum = ANY(c.confkey))
ORDER BY "fk-table-schema", "fk-table-name"
-- message
-- expect columns: count
-- expect rows
SELECT COUNT(*) AS count FROM "public"."visits"
