"""Registers a partition of raw.clicks the way Spark commits an INSERT: the data file is
copied into the partition directory first, then add_partitions_req is called.
Usage: hms_register.py PORT PARQUET_FILE"""
import os
import shutil
import sys

from thrift.protocol import TBinaryProtocol
from thrift.transport import TSocket, TTransport
from hmsclient.genthrift.hive_metastore import ThriftHiveMetastore as H
from hmsclient.genthrift.hive_metastore.ttypes import AddPartitionsRequest, Partition

port, source = int(sys.argv[1]), sys.argv[2]
trans = TTransport.TBufferedTransport(TSocket.TSocket("127.0.0.1", port))
trans.open()
c = H.Client(TBinaryProtocol.TBinaryProtocol(trans))
c.set_ugi("spark", [])
t = c.get_table("raw", "clicks")
location = t.sd.location.removeprefix("file:")
target = os.path.join(location, "dt=2024-05-01")
os.makedirs(target, exist_ok=True)
shutil.copy(source, os.path.join(target, "part-00000-spark.snappy.parquet"))
sd = t.sd
sd.location = None
p = Partition(values=["2024-05-01"], dbName="raw", tableName="clicks", createTime=0, lastAccessTime=0, sd=sd, parameters={})
res = c.add_partitions_req(AddPartitionsRequest("raw", "clicks", [p], True, True))
assert [x.values for x in res.partitions] == [["2024-05-01"]], res
# INSERT lets this role register partitions inside the table's directory, nowhere else.
from hmsclient.genthrift.hive_metastore.ttypes import MetaException
sd2 = c.get_table("raw", "clicks").sd
sd2.location = "file:/tmp/not-the-table"
try:
    c.add_partitions_req(AddPartitionsRequest("raw", "clicks", [Partition(values=["2024-05-02"], dbName="raw", tableName="clicks", createTime=0, lastAccessTime=0, sd=sd2, parameters={})], True, True))
    raise AssertionError("a partition outside the table's directory was accepted")
except MetaException:
    pass
print("registered")
