"""Privileges as an ADBC (Flight SQL) user meets them: a superuser sets up, an ordinary login is
refused (ProgrammingError with SQLSTATE 42501), sees no table in get_objects, then reads once
granted and still may not write.

Usage: flight_adbc_privileges.py URI ADMIN ADMIN_PASSWORD USER USER_PASSWORD.
Run by tests/integration/security/flight.rs.
"""
import sys

import adbc_driver_flightsql.dbapi as flightsql
import adbc_driver_manager

URI, ADMIN, ADMIN_PW, USER, USER_PW = sys.argv[1:6]


def connect(user, password):
    return flightsql.connect(URI, db_kwargs={"username": user, "password": password})


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def refused(cur, sql):
    try:
        cur.execute(sql)
        cur.fetchall()
    except adbc_driver_manager.Error as e:
        text = str(e)
        check("42501" in text or "permission denied" in text.lower(), f"{sql}: {text}")
        return
    raise AssertionError(f"{sql} was not refused")


def tables_seen(conn):
    objects = conn.adbc_get_objects(depth="tables").read_all().to_pylist()
    seen = []
    for catalog in objects:
        for schema in catalog["catalog_db_schemas"] or []:
            for table in schema["db_schema_tables"] or []:
                seen.append(f"{schema['db_schema_name']}.{table['table_name']}")
    return seen


with connect(ADMIN, ADMIN_PW) as admin, connect(USER, USER_PW) as user:
    a = admin.cursor()
    for sql in [
        "CREATE SCHEMA adbc_shop",
        "CREATE TABLE adbc_shop.orders (id bigint, email string)",
        "INSERT INTO adbc_shop.orders VALUES (1, 'a@x.org'), (2, 'b@x.org')",
    ]:
        a.execute(sql)
    u = user.cursor()
    refused(u, "SELECT * FROM adbc_shop.orders")
    check("adbc_shop.orders" not in tables_seen(user), f"listed: {tables_seen(user)}")
    a.execute("GRANT USAGE ON SCHEMA adbc_shop TO " + USER)
    a.execute("GRANT SELECT (id) ON adbc_shop.orders TO " + USER)
    u.execute("SELECT id FROM adbc_shop.orders ORDER BY id")
    check(u.fetchall() == [(1,), (2,)], "column grant reads its column")
    refused(u, "SELECT email FROM adbc_shop.orders")
    refused(u, "INSERT INTO adbc_shop.orders VALUES (3, 'c@x.org')")
    check("adbc_shop.orders" in tables_seen(user), f"listed: {tables_seen(user)}")
    a.execute("SELECT count(*) FROM adbc_shop.orders")
    check(a.fetchall() == [(2,)], "nothing was written")
print("ok")
