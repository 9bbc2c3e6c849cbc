"""SQLAlchemy 2 (psycopg 3 driver) against a running tarn: connect (dialect initialisation runs
psycopg's TypeInfo lookups on pg_type) and the Inspector calls that work today.

Usage: sqlalchemy_inspect.py PORT USER PASSWORD. Exits non-zero on the first failed check.
Not yet working (see docs/compatibility.md): get_pk_constraint / get_unique_constraints
(generate_subscripts), get_indexes (pg_index.indclass).
"""
import sys

import sqlalchemy as sa

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
print("ok")
