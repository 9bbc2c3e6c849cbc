#!/usr/bin/env python3
"""Write throughput, side by side: CTAS of TPC-H lineitem into a table partitioned by ship year
and month, tarn vs DuckDB `COPY ... (PARTITION_BY ...)`, interleaved reps, one run.

  write_compare.py --tarn target/release/tarn --lineitem-dir DIR [--reps 3] [--threads 2]

DIR holds lineitem Parquet (e.g. `tpchgen-cli parquet -s 1 --tables lineitem`, moved into a
directory). Reports median wall time, rows/s and tarn / DuckDB.
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time

QUERY = ("SELECT *, EXTRACT(YEAR FROM l_shipdate) AS l_shipyear, "
         "EXTRACT(MONTH FROM l_shipdate) AS l_shipmonth FROM {src}")


def run_duckdb(lineitem_dir, out_dir, threads):
    import duckdb
    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    src = f"read_parquet('{lineitem_dir}/*.parquet')"
    t = time.perf_counter()
    con.execute(f"COPY ({QUERY.format(src=src)}) TO '{out_dir}' "
                "(FORMAT parquet, PARTITION_BY (l_shipyear, l_shipmonth), COMPRESSION zstd)")
    elapsed = time.perf_counter() - t
    rows = con.execute(f"SELECT count(*) FROM {src}").fetchone()[0]
    return elapsed, rows


def run_tarn(tarn, lineitem_dir, data_dir, threads):
    env = dict(os.environ, TARN_ALLOWED_ROOTS=lineitem_dir, TARN_TARGET_PARTITIONS=str(threads))
    setup = f"CREATE EXTERNAL TABLE src STORED AS PARQUET LOCATION '{lineitem_dir}'"
    subprocess.run([tarn, "--data-dir", data_dir, "sql", "-q", "-e", setup], check=True, env=env)
    ctas = f"CREATE TABLE li PARTITIONED BY (l_shipyear, l_shipmonth) AS {QUERY.format(src='src')}"
    t = time.perf_counter()
    out = subprocess.run([tarn, "--data-dir", data_dir, "sql", "-e", ctas], check=True, env=env,
                         capture_output=True, text=True)
    elapsed = time.perf_counter() - t
    rows = int(re.search(r"SELECT (\d+)", out.stderr).group(1))
    return elapsed, rows


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tarn", required=True)
    p.add_argument("--lineitem-dir", required=True)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    times = {"duckdb": [], "tarn": []}
    rows = 0
    for rep in range(a.reps):
        order = ["tarn", "duckdb"] if rep % 2 == 0 else ["duckdb", "tarn"]
        for engine in order:
            scratch = tempfile.mkdtemp(prefix=f"write-{engine}-")
            try:
                if engine == "duckdb":
                    t, rows = run_duckdb(a.lineitem_dir, os.path.join(scratch, "out"), a.threads)
                else:
                    t, rows = run_tarn(a.tarn, a.lineitem_dir, scratch, a.threads)
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
            times[engine].append(t)
            print(f"rep {rep} {engine:6s} {t:7.2f}s", flush=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    for k in ("tarn", "duckdb"):
        print(f"{k:6s} median {med[k]:.2f}s  {rows / med[k] / 1e6:.2f} M rows/s")
    print(f"tarn / duckdb = {med['tarn'] / med['duckdb']:.2f}")


if __name__ == "__main__":
    main()
