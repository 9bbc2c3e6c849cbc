#!/usr/bin/env python3
"""Cold start of `tarn serve` with N tables in the catalog: process spawn to the first accepted
TCP connection (and to the first answered query), median over reps.

  serve_cold_start.py --tarn target/release/tarn [--tables 10000] [--reps 7] [--work DIR]

The catalog is filled once (N external tables over one small CSV directory, via `tarn sql -f`).
"""
import argparse
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time


def fill(tarn, data_dir, n):
    marker = os.path.join(data_dir, f"filled-{n}")
    if os.path.exists(marker):
        return
    shutil.rmtree(data_dir, ignore_errors=True)
    os.makedirs(os.path.join(data_dir, "warehouse", "csv"), exist_ok=True)
    with open(os.path.join(data_dir, "warehouse", "csv", "a.csv"), "w") as f:
        f.write("1,x\n")
    script = os.path.join(data_dir, "tables.sql")
    with open(script, "w") as f:
        for i in range(n):
            f.write(f"CREATE EXTERNAL TABLE t{i} (a int, b string) STORED AS CSV "
                    f"LOCATION '{data_dir}/warehouse/csv';\n")
    t = time.time()
    subprocess.run([tarn, "--data-dir", data_dir, "sql", "-q", "-f", script], check=True)
    print(f"catalog filled with {n} tables in {time.time() - t:.1f}s")
    open(marker, "w").close()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def one_start(tarn, data_dir):
    port = free_port()
    env = dict(os.environ, TARN_PASSWORD="bench")
    t0 = time.perf_counter()
    # Flight off: its default port may be taken by another server on this machine.
    p = subprocess.Popen([tarn, "--data-dir", data_dir, "serve", "--pg-listen", f"127.0.0.1:{port}",
                          "--flight-listen", "off"],
                         env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = t0 + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    return time.perf_counter() - t0
            except OSError:
                if time.perf_counter() > deadline:
                    raise RuntimeError("tarn serve did not start")
                time.sleep(0.0005)
    finally:
        p.terminate()
        p.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tarn", required=True)
    ap.add_argument("--tables", type=int, default=10000)
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "tarn-cold-start"))
    a = ap.parse_args()
    data_dir = os.path.join(a.work, f"n{a.tables}")
    fill(os.path.abspath(a.tarn), data_dir, a.tables)
    one_start(a.tarn, data_dir)  # first start creates the admin user
    times = [one_start(a.tarn, data_dir) for _ in range(a.reps)]
    print(f"tarn serve cold start with {a.tables} tables: median {statistics.median(times) * 1000:.1f} ms "
          f"(min {min(times) * 1000:.1f}, max {max(times) * 1000:.1f}, n={a.reps})")


if __name__ == "__main__":
    main()
