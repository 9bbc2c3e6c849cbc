"""dbt-postgres builds the "shop" project (tests/dbt/shop) on tarn twice — seeds, staging views,
a mart table, generic and singular tests — then `dbt docs generate`; after each build the mart
is checked against values this script computes from the seed CSVs itself (the oracle), and no
dbt scratch relation (__dbt_tmp, __dbt_backup) may be left.

    python dbt_shop.py PORT USER PASSWORD DBT_BIN
"""

import csv
import decimal
import json
import os
import shutil
import subprocess
import sys
import tempfile

import psycopg

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT = os.path.join(HERE, "..", "dbt", "shop")
port, user, password, dbt = sys.argv[1:5]


def run_dbt(work, *args):
    env = {**os.environ, "TARN_PORT": port, "TARN_USER": user, "TARN_PASSWORD": password,
           "DBT_PROFILES_DIR": work, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
           "DBT_USE_COLORS": "false"}
    out = subprocess.run([dbt, *args], cwd=work, env=env, capture_output=True, text=True, timeout=600)
    log = out.stdout + out.stderr
    if out.returncode != 0:
        raise SystemExit(f"dbt {' '.join(args)} failed ({out.returncode}):\n{log[-6000:]}")
    return log


def expected_mart(seeds):
    """customer_orders as the model defines it, computed from the CSVs in Python."""
    with open(os.path.join(seeds, "raw_customers.csv")) as f:
        customers = list(csv.DictReader(f))
    with open(os.path.join(seeds, "raw_orders.csv")) as f:
        orders = list(csv.DictReader(f))
    rows = {}
    for c in customers:
        mine = [o for o in orders if o["customer_id"] == c["id"]]
        gross = sum((decimal.Decimal(o["amount"]) for o in mine), decimal.Decimal(0))
        net = sum((decimal.Decimal(o["amount"]) for o in mine if o["status"].lower() != "returned"),
                  decimal.Decimal(0))
        rows[int(c["id"])] = (
            f"{c['first_name']} {c['last_name']}", c["tier"], len(mine),
            sum(1 for o in mine if o["status"].lower() == "completed"), gross, net,
            "high" if net >= 100 else "low",
        )
    return rows


def check(seeds, conn):
    got = {
        r[0]: (r[1], r[2], r[3], r[4], decimal.Decimal(str(r[5])), decimal.Decimal(str(r[6])), r[7])
        for r in conn.execute(
            "SELECT customer_id, full_name, tier, order_count, completed_orders, gross_amount, "
            "lifetime_value, value_band FROM analytics.customer_orders").fetchall()
    }
    want = expected_mart(seeds)
    assert got == want, f"mart differs:\n got  {got}\n want {want}"
    n_orders = conn.execute('SELECT count(*) FROM "tarn"."analytics"."stg_orders"').fetchone()[0]
    with open(os.path.join(seeds, "raw_orders.csv")) as f:
        assert n_orders == sum(1 for _ in csv.DictReader(f)), n_orders
    relations = sorted(conn.execute(
        "SELECT table_name, table_type FROM information_schema.tables "
        "WHERE table_schema = 'analytics' ORDER BY 1").fetchall())
    assert relations == [
        ("customer_orders", "BASE TABLE"), ("raw_customers", "BASE TABLE"),
        ("raw_orders", "BASE TABLE"), ("stg_customers", "VIEW"), ("stg_orders", "VIEW"),
    ], relations


def main():
    work = tempfile.mkdtemp(prefix="tarn-dbt-")
    try:
        shutil.copytree(PROJECT, work, dirs_exist_ok=True)
        conn = psycopg.connect(host="127.0.0.1", port=int(port), user=user, password=password,
                               dbname="tarn", autocommit=True)
        for version in ("seeds_v1", "seeds_v2"):
            seeds = os.path.join(work, version)
            os.makedirs(os.path.join(work, "seeds"), exist_ok=True)
            for name in os.listdir(seeds):
                shutil.copy(os.path.join(seeds, name), os.path.join(work, "seeds", name))
            log = run_dbt(work, "build")
            assert "ERROR=0" in log and "PASS=17" in log, log[-3000:]
            check(seeds, conn)
        run_dbt(work, "docs", "generate")
        with open(os.path.join(work, "target", "catalog.json")) as f:
            catalog = json.load(f)
        node = catalog["nodes"]["model.shop.customer_orders"]
        assert node["metadata"]["comment"] == "One row per customer with order aggregates.", node["metadata"]
        assert "lifetime_value" in node["columns"], node["columns"].keys()
        assert catalog["nodes"]["model.shop.stg_orders"]["metadata"]["type"] == "VIEW"
        print("ok")
    finally:
        shutil.rmtree(work, ignore_errors=True)


main()
