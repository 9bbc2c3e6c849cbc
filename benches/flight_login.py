"""Runs a shared/bench script against tarn's Flight SQL endpoint, which requires a login.

The shared scripts (transfer_compare.py, tpch_compare.py) open ADBC connections without
credentials; this wrapper supplies them (TARN_FLIGHT_USER / TARN_FLIGHT_PASSWORD) and, for
transfer_compare.py, adds the method `tarn_doget`: a raw pyarrow.flight DoGet of a Flight SQL
ticket (Handshake, GetFlightInfo(CommandStatementQuery), DoGet), i.e. Flight SQL without ADBC.

  TARN_FLIGHT_USER=tarn TARN_FLIGHT_PASSWORD=bench python benches/flight_login.py \
      ../shared/bench/transfer_compare.py --data-dir DATA/sf1 --flightsql-uri grpc://127.0.0.1:32010 \
      --methods tarn_doget,adbc_flightsql,psql_text --pg-dsn "..." --server-pid PID
"""
import os
import runpy
import sys

import adbc_driver_flightsql.dbapi as flightsql

USER = os.environ.get("TARN_FLIGHT_USER", "tarn")
PASSWORD = os.environ.get("TARN_FLIGHT_PASSWORD", "")
_connect = flightsql.connect


def connect(uri, *args, **kwargs):
    kwargs.setdefault("db_kwargs", {}).update({"username": USER, "password": PASSWORD})
    return _connect(uri, *args, **kwargs)


flightsql.connect = connect


def _field(number, payload):
    def varint(n):
        out = b""
        while True:
            byte, n = n & 0x7F, n >> 7
            if not n:
                return out + bytes([byte])
            out += bytes([byte | 0x80])

    return varint(number << 3 | 2) + varint(len(payload)) + payload


def statement_query(sql):
    """An Any-wrapped CommandStatementQuery (pyarrow has no Flight SQL messages)."""
    url = b"type.googleapis.com/arrow.flight.protocol.sql.CommandStatementQuery"
    return _field(1, url) + _field(2, _field(1, sql.encode()))


class RawFlightSql:
    def __init__(self, uri):
        import pyarrow.flight as fl

        self.fl = fl
        self.client = fl.connect(uri)
        header = self.client.authenticate_basic_token(USER, PASSWORD)
        self.options = fl.FlightCallOptions(headers=[header])

    def rows(self, sql):
        info = self.client.get_flight_info(self.fl.FlightDescriptor.for_command(statement_query(sql)), self.options)
        n = 0
        for endpoint in info.endpoints:
            for chunk in self.client.do_get(endpoint.ticket, self.options):
                n += chunk.data.num_rows
        return n


def main():
    script = sys.argv[1]
    sys.argv = sys.argv[1:]
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    if os.path.basename(script) == "transfer_compare.py":
        import transfer_compare as tc

        raw = {}

        def m_tarn_doget(c, q):
            if "client" not in raw:
                raw["client"] = RawFlightSql(c.a.flightsql_uri)
            # Server CPU from --server-pid (tarn), so --flight-pid can name flight_server.py.
            return raw["client"].rows(q), ("tarn",)

        tc.METHODS["tarn_doget"] = m_tarn_doget
        tc.main()
    else:
        runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
