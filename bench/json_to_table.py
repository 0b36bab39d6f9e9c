#!/usr/bin/env python3
"""json_to_table.py - Google Benchmark JSON -> the README benchmark table.

Usage: json_to_table.py RESULTS.json [MORE.json ...] [--no-header]
       (use '-' for stdin)

Reads `bench_rnnk --benchmark_format=json` (or --benchmark_out) output. With
--benchmark_repetitions=N the `median` aggregate of each benchmark is used;
without aggregates the single run is (or the median of the runs, if several).

Conventions (set by bench/bench_rnnk.c; missing pieces print as "-"):
  name     OP/ISA[/K:V ...], e.g. lstm/avx512/N:1/H:256/T:50. ISA is the
           implementation: scalar, avx2, avx512, neon, ..., onednn. The
           components Google Benchmark appends (real_time, repeats:N,
           iterations:N, min_time:X, threads:N, ...) are dropped. A tile:X
           component, if any, goes to the tile column.
  counters flops   flops of one iteration (RNNK_BENCH_PLAIN)
           wbytes  weight bytes read in one iteration (RNNK_BENCH_PLAIN)
           bound_ms  rnnk_roofline_bound_ms() for this case (on its ISA's roofline)
  label    space-separated key=value: tile=32x4 bound=L2 (the binding bound
           named by rnnk_roofline_bound_ms); other keys are ignored.
  context  cpu_model, governor, turbo (the shim adds these), and from the
           benchmark: compiler, cflags, commit, pinning, weights (warm/cold),
           roofline_* ... ; printed above the table.

Columns: ms = median real time per iteration; GFLOP/s = flops/time; GB/s =
wbytes/time; % of bound = bound_ms/time; x scalar = time of the fastest
`scalar` row of the same case / time; x oneDNN likewise with `onednn`.
Standard library only.
"""
import json
import sys

GB_SUFFIXES = ("real_time", "process_time", "manual_time")
GB_PREFIXES = ("repeats:", "iterations:", "min_time:", "threads:", "min_warmup_time:")
UNIT_MS = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}


def load(path):
    f = sys.stdin if path == "-" else open(path)
    with f:
        return json.load(f)


def parse_label(label):
    kv = {}
    for tok in (label or "").split():
        if "=" in tok:
            k, v = tok.split("=", 1)
            kv[k] = v
    return kv


def parse_name(run_name):
    """-> (op, isa, params [(k, v)], tile or None)."""
    parts = [p for p in run_name.split("/")
             if p not in GB_SUFFIXES and not p.startswith(GB_PREFIXES)]
    op = parts[0] if parts else run_name
    isa = parts[1] if len(parts) > 1 else "-"
    params, tile = [], None
    for p in parts[2:]:
        k, sep, v = p.partition(":")
        if not sep:
            k, v = "", p
        if k == "tile":
            tile = v
        else:
            params.append((k, v))
    return op, isa, params, tile


def case_text(op, params):
    ps = [f"{k}={v}" if k else v for k, v in params]
    return ", ".join([op] + ps)


def rows_from(doc):
    """One dict per benchmark instance (run_name), in order of appearance."""
    groups = {}
    for b in doc.get("benchmarks", []):
        rn = b.get("run_name") or b.get("name", "?")
        g = groups.setdefault(rn, {"runs": [], "median": None, "error": None, "reps": 1})
        if b.get("error_occurred"):
            g["error"] = b.get("error_message", "error")
            continue
        g["reps"] = max(g["reps"], int(b.get("repetitions", 1) or 1))
        if b.get("run_type") == "aggregate":
            if b.get("aggregate_name") == "median":
                g["median"] = b
        else:
            g["runs"].append(b)
    rows = []
    for rn, g in groups.items():
        op, isa, params, tile = parse_name(rn)
        r = {"run_name": rn, "op": op, "isa": isa, "params": params, "tile": tile,
             "case": case_text(op, params), "error": g["error"], "reps": g["reps"],
             "ms": None, "flops": None, "wbytes": None, "bound_ms": None, "bound": None}
        src = g["median"]
        if src is None and g["runs"]:
            if len(g["runs"]) == 1:
                src = g["runs"][0]
            else:  # repetitions without aggregates: median by real time
                srt = sorted(g["runs"], key=lambda b: b["real_time"] * UNIT_MS.get(b.get("time_unit", "ns"), 1e-6))
                src = srt[len(srt) // 2]
        if src is not None:
            r["error"] = None
            r["ms"] = src["real_time"] * UNIT_MS.get(src.get("time_unit", "ns"), 1e-6)
            for k in ("flops", "wbytes", "bound_ms"):
                v = src.get(k)
                r[k] = float(v) if isinstance(v, (int, float)) else None
            lab = parse_label(src.get("label", ""))
            r["bound"] = lab.get("bound")
            if r["tile"] is None:
                r["tile"] = lab.get("tile")
        rows.append(r)
    # derived columns
    best = {}
    for r in rows:
        if r["ms"] and r["ms"] > 0:
            k = (r["case"], r["isa"])
            best[k] = min(best.get(k, float("inf")), r["ms"])
    for r in rows:
        ms = r["ms"]
        ok = ms is not None and ms > 0
        r["gflops"] = r["flops"] / ms * 1e-6 if ok and r["flops"] else None
        r["gbs"] = r["wbytes"] / ms * 1e-6 if ok and r["wbytes"] else None
        r["pct_bound"] = 100.0 * r["bound_ms"] / ms if ok and r["bound_ms"] else None
        s = best.get((r["case"], "scalar"))
        d = best.get((r["case"], "onednn"))
        r["x_scalar"] = s / ms if ok and s else None
        r["x_onednn"] = d / ms if ok and d else None
    return rows


def fmt(x, spec):
    return "-" if x is None else format(x, spec)


def fmt_ms(ms):
    if ms is None:
        return "-"
    return f"{ms:.3g}" if ms < 0.1 else f"{ms:.3f}" if ms < 10 else f"{ms:.1f}"


def header_lines(doc, rows):
    c = doc.get("context", {})
    nc = lambda k: c.get(k, "not recorded")
    reps = max([r["reps"] for r in rows] or [1])
    lines = [
        f"- CPU: {nc('cpu_model')}, {c.get('num_cpus', '?')} cpus visible, "
        f"{c.get('mhz_per_cpu', '?')} MHz nominal, host {c.get('host_name', '?')}",
        f"- pinning: {nc('pinning')}; governor: {nc('governor')}; turbo: {nc('turbo')}",
        f"- compiler: {c.get('compiler', c.get('shim_compiler', 'not recorded'))}; "
        f"flags: {nc('cflags')}",
        f"- commit: {nc('commit')}; date: {c.get('date', '?')}",
        "- " + (f"median of {reps} repetitions" if reps > 1 else "single run (no repetitions)"),
        f"- weights: {nc('weights')}",
    ]
    if c.get("library_build_type") == "debug":
        lines.append("- Google Benchmark library built as debug (Debian package; cosmetic)")
    roof = [f"{k.replace('roofline_', '')} {v}" for k, v in c.items() if k.startswith("roofline")]
    if roof:
        lines.append("- roofline (measured on this host): " + ", ".join(roof))
    return lines


COLS = ["op", "ISA", "tile", "ms", "GFLOP/s", "GB/s", "% of bound", "× scalar", "× oneDNN"]


def table_rows(rows):
    out = []
    for r in rows:
        if r["error"]:
            out.append([r["case"], r["isa"], r["tile"] or "-", "skipped: " + r["error"],
                        "-", "-", "-", "-", "-"])
            continue
        pb = fmt(r["pct_bound"], ".0f")
        if r["pct_bound"] is not None and r["bound"]:
            pb += f" ({r['bound']})"
        out.append([r["case"], r["isa"], r["tile"] or "-", fmt_ms(r["ms"]),
                    fmt(r["gflops"], ".1f"), fmt(r["gbs"], ".1f"), pb,
                    fmt(r["x_scalar"], ".2f"), fmt(r["x_onednn"], ".2f")])
    return out


def print_markdown(cols, rows, right_from=3):
    print("| " + " | ".join(cols) + " |")
    print("|" + "|".join("---" if i < right_from else "---:" for i in range(len(cols))) + "|")
    for r in rows:
        print("| " + " | ".join(str(x) for x in r) + " |")


def main(argv):
    no_header = "--no-header" in argv
    paths = [a for a in argv if a != "--no-header"]
    if not paths:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    for i, p in enumerate(paths):
        try:
            doc = load(p)
        except (OSError, ValueError) as e:
            print(f"json_to_table: {p}: {e}", file=sys.stderr)
            return 1
        rows = rows_from(doc)
        if i:
            print()
        if not no_header:
            print("\n".join(header_lines(doc, rows)))
            print()
        print_markdown(COLS, table_rows(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
