/* bench_rnnk: the full benchmark suite (Google Benchmark through the C shim).
 *
 *   bench_rnnk [--quick] [--isa LIST] [--filter SUBSTR] [Google Benchmark flags]
 *
 * Every kernel variant x every ISA this host runs, whole networks per cell
 * type (N 1/8/64, H 128..1024, T 50, I = H, one thread), streaming step
 * latency (p50/p99), forward_many over 1 and 2 pinned threads, and oneDNN's
 * RNN primitive on the same shapes when built with it. Defaults to
 * --benchmark_min_time=0.1 and --benchmark_repetitions=10 (flags given on the
 * command line win). JSON: --benchmark_format=json or --benchmark_out=FILE;
 * bench/json_to_table.py turns it into the README table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_cases.h"
#include "gbench.h"

int main(int argc, char **argv) {
  bench_opts o = {0};
  /* our flags out, defaults in front of the Google Benchmark flags */
  char **args = calloc((size_t)argc + 4, sizeof *args);
  if (!args) return 2;
  int n = 0;
  args[n++] = argv[0];
  args[n++] = "--benchmark_min_time=0.1";
  args[n++] = "--benchmark_repetitions=10";
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--quick")) {
      o.quick = true;
    } else if (!strcmp(argv[i], "--isa") && i + 1 < argc) {
      long m = bench_parse_isas(argv[++i]);
      if (m < 0) {
        fprintf(stderr, "bench_rnnk: unknown ISA in '%s'\n", argv[i]);
        return 2;
      }
      o.isa_mask = (unsigned)m;
    } else if (!strcmp(argv[i], "--filter") && i + 1 < argc) {
      o.filter = argv[++i];
    } else if (!strcmp(argv[i], "--no-onednn")) {
      o.no_onednn = true;
    } else {
      args[n++] = argv[i];
    }
  }
  args[n] = NULL;
  bench_setup(&o);
  bench_register_cases(&o);
  int rc = rnnk_bench_main(&n, args);
  bench_teardown();
  free(args);
  return rc;
}
