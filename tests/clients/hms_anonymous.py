"""A metastore connection with no configured role: no table's metadata, no changes.
Usage: hms_anonymous.py PORT"""
import sys

from thrift.protocol import TBinaryProtocol
from thrift.transport import TSocket, TTransport
from hmsclient.genthrift.hive_metastore import ThriftHiveMetastore as H
from hmsclient.genthrift.hive_metastore.ttypes import Database, MetaException, NoSuchObjectException

trans = TTransport.TBufferedTransport(TSocket.TSocket("127.0.0.1", int(sys.argv[1])))
trans.open()
c = H.Client(TBinaryProtocol.TBinaryProtocol(trans))
c.set_ugi("root", ["root"])  # claiming to be someone changes nothing
assert "sales" not in c.get_all_databases()
for call in (lambda: c.get_table("sales", "events"), lambda: c.get_partitions("sales", "events", -1)):
    try:
        call()
        raise AssertionError("metadata read without privileges")
    except NoSuchObjectException:
        pass
try:
    c.create_database(Database("evil", "", None, {}))
    raise AssertionError("created a database without privileges")
except MetaException:
    pass
try:
    c.drop_table("sales", "events", True)
    raise AssertionError("dropped a table without privileges")
except NoSuchObjectException:
    pass
print("ok")
