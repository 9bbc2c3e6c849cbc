"""The metastore API over TLS (the pg certificate): a verifying TLS client works, a plaintext
one gets nothing. Usage: hms_tls.py PORT CA_CERT"""
import sys

from thrift.protocol import TBinaryProtocol
from thrift.transport import TSocket, TSSLSocket, TTransport
from hmsclient.genthrift.hive_metastore import ThriftHiveMetastore as H

port, ca = int(sys.argv[1]), sys.argv[2]
sock = TSSLSocket.TSSLSocket("localhost", port, ca_certs=ca)
trans = TTransport.TBufferedTransport(sock)
trans.open()
c = H.Client(TBinaryProtocol.TBinaryProtocol(trans))
assert "default" in c.get_all_databases()
trans.close()

plain = TSocket.TSocket("127.0.0.1", port)
plain.setTimeout(10000)
trans = TTransport.TBufferedTransport(plain)
trans.open()
try:
    H.Client(TBinaryProtocol.TBinaryProtocol(trans)).get_all_databases()
    raise AssertionError("a plaintext call was answered")
except AssertionError:
    raise
except Exception:
    pass
print("ok")
