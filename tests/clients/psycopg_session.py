"""psycopg 3 against a running tarn: server-side binding, text and binary results, prepared
statements, pipeline mode, COPY, transactions and error classes. Exits non-zero on failure.

Usage: python psycopg_session.py "host=127.0.0.1 port=... user=... password=... dbname=tarn"
"""
import datetime
import decimal
import sys

import psycopg
from psycopg import errors

dsn = sys.argv[1]


def expect_error(conn, sql, error_class):
    """Runs sql and checks that it fails with error_class (a SQLSTATE class of psycopg)."""
    try:
        conn.execute(sql)
    except error_class:
        return
    raise AssertionError(f"{sql}: expected {error_class.__name__}")


with psycopg.connect(dsn, autocommit=True) as conn:
    conn.execute("CREATE TABLE py (id bigint, name string, amount decimal(10,2), day date, ok boolean)")
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO py VALUES (%s, %s, %s, %s, %s)",
            [
                (1, "one", decimal.Decimal("1.50"), datetime.date(2024, 1, 1), True),
                (2, None, None, None, None),
            ],
        )
    for binary in (False, True):
        with conn.cursor(binary=binary) as cur:
            cur.execute("SELECT id, name, amount, day, ok FROM py WHERE id = %s", (1,))
            row = cur.fetchone()
            assert row == (1, "one", decimal.Decimal("1.50"), datetime.date(2024, 1, 1), True), (binary, row)
            cur.execute("SELECT id, name FROM py WHERE id = %s", (2,))
            assert cur.fetchone() == (2, None)
    # Prepared statements (psycopg prepares after repeated use; prepare=True forces it).
    for i in range(3):
        got = conn.execute("SELECT count(*) FROM py WHERE id >= %s", (i,), prepare=True).fetchone()[0]
        assert got == (2 if i <= 1 else 1), (i, got)
    # Pipeline mode: several statements in flight before one Sync.
    with conn.pipeline():
        c1 = conn.execute("SELECT 1::int")
        c2 = conn.execute("SELECT %s::text", ("piped",))
        c3 = conn.execute("SELECT sum(id) FROM py")
    assert c1.fetchone() == (1,) and c2.fetchone() == ("piped",) and c3.fetchone()[0] == 3
    # COPY both ways.
    with conn.cursor() as cur:
        with cur.copy("COPY py (id, name) FROM STDIN") as copy:
            copy.write_row((3, "three"))
            copy.write_row((4, "tab\there"))
        rows = []
        with cur.copy("COPY (SELECT id, name FROM py WHERE id > 2 ORDER BY id) TO STDOUT") as copy:
            for row in copy.rows():
                rows.append(row)
        assert rows == [("3", "three"), ("4", "tab\there")], rows
    # Error classes.
    expect_error(conn, "SELECT * FROM missing_table", errors.UndefinedTable)
    expect_error(conn, "SELECT 1/0", errors.DivisionByZero)

# Transactions as psycopg runs them by default (autocommit off).
with psycopg.connect(dsn) as conn:
    cur = conn.execute("SELECT count(*) FROM py")
    assert cur.fetchone()[0] == 4
    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
    expect_error(conn, "SELECT nope FROM py", errors.UndefinedColumn)
    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR
    expect_error(conn, "SELECT 1", errors.InFailedSqlTransaction)
    conn.rollback()
    assert conn.execute("SELECT 2").fetchone() == (2,)
    conn.commit()

print("psycopg ok")
