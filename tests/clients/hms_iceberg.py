"""pyiceberg's HiveCatalog against tarn's metastore API: the Iceberg-on-HMS commit protocol
(lock, get_table, alter_table with the new metadata_location, unlock) through tarn's lock
table. Usage: hms_iceberg.py PORT

Every check raises on a mismatch. What pyiceberg reads back is compared with what this
script appended (a client-side log); a commit from a stale table handle must be refused (and
pyiceberg's retry then lands it on the current metadata).
Leaves `ice.kept` (one append) for the caller to look at over pg. The last line is `ok`.
"""
import logging
import sys

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

# Two writers: the second works from a stale handle. tarn must refuse its first commit (the
# metadata it replaces is no longer current); pyiceberg then retries on fresh metadata, so
# both rows land and neither is lost.
retries = []


class Retries(logging.Handler):
    def emit(self, record):
        if "concurrent update" in record.getMessage():
            retries.append(record.getMessage())


logging.getLogger().addHandler(Retries())
a, b = cat.load_table("ice.events"), cat.load_table("ice.events")
a.append(pa.table({"id": [7], "name": ["g"]}, schema=schema))
b.append(pa.table({"id": [8], "name": ["h"]}, schema=schema))
appended += [(7, "g"), (8, "h")]
if not retries:
    raise AssertionError("the stale commit was not refused")
rows = sorted(zip(*cat.load_table("ice.events").scan().to_arrow().to_pydict().values()))
eq(rows, sorted(appended), "both writers' rows, once each")

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
