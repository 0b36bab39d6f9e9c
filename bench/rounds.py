#!/usr/bin/env python3
"""rounds.py - the README's tables: benchmarks in interleaved rounds.

Usage: rounds.py BENCH_BINARY ROUNDS CASE [CASE ...]
  CASE  a bench_rnnk name with the ISA as {isa} and an A/B list after '@',
        e.g. 'lstm/{isa}/N:1/H:256/T:50@avx512,onednn'
Example (the issue's single-thread table):
  bench/rounds.py build/bench/bench_rnnk 5 \\
      'lstm/{isa}/N:1/H:256/T:50@avx512,onednn' 'gru/{isa}/N:1/H:256/T:50@avx512,onednn'

On a shared machine whose speed drifts within minutes, one run of each case
says little and two runs minutes apart compare nothing. So every round runs
every case, and within a case every ISA back to back (each the median of 5
Google Benchmark repetitions); the table gives, per case and ISA, the median
over rounds with the best round in brackets, and for each ISA after the
first, the median of the per-round ratios (that ISA's time / the first's).
Standard library only.
"""
import json
import statistics
import subprocess
import sys


def run_one(binary, name):
    """Median ms of 5 repetitions of the benchmark named exactly `name`."""
    out = subprocess.run(
        [binary, f"--benchmark_filter=^{name}/real_time$", "--benchmark_repetitions=5",
         "--benchmark_report_aggregates_only=true", "--benchmark_format=json"],
        check=True, capture_output=True, text=True).stdout
    for b in json.loads(out)["benchmarks"]:
        if b.get("aggregate_name") == "median":
            scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[b["time_unit"]]
            return b["real_time"] * scale
    raise SystemExit(f"rounds.py: no benchmark matches {name}")


def main():
    if len(sys.argv) < 4:
        raise SystemExit(__doc__)
    binary, rounds, specs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    cases = []
    for spec in specs:
        pattern, _, isas = spec.partition("@")
        cases.append((pattern, isas.split(",")))
    times = {(p, isa): [] for p, isas in cases for isa in isas}
    for r in range(rounds):
        for pattern, isas in cases:
            for isa in isas:
                times[(pattern, isa)].append(run_one(binary, pattern.format(isa=isa)))
        print(f"round {r + 1}/{rounds} done", file=sys.stderr, flush=True)
    for pattern, isas in cases:
        cells = []
        for isa in isas:
            t = times[(pattern, isa)]
            cells.append(f"{isa} {statistics.median(t):.4g} ({min(t):.4g})")
        base = times[(pattern, isas[0])]
        for isa in isas[1:]:
            ratios = [o / b for o, b in zip(times[(pattern, isa)], base)]
            cells.append(f"{isa}/{isas[0]} {statistics.median(ratios):.3f}")
        print(f"| {pattern.replace('/{isa}', '')} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
