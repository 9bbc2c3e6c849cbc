-- psqlODBC 16 (Tableau's and Excel's PostgreSQL driver), connection.c CC_connect /
-- CC_send_settings and the large-object type probe; results are read through a WITH HOLD
-- cursor (UseDeclareFetch) and the temp-table capability probe must fail cleanly.
-- message
SET DateStyle = 'ISO';SET extra_float_digits = 2;show transaction_isolation
-- message
-- expect columns: oid, typbasetype
select oid, typbasetype from pg_type where typname = 'lo'
-- message
-- expect columns: name
-- expect rows
BEGIN;declare "SQL_CUR0x1" cursor with hold for SELECT relname AS name FROM pg_catalog.pg_class WHERE relkind = 'r' ORDER BY 1;fetch 100 in "SQL_CUR0x1"
-- message
close "SQL_CUR0x1";COMMIT
-- message
-- Tableau's temp-table capability probe: a clean "not supported", then the session goes on.
-- expect error: 0A000
CREATE LOCAL TEMPORARY TABLE "#Tableau_1_Connect" ("COL" INTEGER) ON COMMIT PRESERVE ROWS
-- message
-- expect columns: ?column?
SELECT 1
-- message
-- expect columns: TABLE_QUALIFIER, TABLE_OWNER, TABLE_NAME, TABLE_TYPE, REMARKS
-- expect contains: visits
select NULL as "TABLE_QUALIFIER", n.nspname as "TABLE_OWNER", c.relname as "TABLE_NAME",
  case c.relkind when 'r' then 'TABLE' when 'v' then 'VIEW' else 'SYSTEM TABLE' end as "TABLE_TYPE",
  d.description as "REMARKS"
from pg_catalog.pg_namespace n, pg_catalog.pg_class c
  left outer join pg_catalog.pg_description d on d.objoid = c.oid and d.objsubid = 0
where c.relnamespace = n.oid and c.relkind in ('r', 'v') and n.nspname not in ('pg_catalog', 'information_schema')
order by 2, 3
-- message
-- expect columns: nspname, relname, attname, atttypid, typname, attnum, attlen, atttypmod, attnotnull, relhasrules, relkind, oid, adsrc, attidentity, attgenerated, typtype
select n.nspname, c.relname, a.attname, a.atttypid, t.typname, a.attnum, a.attlen, a.atttypmod, a.attnotnull,
  c.relhasrules, c.relkind, c.oid, pg_get_expr(d.adbin, d.adrelid) as adsrc,
  a.attidentity, a.attgenerated, t.typtype
from (((pg_catalog.pg_class c inner join pg_catalog.pg_namespace n on n.oid = c.relnamespace and c.relname like 'visits' and n.nspname like 'public')
  inner join pg_catalog.pg_attribute a on (not a.attisdropped) and a.attnum > 0 and a.attrelid = c.oid)
  inner join pg_catalog.pg_type t on t.oid = a.atttypid)
  left outer join pg_attrdef d on a.atthasdef and d.adrelid = a.attrelid and d.adnum = a.attnum
order by n.nspname, c.relname, attnum
