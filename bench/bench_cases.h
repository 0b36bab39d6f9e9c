/* Benchmark cases shared by bench/bench_rnnk (the suite) and `rnnk bench`.
 *
 * Bench-only. Registers Google Benchmark cases through the C shim
 * (bench/gbench.h); every network case reports, per iteration, the counters
 *   flops     flops of one iteration (2*G*H*(I+H)*N*T; Jordan + 2*O*H*N*T)
 *   wbytes    weight bytes read in one iteration (4*G*H*(I+H) per step)
 *   bound_ms  rnnk_roofline_bound_ms() of this host for the case, on the
 *             roofline of its ISA's vectors (rnnk_roofline_for_width)
 *   steps     time steps of one iteration (for µs per step)
 * and the label "tile=<unit or oneDNN impl> bound=<FMA|L1|L2|L3|DRAM>".
 * Names: OP/ISA/K:V..., e.g. lstm/avx512/N:1/H:256/T:50 (bench/json_to_table.py).
 */
#ifndef RNNK_BENCH_CASES_H
#define RNNK_BENCH_CASES_H

#include <stdbool.h>

#include "rnnk.h"
#include "roofline.h"

typedef struct bench_opts {
  bool quick;          /* the README's short table only */
  unsigned isa_mask;   /* bit (1u << rnnk_isa); 0 = every ISA of this architecture */
  const char *filter;  /* register only names containing this; NULL = all */
  bool no_onednn;      /* leave out the oneDNN rows even when built with oneDNN */
  bool verbose;        /* progress lines on stderr */
} bench_opts;

/* Create the thread pools and the OpenMP team (before pinning), pin this
 * thread to core 0, measure the roofline (quick: ~0.5 s, else ~3 s) and add
 * the context (CPU, flags, compiler, commit, pinning, roofline). */
void bench_setup(const bench_opts *o);

/* Register the cases selected by @p o; returns how many. */
int bench_register_cases(const bench_opts *o);

/* Free what the cases still hold (pools, the last prepared case). */
void bench_teardown(void);

const rnnk_roofline *bench_roofline(void);
bool bench_have_onednn(void);
/* "pinned to core 0 (hwloc)" or why not. */
const char *bench_pinning(void);
/* "compiler ...; flags ...; commit ..." as recorded in the context. */
const char *bench_build_info(void);
/* Comma list of the ISAs this host can run, e.g. "scalar,avx2,avx512". */
const char *bench_isas(void);
/* Parse "scalar,avx2" into an isa mask; -1 on an unknown name. */
long bench_parse_isas(const char *list);

/* Flop and weight-byte counts (the anchors' convention). */
double bench_net_flops(rnnk_cell cell, int N, int I, int H, int T);
double bench_net_wbytes_step(rnnk_cell cell, int I, int H);

#endif
