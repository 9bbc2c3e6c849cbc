"""TPC-H on an S3 endpoint with injected latency vs the same files on local disk, tarn next to
DuckDB (httpfs), cold and warm, in one run.

Both engines read the same Parquet files through the same S3-compatible HTTP server on loopback
(started here: path-style GET with ranges, HEAD, ListObjectsV2, `--latency-ms` before every
answer), so the remote/local ratio of each engine says how well it hides request latency, and
the two ratios compare directly. tarn runs as `tarn serve` (one fresh process per query for the
cold run: empty caches) and is timed through psycopg; DuckDB runs in-process on a fresh
in-memory database per query (its external file cache starts empty). Warm is the third run of
the same process/database: tarn's is served from its decoded-column cache (no I/O, no
decoding), DuckDB's from its cache of file bytes. 2 query threads each (tarn's I/O runtime has
its own threads, as DuckDB's httpfs has its own connections).

    python3 -m venv /tmp/peers && /tmp/peers/bin/pip install duckdb==1.5.5 \
        duckdb-extension-httpfs==1.5.5 psycopg[binary]==3.3.9
    /tmp/peers/bin/python benches/object_store_peers.py --tarn target/release/tarn \
        --data-dir ~/.cache/tarn/bench/data/sf1 --queries ../shared/bench/tpch_queries
"""

import argparse
import email.utils
import math
import os
import re
import socket
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlparse

TABLES = ["lineitem", "orders", "customer", "part", "partsupp", "supplier", "nation", "region"]
BUCKET = "bench"


class Counts:
    def __init__(self):
        self.lock = threading.Lock()
        self.gets = self.heads = self.lists = self.bytes = 0

    def take(self):
        with self.lock:
            out = (self.gets, self.heads, self.lists, self.bytes)
            self.gets = self.heads = self.lists = self.bytes = 0
            return out


def s3_server(root, latency):
    """A minimal S3 endpoint over `root` (bucket `bench` = root): enough for object_store and
    DuckDB's httpfs. Returns (server, counts)."""
    counts = Counts()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def _object(self):
            path = unquote(urlparse(self.path).path).lstrip("/")
            bucket, _, key = path.partition("/")
            full = os.path.normpath(os.path.join(root, key))
            if bucket != BUCKET or not full.startswith(root) or not os.path.isfile(full):
                return None, key
            return full, key

        def _meta_headers(self, full, length):
            st = os.stat(full)
            self.send_header("Content-Length", str(length))
            self.send_header("Last-Modified", email.utils.formatdate(st.st_mtime, usegmt=True))
            self.send_header("ETag", f'"{st.st_size:x}-{int(st.st_mtime):x}"')
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Type", "application/octet-stream")

        def _missing(self, key, body=True):
            payload = f"<Error><Code>NoSuchKey</Code><Key>{key}</Key></Error>".encode()
            self.send_response(404)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(payload) if body else 0))
            self.end_headers()
            if body:
                self.wfile.write(payload)

        def do_HEAD(self):
            time.sleep(latency)
            with counts.lock:
                counts.heads += 1
            full, key = self._object()
            if full is None:
                return self._missing(key, body=False)
            self.send_response(200)
            self._meta_headers(full, os.path.getsize(full))
            self.end_headers()

        def do_GET(self):
            time.sleep(latency)
            query = parse_qs(urlparse(self.path).query)
            if "list-type" in query:
                return self._list(query)
            full, key = self._object()
            if full is None:
                return self._missing(key)
            size = os.path.getsize(full)
            start, end, status = 0, size - 1, 200
            m = re.match(r"bytes=(\d*)-(\d*)", self.headers.get("Range", ""))
            if m:
                if m.group(1) == "":
                    start, end = max(0, size - int(m.group(2))), size - 1
                else:
                    start = int(m.group(1))
                    end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
                status = 206
            with counts.lock:
                counts.gets += 1
                counts.bytes += end - start + 1
            self.send_response(status)
            self._meta_headers(full, end - start + 1)
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
            self.end_headers()
            with open(full, "rb") as f:
                f.seek(start)
                left = end - start + 1
                while left > 0:
                    chunk = f.read(min(left, 1 << 20))
                    if not chunk:
                        break
                    self.wfile.write(chunk)
                    left -= len(chunk)

        def _list(self, query):
            with counts.lock:
                counts.lists += 1
            prefix = query.get("prefix", [""])[0]
            delimiter = query.get("delimiter", [""])[0]
            contents, prefixes = [], set()
            for dirpath, _, files in os.walk(root):
                for name in files:
                    key = os.path.relpath(os.path.join(dirpath, name), root)
                    if not key.startswith(prefix):
                        continue
                    rest = key[len(prefix):]
                    if delimiter and delimiter in rest:
                        prefixes.add(prefix + rest.split(delimiter)[0] + delimiter)
                        continue
                    st = os.stat(os.path.join(dirpath, name))
                    modified = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(st.st_mtime))
                    contents.append(
                        f"<Contents><Key>{key}</Key><LastModified>{modified}</LastModified>"
                        f'<ETag>"{st.st_size:x}-{int(st.st_mtime):x}"</ETag><Size>{st.st_size}</Size>'
                        "<StorageClass>STANDARD</StorageClass></Contents>")
            common = "".join(f"<CommonPrefixes><Prefix>{p}</Prefix></CommonPrefixes>" for p in sorted(prefixes))
            body = ('<?xml version="1.0" encoding="UTF-8"?>'
                    '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
                    f"<Name>{BUCKET}</Name><Prefix>{prefix}</Prefix><KeyCount>{len(contents)}</KeyCount>"
                    "<MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>"
                    + "".join(contents) + common + "</ListBucketResult>").encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    class Server(ThreadingHTTPServer):
        # Engines open many connections at once; the default backlog (5) would stall them.
        request_queue_size = 1024

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, counts


def table_dirs(data, work):
    """`<work>/tables/<t>/data.parquet`, hard links to the generated files, each read once so
    that no engine pays the page cache's misses for the others."""
    root = os.path.join(work, "tables")
    for t in TABLES:
        os.makedirs(os.path.join(root, t), exist_ok=True)
        link = os.path.join(root, t, "data.parquet")
        if not os.path.exists(link):
            os.link(os.path.join(data, f"{t}.parquet"), link)
        with open(link, "rb") as f:
            while f.read(1 << 24):
                pass
    return root


def statements(sql):
    """A query file's statements (q15 creates and drops a view around its query)."""
    return [s.strip() for s in sql.split(";") if s.strip()]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Tarn:
    """A data dir with the TPC-H tables declared local or on the endpoint."""

    def __init__(self, binary, work, tables, endpoint, remote):
        self.binary = binary
        self.data = os.path.join(work, "tarn-remote" if remote else "tarn-local")
        os.makedirs(self.data, exist_ok=True)
        with open(os.path.join(self.data, "tarn.toml"), "w") as f:
            f.write(f'allowed_roots = ["{tables}", "s3://{BUCKET}"]\n'
                    f'[[storage]]\nurl = "s3://{BUCKET}"\nendpoint = "{endpoint}"\n'
                    'region = "us-east-1"\nallow_http = true\npath_style = true\n'
                    'access_key_id = "bench"\nsecret_access_key = "bench"\n')
        ddl = ";".join(
            f"DROP TABLE IF EXISTS {t}; CREATE EXTERNAL TABLE {t} STORED AS PARQUET LOCATION "
            + (f"'s3://{BUCKET}/{t}/'" if remote else f"'{tables}/{t}'")
            for t in TABLES)
        subprocess.run([binary, "--data-dir", self.data, "sql", "-q", "-e", ddl], check=True,
                       stdout=subprocess.DEVNULL)

    def open(self):
        import psycopg
        port = free_port()
        env = dict(os.environ, TARN_PASSWORD="bench", TARN_TARGET_PARTITIONS="2", TARN_CPU_THREADS="2")
        proc = subprocess.Popen([self.binary, "--data-dir", self.data, "serve", "--pg-listen",
                                 f"127.0.0.1:{port}", "--flight-listen", "off"],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        while True:
            try:
                conn = psycopg.connect(host="127.0.0.1", port=port, user="tarn", password="bench",
                                       dbname="tarn", autocommit=True)
                break
            except psycopg.OperationalError:
                if time.time() > deadline:
                    proc.kill()
                    raise
                time.sleep(0.01)

        def run(sql):
            t0 = time.perf_counter()
            with conn.cursor() as cur:
                for statement in statements(sql):
                    cur.execute(statement)
                    if cur.description is not None:
                        cur.fetchall()
            return time.perf_counter() - t0

        def close():
            conn.close()
            proc.terminate()
            proc.wait()
        return run, close


class DuckDB:
    def __init__(self, tables, port, remote):
        self.tables, self.port, self.remote = tables, port, remote

    def open(self):
        import duckdb
        import duckdb_extension_httpfs
        con = duckdb.connect()
        con.execute("SET threads = 2")
        if self.remote:
            ext = os.path.join(os.path.dirname(duckdb_extension_httpfs.__file__),
                               f"extensions/v{duckdb.__version__}/httpfs.duckdb_extension")
            con.execute(f"LOAD '{ext}'")
            con.execute(f"CREATE SECRET (TYPE s3, KEY_ID 'bench', SECRET 'bench', REGION 'us-east-1', "
                        f"ENDPOINT '127.0.0.1:{self.port}', URL_STYLE 'path', USE_SSL false)")
        for t in TABLES:
            where = (f"s3://{BUCKET}/{t}/data.parquet" if self.remote
                     else os.path.join(self.tables, t, "data.parquet"))
            con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{where}')")

        def run(sql):
            t0 = time.perf_counter()
            for statement in statements(sql):
                con.execute(statement).fetchall()
            return time.perf_counter() - t0
        return run, con.close


def measure(engine, sql, counts):
    """(cold, warm, requests of the cold run) on a fresh process/database."""
    run, close = engine.open()
    try:
        counts.take()
        cold = run(sql)
        cold_counts = counts.take()
        run(sql)
        warm = run(sql)
        return cold, warm, cold_counts
    finally:
        close()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tarn", required=True)
    ap.add_argument("--data-dir", default=os.path.expanduser("~/.cache/tarn/bench/data/sf1"))
    ap.add_argument("--queries", default=os.path.join(os.path.dirname(__file__), "../../shared/bench/tpch_queries"))
    ap.add_argument("--latency-ms", type=float, default=20)
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--only", default="", help="comma-separated query numbers")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="tarn-peers-")
    tables = table_dirs(os.path.abspath(a.data_dir), work)
    server, counts = s3_server(tables, a.latency_ms / 1000)
    port = server.server_address[1]
    endpoint = f"http://127.0.0.1:{port}"
    binary = os.path.abspath(a.tarn)
    engines = {
        ("tarn", False): Tarn(binary, work, tables, endpoint, False),
        ("tarn", True): Tarn(binary, work, tables, endpoint, True),
        ("duckdb", False): DuckDB(tables, port, False),
        ("duckdb", True): DuckDB(tables, port, True),
    }
    wanted = {int(q) for q in a.only.split(",") if q}
    print(f"TPC-H from {a.data_dir}, {a.latency_ms:g} ms per request on the endpoint, best of {a.reps}")
    print("query | tarn local remote ratio | duckdb local remote ratio | tarn GET/HEAD/LIST MB | duckdb GET/HEAD/LIST MB"
          " || warm ratio tarn duckdb")
    logs = {k: [] for k in ("tc", "dc", "tw", "dw")}
    for q in range(1, 23):
        path = os.path.join(a.queries, f"q{q}.sql")
        if (wanted and q not in wanted) or not os.path.exists(path):
            continue
        sql = open(path).read()
        best, reqs = {}, {}
        for rep in range(a.reps):
            order = list(engines) if rep % 2 == 0 else list(reversed(list(engines)))
            for key in order:
                cold, warm, c = measure(engines[key], sql, counts)
                b = best.setdefault(key, [math.inf, math.inf])
                b[0], b[1] = min(b[0], cold), min(b[1], warm)
                if key[1]:
                    reqs[key[0]] = c
        tc = best[("tarn", True)][0] / best[("tarn", False)][0]
        dc = best[("duckdb", True)][0] / best[("duckdb", False)][0]
        tw = best[("tarn", True)][1] / best[("tarn", False)][1]
        dw = best[("duckdb", True)][1] / best[("duckdb", False)][1]
        for k, v in (("tc", tc), ("dc", dc), ("tw", tw), ("dw", dw)):
            logs[k].append(math.log(v))
        fmt = lambda c: f"{c[0]}/{c[1]}/{c[2]} {c[3] / 1e6:.0f}"
        print(f"q{q:<4} | {best[('tarn', False)][0]:.3f} {best[('tarn', True)][0]:.3f} {tc:.2f} | "
              f"{best[('duckdb', False)][0]:.3f} {best[('duckdb', True)][0]:.3f} {dc:.2f} | "
              f"{fmt(reqs['tarn'])} | {fmt(reqs['duckdb'])} || {tw:.2f} {dw:.2f}", flush=True)
    g = {k: math.exp(sum(v) / len(v)) for k, v in logs.items() if v}
    print(f"geomean remote/local cold: tarn {g['tc']:.3f}, duckdb {g['dc']:.3f}; "
          f"warm: tarn {g['tw']:.3f}, duckdb {g['dw']:.3f}")
    server.shutdown()


if __name__ == "__main__":
    main()
