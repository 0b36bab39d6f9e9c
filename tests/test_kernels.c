/* Every SIMD kernel against the scalar reference, bit for bit, on random
 * shapes with tails (H not a multiple of the vector width), partial panel
 * ranges (the thread split) and canaries around every output. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/f32-kernels.h"
#include "src/internal.h"
#include "tests/common.h"
#include "tests/cell_variants.h"

TestSuite(kernels, .fini = test_leak_check);

#define CANARY 64
static const float canary_value = -1234.5f;

/* A buffer of n floats with CANARY guard floats on each side. */
static float *guarded(size_t n) {
  float *p = malloc((n + 2 * CANARY) * sizeof(float));
  cr_assert(p);
  for (size_t i = 0; i < n + 2 * CANARY; i++) p[i] = canary_value;
  return p + CANARY;
}
static void check_guards(const float *p, size_t n, const char *what) {
  for (size_t i = 1; i <= CANARY; i++) {
    cr_assert_eq(p[-(ptrdiff_t)i], canary_value, "%s: write before the buffer", what);
    cr_assert_eq(p[n + i - 1], canary_value, "%s: write after the buffer", what);
  }
}
static void release(float *p) { free(p - CANARY); }

static int round_up(int v, int m) { return (v + m - 1) / m * m; }

typedef struct isa_kernels {
  const rnnk_ukernels *uk;
  int vw;
} isa_kernels;

static int simd_tables(isa_kernels out[3]) {
  int n = 0;
  const rnnk_isa isas[] = {RNNK_ISA_AVX2, RNNK_ISA_AVX512, RNNK_ISA_NEON};
  for (int i = 0; i < 3; i++) {
    const rnnk_ukernels *uk = rnnk_ukernels_for(isas[i]);
    if (uk) out[n++] = (isa_kernels){uk, (int)uk->unit_align};
  }
  return n;
}

static const int Hs[] = {1, 15, 17, 31, 33, 100, 257};
static const int Ns[] = {1, 3, 8};
static const int Is[] = {1, 5, 64, 200}; /* 200: k runs in L1-sized chunks when N > one register tile */

Test(kernels, gemm_matches_reference) {
  isa_kernels t[3];
  const int nt = simd_tables(t);
  test_rng rng = {42};
  const rnnk_ukernels *ref = rnnk_ukernels_for(RNNK_ISA_SCALAR);
  for (int it = 0; it < nt; it++)
    for (int uv = 1; uv <= 2; uv++)
      for (int G = 1; G <= 4; G++)
        for (size_t hi = 0; hi < sizeof Hs / sizeof *Hs; hi++)
          for (size_t ii = 0; ii < sizeof Is / sizeof *Is; ii++) {
            const int U = uv * t[it].vw, Hp = round_up(Hs[hi], U), K = Is[ii], pw = G * U;
            const int M = 1 + (int)(test_uniform(&rng, 0, 13)); /* rows, incl. tails of the row tile */
            const size_t ncols = (size_t)G * Hp, lda = (size_t)K + 3, ldc = ncols + 5;
            float *A = malloc(sizeof(float) * M * lda), *W = malloc(sizeof(float) * ncols * K);
            float *init = malloc(sizeof(float) * ncols);
            test_fill(&rng, A, (size_t)M * lda, -1, 1);
            test_fill(&rng, W, ncols * K, -1, 1);
            test_fill(&rng, init, ncols, -1, 1);
            float *c_ref = guarded((size_t)M * ldc), *c_simd = guarded((size_t)M * ldc);
            ref->f32_gemm(M, K, ncols, pw, A, lda, W, init, 0, c_ref, ldc);
            t[it].uk->f32_gemm(M, K, ncols, pw, A, lda, W, init, 0, c_simd, ldc);
            check_guards(c_simd, (size_t)M * ldc, "gemm");
            for (int m = 0; m < M; m++)
              cr_assert(!memcmp(c_ref + m * ldc, c_simd + m * ldc, ncols * sizeof(float)),
                        "gemm %s M=%d K=%d H=%d G=%d U=%d row %d differs", t[it].uk->name, M, K, Hs[hi], G, U, m);
            release(c_ref), release(c_simd);
            free(A), free(W), free(init);
          }
}


typedef enum { K_LSTM, K_GRU, K_GRU_RZ, K_GRU_N, K_ELMAN } step_kind;
static const char *kind_name[] = {"lstm", "gru", "gru_rz", "gru_n", "elman"};
static const int kind_pw_gates[] = {4, 3, 2, 1, 1};  /* gates in the packed W */
static const int kind_pre_gates[] = {4, 3, 3, 3, 1}; /* gates in pre */

static rnnk_f32_step_fn step_fn(const rnnk_ukernels *uk, step_kind k) {
  switch (k) {
  case K_LSTM: return uk->f32_lstm;
  case K_GRU: return uk->f32_gru;
  case K_GRU_RZ: return uk->f32_gru_rz;
  case K_GRU_N: return uk->f32_gru_n;
  default: return uk->f32_elman;
  }
}

/* Runs one step kernel of the scalar table and of @p simd on the same
 * inputs; outputs (out, out2, c) must be identical and canaries intact. */
static void compare_step(const rnnk_ukernels *simd, int U, step_kind kind, int H, int N, int K, int variant,
                         bool peep, size_t p0, size_t p1, bool k_chunks, size_t k_block_kib, test_rng *rng) {
  const rnnk_ukernels *ref = rnnk_ukernels_for(RNNK_ISA_SCALAR);
  const int Hp = round_up(H, U);
  const size_t np = (size_t)Hp / (size_t)U;
  if (p1 > np) p1 = np;
  if (p0 >= p1) return;
  const size_t ld_pre = (size_t)kind_pre_gates[kind] * Hp + 1, ld_hin = (size_t)K + 2, ld = (size_t)Hp + 3;
  float *W = malloc(sizeof(float) * kind_pw_gates[kind] * Hp * K), *pre = malloc(sizeof(float) * N * ld_pre);
  float *hin = malloc(sizeof(float) * N * ld_hin), *hprev = malloc(sizeof(float) * N * ld);
  float *pp = malloc(sizeof(float) * 3 * Hp), *bias = malloc(sizeof(float) * Hp);
  test_fill(rng, W, (size_t)kind_pw_gates[kind] * Hp * K, -0.5f, 0.5f);
  test_fill(rng, pre, (size_t)N * ld_pre, -3, 3);
  test_fill(rng, hin, (size_t)N * ld_hin, -1, 1);
  test_fill(rng, hprev, (size_t)N * ld, -1, 1);
  test_fill(rng, pp, 3 * (size_t)Hp, -1, 1);
  test_fill(rng, bias, (size_t)Hp, -1, 1);
  float *out[2], *out2[2], *c[2];
  for (int s = 0; s < 2; s++) {
    out[s] = guarded((size_t)N * ld), out2[s] = guarded((size_t)N * ld), c[s] = guarded((size_t)N * ld);
    test_rng r2 = *rng; /* same initial c and z in both */
    test_fill(&r2, c[s], (size_t)N * ld, -2, 2);
    test_fill(&r2, out2[s], (size_t)N * ld, 0, 1);
  }
  const rnnk_cell_param cp = cell_variant(variant);
  rnnk_step_args a = {.N = (size_t)N, .K = (size_t)K, .U = (size_t)U, .p0 = p0, .p1 = p1, .W = W, .pre = pre,
                      .ld_pre = ld_pre, .hin = hin, .ld_hin = ld_hin, .hprev = hprev, .ld_hprev = ld,
                      .ld_c = ld, .ld_out = ld, .peep = peep ? pp : NULL, .bias = bias, .cp = &cp,
                      .k_chunks = k_chunks, .k_block_kib = k_block_kib};
  for (int s = 0; s < 2; s++) {
    a.out = out[s], a.out2 = out2[s], a.c = c[s];
    step_fn(s ? simd : ref, kind)(&a);
  }
  for (int s = 0; s < 2; s++) {
    check_guards(out[s], (size_t)N * ld, "out");
    check_guards(out2[s], (size_t)N * ld, "out2");
    check_guards(c[s], (size_t)N * ld, "c");
  }
  for (int n = 0; n < N; n++) {
    for (size_t j = 0; j < (size_t)Hp; j++) {
      const size_t i = (size_t)n * ld + j;
      cr_assert(!memcmp(&out[0][i], &out[1][i], 4) && !memcmp(&out2[0][i], &out2[1][i], 4) &&
                    !memcmp(&c[0][i], &c[1][i], 4),
                "%s %s U=%d H=%d N=%d K=%d variant=%d peep=%d panels %zu..%zu k_chunks=%d k_block=%zu KiB: row %d "
                "unit %zu: out %a vs %a, out2 %a vs %a, c %a vs %a",
                kind_name[kind], simd->name, U, H, N, K, variant, peep, p0, p1, k_chunks, k_block_kib, n, j, out[0][i],
                out[1][i],
                out2[0][i], out2[1][i], c[0][i], c[1][i]);
      /* units outside [p0, p1) untouched */
      if (j < p0 * U || j >= p1 * U) cr_assert_eq(out[1][i], canary_value, "%s wrote outside its panels", kind_name[kind]);
    }
  }
  for (int s = 0; s < 2; s++) release(out[s]), release(out2[s]), release(c[s]);
  free(W), free(pre), free(hin), free(hprev), free(pp), free(bias);
}

Test(kernels, steps_match_reference) {
  isa_kernels t[3];
  const int nt = simd_tables(t);
  test_rng rng = {7};
  for (int it = 0; it < nt; it++)
    for (int uv = 1; uv <= 8; uv *= 2)
      for (int kind = K_LSTM; kind <= K_ELMAN; kind++)
        for (size_t hi = 0; hi < sizeof Hs / sizeof *Hs; hi++)
          for (size_t ni = 0; ni < sizeof Ns / sizeof *Ns; ni++)
            for (size_t ii = 0; ii < sizeof Is / sizeof *Is; ii++) {
              /* 4-vector panels: kernels of at most two gates; 8: of one */
              if ((uv == 4 && kind_pw_gates[kind] > 2) || (uv == 8 && kind_pw_gates[kind] > 1)) continue;
              const int variant = (int)(hi + ni + ii) % 5;
              const bool peep = kind == K_LSTM && (hi + ii) % 2;
              compare_step(t[it].uk, uv * t[it].vw, (step_kind)kind, Hs[hi], Ns[ni], Is[ii], variant, peep, 0,
                           1000, (hi + ni) % 2, 0, &rng);
            }
}

Test(kernels, steps_partial_panels) {
  isa_kernels t[3];
  const int nt = simd_tables(t);
  test_rng rng = {9};
  for (int it = 0; it < nt; it++)
    for (int kind = K_LSTM; kind <= K_ELMAN; kind++)
      for (size_t p0 = 0; p0 < 4; p0++)
        compare_step(t[it].uk, t[it].vw, (step_kind)kind, 100, 3, 33, 0, kind == K_LSTM, p0, p0 + 2, false, 0, &rng);
}

/* Rows for several register tiles and k longer than a chunk: with
 * k_chunks, N = 13 takes the chunked path (2-3 tall tiles, or AVX2's 3-row
 * LSTM tiles) and N = 45 mostly the prefetching stream (4 or more tiles of
 * 4 or more rows); both, and the unchunked path, give the reference's bits. */
Test(kernels, steps_k_chunks) {
  isa_kernels t[3];
  const int nt = simd_tables(t);
  test_rng rng = {11};
  const int Ns[] = {13, 45};
  for (int it = 0; it < nt; it++)
    for (int uv = 1; uv <= 8; uv *= 2)
      for (int kind = K_LSTM; kind <= K_ELMAN; kind++)
        for (int ni = 0; ni < 2; ni++)
          for (int kc = 0; kc < 2; kc++) {
            if ((uv == 4 && kind_pw_gates[kind] > 2) || (uv == 8 && kind_pw_gates[kind] > 1)) continue;
            compare_step(t[it].uk, uv * t[it].vw, (step_kind)kind, 2 * uv * t[it].vw + 3, Ns[ni], 1100, kind % 5,
                         kind == K_LSTM, 0, 1000, kc, 0, &rng);
          }
}

/* Two-gate panels of 2 vectors (GRU's r,z) with more rows than a tile of
 * the whole panel holds: the kernel takes one vector per gate so that all
 * rows share one tile (AVX2 N = 4..6, AVX-512 N = 7, 8), or, with k-chunks
 * on 32 registers, 4-row tiles of the whole panel over the chunks
 * (RZ_CHUNKED, N = 7, 8); every N from 1 to 9 crosses those limits, with
 * and without k-chunks. */
Test(kernels, steps_two_gate_slices) {
  isa_kernels t[3];
  const int nt = simd_tables(t);
  test_rng rng = {17};
  for (int it = 0; it < nt; it++)
    for (int N = 1; N <= 9; N++)
      for (int kc = 0; kc < 2; kc++)
        compare_step(t[it].uk, 2 * t[it].vw, K_GRU_RZ, 4 * t[it].vw + 3, N, kc ? 1100 : 64, N % 5, false, 0, 1000,
                     kc, 0, &rng);
}

/* A tuned k-chunk size (k_block) changes where the chains pause, not
 * their order: from chunks of a few k-rows (1 KiB) to one chunk of all of
 * k (2048 KiB), every size gives the reference's bits. */
Test(kernels, steps_k_block) {
  isa_kernels t[3];
  const int nt = simd_tables(t);
  test_rng rng = {13};
  const size_t kibs[] = {1, 3, 8, 16, 2048};
  for (int it = 0; it < nt; it++)
    for (int kind = K_LSTM; kind <= K_ELMAN; kind++)
      for (size_t ki = 0; ki < sizeof kibs / sizeof *kibs; ki++)
        for (int ni = 0; ni < 2; ni++) {
          const int uv = kind_pw_gates[kind] > 1 ? 1 : 4;
          compare_step(t[it].uk, uv * t[it].vw, (step_kind)kind, 2 * uv * t[it].vw + 3, ni ? 13 : 7, 1100,
                       (int)ki % 5, kind == K_LSTM, 0, 1000, true, kibs[ki], &rng);
        }
}

Test(kernels, activation_kernel_matches_reference) {
  isa_kernels t[3];
  const int nt = simd_tables(t);
  const rnnk_ukernels *ref = rnnk_ukernels_for(RNNK_ISA_SCALAR);
  test_rng rng = {3};
  const size_t n = 1001;
  float *x = malloc(n * sizeof(float));
  test_fill(&rng, x, n, -40, 40);
  x[0] = NAN, x[1] = INFINITY, x[2] = -INFINITY, x[3] = 0.0f, x[4] = -0.0f, x[5] = 1e-40f, x[6] = -88.5f;
  for (int it = 0; it < nt; it++)
    for (int kind = RNNK_K_TANH; kind <= RNNK_K_HARD_SIGMOID; kind++)
      for (int clip = 0; clip < 2; clip++)
        for (size_t len = 1; len < 40; len += 3) {
          const rnnk_act_param a = {kind, 0.25f, 0.45f};
          float *y0 = guarded(len), *y1 = guarded(len);
          ref->f32_act(len, x + 7, y0, &a, clip ? 3.0f : 0.0f);
          t[it].uk->f32_act(len, x + 7, y1, &a, clip ? 3.0f : 0.0f);
          check_guards(y1, len, "act");
          cr_assert(!memcmp(y0, y1, len * sizeof(float)), "act %s kind %d len %zu differs", t[it].uk->name, kind, len);
          /* special values */
          ref->f32_act(7, x, y0, &a, 0), t[it].uk->f32_act(7, x, y1, &a, 0);
          for (int i = 0; i < 7; i++)
            cr_assert(!memcmp(&y0[i], &y1[i], 4) || (isnan(y0[i]) && isnan(y1[i])), "act %s kind %d special %d",
                      t[it].uk->name, kind, i);
          release(y0), release(y1);
        }
  free(x);
}
