-- pgcli 4 (dbcli/pgcli, pgcli/pgexecute.py): the completion metadata it loads on connect.
-- pgcli binds relkind lists client-side (mogrify), which psycopg writes as ARRAY[...].
-- message
-- expect columns: unnest
-- expect contains: public
SELECT * FROM unnest(current_schemas(true))
-- message
-- expect columns: nspname
-- expect contains: sales
SELECT  nspname
        FROM    pg_catalog.pg_namespace
        ORDER BY 1
-- message
-- expect columns: schema_name, table_name
-- expect contains: orders
SELECT  n.nspname schema_name,
                c.relname table_name
        FROM    pg_catalog.pg_class c
                LEFT JOIN pg_catalog.pg_namespace n
                    ON n.oid = c.relnamespace
        WHERE   c.relkind = ANY(ARRAY['r', 'p', 'f'])
        ORDER BY 1,2;
-- message
-- expect columns: schema_name, table_name
-- expect contains: recent
SELECT  n.nspname schema_name,
                c.relname table_name
        FROM    pg_catalog.pg_class c
                LEFT JOIN pg_catalog.pg_namespace n
                    ON n.oid = c.relnamespace
        WHERE   c.relkind = ANY('{v,m}'::text[])
        ORDER BY 1,2;
-- message
-- expect columns: schema_name, table_name, column_name, type_name, has_default, default
-- expect contains: double precision
SELECT  nsp.nspname schema_name,
                        cls.relname table_name,
                        att.attname column_name,
                        att.atttypid::regtype::text type_name,
                        att.atthasdef AS has_default,
                        pg_catalog.pg_get_expr(def.adbin, def.adrelid, true) as default
                FROM    pg_catalog.pg_attribute att
                        INNER JOIN pg_catalog.pg_class cls
                            ON att.attrelid = cls.oid
                        INNER JOIN pg_catalog.pg_namespace nsp
                            ON cls.relnamespace = nsp.oid
                        LEFT OUTER JOIN pg_attrdef def
                            ON def.adrelid = att.attrelid
                            AND def.adnum = att.attnum
                WHERE   cls.relkind = ANY(ARRAY['r', 'p', 'f'])
                        AND NOT att.attisdropped
                        AND att.attnum  > 0
                ORDER BY 1, 2, att.attnum
-- message
-- expect columns: datname
-- expect contains: tarn
SELECT d.datname
        FROM pg_catalog.pg_database d
        ORDER BY 1
-- message
-- expect columns: Name, Owner, Encoding, Collate, Ctype, Access privileges
SELECT d.datname as "Name",
            pg_catalog.pg_get_userbyid(d.datdba) as "Owner",
            pg_catalog.pg_encoding_to_char(d.encoding) as "Encoding",
            d.datcollate as "Collate",
            d.datctype as "Ctype",
            pg_catalog.array_to_string(d.datacl, E'\n') AS "Access privileges"
        FROM pg_catalog.pg_database d
        ORDER BY 1
-- message
-- expect columns: setting
SELECT setting
        FROM pg_settings
        WHERE name = 'unix_socket_directories'
-- message
-- expect columns: parentschema, parenttable, parentcolumn, childschema, childtable, childcolumn
SELECT s_p.nspname AS parentschema,
                       t_p.relname AS parenttable,
                       unnest((
                        select
                            array_agg(attname ORDER BY i)
                        from
                            (select unnest(confkey) as attnum, generate_subscripts(confkey, 1) as i) x
                            JOIN pg_catalog.pg_attribute c USING(attnum)
                            WHERE c.attrelid = fk.confrelid
                        )) AS parentcolumn,
                       s_c.nspname AS childschema,
                       t_c.relname AS childtable,
                       unnest((
                        select
                            array_agg(attname ORDER BY i)
                        from
                            (select unnest(conkey) as attnum, generate_subscripts(conkey, 1) as i) x
                            JOIN pg_catalog.pg_attribute c USING(attnum)
                            WHERE c.attrelid = fk.conrelid
                        )) AS childcolumn
                FROM pg_catalog.pg_constraint fk
                JOIN pg_catalog.pg_class      t_p ON t_p.oid = fk.confrelid
                JOIN pg_catalog.pg_namespace  s_p ON s_p.oid = t_p.relnamespace
                JOIN pg_catalog.pg_class      t_c ON t_c.oid = fk.conrelid
                JOIN pg_catalog.pg_namespace  s_c ON s_c.oid = t_c.relnamespace
                WHERE fk.contype = 'f';
-- message
-- expect columns: typname
SELECT t.typname FROM pg_type t WHERE t.typname = 'hstore' and t.typisdefined
