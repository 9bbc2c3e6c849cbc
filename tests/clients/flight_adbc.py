"""Real Flight SQL clients against a running tarn: ADBC (DB-API), pyarrow.flight and polars.

Usage: flight_adbc.py URI USER PASSWORD. Exits non-zero (with a traceback) on the first failed
check. Run by tests/integration/flight/clients.rs.
"""
import struct
import sys
import threading

import adbc_driver_flightsql.dbapi as flightsql
import adbc_driver_manager
import polars as pl
import pyarrow as pa
import pyarrow.flight as flight

URI, USER, PASSWORD = sys.argv[1:4]


def connect():
    return flightsql.connect(URI, db_kwargs={"username": USER, "password": PASSWORD})


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def adbc_basics(conn):
    info = conn.adbc_get_info()
    check(info["vendor_name"] == "tarn", f"vendor_name: {info}")
    cur = conn.cursor()
    cur.execute("CREATE TABLE trips (id bigint, city string, fare double) PARTITIONED BY (day date)")
    cur.execute(
        "INSERT INTO trips VALUES (1, 'Oslo', 12.5, DATE '2024-01-01'), "
        "(2, 'Bergen', 7.25, DATE '2024-01-02'), (3, 'Oslo', 3.0, DATE '2024-01-02')"
    )
    cur.execute("SELECT id, city, fare, day FROM trips ORDER BY id")
    table = cur.fetch_arrow_table()
    check(table.num_rows == 3, f"rows: {table}")
    check(table.schema.field("city").type == pa.string(), f"plain strings: {table.schema}")
    check(table.column("city").to_pylist() == ["Oslo", "Bergen", "Oslo"], "cities")

    # Prepared statements with bound parameters ($n placeholders).
    cur.execute("SELECT id FROM trips WHERE city = $1 AND fare > $2 ORDER BY id", parameters=("Oslo", 1.0))
    check([r[0] for r in cur.fetchall()] == [1, 3], "bound query")
    cur.executemany("INSERT INTO trips VALUES ($1, $2, $3, $4)", [(4, "Tromsø", 9.0, "2024-01-03"), (5, "Oslo", 1.0, "2024-01-03")])
    cur.execute("SELECT count(*) FROM trips")
    check(cur.fetchone()[0] == 5, "executemany inserted two rows")

    # Errors surface as DB-API exceptions and leave the connection usable.
    try:
        cur.execute("SELECT * FROM no_such_table")
        raise AssertionError("expected an error")
    except adbc_driver_manager.Error as e:
        check("no_such_table" in str(e), f"error text: {e}")
    cur.execute("SELECT 1")
    check(cur.fetchone()[0] == 1, "usable after an error")

    # Catalog browsing.
    objects = conn.adbc_get_objects(depth="all").read_all().to_pylist()
    check([c["catalog_name"] for c in objects] == ["tarn"], f"catalogs: {objects}")
    schemas = {s["db_schema_name"]: s for s in objects[0]["catalog_db_schemas"]}
    check("public" in schemas, f"schemas: {list(schemas)}")
    tables = {t["table_name"]: t for t in schemas["public"]["db_schema_tables"]}
    check("trips" in tables, f"tables: {list(tables)}")
    columns = [c["column_name"] for c in tables["trips"]["table_columns"]]
    check(columns == ["id", "city", "fare", "day"], f"columns: {columns}")
    schema = conn.adbc_get_table_schema("trips", db_schema_filter="public")
    check(schema.names == ["id", "city", "fare", "day"], f"table schema: {schema}")
    check(set(conn.adbc_get_table_types()) >= {"TABLE", "VIEW"}, "table types")
    cur.close()


def adbc_ingest(conn):
    cur = conn.cursor()
    data = pa.table({"k": pa.array([1, 2, 3], pa.int64()), "v": ["a", "b", "c"]})
    check(cur.adbc_ingest("ingested", data, mode="create") == 3, "create")
    try:
        cur.adbc_ingest("ingested", data, mode="create")
        raise AssertionError("create twice must fail")
    except adbc_driver_manager.Error:
        pass
    check(cur.adbc_ingest("ingested", data, mode="append") == 3, "append")
    check(cur.adbc_ingest("ingested", data.slice(0, 1), mode="create_append") == 1, "create_append")
    cur.execute("SELECT count(*) FROM ingested")
    check(cur.fetchone()[0] == 7, "rows after appends")
    check(cur.adbc_ingest("ingested", data.slice(0, 2), mode="replace") == 2, "replace")
    cur.execute("SELECT count(*) FROM ingested")
    check(cur.fetchone()[0] == 2, "rows after replace")
    cur.execute("CREATE DATABASE staging")
    check(cur.adbc_ingest("events", data, mode="create", db_schema_name="staging") == 3, "into a schema")
    cur.execute("SELECT sum(k) FROM staging.events")
    check(cur.fetchone()[0] == 6, "schema-qualified ingest")
    try:
        cur.adbc_ingest("tmp", data, mode="create", temporary=True)
        raise AssertionError("temporary ingest must fail")
    except adbc_driver_manager.Error as e:
        check("temporary" in str(e), f"temporary: {e}")
    cur.close()


def concurrent_connections(n=16):
    errors = []

    def work(i):
        try:
            with connect() as conn, conn.cursor() as cur:
                cur.execute(f"SELECT sum(value) + {i} FROM range(0, 100000)")
                check(cur.fetchone()[0] == sum(range(100000)) + i, f"connection {i}")
        except Exception as e:  # noqa: BLE001 - collected and reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    check(not errors, f"concurrent errors: {errors}")


def varint(n):
    out = b""
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out += bytes([byte | 0x80])
        else:
            return out + bytes([byte])


def field(number, payload):
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def command_statement_query(sql):
    """An Any-wrapped CommandStatementQuery, encoded by hand (pyarrow has no Flight SQL)."""
    inner = field(1, sql.encode())
    url = b"type.googleapis.com/arrow.flight.protocol.sql.CommandStatementQuery"
    return field(1, url) + field(2, inner)


def raw_pyarrow_flight():
    client = flight.FlightClient(URI)
    header = client.authenticate_basic_token(USER, PASSWORD)
    options = flight.FlightCallOptions(headers=[header])
    descriptor = flight.FlightDescriptor.for_command(command_statement_query("SELECT value FROM range(0, 50000)"))
    info = client.get_flight_info(descriptor, options)
    check(info.schema.names == ["value"], f"schema: {info.schema}")
    table = client.do_get(info.endpoints[0].ticket, options).read_all()
    check(table.num_rows == 50000, f"DoGet rows: {table.num_rows}")
    try:
        client.do_get(info.endpoints[0].ticket).read_all()
        raise AssertionError("a ticket without the token must be refused")
    except flight.FlightUnauthenticatedError:
        pass


def polars_through_adbc(conn):
    frame = pl.read_database("SELECT city, sum(fare) AS total FROM trips GROUP BY city ORDER BY city", connection=conn)
    check(frame.shape == (3, 2), f"polars frame: {frame}")
    check(frame["city"].to_list() == ["Bergen", "Oslo", "Tromsø"], f"polars cities: {frame}")


with connect() as conn:
    adbc_basics(conn)
    adbc_ingest(conn)
    polars_through_adbc(conn)
concurrent_connections()
raw_pyarrow_flight()
print("ok")
