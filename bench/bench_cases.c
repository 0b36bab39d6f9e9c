/* Benchmark cases: networks per cell/ISA/shape, oneDNN side by side,
 * streaming step latency, forward_many over a pool, kernel microbenchmarks.
 * See bench_cases.h. */
#include "bench_cases.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gbench.h"
#include "roofline.h"
#include "src/internal.h"
#include "threads/pool.h"

#if RNNK_BENCH_HAVE_ONEDNN
#include "onednn_rnn.h"
#endif

#ifndef RNNK_BENCH_COMPILER
#define RNNK_BENCH_COMPILER "unknown"
#endif
#ifndef RNNK_BENCH_CFLAGS
#define RNNK_BENCH_CFLAGS "unknown"
#endif
#include "rnnk_bench_commit.h"
#ifndef RNNK_BENCH_COMMIT
#define RNNK_BENCH_COMMIT "unknown"
#endif

#if RNNK_BENCH_HAVE_SLEEF
void rnnk_bench_sleef_sigmoid(size_t n, const float *x, float *y);
void rnnk_bench_sleef_tanh(size_t n, const float *x, float *y);
#endif

/* ------------------------------------------------------------------ */
/* Counts                                                              */
/* ------------------------------------------------------------------ */

static int gates(rnnk_cell c) { return c == RNNK_LSTM ? 4 : c == RNNK_GRU ? 3 : 1; }

/* Jordan networks here have O = H. */
double bench_net_flops(rnnk_cell cell, int N, int I, int H, int T) {
  double f = 2.0 * gates(cell) * H * (double)(I + H) * N * T;
  if (cell == RNNK_JORDAN) f += 2.0 * H * (double)H * N * T;
  return f;
}

/* Recurrent weights read per step (W_hh; Jordan also V), and the flops of
 * the recurrent products. */
double bench_net_rec_bytes_step(rnnk_cell cell, int H) {
  return 4.0 * (gates(cell) + (cell == RNNK_JORDAN)) * H * (double)H;
}
double bench_net_rec_flops(rnnk_cell cell, int N, int H, int T) {
  return 2.0 * (gates(cell) + (cell == RNNK_JORDAN)) * H * (double)H * N * T;
}

double bench_net_wbytes_step(rnnk_cell cell, int I, int H) {
  double b = 4.0 * gates(cell) * H * (double)(I + H);
  if (cell == RNNK_JORDAN) b += 4.0 * H * (double)H;
  return b;
}

static const char *cell_name(rnnk_cell c) {
  switch (c) {
  case RNNK_ELMAN: return "elman";
  case RNNK_JORDAN: return "jordan";
  case RNNK_LSTM: return "lstm";
  default: return "gru";
  }
}

/* ------------------------------------------------------------------ */
/* Global state                                                        */
/* ------------------------------------------------------------------ */

static rnnk_roofline g_roof;
#define MAX_POOL 256
static rnnk_pool *g_pool[MAX_POOL + 1]; /* [threads]: 1, 2 and every core of the host */
static int g_ncores = 2;
static char g_pinning[128] = "not pinned";
static char g_isas[64];
static bool g_onednn_used;

const rnnk_roofline *bench_roofline(void) { return &g_roof; }
const char *bench_pinning(void) { return g_pinning; }

const char *bench_build_info(void) {
  return "compiler " RNNK_BENCH_COMPILER "; flags " RNNK_BENCH_CFLAGS "; commit " RNNK_BENCH_COMMIT;
}

bool bench_have_onednn(void) {
#if RNNK_BENCH_HAVE_ONEDNN
  return true;
#else
  return false;
#endif
}

static const rnnk_isa k_isas[] = {
#if defined(__x86_64__) || defined(__i386__)
    RNNK_ISA_SCALAR, RNNK_ISA_AVX2, RNNK_ISA_AVX512,
#elif defined(__aarch64__)
    RNNK_ISA_SCALAR, RNNK_ISA_NEON,
#else
    RNNK_ISA_SCALAR,
#endif
};
#define NISA ((int)(sizeof k_isas / sizeof *k_isas))

const char *bench_isas(void) {
  g_isas[0] = 0;
  for (int i = 0; i < NISA; i++)
    if (rnnk_isa_supported(k_isas[i])) {
      if (g_isas[0]) strcat(g_isas, ",");
      strcat(g_isas, rnnk_isa_name(k_isas[i]));
    }
  return g_isas;
}

long bench_parse_isas(const char *list) {
  long mask = 0;
  char buf[256];
  snprintf(buf, sizeof buf, "%s", list);
  for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    int found = 0;
    for (int i = RNNK_ISA_SCALAR; i <= RNNK_ISA_NEON; i++)
      if (!strcmp(t, rnnk_isa_name((rnnk_isa)i))) mask |= 1L << i, found = 1;
    if (!found) return -1;
  }
  return mask;
}

static void add_ctx_f(const char *key, const char *fmt, double v) {
  char b[64];
  snprintf(b, sizeof b, fmt, v);
  rnnk_bench_add_context(key, b);
}

static void cpu_flags(char *buf, size_t len) {
  static const struct { uint64_t bit; const char *name; } f[] = {
      {RNNK_CPU_FMA, "fma"},           {RNNK_CPU_AVX2, "avx2"},         {RNNK_CPU_AVX512F, "avx512f"},
      {RNNK_CPU_AVX512BW, "avx512bw"}, {RNNK_CPU_AVX512DQ, "avx512dq"}, {RNNK_CPU_AVX512VL, "avx512vl"},
      {RNNK_CPU_AVX512BF16, "avx512bf16"}, {RNNK_CPU_AVX512FP16, "avx512fp16"},
      {RNNK_CPU_AVXVNNI, "avxvnni"},   {RNNK_CPU_NEON, "neon"},         {RNNK_CPU_NEON_DOT, "neon_dot"},
      {RNNK_CPU_OS_YMM, "os_ymm"},     {RNNK_CPU_OS_ZMM, "os_zmm"},
  };
  const uint64_t have = rnnk_cpu_features();
  buf[0] = 0;
  for (size_t i = 0; i < sizeof f / sizeof *f; i++)
    if (have & f[i].bit) {
      size_t l = strlen(buf);
      snprintf(buf + l, len - l, "%s%s", l ? " " : "", f[i].name);
    }
}

void bench_setup(const bench_opts *o) {
  /* Pools and the OpenMP team first: their threads take the CPU mask of the
   * creating thread, which is still the whole process here. */
  rnnk_pool_create(1, RNNK_PIN_COMPACT, &g_pool[1]);
  if (rnnk_pool_create(2, RNNK_PIN_COMPACT, &g_pool[2]) != RNNK_OK) g_pool[2] = NULL;
  rnnk_pool *all = NULL; /* threads = 0: one per allowed core */
  if (rnnk_pool_create(0, RNNK_PIN_COMPACT, &all) == RNNK_OK) {
    g_ncores = rnnk_pool_size(all);
    if (g_ncores > 2 && g_ncores <= MAX_POOL) g_pool[g_ncores] = all;
    else rnnk_pool_destroy(all);
  }
#if RNNK_BENCH_HAVE_ONEDNN
  if (!o->no_onednn) rnnk_dnnl_threads_init(g_ncores > 2 ? g_ncores : 2);
#endif
  if (rnnk_pin_current_thread(0))
    snprintf(g_pinning, sizeof g_pinning,
             "benchmark thread pinned to core 0 (hwloc); 2-thread pool: RNNK_PIN_COMPACT%s",
             g_pool[2] && rnnk_pool_pinned(g_pool[2]) ? " (pinned)" : " (pinning failed)");
  else
    snprintf(g_pinning, sizeof g_pinning, "not pinned (rnnk_pin_current_thread failed)");
  if (o->verbose) fprintf(stderr, "rnnk bench: measuring the roofline...\n");
  rnnk_roofline_measure(&g_roof, 0); /* the full measurement (~3 s) even for --quick */

  char buf[512];
  rnnk_bench_add_context("compiler", RNNK_BENCH_COMPILER);
  rnnk_bench_add_context("cflags", RNNK_BENCH_CFLAGS);
  rnnk_bench_add_context("commit", RNNK_BENCH_COMMIT);
  rnnk_bench_add_context("pinning", g_pinning);
  rnnk_bench_add_context("weights", "warm (each case runs once untimed first; rows reuse one network)");
  cpu_flags(buf, sizeof buf);
  rnnk_bench_add_context("cpu_flags", buf);
  rnnk_bench_add_context("rnnk_isas", bench_isas());
  rnnk_bench_add_context("rnnk_version", rnnk_version());
  rnnk_bench_add_context("gru", "linear_before_reset=1 (PyTorch / oneDNN lbr_gru)");
#if RNNK_BENCH_HAVE_ONEDNN
  snprintf(buf, sizeof buf, "%s, OpenMP, omp_set_num_threads(threads) before create and execute",
           rnnk_dnnl_version());
  rnnk_bench_add_context("onednn", buf);
#else
  rnnk_bench_add_context("onednn", "not built (meson -Donednn)");
#endif
  add_ctx_f("roofline_fma_zmm", "%.1f GFLOP/s", g_roof.fma_gflops_zmm);
  add_ctx_f("roofline_fma_ymm", "%.1f GFLOP/s", g_roof.fma_gflops_ymm);
  add_ctx_f("roofline_fma_scalar", "%.1f GFLOP/s", g_roof.fma_gflops_scalar);
  add_ctx_f("roofline_bw_l1", "%.1f GB/s", g_roof.bw_l1);
  add_ctx_f("roofline_bw_l2", "%.1f GB/s", g_roof.bw_l2);
  add_ctx_f("roofline_bw_l3", "%.1f GB/s", g_roof.bw_l3);
  add_ctx_f("roofline_bw_dram", "%.1f GB/s", g_roof.bw_dram);
  add_ctx_f("roofline_bw_l2_ymm", "%.1f GB/s", g_roof.bw_l2_ymm);
}

/* ------------------------------------------------------------------ */
/* Cases                                                               */
/* ------------------------------------------------------------------ */

enum kind { K_NET, K_STEP_LAT, K_MANY, K_GEMM, K_STEPK, K_ACT };
enum { IMPL_RNNK, IMPL_ONEDNN, IMPL_SLEEF };
enum { SK_LSTM, SK_GRU, SK_GRU_RZ, SK_GRU_N, SK_ELMAN };
static const char *const sk_names[] = {"lstm", "gru", "gru_rz", "gru_n", "elman"};
static const int sk_gates[] = {4, 3, 2, 1, 1};

typedef struct bcase {
  int kind, impl;
  rnnk_cell cell;
  rnnk_isa isa;
  int N, H, I, T;
  int threads, count; /* K_MANY */
  int sub;            /* K_STEPK: SK_*; K_ACT: RNNK_K_SIGMOID / RNNK_K_TANH */
  bool ragged;        /* K_NET: lengths T down to T/10, sorted (PyTorch's enforce_sorted) */
  char name[96];
} bcase;

#define MAX_CASES 1024
static bcase *g_cases;
static int g_ncases;

/* One prepared case at a time (cases run one after another): building a
 * network is outside the timing and done once per case, not per call. */
typedef struct prepared {
  const bcase *c;
  char err[256];
  char tile[96];
  char check[32];
  rnnk_rnn *rnn;
  rnnk_state *st;
  float *x, *y, *hT, *cT;
  int *lengths; /* ragged cases, else NULL */
  rnnk_sequence *seqs;
  float **seq_bufs;
  double flops, wbytes_step, steps;
  double rec_flops, rec_bytes_step; /* whole networks: the recurrent part (floor model) */
  /* kernels */
  const rnnk_ukernels *uk;
  float *W, *pre, *hin, *hprev, *cst, *out, *out2, *bias;
  rnnk_cell_param cp;
  size_t U;
  double *lat;
  size_t nlat, caplat;
#if RNNK_BENCH_HAVE_ONEDNN
  void *dnnl;
#endif
} prepared;
static prepared g_prep;

static uint64_t rng_state;
static void rng_seed(uint64_t s) { rng_state = s * 0x9E3779B97F4A7C15ull + 1; }
static float rng_uniform(float lo, float hi) { /* splitmix64 */
  uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return lo + (hi - lo) * (float)((z >> 40) * (1.0 / 16777216.0));
}

static float *falloc_rand(size_t n, float scale) {
  float *p = malloc((n ? n : 1) * sizeof(float));
  if (p)
    for (size_t i = 0; i < n; i++) p[i] = rng_uniform(-scale, scale);
  return p;
}

static void prep_free(prepared *p) {
  rnnk_state_destroy(p->st);
  rnnk_rnn_destroy(p->rnn);
  free(p->x), free(p->y), free(p->hT), free(p->cT), free(p->lengths);
  if (p->seq_bufs) {
    for (int i = 0; p->c && i < 2 * p->c->count; i++) free(p->seq_bufs[i]);
    free(p->seq_bufs);
  }
  free(p->seqs);
  free(p->W), free(p->pre), free(p->hin), free(p->hprev), free(p->cst), free(p->out), free(p->out2),
      free(p->bias);
  free(p->lat);
#if RNNK_BENCH_HAVE_ONEDNN
  if (p->dnnl) rnnk_dnnl_destroy(p->dnnl);
#endif
  memset(p, 0, sizeof *p);
}

void bench_teardown(void) {
  prep_free(&g_prep);
  for (int t = 0; t <= MAX_POOL; t++) {
    rnnk_pool_destroy(g_pool[t]);
    g_pool[t] = NULL;
  }
  free(g_cases);
  g_cases = NULL;
  g_ncases = 0;
}

/* PyTorch-layout weights of a one-layer network, seeded by the shape only:
 * rnnk and oneDNN rows of one shape get the same numbers. */
typedef struct weights {
  float *w_ih, *w_hh, *b_ih, *b_hh, *w_out, *b_out;
} weights;

static void weights_make(weights *w, rnnk_cell cell, int I, int H) {
  const int G = gates(cell), S = H; /* Jordan: O = H */
  rng_seed(1000003u * (unsigned)cell + 7919u * (unsigned)H + (unsigned)I);
  const float s = 1.0f / sqrtf((float)H);
  w->w_ih = falloc_rand((size_t)G * H * I, s);
  w->w_hh = falloc_rand((size_t)G * H * S, s);
  w->b_ih = falloc_rand((size_t)G * H, s);
  w->b_hh = falloc_rand((size_t)G * H, s);
  w->w_out = cell == RNNK_JORDAN ? falloc_rand((size_t)H * H, s) : NULL;
  w->b_out = cell == RNNK_JORDAN ? falloc_rand((size_t)H, s) : NULL;
}

static void weights_free(weights *w) {
  free(w->w_ih), free(w->w_hh), free(w->b_ih), free(w->b_hh), free(w->w_out), free(w->b_out);
}

/* A one-layer network of the case's shape, laid out for batches of N. */
static rnnk_status make_rnn(rnnk_cell cell, rnnk_isa isa, int I, int H, int N, const weights *w,
                            rnnk_rnn **out) {
  rnnk_config cfg;
  rnnk_config_init(&cfg, cell, I, H);
  cfg.isa = isa;
  cfg.batch_hint = N;
  if (cell == RNNK_GRU) cfg.linear_before_reset = true;
  if (cell == RNNK_JORDAN) cfg.output_size = H;
  rnnk_status s = rnnk_rnn_create(&cfg, out);
  if (s != RNNK_OK) return s;
  rnnk_weights rw = {.w_ih = w->w_ih, .w_hh = w->w_hh, .b_ih = w->b_ih, .b_hh = w->b_hh,
                     .w_out = w->w_out, .b_out = w->b_out};
  s = rnnk_rnn_set_weights(*out, 0, 0, RNNK_LAYOUT_PYTORCH, &rw);
  if (s != RNNK_OK) {
    rnnk_rnn_destroy(*out);
    *out = NULL;
  }
  return s;
}

static void tile_of(const rnnk_rnn *rnn, char *buf, size_t len) {
  char d[512];
  snprintf(buf, len, "?");
  if (rnnk_rnn_describe(rnn, d, sizeof d) != RNNK_OK) return;
  const char *u = strstr(d, " unit=");
  if (u) snprintf(buf, len, "%d", atoi(u + 6));
}

static bool prep_fail(prepared *p, const char *what) {
  snprintf(p->err, sizeof p->err, "%s: %s (%s)", what, rnnk_last_error(), p->c->name);
  return false;
}

#if RNNK_BENCH_HAVE_ONEDNN
/* rnnk (default ISA, same weights and input) vs oneDNN, once per shape. */
static void onednn_check(prepared *p, const weights *w) {
  const bcase *c = p->c;
  rnnk_rnn *ref = NULL;
  snprintf(p->check, sizeof p->check, "error");
  if (make_rnn(c->cell, RNNK_ISA_AUTO, c->I, c->H, c->N, w, &ref) != RNNK_OK) return;
  const size_t ny = (size_t)c->T * c->N * c->H;
  float *y = malloc(ny * sizeof(float));
  if (y && rnnk_rnn_forward(ref, c->T, c->N, p->x, NULL, NULL, NULL, y, NULL, NULL) == RNNK_OK &&
      rnnk_dnnl_execute(p->dnnl) == 0) {
    const float *d = rnnk_dnnl_output(p->dnnl);
    double maxdiff = 0, maxref = 0;
    for (size_t i = 0; i < ny; i++) {
      double e = fabs((double)d[i] - y[i]);
      if (!(e <= maxdiff)) maxdiff = e; /* NaN-sticky */
      if (fabs(y[i]) > maxref) maxref = fabs(y[i]);
    }
    const double rel = maxdiff / (maxref > 1e-30 ? maxref : 1e-30);
    if (rel <= 1e-4) {
      snprintf(p->check, sizeof p->check, "ok");
    } else {
      snprintf(p->check, sizeof p->check, "MISMATCH");
      fprintf(stderr,
              "WARNING: oneDNN and rnnk disagree on %s: max |diff| %.3g (relative %.3g > 1e-4); "
              "the oneDNN ratio of this row compares different computations\n",
              c->name, maxdiff, rel);
    }
  }
  free(y);
  rnnk_rnn_destroy(ref);
}
#endif

static bool prepare(prepared *p, const bcase *c) {
  if (p->c == c) return p->err[0] == 0;
  prep_free(p);
  p->c = c;
  if (c->impl == IMPL_RNNK && !rnnk_isa_supported(c->isa)) {
    snprintf(p->err, sizeof p->err, "this CPU/OS cannot run %s", rnnk_isa_name(c->isa));
    return false;
  }
  switch (c->kind) {
  case K_NET:
  case K_STEP_LAT: {
    weights w;
    weights_make(&w, c->cell, c->I, c->H);
    const size_t nx = (size_t)c->T * c->N * c->I, ny = (size_t)c->T * c->N * c->H;
    p->x = falloc_rand(nx, 1.0f);
    p->y = malloc(ny * sizeof(float));
    p->hT = malloc((size_t)c->N * c->H * sizeof(float));
    p->cT = malloc((size_t)c->N * c->H * sizeof(float));
    p->flops = bench_net_flops(c->cell, c->N, c->I, c->H, c->T);
    p->wbytes_step = bench_net_wbytes_step(c->cell, c->I, c->H);
    p->rec_flops = bench_net_rec_flops(c->cell, c->N, c->H, c->T);
    p->rec_bytes_step = bench_net_rec_bytes_step(c->cell, c->H);
    p->steps = c->T;
    bool ok = true;
    if (c->ragged) { /* flops of the row-steps that run */
      long row_steps = 0;
      if (!(p->lengths = malloc((size_t)c->N * sizeof *p->lengths)))
        return snprintf(p->err, sizeof p->err, "out of memory"), false;
      for (int n = 0; n < c->N; n++) row_steps += p->lengths[n] = c->T - (int)((long)n * (c->T - c->T / 10) / c->N);
      p->flops *= (double)row_steps / ((double)c->N * c->T);
      p->rec_flops *= (double)row_steps / ((double)c->N * c->T);
    }
    if (c->impl == IMPL_ONEDNN) {
#if RNNK_BENCH_HAVE_ONEDNN
      const rnnk_dnnl_cell dc = c->cell == RNNK_LSTM  ? RNNK_DNNL_LSTM
                                : c->cell == RNNK_GRU ? RNNK_DNNL_LBR_GRU
                                                      : RNNK_DNNL_RNN_TANH;
      p->dnnl = rnnk_dnnl_create(dc, c->T, c->N, c->I, c->H, c->threads > 1 ? c->threads : 1, w.w_ih, w.w_hh, w.b_ih, w.b_hh,
                                 p->err, sizeof p->err);
      if (!p->dnnl) {
        ok = false;
      } else {
        g_onednn_used = true;
        rnnk_dnnl_set_input(p->dnnl, p->x);
        snprintf(p->tile, sizeof p->tile, "%s", rnnk_dnnl_impl(p->dnnl));
        for (char *q = p->tile; *q; q++)
          if (*q == ' ') *q = '_';
        onednn_check(p, &w);
      }
#else
      snprintf(p->err, sizeof p->err, "built without oneDNN");
      ok = false;
#endif
    } else {
      if (make_rnn(c->cell, c->isa, c->I, c->H, c->N, &w, &p->rnn) != RNNK_OK)
        ok = prep_fail(p, "rnnk_rnn_create/set_weights");
      else
        tile_of(p->rnn, p->tile, sizeof p->tile);
      if (ok && c->threads > 1) { /* one sequence's hidden units split over the pool's cores */
        if (!g_pool[c->threads]) ok = prep_fail(p, "no pool of that many threads");
        else rnnk_rnn_set_pool(p->rnn, g_pool[c->threads]);
      }
      if (ok && c->kind == K_STEP_LAT && rnnk_state_create(p->rnn, c->N, &p->st) != RNNK_OK)
        ok = prep_fail(p, "rnnk_state_create");
    }
    weights_free(&w);
    if (ok && (!p->x || !p->y || !p->hT || !p->cT)) {
      snprintf(p->err, sizeof p->err, "out of memory");
      ok = false;
    }
    return ok;
  }
  case K_MANY: {
    weights w;
    weights_make(&w, c->cell, c->I, c->H);
    bool ok = make_rnn(c->cell, c->isa, c->I, c->H, c->N, &w, &p->rnn) == RNNK_OK;
    weights_free(&w);
    if (!ok) return prep_fail(p, "rnnk_rnn_create/set_weights");
    tile_of(p->rnn, p->tile, sizeof p->tile);
    p->seqs = calloc((size_t)c->count, sizeof *p->seqs);
    p->seq_bufs = calloc((size_t)2 * c->count, sizeof *p->seq_bufs);
    if (!p->seqs || !p->seq_bufs) return snprintf(p->err, sizeof p->err, "out of memory"), false;
    rng_seed(20240601u);
    long total = 0;
    for (int i = 0; i < c->count; i++) {
      int T = 1 + (int)(rng_uniform(0.f, 1.f) * 200.f);
      if (T > 200) T = 200;
      total += T;
      p->seq_bufs[2 * i] = falloc_rand((size_t)T * c->I, 1.0f);
      p->seq_bufs[2 * i + 1] = malloc((size_t)T * c->H * sizeof(float));
      if (!p->seq_bufs[2 * i] || !p->seq_bufs[2 * i + 1])
        return snprintf(p->err, sizeof p->err, "out of memory"), false;
      p->seqs[i] = (rnnk_sequence){.T = T, .x = p->seq_bufs[2 * i], .y = p->seq_bufs[2 * i + 1]};
    }
    p->flops = bench_net_flops(c->cell, 1, c->I, c->H, (int)total);
    p->wbytes_step = 0; /* the sequences run in batches that share weight reads: the bound is the FMA one */
    p->steps = (double)total;
    if (!g_pool[c->threads]) return snprintf(p->err, sizeof p->err, "no %d-thread pool", c->threads), false;
    return true;
  }
  default: { /* kernels */
    p->uk = rnnk_ukernels_for(c->isa);
    if (!p->uk) return snprintf(p->err, sizeof p->err, "no kernel table for %s", rnnk_isa_name(c->isa)), false;
    p->U = p->uk->unit_align < 8 ? 8 : p->uk->unit_align;
    snprintf(p->tile, sizeof p->tile, "%zu", p->U);
    if (c->impl == IMPL_SLEEF) snprintf(p->tile, sizeof p->tile, "-");
    rng_seed(77);
    const rnnk_act_param sig = {RNNK_K_SIGMOID, 0, 0}, th = {RNNK_K_TANH, 0, 0};
    p->cp = (rnnk_cell_param){.f = sig, .g = th, .h = th};
    if (c->kind == K_GEMM) {
      /* M x K times K x ncols, panel width 4U (an LSTM input projection) */
      const size_t M = (size_t)c->N, K = (size_t)c->I, nc = (size_t)c->H;
      p->W = falloc_rand(K * nc, 0.05f);
      p->hin = falloc_rand(M * K, 1.0f);
      p->bias = falloc_rand(nc, 0.1f);
      p->out = malloc(M * nc * sizeof(float));
      p->flops = 2.0 * M * K * nc;
      p->wbytes_step = 4.0 * K * nc;
    } else if (c->kind == K_STEPK) {
      const size_t G = (size_t)sk_gates[c->sub], N = (size_t)c->N, K = (size_t)c->I,
                   Hp = ((size_t)c->H + p->U - 1) / p->U * p->U;
      p->W = falloc_rand(Hp * K * G, 0.05f);
      p->pre = falloc_rand(N * G * Hp, 0.5f);
      p->hin = falloc_rand(N * K, 1.0f);
      p->hprev = falloc_rand(N * Hp, 1.0f);
      p->cst = falloc_rand(N * Hp, 1.0f);
      p->out = calloc(N * Hp, sizeof(float));
      p->out2 = falloc_rand(N * Hp, 1.0f);
      p->bias = falloc_rand(Hp, 0.1f);
      p->flops = 2.0 * G * c->H * K * N;
      p->wbytes_step = 4.0 * G * Hp * K;
    } else {
      p->x = falloc_rand((size_t)c->N, 4.0f);
      p->y = malloc((size_t)c->N * sizeof(float));
      p->flops = 0;
      p->wbytes_step = 0;
#if RNNK_BENCH_HAVE_SLEEF
      if (c->impl == IMPL_SLEEF && !__builtin_cpu_supports("avx512f"))
        return snprintf(p->err, sizeof p->err, "SLEEF avx512f: this CPU lacks AVX-512F"), false;
#endif
    }
    p->steps = 1;
    return true;
  }
  }
}

/* The roofline a case is held to: its ISA's vectors for rnnk's kernels,
 * the host's best for oneDNN and SLEEF (they choose their own). */
static void case_roofline(const bcase *c, rnnk_roofline *rf) {
  int bits = 0;
  if (c->impl == IMPL_RNNK)
    bits = c->isa == RNNK_ISA_AVX512 ? 512 : c->isa == RNNK_ISA_AVX2 ? 256 : c->isa == RNNK_ISA_SCALAR ? 32 : 0;
  rnnk_roofline_for_width(&g_roof, bits, rf);
}

static void set_counters(rnnk_bench_state *st, prepared *p, int threads) {
  const char *which = "none";
  double bound = 0;
  rnnk_roofline rf;
  case_roofline(p->c, &rf);
  if (p->flops > 0 || p->wbytes_step > 0) {
    const int k = threads > 0 ? threads : 1;
    const int steps = (int)ceil(p->steps / k);
    if (p->rec_bytes_step > 0) /* whole network: the floor of the issue (W_hh per step + input GEMM) */
      bound = rnnk_roofline_floor_ms(&rf, (p->flops - p->rec_flops) / k, p->rec_flops / k, p->rec_bytes_step / k,
                                     (int)p->steps, &which);
    else
      bound = rnnk_roofline_bound_ms(&rf, p->flops / k, p->wbytes_step, steps, &which);
  }
  rnnk_bench_counter(st, "flops", p->flops, RNNK_BENCH_PLAIN);
  rnnk_bench_counter(st, "wbytes", p->wbytes_step * p->steps, RNNK_BENCH_PLAIN);
  rnnk_bench_counter(st, "bound_ms", bound, RNNK_BENCH_PLAIN);
  rnnk_bench_counter(st, "steps", p->steps, RNNK_BENCH_PLAIN);
  char label[200];
  int n = snprintf(label, sizeof label, "tile=%s bound=%s", p->tile[0] ? p->tile : "-",
                   !strcmp(which, "fma") ? "FMA" : which);
  if (p->check[0]) snprintf(label + n, sizeof label - (size_t)n, " check=%s", p->check);
  rnnk_bench_set_label(st, label);
}

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void run_kernel(prepared *p) {
  const bcase *c = p->c;
  const rnnk_ukernels *uk = p->uk;
  if (c->kind == K_GEMM) {
    uk->f32_gemm((size_t)c->N, (size_t)c->I, (size_t)c->H, 4 * p->U, p->hin, (size_t)c->I, p->W,
                 p->bias, 0, p->out, (size_t)c->H);
  } else if (c->kind == K_STEPK) {
    const size_t G = (size_t)sk_gates[c->sub], Hp = ((size_t)c->H + p->U - 1) / p->U * p->U;
    rnnk_step_args a = {.N = (size_t)c->N, .K = (size_t)c->I, .U = p->U, .p0 = 0, .p1 = Hp / p->U,
                        .W = p->W, .pre = p->pre, .ld_pre = G * Hp, .hin = p->hin,
                        .ld_hin = (size_t)c->I, .hprev = p->hprev, .ld_hprev = Hp, .c = p->cst,
                        .ld_c = Hp, .out = p->out, .ld_out = Hp, .out2 = p->out2, .peep = NULL,
                        .bias = p->bias, .cp = &p->cp};
    switch (c->sub) {
    case SK_LSTM: uk->f32_lstm(&a); break;
    case SK_GRU: uk->f32_gru(&a); break;
    case SK_GRU_RZ: uk->f32_gru_rz(&a); break;
    case SK_GRU_N: uk->f32_gru_n(&a); break;
    default: uk->f32_elman(&a); break;
    }
  } else {
    const rnnk_act_param ap = {c->sub, 0, 0};
#if RNNK_BENCH_HAVE_SLEEF
    if (c->impl == IMPL_SLEEF) {
      if (c->sub == RNNK_K_SIGMOID) rnnk_bench_sleef_sigmoid((size_t)c->N, p->x, p->y);
      else rnnk_bench_sleef_tanh((size_t)c->N, p->x, p->y);
      return;
    }
#endif
    uk->f32_act((size_t)c->N, p->x, p->y, &ap, 0.f);
  }
}

static void bm_case(rnnk_bench_state *st, void *user) {
  const bcase *c = user;
  prepared *p = &g_prep;
  if (!prepare(p, c)) {
    rnnk_bench_skip(st, p->err);
    return;
  }
  int threads = 1;
  rnnk_status s = RNNK_OK;
  switch (c->kind) {
  case K_NET:
    threads = c->threads > 1 ? c->threads : 1;
    if (c->impl == IMPL_ONEDNN) {
#if RNNK_BENCH_HAVE_ONEDNN
      if (rnnk_dnnl_execute(p->dnnl) != 0) s = RNNK_EINVAL; /* warm-up */
      while (rnnk_bench_keep_running(st)) {
        rnnk_dnnl_execute(p->dnnl);
        rnnk_bench_clobber();
      }
#endif
    } else {
      float *cT = c->cell == RNNK_LSTM ? p->cT : NULL;
      s = rnnk_rnn_forward(p->rnn, c->T, c->N, p->x, p->lengths, NULL, NULL, p->y, p->hT, cT); /* warm-up */
      while (rnnk_bench_keep_running(st)) {
        rnnk_rnn_forward(p->rnn, c->T, c->N, p->x, p->lengths, NULL, NULL, p->y, p->hT, cT);
        rnnk_bench_clobber();
      }
    }
    break;
  case K_STEP_LAT: {
    rnnk_state_reset(p->st, -1);
    s = rnnk_rnn_step(p->rnn, p->st, p->x, p->y); /* warm-up */
    p->nlat = 0;
    while (rnnk_bench_keep_running(st)) {
      const double t0 = now_ns();
      rnnk_rnn_step(p->rnn, p->st, p->x, p->y);
      const double t1 = now_ns();
      if (p->nlat == p->caplat) {
        size_t cap = p->caplat ? 2 * p->caplat : 4096;
        double *n = cap <= (1u << 24) ? realloc(p->lat, cap * sizeof(double)) : NULL;
        if (n) p->lat = n, p->caplat = cap;
      }
      if (p->nlat < p->caplat) p->lat[p->nlat++] = t1 - t0;
    }
    if (p->nlat) {
      qsort(p->lat, p->nlat, sizeof(double), cmp_d);
      rnnk_bench_counter(st, "p50_us", p->lat[p->nlat / 2] * 1e-3, RNNK_BENCH_PLAIN);
      rnnk_bench_counter(st, "p99_us", p->lat[(size_t)(p->nlat * 0.99)] * 1e-3, RNNK_BENCH_PLAIN);
    }
    break;
  }
  case K_MANY:
    threads = c->threads;
    s = rnnk_rnn_forward_many(p->rnn, g_pool[threads], c->count, p->seqs); /* warm-up */
    while (rnnk_bench_keep_running(st)) {
      rnnk_rnn_forward_many(p->rnn, g_pool[threads], c->count, p->seqs);
      rnnk_bench_clobber();
    }
    break;
  default:
    run_kernel(p); /* warm-up */
    while (rnnk_bench_keep_running(st)) {
      run_kernel(p);
      rnnk_bench_clobber();
    }
    if (c->kind == K_ACT) rnnk_bench_set_items(st, rnnk_bench_iterations(st) * c->N);
    break;
  }
  if (s != RNNK_OK) {
    char m[300];
    snprintf(m, sizeof m, "%s: %s", rnnk_strerror(s), rnnk_last_error());
    rnnk_bench_skip(st, m);
    return;
  }
  set_counters(st, p, threads);
}

/* ------------------------------------------------------------------ */
/* Registration                                                        */
/* ------------------------------------------------------------------ */

static const bench_opts *g_opts;

static bool isa_wanted(rnnk_isa isa) {
  return !g_opts->isa_mask || (g_opts->isa_mask & (1u << isa));
}

static void add(bcase c) {
  if (g_opts->filter && g_opts->filter[0] && !strstr(c.name, g_opts->filter)) return;
  if (g_ncases >= MAX_CASES) return;
  g_cases[g_ncases] = c;
  bcase *pc = &g_cases[g_ncases++];
  rnnk_bench_register(pc->name, bm_case, pc, NULL, 0);
  rnnk_bench_last_unit(pc->kind == K_NET || pc->kind == K_MANY ? RNNK_BENCH_MS : RNNK_BENCH_US);
  rnnk_bench_last_real_time();
}

static void add_net(rnnk_cell cell, int N, int H, bool scalar) {
  const int T = 50;
  for (int i = 0; i < NISA; i++) {
    const rnnk_isa isa = k_isas[i];
    if (isa == RNNK_ISA_SCALAR && !scalar) continue;
    if (!isa_wanted(isa)) continue;
    bcase c = {.kind = K_NET, .impl = IMPL_RNNK, .cell = cell, .isa = isa, .N = N, .H = H, .I = H, .T = T};
    snprintf(c.name, sizeof c.name, "%s/%s/N:%d/H:%d/T:%d", cell_name(cell), rnnk_isa_name(isa), N, H, T);
    add(c);
  }
  if (bench_have_onednn() && !g_opts->no_onednn && cell != RNNK_JORDAN) {
    bcase c = {.kind = K_NET, .impl = IMPL_ONEDNN, .cell = cell, .N = N, .H = H, .I = H, .T = T};
    snprintf(c.name, sizeof c.name, "%s/onednn/N:%d/H:%d/T:%d", cell_name(cell), N, H, T);
    add(c);
  }
}

int bench_register_cases(const bench_opts *o) {
  g_opts = o;
  if (!g_cases) g_cases = calloc(MAX_CASES, sizeof *g_cases);
  if (!g_cases) return 0;
  const int before = g_ncases;
  if (o->quick) {
    const rnnk_cell cells[] = {RNNK_LSTM, RNNK_GRU, RNNK_ELMAN};
    for (int ci = 0; ci < 3; ci++)
      for (int H = 128; H <= 512; H *= 2) add_net(cells[ci], 1, H, H == 128);
    add_net(RNNK_LSTM, 64, 256, false);
    return g_ncases - before;
  }
  /* Whole networks. Scalar only where it finishes in reasonable time. */
  const rnnk_cell cells[] = {RNNK_ELMAN, RNNK_JORDAN, RNNK_LSTM, RNNK_GRU};
  const int Ns[] = {1, 8, 64};
  for (int ci = 0; ci < 4; ci++)
    for (int ni = 0; ni < 3; ni++)
      for (int H = 128; H <= 1024; H *= 2) add_net(cells[ci], Ns[ni], H, H <= 256 && Ns[ni] <= 8);
  /* Streaming step latency: LSTM, N=1, H=256. */
  for (int i = 0; i < NISA; i++) {
    if (!isa_wanted(k_isas[i])) continue;
    bcase c = {.kind = K_STEP_LAT, .cell = RNNK_LSTM, .isa = k_isas[i], .N = 1, .H = 256, .I = 256, .T = 1};
    snprintf(c.name, sizeof c.name, "lstm_step/%s/N:1/H:256", rnnk_isa_name(k_isas[i]));
    add(c);
  }
  /* One sequence split over threads (latency): the shapes, on 2
   * threads and on every core of the host, rnnk and oneDNN alike. */
  const struct { rnnk_cell cell; int N, H; } split[] = {
      {RNNK_LSTM, 1, 256}, {RNNK_LSTM, 1, 512}, {RNNK_LSTM, 1, 1024}, {RNNK_GRU, 1, 512}, {RNNK_LSTM, 64, 512}};
  const int tlist[2] = {2, g_ncores}, nt = g_ncores > 2 ? 2 : 1;
  for (size_t si = 0; si < sizeof split / sizeof *split; si++)
    for (int ti = 0; ti < nt; ti++) {
      const int t = tlist[ti];
      for (int i = 0; i < NISA; i++) {
        if (k_isas[i] == RNNK_ISA_SCALAR || !isa_wanted(k_isas[i])) continue;
        bcase c = {.kind = K_NET, .impl = IMPL_RNNK, .cell = split[si].cell, .isa = k_isas[i], .N = split[si].N,
                   .H = split[si].H, .I = split[si].H, .T = 50, .threads = t};
        snprintf(c.name, sizeof c.name, "%s/%s/N:%d/H:%d/T:50/thr:%d", cell_name(c.cell), rnnk_isa_name(c.isa), c.N,
                 c.H, t);
        add(c);
      }
      if (bench_have_onednn() && !g_opts->no_onednn) {
        bcase c = {.kind = K_NET, .impl = IMPL_ONEDNN, .cell = split[si].cell, .N = split[si].N, .H = split[si].H,
                   .I = split[si].H, .T = 50, .threads = t};
        snprintf(c.name, sizeof c.name, "%s/onednn/N:%d/H:%d/T:50/thr:%d", cell_name(c.cell), c.N, c.H, t);
        add(c);
      }
    }
  /* Ragged batches (lengths T..T/10, sorted): one GEMM per time chunk over
   * the rows still running; a row split that shares row-steps. */
  const struct { int N, H, threads; } ragged[] = {{8, 1024, 1}, {64, 256, 1}, {64, 256, 2}};
  for (size_t ri = 0; ri < sizeof ragged / sizeof *ragged; ri++)
    for (int i = 0; i < NISA; i++) {
      if (k_isas[i] == RNNK_ISA_SCALAR || !isa_wanted(k_isas[i])) continue;
      bcase c = {.kind = K_NET, .impl = IMPL_RNNK, .cell = RNNK_LSTM, .isa = k_isas[i], .N = ragged[ri].N,
                 .H = ragged[ri].H, .I = ragged[ri].H, .T = 50, .threads = ragged[ri].threads, .ragged = true};
      snprintf(c.name, sizeof c.name, "lstm/%s/N:%d/H:%d/T:50/ragged%s", rnnk_isa_name(c.isa), c.N, c.H,
               c.threads > 1 ? "/thr:2" : "");
      add(c);
    }
  /* Batched sequences over a pool, T ~ U{1..200}: 1,000 LSTM sequences of
   * H=256 (throughput), and 8 of H=1024 on 1, 2 and every core (few
   * sequences whose W_hh overflows L2: one batch split by hidden units). */
  const struct { int count, H; } many[] = {{1000, 256}, {8, 1024}};
  const int mlist[3] = {1, 2, g_ncores};
  for (size_t mi = 0; mi < sizeof many / sizeof *many; mi++)
    for (int i = 0; i < NISA; i++) {
      if (k_isas[i] == RNNK_ISA_SCALAR || !isa_wanted(k_isas[i])) continue;
      for (int ti = 0; ti < (mi && g_ncores > 2 ? 3 : 2); ti++) {
        const int t = mlist[ti];
        bcase c = {.kind = K_MANY, .cell = RNNK_LSTM, .isa = k_isas[i], .N = 1, .H = many[mi].H, .I = many[mi].H,
                   .threads = t, .count = many[mi].count};
        snprintf(c.name, sizeof c.name, "lstm_many/%s/seqs:%d/H:%d/thr:%d", rnnk_isa_name(k_isas[i]), c.count, c.H,
                 t);
        add(c);
      }
    }
  /* Kernel microbenchmarks, per ISA table. */
  for (int i = 0; i < NISA; i++) {
    const rnnk_isa isa = k_isas[i];
    if (!isa_wanted(isa)) continue;
    const char *in = rnnk_isa_name(isa);
    bcase g = {.kind = K_GEMM, .isa = isa, .N = 64, .I = 256, .H = 1024};
    snprintf(g.name, sizeof g.name, "gemm/%s/M:64/K:256/ncols:1024", in);
    add(g);
    for (int sk = 0; sk < 5; sk++)
      for (int N = 1; N <= 8; N += 7) {
        bcase c = {.kind = K_STEPK, .isa = isa, .sub = sk, .N = N, .H = 256, .I = 256};
        snprintf(c.name, sizeof c.name, "step_%s/%s/N:%d/H:256/K:256", sk_names[sk], in, N);
        add(c);
      }
    for (int a = 0; a < 2; a++) {
      bcase c = {.kind = K_ACT, .isa = isa, .sub = a ? RNNK_K_TANH : RNNK_K_SIGMOID, .N = 4096};
      snprintf(c.name, sizeof c.name, "act_%s/%s/n:4096", a ? "tanh" : "sigmoid", in);
      add(c);
    }
  }
#if RNNK_BENCH_HAVE_SLEEF
  if (!g_opts->isa_mask || (g_opts->isa_mask & (1u << RNNK_ISA_AVX512)))
    for (int a = 0; a < 2; a++) {
      bcase c = {.kind = K_ACT, .impl = IMPL_SLEEF, .isa = RNNK_ISA_SCALAR,
                 .sub = a ? RNNK_K_TANH : RNNK_K_SIGMOID, .N = 4096};
      snprintf(c.name, sizeof c.name, "act_%s/sleef_avx512/n:4096", a ? "tanh" : "sigmoid");
      add(c);
    }
#endif
  return g_ncases - before;
}
