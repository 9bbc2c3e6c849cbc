#!/usr/bin/env bash
# Installs the non-Rust test dependencies, idempotently: the psql client and the PostgreSQL
# server (Debian postgresql-client, postgresql), pgjdbc with a JDK (Debian libpostgresql-jdbc-java, default-jdk-headless),
# openssl (test certificates)
# and a Python virtualenv with the real drivers the tests run (psycopg 3, SQLAlchemy 2; for Flight SQL
# adbc-driver-flightsql, pyarrow and polars; moto's S3 server and boto3 for the object-store
# tests, azure-storage-blob to create Azurite containers; hmsclient, Hive 2.3's generated metastore
# client, pyspark (with the JDK above) and pyiceberg for the metastore API tests) and Azurite (npm). Versions are pinned
# so a new release cannot break CI. Prints nothing when everything
# is already there.
set -euo pipefail
VENV="${TARN_TEST_VENV:-$HOME/.cache/tarn/venv}"

missing=()
command -v psql >/dev/null 2>&1 || missing+=(postgresql-client)
# The PostgreSQL server for the shared-catalog tests (tarn_catalog::testing starts a throwaway
# cluster from /usr/lib/postgresql/*/bin).
compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || missing+=(postgresql)
[ -f /usr/share/java/postgresql.jar ] || missing+=(libpostgresql-jdbc-java)
command -v javac >/dev/null 2>&1 || missing+=(default-jdk-headless)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}..." >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >&2
fi

PY_IMPORTS="import psycopg, sqlalchemy, pandas, adbc_driver_flightsql.dbapi, adbc_driver_manager, pyarrow.flight, polars, moto.server, boto3, azure.storage.blob, hmsclient, thrift, pyspark, pyiceberg.catalog.hive"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "$PY_IMPORTS" >/dev/null 2>&1; then
  echo "preparing the test virtualenv in $VENV..." >&2
  if [ ! -x "$VENV/bin/python" ] && ! python3 -m venv "$VENV" >&2; then
    # Debian ships venv separately.
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv >&2
    python3 -m venv "$VENV" >&2
  fi
  "$VENV/bin/pip" install -q --upgrade pip >&2
  "$VENV/bin/pip" install -q "psycopg[binary]==3.3.9" "sqlalchemy==2.1.9" \
    "adbc-driver-flightsql==1.13.0" "adbc-driver-manager==1.13.0" "pyarrow==26.0.1" \
    "polars==2.1.0" "pandas==3.1.1" "moto[server]==5.2.6" "boto3==1.44.5" \
    "azure-storage-blob==12.31.1" "hmsclient==0.1.1" "thrift==0.22.0" "pyspark==4.3.0" "pyiceberg[hive,pyarrow]==0.12.0" >&2
fi

# dbt-postgres in a virtualenv of its own (its pins would fight the drivers' above), the whole
# dependency set pinned by scripts/dbt-constraints.txt.
DBT_VENV="${TARN_TEST_DBT_VENV:-$VENV-dbt}"
if [ ! -x "$DBT_VENV/bin/dbt" ] || ! "$DBT_VENV/bin/python" -c "import dbt.adapters.postgres" >/dev/null 2>&1; then
  echo "preparing the dbt virtualenv in $DBT_VENV..." >&2
  python3 -m venv "$DBT_VENV" >&2
  "$DBT_VENV/bin/pip" install -q --upgrade pip >&2
  "$DBT_VENV/bin/pip" install -q -c "$(dirname "$0")/dbt-constraints.txt" \
    "dbt-core==1.11.16" "dbt-postgres==1.11.0" >&2
fi

# Azurite (Azure Blob Storage emulator, npm) for the Azure tests.
AZURITE="${TARN_TEST_AZURITE:-$HOME/.cache/tarn/azurite}"
if [ ! -x "$AZURITE/node_modules/.bin/azurite-blob" ]; then
  echo "installing azurite into $AZURITE..." >&2
  command -v npm >/dev/null 2>&1 || {
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq npm >&2
  }
  mkdir -p "$AZURITE"
  (cd "$AZURITE" && npm install --no-audit --no-fund --loglevel=error azurite@3.37.0 >&2)
fi
