/* test_shim.c - exercises the C API of bench/gbench.h with two toy benchmarks.
 *
 *   test_shim [--shim_quiet] [any --benchmark_* flag]
 *
 * dot/<n>:        f32 dot product; counters flops (per iteration, plain) and
 *                 a GFLOP/s rate; items and bytes processed; a label.
 * scale/n:<n>:    y = a*x with the timer paused for a re-initialisation of x
 *                 every iteration; named argument; unit us; real time.
 * dot/0:          skips itself (exercises rnnk_bench_skip).
 *
 * A result callback checks every reported run (time > 0, counters present,
 * aggregates named) and prints one line to stderr; the exit status is 0 only
 * if the runs were sane and at least one was reported (unless listing).
 */
#include "gbench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct check {
  int runs, aggregates, errors, bad;
} check;

static float dot(const float *x, const float *y, long n) {
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  long i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += x[i] * y[i];
    s1 += x[i + 1] * y[i + 1];
    s2 += x[i + 2] * y[i + 2];
    s3 += x[i + 3] * y[i + 3];
  }
  for (; i < n; i++) s0 += x[i] * y[i];
  return (s0 + s1) + (s2 + s3);
}

static void bm_dot(rnnk_bench_state *st, void *user) {
  (void)user;
  long n = rnnk_bench_arg(st, 0);
  if (n <= 0) {
    rnnk_bench_skip(st, "n must be > 0");
    return;
  }
  float *x = malloc(sizeof(float) * (size_t)n), *y = malloc(sizeof(float) * (size_t)n);
  if (!x || !y) {
    free(x);
    free(y);
    rnnk_bench_skip(st, "out of memory");
    return;
  }
  for (long i = 0; i < n; i++) x[i] = 1.0f + (float)(i & 7), y[i] = 0.5f;
  while (rnnk_bench_keep_running(st)) {
    float s = dot(x, y, n);
    rnnk_bench_escape(&s);
  }
  long it = rnnk_bench_iterations(st);
  rnnk_bench_counter(st, "flops", 2.0 * (double)n, RNNK_BENCH_PLAIN);
  rnnk_bench_counter(st, "GFLOP/s", 2e-9 * (double)n * (double)it, RNNK_BENCH_RATE);
  rnnk_bench_set_items(st, it * n);
  rnnk_bench_set_bytes(st, it * n * 2 * (long)sizeof(float));
  rnnk_bench_set_label(st, "tile=u4 bound=L1");
  free(x);
  free(y);
}

static void bm_scale(rnnk_bench_state *st, void *user) {
  const float a = *(const float *)user;
  long n = rnnk_bench_arg(st, 0);
  float *x = malloc(sizeof(float) * (size_t)n), *y = malloc(sizeof(float) * (size_t)n);
  if (!x || !y) {
    free(x);
    free(y);
    rnnk_bench_skip(st, "out of memory");
    return;
  }
  while (rnnk_bench_keep_running(st)) {
    rnnk_bench_pause(st);
    for (long i = 0; i < n; i++) x[i] = (float)i;
    rnnk_bench_clobber();
    rnnk_bench_resume(st);
    for (long i = 0; i < n; i++) y[i] = a * x[i];
    rnnk_bench_clobber();
  }
  rnnk_bench_counter(st, "flops", (double)n * (double)rnnk_bench_iterations(st),
                     RNNK_BENCH_AVG_ITERS);
  free(x);
  free(y);
}

static void on_result(const rnnk_bench_result *r, void *user) {
  check *c = user;
  if (r->error) {
    c->errors++;
    return;
  }
  if (r->aggregate[0]) {
    c->aggregates++;
    if (strstr(r->name, r->aggregate) == NULL) c->bad++;
  } else {
    c->runs++;
    if (r->iterations <= 0 || !(r->real_ns > 0) || !(r->cpu_ns > 0)) c->bad++;
  }
  int has_flops = 0;
  for (int i = 0; i < r->ncounters; i++)
    if (strcmp(r->counter_names[i], "flops") == 0) has_flops = 1;
  if (!has_flops) c->bad++;
  if (getenv("TEST_SHIM_VERBOSE"))
    fprintf(stderr, "  cb: %-28s agg=%-6s it=%lld real=%.1f ns cpu=%.1f ns%s label='%s' n=%d\n",
            r->name, r->aggregate, r->iterations, r->real_ns, r->cpu_ns,
            r->is_ratio ? " (ratio)" : "", r->label, r->ncounters);
}

int main(int argc, char **argv) {
  /* our own flag, removed before Google Benchmark parses the rest */
  int j = 1;
  int listing = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--shim_quiet") == 0) {
      rnnk_bench_quiet(true);
      continue;
    }
    if (strncmp(argv[i], "--benchmark_list_tests", 22) == 0) listing = 1;
    argv[j++] = argv[i];
  }
  argc = j;
  argv[argc] = NULL;

  static const long dot_n[] = {1024, 65536, 0};
  for (int i = 0; i < 3; i++) {
    rnnk_bench_register("dot", bm_dot, NULL, &dot_n[i], 1);
    if (dot_n[i] == 65536) rnnk_bench_last_unit(RNNK_BENCH_US);
  }
  static const float a = 3.0f;
  static const long scale_n = 4096;
  static const char *const scale_names[] = {"n"};
  rnnk_bench_register("scale", bm_scale, (void *)&a, &scale_n, 1);
  rnnk_bench_last_arg_names(scale_names, 1);
  rnnk_bench_last_unit(RNNK_BENCH_US);
  rnnk_bench_last_real_time();

  rnnk_bench_add_context("test_shim", "1");

  check c = {0, 0, 0, 0};
  rnnk_bench_set_result_callback(on_result, &c);
  int rc = rnnk_bench_main(&argc, argv);
  fprintf(stderr, "test_shim: %d runs, %d aggregates, %d skipped, %d bad\n", c.runs, c.aggregates,
          c.errors, c.bad);
  if (rc != 0) return rc;
  if (c.bad || (!listing && c.runs + c.errors == 0)) return 3;
  return 0;
}
