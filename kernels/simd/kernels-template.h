/* The SIMD kernels, written once over the vf_* operations of one ISA header.
 * An ISA file includes simd-<isa>.h, defines RNNK_NAME(op) and
 * RNNK_ACC_REGS (vector registers available for accumulators), then
 * includes this file. Every kernel performs exactly the operation sequence
 * of its scalar reference in kernels/ref/f32-ref.c, lane by lane, so all
 * ISAs return the same bits (tests/test_kernels.c checks it).
 *
 * Layout: panels of U = UV * VW units (UV = 1 or 2), see ukernels.h. Since
 * Hp and every panel width are multiples of VW there are no lane tails in
 * the products; only the elementwise activation kernel has one, done on a
 * padded copy with the same vector code.
 *
 * Register tiles:
 *   gemm: MB rows x CV vectors of one panel's columns, broadcast A[m][k],
 *         CV weight vectors per k; accumulators start from init.
 *   step: NB rows x all G*UV vectors of one panel, so every gate of the
 *         panel's units is in registers when the k-loop ends and the cell
 *         update runs on them directly (the gates are never stored).
 * Inner loops have compile-time bounds after inlining (always_inline with
 * constant arguments), so the accumulators live in registers. */
#include <stddef.h>

#include "kernels/simd/activations.h"
#include "kernels/ukernels.h"

#define VW ((size_t)RNNK_VW)
#define RNNK_INLINE static inline __attribute__((always_inline))
#define MAXV 8 /* most vectors per tile row (LSTM, UV = 2) */

#if RNNK_ACC_REGS >= 24
#define GEMM_MB 6
#define GEMM_CV 4
#else
#define GEMM_MB 4
#define GEMM_CV 2
#endif

/* ---------------------------------------------------------------- gemm */

RNNK_INLINE void gemm_tile(size_t MB, size_t CV, size_t K, size_t pw, const float *A, size_t lda,
                           const float *W, const float *init, size_t ldi, float *C, size_t ldc) {
  vf acc[GEMM_MB][GEMM_CV];
  for (size_t r = 0; r < MB; r++)
    for (size_t v = 0; v < CV; v++) acc[r][v] = vf_load(init + r * ldi + v * VW);
  for (size_t k = 0; k < K; k++) {
    const float *w = W + k * pw;
    vf wv[GEMM_CV];
    for (size_t v = 0; v < CV; v++) wv[v] = vf_load(w + v * VW);
    for (size_t r = 0; r < MB; r++) {
      const vf x = vf_set1(A[r * lda + k]);
      for (size_t v = 0; v < CV; v++) acc[r][v] = vf_fma(wv[v], x, acc[r][v]);
    }
  }
  for (size_t r = 0; r < MB; r++)
    for (size_t v = 0; v < CV; v++) vf_store(C + r * ldc + v * VW, acc[r][v]);
}

RNNK_INLINE void gemm_cols(size_t CV, size_t M, size_t K, size_t pw, const float *A, size_t lda,
                           const float *W, const float *init, size_t ldi, float *C, size_t ldc) {
  size_t m = 0;
  for (; m + GEMM_MB <= M; m += GEMM_MB)
    gemm_tile(GEMM_MB, CV, K, pw, A + m * lda, lda, W, init + m * ldi, ldi, C + m * ldc, ldc);
  switch (M - m) {
#if GEMM_MB > 5
  case 5: gemm_tile(5, CV, K, pw, A + m * lda, lda, W, init + m * ldi, ldi, C + m * ldc, ldc); break;
  case 4: gemm_tile(4, CV, K, pw, A + m * lda, lda, W, init + m * ldi, ldi, C + m * ldc, ldc); break;
#endif
  case 3: gemm_tile(3, CV, K, pw, A + m * lda, lda, W, init + m * ldi, ldi, C + m * ldc, ldc); break;
  case 2: gemm_tile(2, CV, K, pw, A + m * lda, lda, W, init + m * ldi, ldi, C + m * ldc, ldc); break;
  case 1: gemm_tile(1, CV, K, pw, A + m * lda, lda, W, init + m * ldi, ldi, C + m * ldc, ldc); break;
  default: break;
  }
}

void RNNK_NAME(gemm)(size_t M, size_t K, size_t ncols, size_t pw, const float *A, size_t lda, const float *W,
                     const float *init, size_t ldi, float *C, size_t ldc) {
  const size_t pv = pw / VW;
  for (size_t p = 0; p < ncols / pw; p++) {
    const float *Wp = W + p * K * pw;
    for (size_t v = 0; v < pv;) {
      const size_t cv = pv - v >= GEMM_CV ? GEMM_CV : pv - v;
      const size_t col = p * pw + v * VW;
      switch (cv) {
#if GEMM_CV > 2
      case 4: gemm_cols(4, M, K, pw, A, lda, Wp + v * VW, init + col, ldi, C + col, ldc); break;
      case 3: gemm_cols(3, M, K, pw, A, lda, Wp + v * VW, init + col, ldi, C + col, ldc); break;
#endif
      case 2: gemm_cols(2, M, K, pw, A, lda, Wp + v * VW, init + col, ldi, C + col, ldc); break;
      default: gemm_cols(1, M, K, pw, A, lda, Wp + v * VW, init + col, ldi, C + col, ldc); break;
      }
      v += cv;
    }
  }
}

/* ---------------------------------------------------------- activation */

RNNK_INLINE vf act_v(vf x, const rnnk_act_param *a, float clip) {
  if (clip > 0.0f) x = rnnk_vclamp(x, vf_set1(-clip), vf_set1(clip));
  return rnnk_vact(x, a->kind, a->alpha, a->beta);
}

void RNNK_NAME(act)(size_t n, const float *x, float *y, const rnnk_act_param *a, float clip) {
  size_t i = 0;
  for (; i + VW <= n; i += VW) vf_store(y + i, act_v(vf_load(x + i), a, clip));
  if (i < n) { /* tail: same vector code on a padded copy */
    float buf[RNNK_VW] = {0};
    for (size_t t = 0; t < n - i; t++) buf[t] = x[i + t];
    vf_store(buf, act_v(vf_load(buf), a, clip));
    for (size_t t = 0; t < n - i; t++) y[i + t] = buf[t];
  }
}

/* ---------------------------------------------------------------- steps */

/* acc[r][v] += sum_k W[k][v] * hin[r][k] for NB rows and GV vectors. */
RNNK_INLINE void chain(size_t NB, size_t GV, const rnnk_step_args *a, const float *Wp, size_t n0,
                       vf acc[][MAXV]) {
  const size_t pw = GV * VW, K = a->K;
  const float *h = a->hin + n0 * a->ld_hin;
  for (size_t k = 0; k < K; k++) {
    const float *w = Wp + k * pw;
    vf wv[MAXV];
    for (size_t v = 0; v < GV; v++) wv[v] = vf_load(w + v * VW);
    for (size_t r = 0; r < NB; r++) {
      const vf x = vf_set1(h[r * a->ld_hin + k]);
      for (size_t v = 0; v < GV; v++) acc[r][v] = vf_fma(wv[v], x, acc[r][v]);
    }
  }
}

RNNK_INLINE void lstm_block(size_t NB, size_t UV, const rnnk_step_args *a, size_t p, size_t n0) {
  const size_t U = UV * VW, GV = 4 * UV;
  const rnnk_cell_param *cp = a->cp;
  vf acc[8][MAXV];
  for (size_t r = 0; r < NB; r++)
    for (size_t v = 0; v < GV; v++) acc[r][v] = vf_load(a->pre + (n0 + r) * a->ld_pre + p * 4 * U + v * VW);
  chain(NB, GV, a, a->W + p * a->K * 4 * U, n0, acc);
  for (size_t r = 0; r < NB; r++) {
    for (size_t u = 0; u < UV; u++) {
      const size_t j = p * U + u * VW;
      float *c = a->c + (n0 + r) * a->ld_c + j;
      vf ai = acc[r][0 * UV + u], af = acc[r][1 * UV + u], ag = acc[r][2 * UV + u], ao = acc[r][3 * UV + u];
      const vf c_prev = vf_load(c);
      const float *pp = a->peep ? a->peep + p * 3 * U + u * VW : NULL;
      if (pp) {
        ai = vf_fma(vf_load(pp), c_prev, ai);
        af = vf_fma(vf_load(pp + U), c_prev, af);
      }
      const vf i = act_v(ai, &cp->f, cp->clip);
      const vf f = cp->input_forget ? vf_sub(vf_set1(1.0f), i) : act_v(af, &cp->f, cp->clip);
      const vf g = act_v(ag, &cp->g, cp->clip);
      const vf c_new = vf_fma(f, c_prev, vf_mul(i, g));
      if (pp) ao = vf_fma(vf_load(pp + 2 * U), c_new, ao);
      const vf o = act_v(ao, &cp->f, cp->clip);
      vf_store(c, c_new);
      vf_store(a->out + (n0 + r) * a->ld_out + j, vf_mul(o, act_v(c_new, &cp->h, cp->clip)));
    }
  }
}

RNNK_INLINE void gru_block(size_t NB, size_t UV, const rnnk_step_args *a, size_t p, size_t n0) {
  const size_t U = UV * VW, GV = 3 * UV;
  const rnnk_cell_param *cp = a->cp;
  vf acc[8][MAXV];
  for (size_t r = 0; r < NB; r++) {
    const float *pre = a->pre + (n0 + r) * a->ld_pre + p * 3 * U;
    for (size_t v = 0; v < 2 * UV; v++) acc[r][v] = vf_load(pre + v * VW);
    for (size_t u = 0; u < UV; u++) acc[r][2 * UV + u] = vf_load(a->bias + p * U + u * VW);
  }
  chain(NB, GV, a, a->W + p * a->K * 3 * U, n0, acc);
  for (size_t r = 0; r < NB; r++) {
    const float *pre = a->pre + (n0 + r) * a->ld_pre + p * 3 * U;
    for (size_t u = 0; u < UV; u++) {
      const size_t j = p * U + u * VW;
      const vf rg = act_v(acc[r][u], &cp->f, cp->clip);
      const vf z = act_v(acc[r][UV + u], &cp->f, cp->clip);
      const vf nn = act_v(vf_fma(rg, acc[r][2 * UV + u], vf_load(pre + 2 * U + u * VW)), &cp->g, cp->clip);
      const vf hp = vf_load(a->hprev + (n0 + r) * a->ld_hprev + j);
      vf_store(a->out + (n0 + r) * a->ld_out + j, vf_fma(z, vf_sub(hp, nn), nn));
    }
  }
}

RNNK_INLINE void gru_rz_block(size_t NB, size_t UV, const rnnk_step_args *a, size_t p, size_t n0) {
  const size_t U = UV * VW, GV = 2 * UV;
  const rnnk_cell_param *cp = a->cp;
  vf acc[8][MAXV];
  for (size_t r = 0; r < NB; r++)
    for (size_t v = 0; v < GV; v++) acc[r][v] = vf_load(a->pre + (n0 + r) * a->ld_pre + p * 3 * U + v * VW);
  chain(NB, GV, a, a->W + p * a->K * 2 * U, n0, acc);
  for (size_t r = 0; r < NB; r++) {
    for (size_t u = 0; u < UV; u++) {
      const size_t j = p * U + u * VW;
      const vf rg = act_v(acc[r][u], &cp->f, cp->clip);
      const vf z = act_v(acc[r][UV + u], &cp->f, cp->clip);
      const vf hp = vf_load(a->hprev + (n0 + r) * a->ld_hprev + j);
      vf_store(a->out + (n0 + r) * a->ld_out + j, vf_mul(rg, hp));
      vf_store(a->out2 + (n0 + r) * a->ld_out + j, z);
    }
  }
}

RNNK_INLINE void gru_n_block(size_t NB, size_t UV, const rnnk_step_args *a, size_t p, size_t n0) {
  const size_t U = UV * VW, GV = UV;
  const rnnk_cell_param *cp = a->cp;
  vf acc[8][MAXV];
  for (size_t r = 0; r < NB; r++)
    for (size_t v = 0; v < GV; v++) acc[r][v] = vf_load(a->bias + p * U + v * VW);
  chain(NB, GV, a, a->W + p * a->K * U, n0, acc);
  for (size_t r = 0; r < NB; r++) {
    const float *pre = a->pre + (n0 + r) * a->ld_pre + p * 3 * U;
    for (size_t u = 0; u < UV; u++) {
      const size_t j = p * U + u * VW;
      const vf nn = act_v(vf_add(vf_load(pre + 2 * U + u * VW), acc[r][u]), &cp->g, cp->clip);
      const vf z = vf_load(a->out2 + (n0 + r) * a->ld_out + j);
      const vf hp = vf_load(a->hprev + (n0 + r) * a->ld_hprev + j);
      vf_store(a->out + (n0 + r) * a->ld_out + j, vf_fma(z, vf_sub(hp, nn), nn));
    }
  }
}

RNNK_INLINE void elman_block(size_t NB, size_t UV, const rnnk_step_args *a, size_t p, size_t n0) {
  const size_t U = UV * VW, GV = UV;
  const rnnk_cell_param *cp = a->cp;
  vf acc[8][MAXV];
  for (size_t r = 0; r < NB; r++)
    for (size_t v = 0; v < GV; v++) acc[r][v] = vf_load(a->pre + (n0 + r) * a->ld_pre + p * U + v * VW);
  chain(NB, GV, a, a->W + p * a->K * U, n0, acc);
  for (size_t r = 0; r < NB; r++)
    for (size_t u = 0; u < UV; u++)
      vf_store(a->out + (n0 + r) * a->ld_out + p * U + u * VW, act_v(acc[r][u], &cp->g, cp->clip));
}

/* Rows per register tile: as many as the accumulator registers allow. */
#define NB_FOR(GV) ((RNNK_ACC_REGS / (GV)) < 1 ? 1 : (RNNK_ACC_REGS / (GV)) > 8 ? 8 : (RNNK_ACC_REGS / (GV)))

/* Panels [p0, p1) x row blocks; one switch picks the compile-time tile. */
#define DEFINE_STEP(op, G)                                                                       \
  RNNK_INLINE void op##_rows(size_t UV, const rnnk_step_args *a, size_t p) {                    \
    const size_t nbmax = NB_FOR((G) * UV);                                                       \
    for (size_t n0 = 0; n0 < a->N; n0 += nbmax) {                                                \
      const size_t nb = a->N - n0 < nbmax ? a->N - n0 : nbmax;                                   \
      switch (nb) {                                                                              \
      case 8: op##_block(8, UV, a, p, n0); break;                                                \
      case 7: op##_block(7, UV, a, p, n0); break;                                                \
      case 6: op##_block(6, UV, a, p, n0); break;                                                \
      case 5: op##_block(5, UV, a, p, n0); break;                                                \
      case 4: op##_block(4, UV, a, p, n0); break;                                                \
      case 3: op##_block(3, UV, a, p, n0); break;                                                \
      case 2: op##_block(2, UV, a, p, n0); break;                                                \
      default: op##_block(1, UV, a, p, n0); break;                                               \
      }                                                                                          \
    }                                                                                            \
  }                                                                                              \
  void RNNK_NAME(op)(const rnnk_step_args *a) {                                                  \
    if (a->U == 2 * VW)                                                                          \
      for (size_t p = a->p0; p < a->p1; p++) op##_rows(2, a, p);                                 \
    else                                                                                         \
      for (size_t p = a->p0; p < a->p1; p++) op##_rows(1, a, p);                                 \
  }

DEFINE_STEP(lstm, 4)
DEFINE_STEP(gru, 3)
DEFINE_STEP(gru_rz, 2)
DEFINE_STEP(gru_n, 1)
DEFINE_STEP(elman, 1)
