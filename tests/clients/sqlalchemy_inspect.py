"""SQLAlchemy 2 (psycopg 3 driver) and pandas against a running tarn: connect (dialect
initialisation runs psycopg's TypeInfo lookups on pg_type), every Inspector call, MetaData
reflection, pandas read_sql with parameters and read_sql_table, psycopg TypeInfo/RangeInfo.

Usage: sqlalchemy_inspect.py PORT USER PASSWORD. Exits non-zero on the first failed check.
"""
import sys

import pandas as pd
import psycopg
import sqlalchemy as sa
from psycopg.types import TypeInfo
from psycopg.types.range import RangeInfo

port, user, password = sys.argv[1:4]
engine = sa.create_engine(f"postgresql+psycopg://{user}:{password}@127.0.0.1:{port}/tarn")
with engine.connect() as conn:
    version = conn.execute(sa.text("select pg_catalog.version()")).scalar()
    assert version.startswith("PostgreSQL 16."), version
    assert conn.execute(sa.text("select current_schema()")).scalar() == "public"

insp = sa.inspect(engine)
schemas = insp.get_schema_names()
assert {"public", "sales"} <= set(schemas) and not any(s.startswith("pg_") for s in schemas), schemas
assert insp.get_table_names() == ["visits"], insp.get_table_names()
assert insp.get_table_names(schema="sales") == ["orders"], insp.get_table_names(schema="sales")
assert insp.get_view_names() == ["recent"], insp.get_view_names()
assert insp.get_foreign_keys("visits") == []
columns = insp.get_columns("visits")
assert [(c["name"], str(c["type"]), c["nullable"], c["comment"]) for c in columns] == [
    ("id", "INTEGER", True, "visit id"),
    ("page", "TEXT", True, None),
], columns
assert insp.get_table_comment("visits") == {"text": "page visits"}, insp.get_table_comment("visits")
# Tarn has no keys, indexes or check constraints: empty answers, not errors.
assert insp.get_pk_constraint("visits")["constrained_columns"] == []
assert insp.get_unique_constraints("visits") == []
assert insp.get_indexes("visits") == []
assert insp.get_check_constraints("visits") == []

metadata = sa.MetaData()
metadata.reflect(engine)
assert sorted(metadata.tables) == ["visits"], sorted(metadata.tables)
orders = sa.Table("orders", sa.MetaData(), schema="sales", autoload_with=engine)
assert [c.name for c in orders.columns] == ["id", "amount", "day"], orders.columns

with engine.connect() as conn:
    conn.execute(sa.text("insert into visits values (1, 'home'), (2, 'cart'), (3, 'home')"))
frame = pd.read_sql(
    sa.text("select page, count(*) from visits where id >= :low group by page order by page"),
    engine,
    params={"low": 2},
)
assert list(frame.columns) == ["page", "count"], frame.columns
assert frame.values.tolist() == [["cart", 1], ["home", 1]], frame
table = pd.read_sql_table("visits", engine)
assert table.shape == (3, 2) and list(table.columns) == ["id", "page"], table

with psycopg.connect(f"host=127.0.0.1 port={port} user={user} password={password} dbname=tarn") as conn:
    info = TypeInfo.fetch(conn, "int4")
    assert (info.oid, info.array_oid) == (23, 1007), info
    assert TypeInfo.fetch(conn, "text[]").oid == 1009
    assert TypeInfo.fetch(conn, "hstore") is None
    # PostgreSQL's built-in range types are listed (tarn has no range values).
    ranges = RangeInfo.fetch(conn, "int4range")
    assert (ranges.oid, ranges.subtype_oid, ranges.array_oid) == (3904, 23, 3905), ranges
    # Array parameters (pgcli's `relkind = ANY(%s)`), bound server-side in text form.
    kinds = conn.execute(
        "select relname from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace"
        " where relkind = ANY(%s) and nspname = %s order by 1",
        (["r", "v"], "public"),
    ).fetchall()
    assert kinds == [("recent",), ("visits",)], kinds
    others = conn.execute(
        "select relname from pg_catalog.pg_class where relkind <> ALL(%s) and relnamespace = 2200 order by 1",
        (["r"],),
    ).fetchall()
    assert others == [("recent",)], others
print("ok")
