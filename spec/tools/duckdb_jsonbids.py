#!/usr/bin/env python3
"""DuckDB's side of spec/bench_json_test.go's JSONBids comparison (not run by CI).

It runs the benchmark's query over the same input file in DuckDB with 1 and 2
threads and prints rows/s (best of --runs), for comparison with

    ARROYO_JSONBIDS_FILE=/tmp/bids.json go test ./spec -run '^$' -bench JSONBids -cpu 1,2 -benchtime 5x

which writes the file it reads there. Usage:

    pip install duckdb
    python3 spec/tools/duckdb_jsonbids.py /tmp/bids.json [--runs 5]

The query is the benchmark's: SELECT auction, bidder, price, datetime ... WHERE
price > 5000000, written as JSON lines (COPY ... (FORMAT JSON)); datetime is
read as a TIMESTAMP, as the engine's TIMESTAMP column. rows/cpu-s divides by
the process's CPU time (getrusage, all of DuckDB's threads), like the Go
benchmark's rows/cpu-s: on a loaded machine wall-clock rows/s says little.
"""
import argparse
import os
import resource
import tempfile
import time

import duckdb

PRICE = 5_000_000  # jsonBidPrice in spec/bench_json_test.go


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("input")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    with open(args.input, "rb") as f:
        rows = sum(1 for _ in f)
    out = os.path.join(tempfile.mkdtemp(), "duckdb.json")
    for threads in (1, 2):
        con = duckdb.connect()
        con.execute(f"SET threads = {threads}")
        best = None
        best_cpu = None
        for _ in range(args.runs):
            start = time.perf_counter()
            ru0 = resource.getrusage(resource.RUSAGE_SELF)
            con.execute(
                f"""COPY (SELECT auction, bidder, price, datetime
                          FROM read_json_auto('{args.input}', format = 'newline_delimited',
                                              columns = {{'auction': 'BIGINT', 'bidder': 'BIGINT', 'price': 'BIGINT',
                                                          'channel': 'VARCHAR', 'url': 'VARCHAR', 'datetime': 'TIMESTAMP',
                                                          'ip': 'VARCHAR', 'user_agent': 'VARCHAR', 'bid_id': 'BIGINT',
                                                          'extra': 'VARCHAR'}})
                          WHERE price > {PRICE}) TO '{out}' (FORMAT JSON)"""
            )
            elapsed = time.perf_counter() - start
            ru1 = resource.getrusage(resource.RUSAGE_SELF)
            cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
            best = elapsed if best is None else min(best, elapsed)
            best_cpu = cpu if best_cpu is None else min(best_cpu, cpu)
        with open(out, "rb") as f:
            kept = sum(1 for _ in f)
        print(f"duckdb threads={threads}: {rows / best:,.0f} rows/s, {rows / best_cpu:,.0f} rows/cpu-s "
              f"(best of {args.runs}: {best * 1000:.0f} ms, {best_cpu * 1000:.0f} ms CPU, {kept} rows out)")
        con.close()


if __name__ == "__main__":
    main()
