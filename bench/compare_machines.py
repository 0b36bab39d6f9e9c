#!/usr/bin/env python3
"""compare_machines.py - one table comparing two machines' benchmark JSON.

Usage: compare_machines.py A.json B.json [--names NAME_A,NAME_B]

A and B are `bench_rnnk --benchmark_format=json` outputs from two machines
(each carrying its context: host name, cpu_model, ...). Rows are matched by
benchmark name (the same conventions as json_to_table.py: medians when
repetitions were run); rows present on one side only show "-" for the other.
Columns: ms and GFLOP/s on each machine and "B/A speed" = ms_A / ms_B
(> 1: B is faster). Standard library only.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import json_to_table as jt  # noqa: E402


def describe(doc, name):
    c = doc.get("context", {})
    return (f"- **{name}**: {c.get('cpu_model', 'cpu not recorded')}, "
            f"{c.get('num_cpus', '?')} cpus, {c.get('mhz_per_cpu', '?')} MHz, "
            f"host {c.get('host_name', '?')}, commit {c.get('commit', 'not recorded')}, "
            f"{c.get('date', '?')}")


def main(argv):
    names = None
    args = []
    i = 0
    while i < len(argv):
        if argv[i] == "--names" and i + 1 < len(argv):
            names = argv[i + 1].split(",", 1)
            i += 2
            continue
        if argv[i].startswith("--names="):
            names = argv[i].split("=", 1)[1].split(",", 1)
            i += 1
            continue
        args.append(argv[i])
        i += 1
    if len(args) != 2:
        print("usage: compare_machines.py A.json B.json [--names NAME_A,NAME_B]", file=sys.stderr)
        return 2
    docs = []
    for p in args:
        try:
            docs.append(jt.load(p))
        except (OSError, ValueError) as e:
            print(f"compare_machines: {p}: {e}", file=sys.stderr)
            return 1
    if not names or len(names) != 2:
        names = [d.get("context", {}).get("host_name") or f"machine {k}" for k, d in zip("AB", docs)]
        if names[0] == names[1]:
            names = [f"{names[0]} (A)", f"{names[1]} (B)"]

    rows_a, rows_b = (jt.rows_from(d) for d in docs)
    key = lambda r: (r["case"], r["isa"], r["tile"] or "")
    by_b = {key(r): r for r in rows_b}
    order = [key(r) for r in rows_a] + [key(r) for r in rows_b if key(r) not in {key(x) for x in rows_a}]
    by_a = {key(r): r for r in rows_a}

    print(describe(docs[0], names[0]))
    print(describe(docs[1], names[1]))
    print()
    cols = ["op", "ISA", "tile", f"ms {names[0]}", f"ms {names[1]}",
            f"GFLOP/s {names[0]}", f"GFLOP/s {names[1]}", "B/A speed"]
    out = []
    for k in order:
        a, b = by_a.get(k), by_b.get(k)
        ms_a = a["ms"] if a and not a["error"] else None
        ms_b = b["ms"] if b and not b["error"] else None
        ratio = ms_a / ms_b if ms_a and ms_b else None
        out.append([k[0], k[1], k[2] or "-",
                    jt.fmt_ms(ms_a) if a and not a["error"] else ("skipped" if a else "-"),
                    jt.fmt_ms(ms_b) if b and not b["error"] else ("skipped" if b else "-"),
                    jt.fmt(a["gflops"] if a else None, ".1f"),
                    jt.fmt(b["gflops"] if b else None, ".1f"),
                    jt.fmt(ratio, ".2f")])
    jt.print_markdown(cols, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
