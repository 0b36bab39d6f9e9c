/* rnnk bench: the benchmark cases of bench/ (Google Benchmark through the C
 * shim) with a readable table, --json (Google Benchmark JSON, readable by
 * bench/json_to_table.py) and --svg (GFLOP/s and % of roofline across H). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/commands.h"

#if !RNNK_HAVE_GBENCH

int rnnk_cmd_bench(int argc, char **argv) {
  (void)argc, (void)argv;
  fprintf(stderr,
          "rnnk bench: this rnnk was built without the benchmark suite (it needs Google Benchmark,\n"
          "  libbenchmark-dev, and a C++ compiler; reconfigure with `meson configure -Dbench=enabled`).\n");
  return 2;
}

#else

#include <math.h>
#include <time.h>
#include <unistd.h>

#include "bench_cases.h"
#include "gbench.h"
#include "rnnk.h"
#include "svg_plot.h"

typedef struct row {
  char run_name[128];
  char op[32], isa[32], params[96], tile[64], bound[16];
  char error[200];
  bool mismatch, have;
  double ms, flops, wbytes, bound_ms, steps, p50, p99;
} row;

static row *g_rows;
static int g_nrows, g_caprows, g_total, g_reps;

static row *find_row(const char *rn) {
  for (int i = 0; i < g_nrows; i++)
    if (!strcmp(g_rows[i].run_name, rn)) return &g_rows[i];
  if (g_nrows == g_caprows) {
    int cap = g_caprows ? 2 * g_caprows : 64;
    row *n = realloc(g_rows, (size_t)cap * sizeof *n);
    if (!n) return NULL;
    g_rows = n, g_caprows = cap;
  }
  row *r = &g_rows[g_nrows++];
  memset(r, 0, sizeof *r);
  snprintf(r->run_name, sizeof r->run_name, "%s", rn);
  /* OP/ISA/K:V/... (Google Benchmark's own suffixes dropped) */
  char buf[128];
  snprintf(buf, sizeof buf, "%s", rn);
  int k = 0;
  for (char *save = NULL, *t = strtok_r(buf, "/", &save); t; t = strtok_r(NULL, "/", &save), k++) {
    if (!strcmp(t, "real_time") || !strncmp(t, "repeats:", 8) || !strncmp(t, "min_time:", 9)) continue;
    if (k == 0) snprintf(r->op, sizeof r->op, "%s", t);
    else if (k == 1) snprintf(r->isa, sizeof r->isa, "%s", t);
    else {
      size_t l = strlen(r->params);
      snprintf(r->params + l, sizeof r->params - l, "%s%s", l ? " " : "", t);
    }
  }
  return r;
}

static double counter(const rnnk_bench_result *r, const char *name) {
  for (int i = 0; i < r->ncounters; i++)
    if (!strcmp(r->counter_names[i], name)) return r->counter_values[i];
  return 0;
}

static void label_get(const char *label, const char *key, char *out, size_t len) {
  out[0] = 0;
  size_t kl = strlen(key);
  for (const char *p = label; p && *p;) {
    while (*p == ' ') p++;
    if (!strncmp(p, key, kl) && p[kl] == '=') {
      p += kl + 1;
      size_t n = strcspn(p, " ");
      snprintf(out, len, "%.*s", (int)n, p);
      return;
    }
    p += strcspn(p, " ");
  }
}

static void on_result(const rnnk_bench_result *r, void *user) {
  (void)user;
  row *w = find_row(r->run_name);
  if (!w) return;
  if (r->error) {
    snprintf(w->error, sizeof w->error, "%s", r->error);
    return;
  }
  const bool take = g_reps > 1 ? !strcmp(r->aggregate, "median") : r->aggregate[0] == 0;
  if (!take) return;
  w->have = true;
  w->error[0] = 0;
  w->ms = r->real_ns * 1e-6;
  w->flops = counter(r, "flops");
  w->wbytes = counter(r, "wbytes");
  w->bound_ms = counter(r, "bound_ms");
  w->steps = counter(r, "steps");
  w->p50 = counter(r, "p50_us");
  w->p99 = counter(r, "p99_us");
  label_get(r->label, "tile", w->tile, sizeof w->tile);
  label_get(r->label, "bound", w->bound, sizeof w->bound);
  char chk[32];
  label_get(r->label, "check", chk, sizeof chk);
  w->mismatch = !strcmp(chk, "MISMATCH");
  if (isatty(2)) fprintf(stderr, "\r[%d/%d] %-60s", g_nrows, g_total, r->run_name), fflush(stderr);
}

static double best_ms(const row *r, const char *isa) {
  double b = 0;
  for (int i = 0; i < g_nrows; i++) {
    const row *o = &g_rows[i];
    if (o->have && o->ms > 0 && !strcmp(o->op, r->op) && !strcmp(o->params, r->params) &&
        !strcmp(o->isa, isa) && (b == 0 || o->ms < b))
      b = o->ms;
  }
  return b;
}

static void cpu_model(char *buf, size_t len) {
  snprintf(buf, len, "unknown CPU");
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (!f) return;
  char line[512];
  while (fgets(line, sizeof line, f))
    if (!strncmp(line, "model name", 10)) {
      char *c = strchr(line, ':');
      if (c) {
        c += 1 + (c[1] == ' ');
        c[strcspn(c, "\n")] = 0;
        snprintf(buf, len, "%s", c);
      }
      break;
    }
  fclose(f);
}

static void print_table(bool quick) {
  const rnnk_roofline *rf = bench_roofline();
  char cpu[256];
  cpu_model(cpu, sizeof cpu);
  printf("\n- CPU: %s, %ld cpus online; ISAs: %s\n", cpu, sysconf(_SC_NPROCESSORS_ONLN), bench_isas());
  printf("- pinning: %s\n", bench_pinning());
  printf("- %s\n", bench_build_info());
  printf("- median of %d repetitions; weights warm (one untimed run first); T=50, I=H, 1 thread; "
         "GRU = linear_before_reset\n", g_reps);
  printf("- roofline (this host, 1 core): FMA zmm %.1f / ymm %.1f / scalar %.1f GFLOP/s; read "
         "L1 %.0f, L2 %.0f, L3 %.0f, DRAM %.1f GB/s (32-byte loads: L1 %.0f, L2 %.0f, L3 %.0f); each ISA's rows "
         "are bound by its own vectors\n",
         rf->fma_gflops_zmm, rf->fma_gflops_ymm, rf->fma_gflops_scalar, rf->bw_l1, rf->bw_l2, rf->bw_l3,
         rf->bw_dram, rf->bw_l1_ymm, rf->bw_l2_ymm, rf->bw_l3_ymm);
  if (!bench_have_onednn()) printf("- oneDNN: not built in (× oneDNN column empty)\n");
  printf("\n%-34s %-13s %-10s %9s %9s %8s %7s %-12s %8s %8s\n", "case", "ISA", "tile", "ms", "us/step",
         "GFLOP/s", "GB/s", "% of bound", "x scalar", "x oneDNN");
  bool any_lat = false;
  for (int i = 0; i < g_nrows; i++) {
    const row *r = &g_rows[i];
    char cs[128];
    snprintf(cs, sizeof cs, "%s %s", r->op, r->params);
    if (!r->have) {
      printf("%-34s %-13s skipped: %s\n", cs, r->isa, r->error[0] ? r->error : "no result");
      continue;
    }
    if (r->p50 > 0) any_lat = true;
    char ms[32], us[32], gf[32], gb[32], pb[48], xs[32], xd[32];
    snprintf(ms, sizeof ms, r->ms < 0.1 ? "%.4f" : r->ms < 10 ? "%.3f" : "%.1f", r->ms);
    snprintf(us, sizeof us, r->steps > 0 ? "%.2f" : "-", r->ms * 1e3 / (r->steps > 0 ? r->steps : 1));
    if (r->flops > 0) snprintf(gf, sizeof gf, "%.1f", r->flops / r->ms * 1e-6);
    else snprintf(gf, sizeof gf, "-");
    if (r->wbytes > 0) snprintf(gb, sizeof gb, "%.1f", r->wbytes / r->ms * 1e-6);
    else snprintf(gb, sizeof gb, "-");
    if (r->bound_ms > 0) snprintf(pb, sizeof pb, "%.0f (%s)", 100 * r->bound_ms / r->ms, r->bound);
    else snprintf(pb, sizeof pb, "-");
    const double s = best_ms(r, "scalar"), d = best_ms(r, "onednn");
    if (s > 0 && strcmp(r->isa, "scalar")) snprintf(xs, sizeof xs, "%.1f", s / r->ms);
    else snprintf(xs, sizeof xs, strcmp(r->isa, "scalar") ? "-" : "1.0");
    if (d > 0 && strcmp(r->isa, "onednn")) snprintf(xd, sizeof xd, "%.2f", d / r->ms);
    else snprintf(xd, sizeof xd, strcmp(r->isa, "onednn") ? "-" : r->mismatch ? "1.00 !" : "1.00");
    printf("%-34s %-13s %-10.10s %9s %9s %8s %7s %-12s %8s %8s\n", cs, r->isa, r->tile[0] ? r->tile : "-", ms,
           us, gf, gb, pb, xs, xd);
  }
  if (any_lat) {
    printf("\nstreaming step latency (rnnk_rnn_step, one call = one step):\n");
    for (int i = 0; i < g_nrows; i++)
      if (g_rows[i].have && g_rows[i].p50 > 0)
        printf("  %-10s %-8s %s: p50 %.2f us, p99 %.2f us\n", g_rows[i].op, g_rows[i].isa, g_rows[i].params,
               g_rows[i].p50, g_rows[i].p99);
  }
  for (int i = 0; i < g_nrows; i++)
    if (g_rows[i].mismatch)
      printf("WARNING: oneDNN's output differs from rnnk's for %s (see stderr); its ratio is not meaningful\n",
             g_rows[i].run_name);
  printf("\n%% of bound: the floor over the measured time. Networks: W_hh read once per step at the rate "
         "this core reads a working set of its size, labelled by the cache level it fits in (or its flops at "
         "FMA peak, if slower), plus the input projection at FMA peak; kernels: FMA peak or their weight bytes "
         "at that rate.%s\n",
         quick ? " scalar runs at H=128 only; \"-\" = not measured." : "");
}

static int write_svg(const char *path) {
  static const char *isas[] = {"scalar", "avx2", "avx512", "neon", "onednn"};
  static const char *colors[] = {"#777777", "#1f77b4", "#d62728", "#2ca02c", "#000000"};
  static const char *cells[] = {"lstm", "gru", "elman", "jordan"};
  svg_series s[20];
  static double xs[20][8], y1[20][8], y2[20][8];
  char names[20][48];
  int ns = 0;
  for (int c = 0; c < 4; c++)
    for (int k = 0; k < 5; k++) {
      int n = 0;
      for (int i = 0; i < g_nrows && n < 8; i++) {
        const row *r = &g_rows[i];
        if (!r->have || strcmp(r->op, cells[c]) || strcmp(r->isa, isas[k]) || !strstr(r->params, "N:1 ") ||
            r->flops <= 0)
          continue;
        const char *h = strstr(r->params, "H:");
        if (!h) continue;
        xs[ns][n] = atof(h + 2);
        y1[ns][n] = r->flops / r->ms * 1e-6;
        y2[ns][n] = r->bound_ms > 0 ? 100 * r->bound_ms / r->ms : -1;
        n++;
      }
      if (!n) continue;
      snprintf(names[ns], sizeof names[ns], "%s %s", cells[c], isas[k]);
      s[ns] = (svg_series){names[ns], colors[k], c % 3, n, xs[ns], y1[ns], y2[ns]};
      ns++;
    }
  char title[256], cpu[160];
  cpu_model(cpu, sizeof cpu);
  snprintf(title, sizeof title, "rnnk, N=1, T=50, I=H, 1 thread: %s", cpu);
  return svg_plot_write(path, title, "H (hidden size)", "GFLOP/s", "% of roofline bound", s, ns);
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: rnnk bench [--quick] [--json FILE] [--svg FILE] [--isa LIST] [--filter SUBSTR]\n"
          "                  [--reps N] [--no-onednn] [-- GOOGLE_BENCHMARK_FLAGS...]\n"
          "  --quick        the README table: LSTM/GRU/Elman N=1 H=128/256/512, LSTM N=64 H=256\n"
          "                 (scalar at H=128 only); about a minute on 2 cores\n"
          "  --json FILE    Google Benchmark JSON (bench/json_to_table.py FILE makes the README table)\n"
          "  --svg FILE     plot of GFLOP/s and %% of roofline per ISA across H (N=1)\n"
          "  --isa LIST     comma list of scalar,avx2,avx512,neon (default: all this host runs)\n"
          "  --filter S     only cases whose name contains S (e.g. lstm/avx512/N:1)\n"
          "  --reps N       repetitions, the median is reported (default 10; 5 with --quick)\n"
          "  --no-onednn    leave out the oneDNN rows\n"
          "Flags after -- go to Google Benchmark (e.g. --benchmark_min_time=0.5).\n");
}

int rnnk_cmd_bench(int argc, char **argv) {
  bench_opts o = {0};
  const char *json = NULL, *svg = NULL;
  int reps = 0;
  char **gb = calloc((size_t)argc + 8, sizeof *gb);
  if (!gb) return 2;
  int ng = 0, ipass = argc;
  gb[ng++] = "rnnk-bench";
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const bool has = i + 1 < argc;
    if (!strcmp(a, "--")) {
      ipass = i + 1;
      break;
    } else if (!strcmp(a, "--quick")) {
      o.quick = true;
    } else if (!strcmp(a, "--json") && has) {
      json = argv[++i];
    } else if (!strcmp(a, "--svg") && has) {
      svg = argv[++i];
    } else if (!strcmp(a, "--isa") && has) {
      long m = bench_parse_isas(argv[++i]);
      if (m < 0) {
        fprintf(stderr, "rnnk bench: unknown ISA in '%s' (scalar, avx2, avx512, neon)\n", argv[i]);
        free(gb);
        return 2;
      }
      o.isa_mask = (unsigned)m;
    } else if (!strcmp(a, "--filter") && has) {
      o.filter = argv[++i];
    } else if (!strcmp(a, "--reps") && has) {
      reps = atoi(argv[++i]);
      if (reps < 1) {
        fprintf(stderr, "rnnk bench: --reps wants a positive number\n");
        free(gb);
        return 2;
      }
    } else if (!strcmp(a, "--no-onednn")) {
      o.no_onednn = true;
    } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout);
      free(gb);
      return 0;
    } else {
      fprintf(stderr, "rnnk bench: unknown option '%s'\n", a);
      usage(stderr);
      free(gb);
      return 2;
    }
  }
  g_reps = reps ? reps : o.quick ? 5 : 10;
  static char f_min[64], f_rep[64], f_out[1100];
  snprintf(f_min, sizeof f_min, "--benchmark_min_time=%s", o.quick ? "0.1" : "0.2");
  snprintf(f_rep, sizeof f_rep, "--benchmark_repetitions=%d", g_reps);
  gb[ng++] = f_min;
  gb[ng++] = f_rep;
  /* Fail before minutes of benchmarking if an output cannot be written. */
  const char *outs[2] = {json, svg};
  for (int i = 0; i < 2; i++) {
    FILE *f = outs[i] ? fopen(outs[i], "a") : NULL;
    if (outs[i] && !f) {
      fprintf(stderr, "rnnk bench: cannot write %s: %s\n", outs[i], strerror(errno));
      return 2;
    }
    if (f) fclose(f);
  }
  if (json) {
    snprintf(f_out, sizeof f_out, "--benchmark_out=%s", json);
    gb[ng++] = f_out;
    gb[ng++] = "--benchmark_out_format=json";
  }
  for (int i = ipass; i < argc; i++) gb[ng++] = argv[i];
  gb[ng] = NULL;

  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  bench_setup(&o);
  g_total = bench_register_cases(&o);
  if (g_total == 0) {
    fprintf(stderr, "rnnk bench: no case matches%s%s\n", o.filter ? " --filter " : "", o.filter ? o.filter : "");
    bench_teardown();
    free(gb);
    return 2;
  }
  rnnk_bench_quiet(true);
  rnnk_bench_set_result_callback(on_result, NULL);
  int rc = rnnk_bench_main(&ng, gb);
  if (isatty(2)) fprintf(stderr, "\r%-80s\r", "");
  clock_gettime(CLOCK_MONOTONIC, &t1);
  if (rc == 0) {
    print_table(o.quick);
    printf("(%d cases in %.1f s%s%s)\n", g_nrows, (t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec),
           json ? "; JSON: " : "", json ? json : "");
    if (svg) {
      if (write_svg(svg) == 0) printf("plot: %s\n", svg);
      else fprintf(stderr, "rnnk bench: cannot write %s\n", svg), rc = 1;
    }
  }
  bench_teardown();
  free(g_rows);
  g_rows = NULL;
  g_nrows = g_caprows = 0;
  free(gb);
  return rc;
}

#endif
