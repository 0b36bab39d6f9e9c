/* Plain C test driver (no Criterion: its runner hangs under qemu-aarch64,
 * TOOLCHAIN.md 13). Checks every SIMD kernel table this build has and the
 * host can run -- NEON on aarch64, AVX2 / AVX-512 on x86-64 -- against the
 * scalar reference, bit for bit:
 *   - gemm, act and every step kernel (lstm with and without peepholes, gru,
 *     gru_rz, gru_n, elman) on shapes with tails, U = 1, 2 (and 4) vectors,
 *     canary guards around every output, partial panel ranges;
 *   - whole networks (Elman, Jordan, LSTM peephole+projection, GRU lbr 0/1;
 *     2 layers; forward and bidirectional concat; with lengths) built with
 *     config.isa = that ISA against config.isa = RNNK_ISA_SCALAR: y, hT and
 *     cT memcmp-equal.
 * Each check is one test. Failures are printed with details; the last line
 * is "N passed, M failed"; exit status 1 if any failed.
 *   neon_driver [-v]     (-v: one line per ISA and group) */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/f32-kernels.h"
#include "rnnk.h"
#include "src/internal.h"
#include "tests/cell_variants.h"

static int n_passed, n_failed, verbose;

/* Records one check; prints the failure (printf-style detail). */
static bool check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool check(bool ok, const char *fmt, ...) {
  if (ok) {
    n_passed++;
    return true;
  }
  n_failed++;
  if (n_failed <= 50) {
    va_list ap;
    va_start(ap, fmt);
    fputs("FAIL: ", stdout);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
  } else if (n_failed == 51) {
    puts("(further failures not printed)");
  }
  return false;
}

/* ------------------------------------------------------------ helpers */

typedef struct rng { uint64_t s; } rng;
static float uniform(rng *r, float lo, float hi) {
  r->s = r->s * 6364136223846793005ull + 1442695040888963407ull;
  return lo + (hi - lo) * ((float)(r->s >> 40) / (float)(1ull << 24));
}
static int pick(rng *r, int n) { return (int)uniform(r, 0.0f, (float)n) % n; }
static void fill(rng *r, float *p, size_t n, float lo, float hi) {
  for (size_t i = 0; i < n; i++) p[i] = uniform(r, lo, hi);
}

static void *xmalloc(size_t bytes) {
  void *p = malloc(bytes ? bytes : 1);
  if (!p) {
    puts("FAIL: out of memory");
    exit(1);
  }
  return p;
}
static float *falloc(size_t n) { return xmalloc(n * sizeof(float)); }

#define CANARY 64
static const float canary_value = -1234.5f;

/* n floats with CANARY guard floats (and canary contents) on each side. */
static float *guarded(size_t n) {
  float *p = falloc(n + 2 * CANARY);
  for (size_t i = 0; i < n + 2 * CANARY; i++) p[i] = canary_value;
  return p + CANARY;
}
static bool guards_ok(const float *p, size_t n) {
  for (size_t i = 1; i <= CANARY; i++)
    if (memcmp(&p[-(ptrdiff_t)i], &canary_value, 4) || memcmp(&p[n + i - 1], &canary_value, 4)) return false;
  return true;
}
static void release(float *p) { free(p - CANARY); }

static size_t round_up(size_t v, size_t m) { return (v + m - 1) / m * m; }

/* Index of the first differing float, or n. */
static size_t first_diff(const float *a, const float *b, size_t n) {
  size_t i = 0;
  while (i < n && !memcmp(&a[i], &b[i], sizeof *a)) i++;
  return i;
}

static const size_t Hs[] = {1, 15, 17, 31, 33, 100};
static const size_t Ns[] = {1, 3, 8};
static const size_t Ks[] = {1, 5, 64, 200}; /* 200: k in L1-sized chunks (k_chunks) when N > one register tile */
#define COUNT(a) (sizeof(a) / sizeof *(a))

/* -------------------------------------------------------------- gemm */

static void gemm_checks(const rnnk_ukernels *ref, const rnnk_ukernels *uk, rng *r) {
  for (size_t uv = 1; uv <= 2; uv++)
    for (size_t G = 1; G <= 4; G++)
      for (size_t hi = 0; hi < COUNT(Hs); hi++)
        for (size_t ki = 0; ki < COUNT(Ks); ki++) {
          const size_t U = uv * uk->unit_align, Hp = round_up(Hs[hi], U), K = Ks[ki], pw = G * U;
          const size_t M = 1 + (size_t)pick(r, 13); /* row tiles and their tails */
          const size_t ncols = G * Hp, lda = K + 3, ldc = ncols + 5;
          const size_t ldi = (hi + ki) % 2 ? ncols + 2 : 0; /* per-row init or a broadcast bias */
          float *A = falloc(M * lda), *W = falloc(ncols * K), *init = falloc((ldi ? M : 1) * (ncols + 2));
          fill(r, A, M * lda, -1, 1);
          fill(r, W, ncols * K, -1, 1);
          fill(r, init, (ldi ? M : 1) * (ncols + 2), -1, 1);
          float *c0 = guarded(M * ldc), *c1 = guarded(M * ldc);
          ref->f32_gemm(M, K, ncols, pw, A, lda, W, init, ldi, c0, ldc);
          uk->f32_gemm(M, K, ncols, pw, A, lda, W, init, ldi, c1, ldc);
          bool ok = guards_ok(c1, M * ldc);
          size_t bad_row = M, bad_col = 0;
          for (size_t m = 0; m < M && ok; m++) {
            const size_t i = first_diff(c0 + m * ldc, c1 + m * ldc, ncols);
            if (i < ncols) ok = false, bad_row = m, bad_col = i;
            /* the row padding between ncols and ldc stays untouched */
            for (size_t q = ncols; q < ldc && ok; q++)
              if (memcmp(&c1[m * ldc + q], &canary_value, 4)) ok = false, bad_row = m, bad_col = q;
          }
          char what[160] = "canary overwritten";
          if (bad_row < M)
            snprintf(what, sizeof what, "row %zu col %zu: %a (scalar) vs %a", bad_row, bad_col,
                     c0[bad_row * ldc + bad_col], c1[bad_row * ldc + bad_col]);
          check(ok, "gemm %s M=%zu K=%zu H=%zu G=%zu U=%zu ldi=%zu: %s", uk->name, M, K, Hs[hi], G, U, ldi, what);
          release(c0), release(c1);
          free(A), free(W), free(init);
        }
}

/* --------------------------------------------------------- activation */

static void act_checks(const rnnk_ukernels *ref, const rnnk_ukernels *uk, rng *r) {
  const size_t n = 301;
  float *x = falloc(n);
  fill(r, x, n, -40, 40);
  x[0] = NAN, x[1] = INFINITY, x[2] = -INFINITY, x[3] = 0.0f, x[4] = -0.0f, x[5] = 1e-40f, x[6] = -88.5f;
  for (size_t i = 7; i < 40; i++) x[i] *= 0.1f; /* many in the interesting range too */
  for (int kind = RNNK_K_TANH; kind <= RNNK_K_HARD_SIGMOID; kind++)
    for (int clip = 0; clip < 2; clip++) {
      const rnnk_act_param a = {kind, 0.25f, 0.45f};
      const float cl = clip ? 3.0f : 0.0f;
      bool ok = true;
      char what[160] = "";
      for (size_t len = 1; len < 70 && ok; len += 3) {
        float *y0 = guarded(len), *y1 = guarded(len);
        ref->f32_act(len, x + 7 + len, y0, &a, cl);
        uk->f32_act(len, x + 7 + len, y1, &a, cl);
        const size_t i = first_diff(y0, y1, len);
        if (!guards_ok(y1, len)) ok = false, snprintf(what, sizeof what, "len %zu: canary overwritten", len);
        else if (i < len)
          ok = false, snprintf(what, sizeof what, "len %zu elem %zu: x=%a: %a (scalar) vs %a", len, i, x[7 + len + i],
                               y0[i], y1[i]);
        release(y0), release(y1);
      }
      { /* in place over the whole buffer, specials included */
        float *y0 = falloc(n), *y1 = falloc(n);
        memcpy(y0, x, n * sizeof *x), memcpy(y1, x, n * sizeof *x);
        ref->f32_act(n, y0, y0, &a, cl);
        uk->f32_act(n, y1, y1, &a, cl);
        for (size_t i = 0; i < n && ok; i++)
          if (memcmp(&y0[i], &y1[i], 4) && !(isnan(y0[i]) && isnan(y1[i])))
            ok = false, snprintf(what, sizeof what, "in place elem %zu: x=%a: %a (scalar) vs %a", i, x[i], y0[i], y1[i]);
        free(y0), free(y1);
      }
      check(ok, "act %s kind=%d clip=%g: %s", uk->name, kind, (double)cl, what);
    }
  free(x);
}

/* -------------------------------------------------------------- steps */


typedef enum { K_LSTM, K_LSTM_PEEP, K_GRU, K_GRU_RZ, K_GRU_N, K_ELMAN, K_COUNT } step_kind;
static const char *const kind_name[] = {"lstm", "lstm+peep", "gru", "gru_rz", "gru_n", "elman"};
static const size_t kind_pw_gates[] = {4, 4, 3, 2, 1, 1};  /* gates in the packed W */
static const size_t kind_pre_gates[] = {4, 4, 3, 3, 3, 1}; /* gates in pre */

static rnnk_f32_step_fn step_fn(const rnnk_ukernels *uk, step_kind k) {
  switch (k) {
  case K_LSTM:
  case K_LSTM_PEEP: return uk->f32_lstm;
  case K_GRU: return uk->f32_gru;
  case K_GRU_RZ: return uk->f32_gru_rz;
  case K_GRU_N: return uk->f32_gru_n;
  default: return uk->f32_elman;
  }
}

/* One step kernel of the scalar table and of @p uk on the same inputs:
 * out, out2 and c identical, canaries intact, units outside [p0, p1)
 * untouched. One check. */
static void step_check(const rnnk_ukernels *ref, const rnnk_ukernels *uk, size_t U, step_kind kind, size_t H,
                       size_t N, size_t K, int variant, size_t p0, size_t p1, bool k_chunks, rng *r) {
  const size_t Hp = round_up(H, U), np = Hp / U;
  if (p1 > np) p1 = np;
  if (p0 >= p1) return;
  const size_t ld_pre = kind_pre_gates[kind] * Hp + 1, ld_hin = K + 2, ld = Hp + 3, nW = kind_pw_gates[kind] * Hp * K;
  float *W = falloc(nW), *pre = falloc(N * ld_pre), *hin = falloc(N * ld_hin), *hprev = falloc(N * ld);
  float *pp = falloc(3 * Hp), *bias = falloc(Hp);
  fill(r, W, nW, -0.5f, 0.5f);
  fill(r, pre, N * ld_pre, -3, 3);
  fill(r, hin, N * ld_hin, -1, 1);
  fill(r, hprev, N * ld, -1, 1);
  fill(r, pp, 3 * Hp, -1, 1);
  fill(r, bias, Hp, -1, 1);
  float *out[2], *out2[2], *c[2];
  for (int s = 0; s < 2; s++) {
    out[s] = guarded(N * ld), out2[s] = guarded(N * ld), c[s] = guarded(N * ld);
    rng r2 = *r; /* the same initial c and z in both */
    fill(&r2, c[s], N * ld, -2, 2);
    fill(&r2, out2[s], N * ld, 0, 1);
  }
  uniform(r, 0, 1);
  const rnnk_cell_param cp = cell_variant(variant);
  rnnk_step_args a = {.N = N, .K = K, .U = U, .p0 = p0, .p1 = p1, .W = W, .pre = pre, .ld_pre = ld_pre,
                      .hin = hin, .ld_hin = ld_hin, .hprev = hprev, .ld_hprev = ld, .ld_c = ld, .ld_out = ld,
                      .peep = kind == K_LSTM_PEEP ? pp : NULL, .bias = bias, .cp = &cp, .k_chunks = k_chunks};
  for (int s = 0; s < 2; s++) {
    a.out = out[s], a.out2 = out2[s], a.c = c[s];
    step_fn(s ? uk : ref, kind)(&a);
  }
  char what[300] = "";
  bool ok = true;
  for (int s = 0; s < 2 && ok; s++)
    if (!guards_ok(out[s], N * ld) || !guards_ok(out2[s], N * ld) || !guards_ok(c[s], N * ld))
      ok = false, snprintf(what, sizeof what, "%s: canary overwritten", s ? uk->name : "scalar");
  for (size_t n = 0; n < N && ok; n++)
    for (size_t j = 0; j < ld && ok; j++) {
      const size_t i = n * ld + j;
      if (memcmp(&out[0][i], &out[1][i], 4) || memcmp(&out2[0][i], &out2[1][i], 4) || memcmp(&c[0][i], &c[1][i], 4))
        ok = false, snprintf(what, sizeof what, "row %zu unit %zu: out %a vs %a, out2 %a vs %a, c %a vs %a", n, j,
                             out[0][i], out[1][i], out2[0][i], out2[1][i], c[0][i], c[1][i]);
      else if ((j < p0 * U || j >= p1 * U) && memcmp(&out[1][i], &canary_value, 4))
        ok = false, snprintf(what, sizeof what, "row %zu unit %zu: written outside panels", n, j);
    }
  check(ok, "%s %s U=%zu H=%zu N=%zu K=%zu variant=%d panels %zu..%zu k_chunks=%d: %s", kind_name[kind], uk->name, U,
        H, N, K, variant, p0, p1, k_chunks, what);
  for (int s = 0; s < 2; s++) release(out[s]), release(out2[s]), release(c[s]);
  free(W), free(pre), free(hin), free(hprev), free(pp), free(bias);
}

static void step_checks(const rnnk_ukernels *ref, const rnnk_ukernels *uk, rng *r) {
  for (size_t uv = 1; uv <= 8; uv *= 2)
    for (int kind = 0; kind < K_COUNT; kind++)
      for (size_t hi = 0; hi < COUNT(Hs); hi++)
        for (size_t ni = 0; ni < COUNT(Ns); ni++)
          for (size_t ki = 0; ki < COUNT(Ks); ki++)
            /* 4-vector panels: kernels of at most two gates; 8: of one */
            if (uv < 4 || kind_pw_gates[kind] <= (uv == 4 ? 2u : 1u))
              step_check(ref, uk, uv * uk->unit_align, (step_kind)kind, Hs[hi], Ns[ni], Ks[ki],
                       (int)(hi + ni + ki + (size_t)kind) % 5, 0, (size_t)-1, (hi + ki) % 2, r);
  /* partial panel ranges (how a thread split calls the kernels) */
  for (int kind = 0; kind < K_COUNT; kind++)
    for (size_t p0 = 0; p0 < 4; p0++)
      step_check(ref, uk, uk->unit_align, (step_kind)kind, 100, 3, 33, (int)p0, p0, p0 + 2, false, r);
  /* GRU's r,z on 2-vector panels, every N across the one-tile limits (with
   * 32 registers, N = 7, 8: one vector per gate in one tile, or 4 + 4 rows
   * over k-chunks) */
  for (size_t N = 1; N <= 9; N++)
    for (int kc = 0; kc < 2; kc++)
      step_check(ref, uk, 2 * uk->unit_align, K_GRU_RZ, 4 * uk->unit_align + 3, N, kc ? 1100 : 64, (int)N % 5, 0,
                 (size_t)-1, kc, r);
  /* many tall row tiles over L2-overflowing weights: the prefetching stream */
  for (int kind = 0; kind < K_COUNT; kind++)
    step_check(ref, uk, uk->unit_align, (step_kind)kind, 100, 45, 200, kind % 5, 0, (size_t)-1, true, r);
}

/* ------------------------------------------------------------ networks */

typedef struct net_case {
  rnnk_config cfg;
  int T, N;
  bool h0;
  uint64_t seed;
} net_case;

/* Random weights of every layer and direction (PyTorch layout), kept so two
 * networks get the same ones. */
typedef struct net_weights {
  int count;
  rnnk_weights w[8];
  float *bufs[8][8];
} net_weights;

static float *rand_buf(rng *r, size_t n, float scale, float **slot) {
  float *p = falloc(n);
  fill(r, p, n, -scale, scale);
  *slot = p;
  return p;
}

static void weights_make(const rnnk_config *c, uint64_t seed, net_weights *nw) {
  rng r = {seed * 2654435761u + 17};
  const int D = c->direction >= RNNK_BIDIR_CONCAT ? 2 : 1, H = c->hidden_size;
  const int G = c->cell == RNNK_LSTM ? 4 : c->cell == RNNK_GRU ? 3 : 1;
  const int S = c->cell == RNNK_JORDAN ? c->output_size : c->proj_size > 0 ? c->proj_size : H;
  memset(nw, 0, sizeof *nw);
  nw->count = c->num_layers * D;
  for (int l = 0; l < c->num_layers; l++)
    for (int d = 0; d < D; d++) {
      const int K = l == 0 ? c->input_size : c->direction == RNNK_BIDIR_CONCAT ? 2 * S : S;
      const int i = l * D + d;
      rnnk_weights *w = &nw->w[i];
      float **b = nw->bufs[i];
      const float sk = 1.0f / sqrtf((float)K), ss = 1.0f / sqrtf((float)S);
      w->w_ih = rand_buf(&r, (size_t)G * H * K, sk, &b[0]);
      w->w_hh = rand_buf(&r, (size_t)G * H * S, ss, &b[1]);
      w->b_ih = rand_buf(&r, (size_t)G * H, 0.3f, &b[2]);
      w->b_hh = rand_buf(&r, (size_t)G * H, 0.3f, &b[3]);
      if (c->peephole) w->peephole = rand_buf(&r, 3 * (size_t)H, 0.5f, &b[4]);
      if (c->proj_size > 0) w->w_proj = rand_buf(&r, (size_t)c->proj_size * H, 1.0f / sqrtf((float)H), &b[5]);
      if (c->cell == RNNK_JORDAN) {
        w->w_out = rand_buf(&r, (size_t)c->output_size * H, 1.0f / sqrtf((float)H), &b[6]);
        w->b_out = rand_buf(&r, (size_t)c->output_size, 0.3f, &b[7]);
      }
    }
}

static void weights_free(net_weights *nw) {
  for (int i = 0; i < 8; i++)
    for (int j = 0; j < 8; j++) free(nw->bufs[i][j]);
}

typedef struct net_out {
  float *y, *hT, *cT;
} net_out;

/* Builds the network on @p isa and runs it; false (with a message) on error. */
static bool net_run(const net_case *k, const net_weights *nw, rnnk_isa isa, const float *x, const int *lengths,
                    const float *h0, const float *c0, size_t ny, size_t nh, size_t nc, net_out *o, char *err,
                    size_t errlen) {
  rnnk_config cfg = k->cfg;
  cfg.isa = isa;
  rnnk_rnn *rnn = NULL;
  rnnk_status s = rnnk_rnn_create(&cfg, &rnn);
  if (s) {
    snprintf(err, errlen, "[%s] create: %s (%s)", rnnk_isa_name(isa), rnnk_strerror(s), rnnk_last_error());
    return false;
  }
  if (!rnn->uk || rnn->uk->isa != (int)isa) { /* really runs the kernels under test */
    snprintf(err, errlen, "[%s] network got the kernel table of isa %d", rnnk_isa_name(isa), rnn->uk ? rnn->uk->isa : -1);
    rnnk_rnn_destroy(rnn);
    return false;
  }
  const int D = cfg.direction >= RNNK_BIDIR_CONCAT ? 2 : 1;
  for (int i = 0; i < nw->count && !s; i++) s = rnnk_rnn_set_weights(rnn, i / D, i % D, RNNK_LAYOUT_PYTORCH, &nw->w[i]);
  if (s) {
    snprintf(err, errlen, "[%s] set_weights: %s (%s)", rnnk_isa_name(isa), rnnk_strerror(s), rnnk_last_error());
    rnnk_rnn_destroy(rnn);
    return false;
  }
  o->y = falloc(ny), o->hT = falloc(nh), o->cT = nc ? falloc(nc) : NULL;
  memset(o->y, 0x7f, ny * sizeof(float)); /* every element must be written */
  memset(o->hT, 0x7f, nh * sizeof(float));
  if (nc) memset(o->cT, 0x7f, nc * sizeof(float));
  s = rnnk_rnn_forward(rnn, k->T, k->N, x, lengths, h0, c0, o->y, o->hT, o->cT);
  rnnk_rnn_destroy(rnn);
  if (s) {
    snprintf(err, errlen, "[%s] forward: %s (%s)", rnnk_isa_name(isa), rnnk_strerror(s), rnnk_last_error());
    return false;
  }
  return true;
}

static void net_check(const net_case *k, rnnk_isa isa) {
  const rnnk_config *c = &k->cfg;
  static const char *const cell_names[] = {"elman", "jordan", "lstm", "gru"};
  static const char *const dir_names[] = {"forward", "reverse", "bidir-concat", "bidir-sum"};
  char label[400];
  snprintf(label, sizeof label,
           "net %s: %s%s%s %s L=%d I=%d H=%d P=%d O=%d T=%d N=%d clip=%g batch_first=%d h0=%d seed=%llu",
           rnnk_isa_name(isa), cell_names[c->cell], c->peephole ? "+peep" : "",
           c->cell == RNNK_GRU ? (c->linear_before_reset ? " lbr=1" : " lbr=0") : "", dir_names[c->direction],
           c->num_layers, c->input_size, c->hidden_size, c->proj_size, c->output_size, k->T, k->N, (double)c->clip,
           c->batch_first, k->h0, (unsigned long long)k->seed);
  const int D = c->direction >= RNNK_BIDIR_CONCAT ? 2 : 1, L = c->num_layers, H = c->hidden_size;
  const int S = c->cell == RNNK_JORDAN ? c->output_size : c->proj_size > 0 ? c->proj_size : H;
  const int W = c->direction == RNNK_BIDIR_CONCAT ? 2 * S : S;
  const bool lstm = c->cell == RNNK_LSTM;
  const size_t ny = (size_t)k->T * k->N * W, nh = (size_t)L * D * k->N * S, nc = lstm ? (size_t)L * D * k->N * H : 0;
  rng r = {k->seed ^ 0x5DEECE66Dull};
  net_weights nw;
  weights_make(c, k->seed, &nw);
  float *x = falloc((size_t)k->T * k->N * c->input_size);
  fill(&r, x, (size_t)k->T * k->N * c->input_size, -1, 1);
  float *h0 = NULL, *c0 = NULL;
  if (k->h0) {
    h0 = falloc(nh), fill(&r, h0, nh, -1, 1);
    if (nc) c0 = falloc(nc), fill(&r, c0, nc, -1, 1);
  }
  int *lengths = xmalloc((size_t)k->N * sizeof *lengths);
  for (int n = 0; n < k->N; n++) lengths[n] = pick(&r, k->T + 1);
  if (k->N >= 3) { /* one row of length 0 and one of length T */
    const int a = pick(&r, k->N), b = (a + 1 + pick(&r, k->N - 1)) % k->N;
    lengths[a] = 0, lengths[b] = k->T;
  }
  net_out o[2] = {{0}};
  char err[400] = "";
  bool ok = net_run(k, &nw, RNNK_ISA_SCALAR, x, lengths, h0, c0, ny, nh, nc, &o[0], err, sizeof err) &&
            net_run(k, &nw, isa, x, lengths, h0, c0, ny, nh, nc, &o[1], err, sizeof err);
  if (ok) {
    const size_t iy = first_diff(o[0].y, o[1].y, ny), ih = first_diff(o[0].hT, o[1].hT, nh);
    const size_t ic = nc ? first_diff(o[0].cT, o[1].cT, nc) : 0;
    if (iy < ny) ok = false, snprintf(err, sizeof err, "y[%zu]: %a (scalar) vs %a", iy, o[0].y[iy], o[1].y[iy]);
    else if (ih < nh) ok = false, snprintf(err, sizeof err, "hT[%zu]: %a (scalar) vs %a", ih, o[0].hT[ih], o[1].hT[ih]);
    else if (ic < nc) ok = false, snprintf(err, sizeof err, "cT[%zu]: %a (scalar) vs %a", ic, o[0].cT[ic], o[1].cT[ic]);
    /* sanity: the run produced numbers, and nothing is left at the 0x7f fill */
    for (size_t i = 0; i < ny && ok; i++)
      if (!isfinite(o[0].y[i])) ok = false, snprintf(err, sizeof err, "y[%zu] = %a (not finite)", i, o[0].y[i]);
  }
  check(ok, "%s: %s", label, err);
  for (int s = 0; s < 2; s++) free(o[s].y), free(o[s].hT), free(o[s].cT);
  weights_free(&nw);
  free(x), free(h0), free(c0), free(lengths);
}

static void net_checks(rnnk_isa isa) {
  static const rnnk_direction dirs[] = {RNNK_FORWARD, RNNK_BIDIR_CONCAT};
  uint64_t seed = 100;
  for (int shape = 0; shape < 2; shape++)
    for (int cell = 0; cell < 5; cell++) /* elman, jordan, lstm, gru lbr 0, gru lbr 1 */
      for (size_t di = 0; di < COUNT(dirs); di++) {
        net_case k = {.seed = seed++};
        rnnk_config *c = &k.cfg;
        const rnnk_cell cells[] = {RNNK_ELMAN, RNNK_JORDAN, RNNK_LSTM, RNNK_GRU, RNNK_GRU};
        if (shape == 0) /* small, tails everywhere */
          rnnk_config_init(c, cells[cell], 5, 17), k.T = 7, k.N = 3;
        else /* wider: several panels, full row tiles, batch_first, h0, clip, other activations */
          rnnk_config_init(c, cells[cell], 33, 37), k.T = 5, k.N = 8, k.h0 = true;
        c->num_layers = 2;
        c->direction = dirs[di];
        switch (cells[cell]) {
        case RNNK_ELMAN: c->act[0] = RNNK_ACT_TANH; break;
        case RNNK_JORDAN:
          c->output_size = shape ? 9 : 6;
          if (shape) c->out_act = RNNK_ACT_TANH;
          break;
        case RNNK_LSTM:
          c->peephole = true;
          c->proj_size = shape ? 13 : 7;
          break;
        default: c->linear_before_reset = cell == 4; break;
        }
        if (shape) {
          c->batch_first = true;
          c->clip = 2.5f;
          if (cells[cell] == RNNK_LSTM) c->act[2] = RNNK_ACT_HARD_SIGMOID, c->act_alpha[2] = 0.3f, c->act_beta[2] = 0.4f;
          if (cells[cell] == RNNK_GRU) c->act[1] = RNNK_ACT_SIGMOID;
        }
        net_check(&k, isa);
      }
}

/* --------------------------------------------------------------- main */

static void group_done(const char *isa, const char *group, int p0, int f0) {
  if (verbose) printf("%-7s %-9s %4d passed, %d failed\n", isa, group, n_passed - p0, n_failed - f0);
}

int main(int argc, char **argv) {
  verbose = argc > 1 && !strcmp(argv[1], "-v");
  const rnnk_ukernels *ref = rnnk_ukernels_for(RNNK_ISA_SCALAR);
  if (!check(ref != NULL, "no scalar kernel table")) {
    printf("%d passed, %d failed\n", n_passed, n_failed);
    return 1;
  }
  static const rnnk_isa simd[] = {RNNK_ISA_NEON, RNNK_ISA_AVX2, RNNK_ISA_AVX512};
  int tables = 0;
  for (size_t t = 0; t < COUNT(simd); t++) {
    const rnnk_ukernels *uk = rnnk_ukernels_for(simd[t]);
    if (!uk) continue; /* not compiled in, or this CPU cannot run it */
    tables++;
    const char *name = rnnk_isa_name(simd[t]);
    check(uk->isa == (int)simd[t] && uk->unit_align >= 1 && uk->unit_align * 2 * 4 <= RNNK_MAX_PW,
          "%s table: isa %d, unit_align %u", name, uk->isa, uk->unit_align);
    rng r = {1000 + t};
    int p = n_passed, f = n_failed;
    gemm_checks(ref, uk, &r);
    group_done(name, "gemm", p, f), p = n_passed, f = n_failed;
    act_checks(ref, uk, &r);
    group_done(name, "act", p, f), p = n_passed, f = n_failed;
    step_checks(ref, uk, &r);
    group_done(name, "steps", p, f), p = n_passed, f = n_failed;
    net_checks(simd[t]);
    group_done(name, "networks", p, f);
  }
#if defined(__aarch64__)
  /* On aarch64 NEON is baseline: its absence here is a failure, not a skip. */
  check(rnnk_ukernels_for(RNNK_ISA_NEON) != NULL, "aarch64 build without a runnable NEON kernel table");
#endif
  if (!tables) printf("no SIMD kernel table on this build/host: only the scalar reference exists\n");
  printf("%d passed, %d failed\n", n_passed, n_failed);
  return n_failed ? 1 : 0;
}
