"""pyiceberg's HiveCatalog against tarn's metastore API: the Iceberg-on-HMS commit protocol
(lock, get_table, alter_table with the new metadata_location, unlock) through tarn's lock
table. Usage: hms_iceberg.py PORT

Every check raises on a mismatch. What pyiceberg reads back is compared with what this
script appended (a client-side log), also after three writers race (commits serialized by
tarn's lock, retried by pyiceberg when their base moved).
Leaves `ice.kept` (one append) for the caller to look at over pg. The last line is `ok`.
"""
import sys
import threading

import pyarrow as pa
from pyiceberg.catalog.hive import HiveCatalog
from pyiceberg.exceptions import NamespaceAlreadyExistsError, NoSuchTableError

port = int(sys.argv[1])
cat = HiveCatalog("tarn", uri=f"thrift://127.0.0.1:{port}")


def eq(got, want, what):
    if got != want:
        raise AssertionError(f"{what}: got {got!r}, want {want!r}")


cat.create_namespace("ice")
try:
    cat.create_namespace("ice")
    raise AssertionError("a second create_namespace must fail")
except NamespaceAlreadyExistsError:
    pass
eq([n for n in cat.list_namespaces() if n == ("ice",)], [("ice",)], "namespace listed")

schema = pa.schema([pa.field("id", pa.int64(), nullable=False), pa.field("name", pa.string())])
table = cat.create_table("ice.events", schema=schema)
appended = []
for batch in ([(1, "a"), (2, "b")], [(3, None)], [(4, "d"), (5, "e"), (6, "f")]):
    data = pa.table({"id": [r[0] for r in batch], "name": [r[1] for r in batch]}, schema=schema)
    table.append(data)
    appended.extend(batch)

fresh = cat.load_table("ice.events")
rows = sorted(zip(*fresh.scan().to_arrow().to_pydict().values()))
eq(rows, sorted(appended), "rows read back equal the rows appended")
eq(len(fresh.history()), 3, "one snapshot per append")

# Writers racing: three threads, each with its own catalog connection, append concurrently.
# Each commit is check-then-alter under tarn's table lock (pyiceberg verifies its base
# metadata is still current after `lock`): a lock that let two commits in at once would lose
# one of them. Every appended row must be there exactly once.
errors = []


def writer(k):
    try:
        mine = HiveCatalog(f"w{k}", uri=f"thrift://127.0.0.1:{port}")
        t = mine.load_table("ice.events")
        for i in range(6):
            t.append(pa.table({"id": [100 * k + i], "name": [f"w{k}"]}, schema=schema))
    except Exception as e:  # reported below
        errors.append(repr(e))


threads = [threading.Thread(target=writer, args=(k,)) for k in (1, 2, 3)]
for th in threads:
    th.start()
for th in threads:
    th.join(120)
eq(errors, [], "writers' errors")
appended += [(100 * k + i, f"w{k}") for k in (1, 2, 3) for i in range(6)]
rows = sorted(zip(*cat.load_table("ice.events").scan().to_arrow().to_pydict().values()))
eq(rows, sorted(appended), "every racing writer's rows, once each")

eq(sorted(cat.list_tables("ice")), [("ice", "events")], "list_tables")
cat.drop_table("ice.events")
try:
    cat.load_table("ice.events")
    raise AssertionError("a dropped table loads")
except NoSuchTableError:
    pass

kept = cat.create_table("ice.kept", schema=schema)
kept.append(pa.table({"id": [42], "name": ["kept"]}, schema=schema))
print("ok")
