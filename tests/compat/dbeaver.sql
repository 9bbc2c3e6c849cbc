-- DBeaver 24 PostgreSQL navigator (plugins/org.jkiss.dbeaver.ext.postgresql, PostgreDatabase /
-- PostgreSchema / PostgreTableBase loaders): databases, schemas, `c.oid, c.*` relation and
-- attribute loads, keywords for the SQL editor, sizes for the table properties page.
-- message
-- expect columns: db_name
SELECT current_database() AS db_name
-- message
-- expect contains: tarn
SELECT db.oid, db.* FROM pg_catalog.pg_database db WHERE datallowconn AND NOT datistemplate ORDER BY db.datname
-- message
-- expect contains: sales
SELECT n.oid, n.*, d.description FROM pg_catalog.pg_namespace n
LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid = n.oid AND d.objsubid = 0 AND d.classoid = 'pg_namespace'::regclass
ORDER BY nspname
-- message
-- expect contains: visits
SELECT c.oid, c.*, t.relname AS tabrelname, rn.nspname AS tabrelnsp, d.description
FROM pg_catalog.pg_class c
LEFT OUTER JOIN pg_catalog.pg_inherits i ON (c.oid = i.inhrelid)
LEFT OUTER JOIN pg_catalog.pg_class t ON (i.inhparent = t.oid)
LEFT OUTER JOIN pg_catalog.pg_namespace rn ON (rn.oid = t.relnamespace)
LEFT OUTER JOIN pg_catalog.pg_description d ON (d.objoid = c.oid AND d.objsubid = 0 AND d.classoid = 'pg_class'::regclass)
WHERE c.relnamespace = 2200 AND c.relkind NOT IN ('i', 'I', 'c')
-- message
-- expect contains: page
SELECT c.relname, a.*, pg_catalog.pg_get_expr(ad.adbin, ad.adrelid, true) AS def_value, dsc.description, dep.objid
FROM pg_catalog.pg_attribute a
INNER JOIN pg_catalog.pg_class c ON (a.attrelid = c.oid)
LEFT OUTER JOIN pg_catalog.pg_attrdef ad ON (a.attrelid = ad.adrelid AND a.attnum = ad.adnum)
LEFT OUTER JOIN pg_catalog.pg_description dsc ON (c.oid = dsc.objoid AND a.attnum = dsc.objsubid)
LEFT OUTER JOIN pg_depend dep ON dep.refobjid = a.attrelid AND dep.deptype = 'i' AND dep.refobjsubid = a.attnum AND dep.classid = dep.refclassid
WHERE NOT a.attisdropped AND c.relkind NOT IN ('i', 'I', 'c') AND c.oid = 'visits'::regclass
ORDER BY a.attnum
-- message
SELECT c.oid, c.*, i.* FROM pg_catalog.pg_index i
INNER JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
WHERE i.indrelid = 'visits'::regclass ORDER BY c.relname
-- message
SELECT c.oid, c.*, t.relname AS tabrelname, rt.relnamespace AS refnamespace, d.description,
  CASE WHEN c.contype = 'c' THEN "substring"(pg_get_constraintdef(c.oid), 7) ELSE NULL END AS consrc_copy
FROM pg_catalog.pg_constraint c
INNER JOIN pg_catalog.pg_class t ON t.oid = c.conrelid
LEFT OUTER JOIN pg_catalog.pg_class rt ON rt.oid = c.confrelid
LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid = c.oid AND d.objsubid = 0 AND d.classoid = 'pg_constraint'::regclass
WHERE c.conrelid = 'visits'::regclass ORDER BY c.oid
-- message
-- expect contains: select
SELECT word FROM pg_catalog.pg_get_keywords()
-- message
-- expect columns: pg_total_relation_size, pg_relation_size
SELECT pg_catalog.pg_total_relation_size('visits'::regclass), pg_catalog.pg_relation_size('visits'::regclass)
-- message
SELECT p.oid, p.*, pg_catalog.pg_get_expr(p.proargdefaults, 0) AS arg_defaults, d.description
FROM pg_catalog.pg_proc p
LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid = p.oid
WHERE p.pronamespace = 2200 ORDER BY p.proname
