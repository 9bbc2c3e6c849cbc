"""tarn's Hive Metastore API next to a real Hive 2.3.10 metastore (the one pyspark ships,
Derby-backed, recipe in shared/design/hms.md), same client (hmsclient), same partitions, one
run, calls interleaved.

    $TARN_TEST_VENV/bin/python benches/hms_peers.py --tarn target/release/tarn --partitions 100000

Loads a table partitioned by (dt string, h int) into both through add_partitions (batches of
1000), then times get_partitions_by_filter (one day = 24 partitions; one month = 720) and
get_partition_names (all), best and median of --reps, and get_table's p50/p99 within a
Spark-like call mix (get_table ×5, get_database, get_partitions_by_filter per round).
Prints one line per measurement with the tarn/Hive ratio (target: ≤ 0.05 for the partition
calls). The client decodes with thrift's C extension (TBinaryProtocolAccelerated) for both.
"""

import argparse
import datetime
import os
import socket
import statistics
import subprocess
import tempfile
import time

from thrift.protocol import TBinaryProtocol
from thrift.transport import TSocket, TTransport
from hmsclient.genthrift.hive_metastore import ThriftHiveMetastore as H
from hmsclient.genthrift.hive_metastore.ttypes import (
    Database, FieldSchema, Partition, SerDeInfo, StorageDescriptor, Table,
)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited early ({proc.returncode})")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"port {port} not open after {seconds}s")


def client(port):
    sock = TSocket.TSocket("127.0.0.1", port)
    sock.setTimeout(600_000)
    trans = TTransport.TBufferedTransport(sock)
    trans.open()
    # The C-accelerated decoder (thrift's fastbinary): the same for both servers, and it keeps
    # the client's own decoding from dominating what is timed.
    c = H.Client(TBinaryProtocol.TBinaryProtocolAccelerated(trans))
    c.set_ugi("bench", [])
    return c


def start_tarn(binary, work):
    data = os.path.join(work, "tarn")
    os.makedirs(data)
    with open(os.path.join(data, "tarn.toml"), "w") as f:
        f.write('[hms]\nrole = "tarn"\n')
    port = free_port()
    env = dict(os.environ, TARN_PASSWORD="bench-pw")
    env.pop("TARN_CONFIG", None)
    proc = subprocess.Popen(
        [binary, "--data-dir", data, "serve", "--pg-listen", "127.0.0.1:0", "--flight-listen", "off",
         "--hms-listen", f"127.0.0.1:{port}"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port, proc, 60)
    return proc, port, os.path.join(data, "warehouse")


def start_hive(work):
    import pyspark
    jars = os.path.join(os.path.dirname(pyspark.__file__), "jars")
    ref = os.path.join(work, "hms-ref")
    os.makedirs(ref)
    warehouse = os.path.join(ref, "warehouse")
    with open(os.path.join(ref, "hive-site.xml"), "w") as f:
        f.write(f"""<configuration>
<property><name>javax.jdo.option.ConnectionURL</name><value>jdbc:derby:;databaseName=metastore_db;create=true</value></property>
<property><name>datanucleus.schema.autoCreateAll</name><value>true</value></property>
<property><name>hive.metastore.schema.verification</name><value>false</value></property>
<property><name>hive.metastore.warehouse.dir</name><value>file://{warehouse}</value></property>
<property><name>hive.async.log.enabled</name><value>false</value></property>
</configuration>""")
    port = free_port()
    log = open(os.path.join(ref, "hms.log"), "w")
    proc = subprocess.Popen(
        ["java", "-Xmx2g", "-cp", f".:{jars}/*", "org.apache.hadoop.hive.metastore.HiveMetaStore", "-p", str(port)],
        cwd=ref, stdout=log, stderr=log)
    wait_port(port, proc, 180)
    return proc, port, warehouse


def specs(n):
    day = datetime.date(2000, 1, 1)
    out = []
    while len(out) < n:
        for h in range(24):
            if len(out) < n:
                out.append((day.isoformat(), h))
        day += datetime.timedelta(days=1)
    return out


def load(c, warehouse, parts):
    c.create_database(Database("bench", "", f"file://{warehouse}/bench.db", {}))
    cols = [FieldSchema("id", "bigint", None), FieldSchema("v", "string", None)]
    serde = SerDeInfo(None, "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe", {"serialization.format": "1"})
    inf = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    outf = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
    sd = StorageDescriptor(cols, None, inf, outf, False, -1, serde, [], [], {})
    keys = [FieldSchema("dt", "string", None), FieldSchema("h", "int", None)]
    c.create_table(Table("t", "bench", "bench", 0, 0, 0, sd, keys, {"EXTERNAL": "FALSE"}, None, None, "MANAGED_TABLE"))
    loc = c.get_table("bench", "t").sd.location
    started = time.time()
    for i in range(0, len(parts), 1000):
        batch = [Partition([dt, str(h)], "bench", "t", 0, 0,
                           StorageDescriptor(cols, f"{loc}/dt={dt}/h={h}", inf, outf, False, -1, serde, [], [], {}), {})
                 for dt, h in parts[i:i + 1000]]
        c.add_partitions(batch)
    return time.time() - started


def churn(c):
    """A function adding and dropping one spare partition (two catalog changes)."""
    cols = [FieldSchema("id", "bigint", None), FieldSchema("v", "string", None)]
    serde = SerDeInfo(None, "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe", {})
    inf = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    outf = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"

    def run():
        sd = StorageDescriptor(cols, None, inf, outf, False, -1, serde, [], [], {})
        c.add_partition(Partition(["spare", "0"], "bench", "t", 0, 0, sd, {}))
        c.drop_partition("bench", "t", ["spare", "0"], False)
    return run


def timed(fn, reps, setup=None):
    times = []
    for _ in range(reps):
        if setup:
            setup()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times), statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tarn", required=True)
    ap.add_argument("--partitions", type=int, default=100_000)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--mix-rounds", type=int, default=300)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="hms-bench-")
    tarn, tport, twh = start_tarn(args.tarn, work)
    hive, hport, hwh = start_hive(work)
    try:
        parts = specs(args.partitions)
        clients = {"tarn": client(tport), "hive": client(hport)}
        for name, wh in (("tarn", twh), ("hive", hwh)):
            secs = load(clients[name], wh, parts)
            print(f"load {name}: {args.partitions} partitions in {secs:.1f} s", flush=True)
        # Fresh connections: the other server's load can outlast tarn's idle timeout (600 s, as
        # Hive clients' socket timeout), which closes a connection left waiting.
        clients = {"tarn": client(tport), "hive": client(hport)}
        day = parts[len(parts) // 2][0]
        month = day[:7]
        calls = {
            "get_partitions_by_filter (1 day, 24)": lambda c: c.get_partitions_by_filter("bench", "t", f'dt = "{day}"', -1),
            "get_partitions_by_filter (1 month, ~720)": lambda c: c.get_partitions_by_filter(
                "bench", "t", f'dt >= "{month}-01" and dt <= "{month}-31"', -1),
            "get_partition_names (all)": lambda c: c.get_partition_names("bench", "t", -1),
            # Each call preceded (untimed) by a partition added and dropped: tarn's kept
            # listing is stale, so this is the cost of listing afresh.
            "get_partition_names (all, after a change)": lambda c: c.get_partition_names("bench", "t", -1),
        }
        spare = {n: churn(c) for n, c in clients.items()}
        for label, call in calls.items():
            counts = {n: len(call(c)) for n, c in clients.items()}
            assert counts["tarn"] == counts["hive"], (label, counts)
            res = {}
            for name in ("hive", "tarn"):  # interleaved per call
                call(clients[name])  # warm
                setup = spare[name] if "after a change" in label else None
                res[name] = timed(lambda: call(clients[name]), args.reps, setup)
            print(f"{label}: {counts['tarn']} rows; hive best {res['hive'][0]*1e3:.1f} ms "
                  f"median {res['hive'][1]*1e3:.1f} ms; tarn best {res['tarn'][0]*1e3:.1f} ms "
                  f"median {res['tarn'][1]*1e3:.1f} ms; tarn/hive {res['tarn'][1]/res['hive'][1]:.3f}", flush=True)
        for name, c in clients.items():
            samples = []
            for _ in range(args.mix_rounds):
                for _ in range(5):
                    t = time.perf_counter()
                    c.get_table("bench", "t")
                    samples.append(time.perf_counter() - t)
                c.get_database("bench")
                c.get_partitions_by_filter("bench", "t", f'dt = "{day}"', -1)
            samples.sort()
            p50, p99 = samples[len(samples) // 2], samples[int(len(samples) * 0.99)]
            print(f"get_table in a Spark-like mix, {name}: p50 {p50*1e3:.2f} ms p99 {p99*1e3:.2f} ms", flush=True)
    finally:
        tarn.kill()
        hive.kill()


if __name__ == "__main__":
    main()
