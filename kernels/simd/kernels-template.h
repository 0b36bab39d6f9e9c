/* The SIMD kernels, written once over the vf_* operations of one ISA header.
 * An ISA file includes simd-<isa>.h, defines RNNK_NAME(op) and RNNK_VREGS
 * (vector registers of the ISA), then includes this file. Every kernel
 * performs exactly the operation sequence of its scalar reference in
 * kernels/ref/f32-ref.c, lane by lane, so all ISAs return the same bits
 * (tests/test_kernels.c checks it).
 *
 * Layout: panels of U = UV * VW units (UV = 1 or 2; 4 for cells of at most
 * two gates; 8 for one-gate cells), see ukernels.h. Since Hp and every
 * panel width are multiples of VW there are no lane tails in the products;
 * only the elementwise activation kernel has one, done on a padded copy
 * with the same vector code.
 *
 * Register tiles:
 *   gemm: MB rows x CV vectors of one panel's columns, broadcast A[m][k],
 *         CV weight vectors per k; accumulators start from init.
 *   step: NB rows x all G*UV vectors of one panel, so every gate of the
 *         panel's units is in registers when the k-loop ends and the cell
 *         update runs on them directly: finished gates are never stored
 *         (with more rows than one tile, unfinished chains wait in a small
 *         stack tile between k-chunks; see KC_FOR).
 * Inner loops have compile-time bounds after inlining (always_inline with
 * constant arguments), so the accumulators live in registers. */
#include <stddef.h>

#include "kernels/simd/activations.h"
#include "kernels/ukernels.h"

#define VW ((size_t)RNNK_VW)
#define RNNK_INLINE static inline __attribute__((always_inline))
#define MAXV 8 /* most vectors per tile row (LSTM with UV = 2, two-gate cells with UV = 4, one-gate with 8) */

/* GEMM register tile: GEMM_MB x GEMM_CV accumulators + GEMM_CV weights + 1
 * broadcast (zmm: 24 + 4 + 1 of 32; ymm: 12 + 2 + 1 of 16, where 4 x 2 left
 * 8 accumulators, just the FMA latency x ports, and ran 8% slower). */
#define GEMM_MB 6
#if RNNK_VREGS >= 32
#define GEMM_CV 4
#else
#define GEMM_CV 2
#endif

/* ---------------------------------------------------------------- gemm */

/* Spread prefetch in a k-loop: due on every pf_every-th k from pf_first on,
 * counted down in *wait (start it at pf_first + 1), so no division per k. */
RNNK_INLINE int prefetch_due(size_t *wait, size_t pf_every) {
  if (--*wait != 0) return 0;
  *wait = pf_every;
  return 1;
}

/* pf (or NULL): the same columns of the next panel, prefetched into L2
 * meanwhile, k-row k for every pf_every-th k from pf_first on. */
RNNK_INLINE void gemm_tile(size_t MB, size_t CV, size_t K, size_t pw, const float *A, size_t lda,
                           const float *W, const float *init, size_t ldi, float *C, size_t ldc,
                           const float *pf, size_t pf_every, size_t pf_first) {
  vf acc[GEMM_MB][GEMM_CV];
  for (size_t r = 0; r < MB; r++)
    for (size_t v = 0; v < CV; v++) acc[r][v] = vf_load(init + r * ldi + v * VW);
  size_t pf_wait = pf_first + 1;
  for (size_t k = 0; k < K; k++) {
    const float *w = W + k * pw;
    if (pf && prefetch_due(&pf_wait, pf_every))
      for (size_t v = 0; v < CV; v++) __builtin_prefetch(pf + k * pw + v * VW, 0, 2);
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

/* A remainder tile of R < GEMM_MB rows, no prefetch; the switch makes R a
 * constant so the accumulators stay in registers. */
RNNK_INLINE void gemm_rest(size_t R, size_t CV, size_t K, size_t pw, const float *A, size_t lda,
                           const float *W, const float *init, size_t ldi, float *C, size_t ldc) {
  switch (R) {
  case 5: gemm_tile(5, CV, K, pw, A, lda, W, init, ldi, C, ldc, NULL, 1, 0); break;
  case 4: gemm_tile(4, CV, K, pw, A, lda, W, init, ldi, C, ldc, NULL, 1, 0); break;
  case 3: gemm_tile(3, CV, K, pw, A, lda, W, init, ldi, C, ldc, NULL, 1, 0); break;
  case 2: gemm_tile(2, CV, K, pw, A, lda, W, init, ldi, C, ldc, NULL, 1, 0); break;
  case 1: gemm_tile(1, CV, K, pw, A, lda, W, init, ldi, C, ldc, NULL, 1, 0); break;
  default: break;
  }
}

/* All M rows of CV vector columns. With at least 4 full row tiles, the
 * tiles share the prefetch of the next panel's columns pf (each takes every
 * tiles-th k-row), so a W streamed from L3 arrives during the FMAs of this
 * panel instead of stalling its first tile (M=256 K=1024: 7% faster). */
RNNK_INLINE void gemm_cols(size_t CV, size_t M, size_t K, size_t pw, const float *A, size_t lda,
                           const float *W, const float *init, size_t ldi, float *C, size_t ldc,
                           const float *pf) {
  /* A remainder of 1 or 2 rows joins the last full tile as 4 + 3 or 4 + 4
   * rows: a 1- or 2-row tile reads the weights for too few FMAs (M=50:
   * 157 -> 150 us, M=200: 0.966). */
  const size_t rem = M % GEMM_MB, tail = M > GEMM_MB && rem && rem <= 2 ? GEMM_MB + rem : rem;
  const size_t full = M - tail, tiles = full / GEMM_MB;
  if (tiles < 4) pf = NULL;
  size_t m = 0;
  for (; m < full; m += GEMM_MB)
    gemm_tile(GEMM_MB, CV, K, pw, A + m * lda, lda, W, init + m * ldi, ldi, C + m * ldc, ldc, pf, tiles,
              m / GEMM_MB);
  for (size_t r; m < M; m += r) {
    r = M - m > GEMM_MB ? 4 : M - m;
    gemm_rest(r, CV, K, pw, A + m * lda, lda, W, init + m * ldi, ldi, C + m * ldc, ldc);
  }
}

/* Fewer rows than one tile (a step's projection or a streamed step's input
 * GEMM, M = N) over panels that give a tile fewer than 4 vectors: a tile
 * of all R rows spans NV vectors of consecutive panels, so it has R x NV
 * FMA chains, not R x (vectors of one panel): one, for the 1-vector panels
 * of a projection and R = 1, where each FMA waited on the last (M=1 K=256
 * 128 columns: zmm 2.7 -> 1.7 us, ymm 4.1 -> 1.8 us; ymm 1024 columns
 * 20.4 -> 13.4 us; LSTM with projection N=1 H=256 P=128: 0.91 and 0.86).
 * With 4 vectors a panel, zmm keeps one panel per tile (across two panels:
 * M=1 0.84x as fast, M=5 0.9x). Vector j of the tile sits in panel
 * (j0 + j) / pv, its output column is (j0 + j) * VW. NV weights + R*NV
 * accumulators + 1 broadcast fill the register file. */
#define NARROW_NV(R) ((RNNK_VREGS - 1) / ((R) + 1) > 8 ? 8 : (RNNK_VREGS - 1) / ((R) + 1))

RNNK_INLINE void narrow_tile(size_t R, size_t NV, size_t K, size_t pw, size_t pv, const float *A, size_t lda,
                             const float *W, size_t j0, const float *init, size_t ldi, float *C, size_t ldc) {
  const float *wp[8];
  vf acc[GEMM_MB][8];
  for (size_t v = 0; v < NV; v++) {
    const size_t j = j0 + v;
    wp[v] = W + j / pv * K * pw + j % pv * VW;
    for (size_t r = 0; r < R; r++) acc[r][v] = vf_load(init + r * ldi + j * VW);
  }
  for (size_t k = 0; k < K; k++) {
    vf wv[8];
    for (size_t v = 0; v < NV; v++) wv[v] = vf_load(wp[v] + k * pw);
    for (size_t r = 0; r < R; r++) {
      const vf x = vf_set1(A[r * lda + k]);
      for (size_t v = 0; v < NV; v++) acc[r][v] = vf_fma(wv[v], x, acc[r][v]);
    }
  }
  for (size_t r = 0; r < R; r++)
    for (size_t v = 0; v < NV; v++) vf_store(C + r * ldc + (j0 + v) * VW, acc[r][v]);
}

/* NV a constant for each case, up to NARROW_NV(R). */
RNNK_INLINE void narrow_rows(size_t R, size_t K, size_t ncols, size_t pw, const float *A, size_t lda,
                             const float *W, const float *init, size_t ldi, float *C, size_t ldc) {
  const size_t pv = pw / VW, nvec = ncols / VW;
  for (size_t j0 = 0; j0 < nvec; j0 += NARROW_NV(R)) {
    const size_t nv = nvec - j0 < NARROW_NV(R) ? nvec - j0 : NARROW_NV(R);
    switch (nv) {
    case 8: narrow_tile(R, 8 <= NARROW_NV(R) ? 8 : 1, K, pw, pv, A, lda, W, j0, init, ldi, C, ldc); break;
    case 7: narrow_tile(R, 7 <= NARROW_NV(R) ? 7 : 1, K, pw, pv, A, lda, W, j0, init, ldi, C, ldc); break;
    case 6: narrow_tile(R, 6 <= NARROW_NV(R) ? 6 : 1, K, pw, pv, A, lda, W, j0, init, ldi, C, ldc); break;
    case 5: narrow_tile(R, 5 <= NARROW_NV(R) ? 5 : 1, K, pw, pv, A, lda, W, j0, init, ldi, C, ldc); break;
    case 4: narrow_tile(R, 4 <= NARROW_NV(R) ? 4 : 1, K, pw, pv, A, lda, W, j0, init, ldi, C, ldc); break;
    case 3: narrow_tile(R, 3 <= NARROW_NV(R) ? 3 : 1, K, pw, pv, A, lda, W, j0, init, ldi, C, ldc); break;
    case 2: narrow_tile(R, 2 <= NARROW_NV(R) ? 2 : 1, K, pw, pv, A, lda, W, j0, init, ldi, C, ldc); break;
    default: narrow_tile(R, 1, K, pw, pv, A, lda, W, j0, init, ldi, C, ldc); break;
    }
  }
}

void RNNK_NAME(gemm)(size_t M, size_t K, size_t ncols, size_t pw, const float *A, size_t lda, const float *W,
                     const float *init, size_t ldi, float *C, size_t ldc) {
  const size_t cv_panel = pw / VW < GEMM_CV ? pw / VW : GEMM_CV;
  switch (M < GEMM_MB && cv_panel < 4 ? M : 0) {
  case 1: narrow_rows(1, K, ncols, pw, A, lda, W, init, ldi, C, ldc); return;
  case 2: narrow_rows(2, K, ncols, pw, A, lda, W, init, ldi, C, ldc); return;
  case 3: narrow_rows(3, K, ncols, pw, A, lda, W, init, ldi, C, ldc); return;
  case 4: narrow_rows(4, K, ncols, pw, A, lda, W, init, ldi, C, ldc); return;
  case 5: narrow_rows(5, K, ncols, pw, A, lda, W, init, ldi, C, ldc); return;
  default: break;
  }
  const size_t pv = pw / VW, np = ncols / pw;
  for (size_t p = 0; p < np; p++) {
    const float *Wp = W + p * K * pw, *Wn = p + 1 < np ? Wp + K * pw : NULL;
    for (size_t v = 0; v < pv;) {
      const size_t cv = pv - v >= GEMM_CV ? GEMM_CV : pv - v;
      const size_t col = p * pw + v * VW;
      const float *Wv = Wp + v * VW, *pf = Wn ? Wn + v * VW : NULL;
      switch (cv) {
#if GEMM_CV > 2
      case 4: gemm_cols(4, M, K, pw, A, lda, Wv, init + col, ldi, C + col, ldc, pf); break;
      case 3: gemm_cols(3, M, K, pw, A, lda, Wv, init + col, ldi, C + col, ldc, pf); break;
#endif
      case 2: gemm_cols(2, M, K, pw, A, lda, Wv, init + col, ldi, C + col, ldc, pf); break;
      default: gemm_cols(1, M, K, pw, A, lda, Wv, init + col, ldi, C + col, ldc, pf); break;
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

RNNK_INLINE void act_run(size_t n, const float *x, float *y, const rnnk_act_param *a, float clip) {
  size_t i = 0;
  for (; i + VW <= n; i += VW) vf_store(y + i, act_v(vf_load(x + i), a, clip));
  if (i < n) { /* tail: same vector code on a padded copy */
    float buf[RNNK_VW] = {0};
    for (size_t t = 0; t < n - i; t++) buf[t] = x[i + t];
    vf_store(buf, act_v(vf_load(buf), a, clip));
    for (size_t t = 0; t < n - i; t++) y[i + t] = buf[t];
  }
}

/* The kind is made a constant per case, so each loop is specialised and
 * no vector goes through the switch. */
void RNNK_NAME(act)(size_t n, const float *x, float *y, const rnnk_act_param *a, float clip) {
  rnnk_act_param p = *a;
  switch (a->kind) {
  case RNNK_K_TANH: p.kind = RNNK_K_TANH, act_run(n, x, y, &p, clip); break;
  case RNNK_K_SIGMOID: p.kind = RNNK_K_SIGMOID, act_run(n, x, y, &p, clip); break;
  case RNNK_K_RELU: p.kind = RNNK_K_RELU, act_run(n, x, y, &p, clip); break;
  case RNNK_K_HARD_SIGMOID: p.kind = RNNK_K_HARD_SIGMOID, act_run(n, x, y, &p, clip); break;
  default: act_run(n, x, y, &p, clip); break;
  }
}

/* ---------------------------------------------------------------- steps */

/* A register tile covers the units of one panel or a slice of them: UT
 * vectors per gate starting at vector u0 of the panel's UV (UT = UV, u0 = 0
 * for the whole panel). Tile vector g*UT + t holds gate g of panel vector
 * u0 + t, which lives at offset (g*UV + u0 + t) * VW of a k-row. Slicing
 * keeps tall tiles (many rows) on wide panels; every output is still one
 * k-chain, so the bits do not change. */
typedef struct tile_cols {
  size_t UV, UT, u0;
} tile_cols;

/* Offset of tile vector g*UT + t inside a [G][UV] block of vectors. */
#define TV(tc, g, t) (((g) * (tc).UV + (tc).u0 + (t)) * VW)

/* acc[r][g*UT + t] += sum_{k in [k0, k1)} W[k][TV(g, t)] * hin[r][k] for NB rows.
 * pf (or NULL): weights to prefetch into L2 meanwhile (the next chunk or
 * panel, while this one comes from L3): the tile's columns of k-row k - k0
 * of pf, for every pf_every-th k from k0 + pf_first on. */
RNNK_INLINE void chain(size_t NB, size_t G, tile_cols tc, const rnnk_step_args *a, const float *Wp, size_t n0,
                       size_t k0, size_t k1, const float *pf, size_t pf_every, size_t pf_first, vf acc[][MAXV]) {
  const size_t pw = G * tc.UV * VW, GV = G * tc.UT;
  const float *h = a->hin + n0 * a->ld_hin;
  size_t pf_wait = pf_first + 1;
  for (size_t k = k0; k < k1; k++) {
    const float *w = Wp + k * pw;
    if (pf && prefetch_due(&pf_wait, pf_every))
      for (size_t g = 0; g < G; g++)
        for (size_t t = 0; t < tc.UT; t++) __builtin_prefetch(pf + (k - k0) * pw + TV(tc, g, t), 0, 2);
    vf wv[MAXV];
    for (size_t g = 0; g < G; g++)
      for (size_t t = 0; t < tc.UT; t++) wv[g * tc.UT + t] = vf_load(w + TV(tc, g, t));
    for (size_t r = 0; r < NB; r++) {
      const vf x = vf_set1(h[r * a->ld_hin + k]);
      for (size_t v = 0; v < GV; v++) acc[r][v] = vf_fma(wv[v], x, acc[r][v]);
    }
  }
}

/* Each cell has an init (where its chains start: the input projection, or
 * b_Rn for GRU's n) and a finish (the cell update on the finished chains).
 * Unit vector t of the tile is unit j = p*U + (u0 + t)*VW of the layer. */

/* acc[r][g*UT + t] = pre-activations of gates [0, ng) at panel offset off, row n0 + r. */
RNNK_INLINE void load_pre(size_t NB, size_t ng, tile_cols tc, const rnnk_step_args *a, size_t off, size_t n0,
                          vf acc[][MAXV]) {
  for (size_t r = 0; r < NB; r++)
    for (size_t g = 0; g < ng; g++)
      for (size_t t = 0; t < tc.UT; t++)
        acc[r][g * tc.UT + t] = vf_load(a->pre + (n0 + r) * a->ld_pre + off + TV(tc, g, t));
}

RNNK_INLINE size_t unit_of(tile_cols tc, size_t p, size_t t) { return p * tc.UV * VW + (tc.u0 + t) * VW; }

RNNK_INLINE void lstm_init(size_t NB, tile_cols tc, const rnnk_step_args *a, size_t p, size_t n0, vf acc[][MAXV]) {
  load_pre(NB, 4, tc, a, p * 4 * tc.UV * VW, n0, acc);
}

RNNK_INLINE void lstm_finish(size_t NB, tile_cols tc, const rnnk_step_args *a, const rnnk_cell_param *cp,
                             size_t p, size_t n0, vf acc[][MAXV]) {
  const size_t U = tc.UV * VW, UT = tc.UT;
  for (size_t r = 0; r < NB; r++) {
    for (size_t u = 0; u < UT; u++) {
      const size_t j = unit_of(tc, p, u);
      float *c = a->c + (n0 + r) * a->ld_c + j;
      vf ai = acc[r][0 * UT + u], af = acc[r][1 * UT + u], ag = acc[r][2 * UT + u], ao = acc[r][3 * UT + u];
      const vf c_prev = vf_load(c);
      const float *pp = a->peep ? a->peep + p * 3 * U + (tc.u0 + u) * VW : NULL;
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

RNNK_INLINE void gru_init(size_t NB, tile_cols tc, const rnnk_step_args *a, size_t p, size_t n0, vf acc[][MAXV]) {
  load_pre(NB, 2, tc, a, p * 3 * tc.UV * VW, n0, acc); /* r, z */
  for (size_t r = 0; r < NB; r++)                      /* n: R_n h + b_Rn, kept apart for r * (...) */
    for (size_t u = 0; u < tc.UT; u++) acc[r][2 * tc.UT + u] = vf_load(a->bias + unit_of(tc, p, u));
}

RNNK_INLINE void gru_finish(size_t NB, tile_cols tc, const rnnk_step_args *a, const rnnk_cell_param *cp,
                            size_t p, size_t n0, vf acc[][MAXV]) {
  const size_t UT = tc.UT;
  for (size_t r = 0; r < NB; r++) {
    const float *pre = a->pre + (n0 + r) * a->ld_pre + p * 3 * tc.UV * VW;
    for (size_t u = 0; u < UT; u++) {
      const size_t j = unit_of(tc, p, u);
      const vf rg = act_v(acc[r][u], &cp->f, cp->clip);
      const vf z = act_v(acc[r][UT + u], &cp->f, cp->clip);
      const vf nn = act_v(vf_fma(rg, acc[r][2 * UT + u], vf_load(pre + TV(tc, 2, u))), &cp->g, cp->clip);
      const vf hp = vf_load(a->hprev + (n0 + r) * a->ld_hprev + j);
      vf_store(a->out + (n0 + r) * a->ld_out + j, vf_fma(z, vf_sub(hp, nn), nn));
    }
  }
}

RNNK_INLINE void gru_rz_init(size_t NB, tile_cols tc, const rnnk_step_args *a, size_t p, size_t n0, vf acc[][MAXV]) {
  load_pre(NB, 2, tc, a, p * 3 * tc.UV * VW, n0, acc);
}

RNNK_INLINE void gru_rz_finish(size_t NB, tile_cols tc, const rnnk_step_args *a, const rnnk_cell_param *cp,
                               size_t p, size_t n0, vf acc[][MAXV]) {
  const size_t UT = tc.UT;
  for (size_t r = 0; r < NB; r++) {
    for (size_t u = 0; u < UT; u++) {
      const size_t j = unit_of(tc, p, u);
      const vf rg = act_v(acc[r][u], &cp->f, cp->clip);
      const vf z = act_v(acc[r][UT + u], &cp->f, cp->clip);
      const vf hp = vf_load(a->hprev + (n0 + r) * a->ld_hprev + j);
      vf_store(a->out + (n0 + r) * a->ld_out + j, vf_mul(rg, hp));
      vf_store(a->out2 + (n0 + r) * a->ld_out + j, z);
    }
  }
}

RNNK_INLINE void gru_n_init(size_t NB, tile_cols tc, const rnnk_step_args *a, size_t p, size_t n0, vf acc[][MAXV]) {
  (void)n0;
  for (size_t r = 0; r < NB; r++)
    for (size_t u = 0; u < tc.UT; u++) acc[r][u] = vf_load(a->bias + unit_of(tc, p, u));
}

RNNK_INLINE void gru_n_finish(size_t NB, tile_cols tc, const rnnk_step_args *a, const rnnk_cell_param *cp,
                              size_t p, size_t n0, vf acc[][MAXV]) {
  for (size_t r = 0; r < NB; r++) {
    const float *pre = a->pre + (n0 + r) * a->ld_pre + p * 3 * tc.UV * VW;
    for (size_t u = 0; u < tc.UT; u++) {
      const size_t j = unit_of(tc, p, u);
      const vf nn = act_v(vf_add(vf_load(pre + TV(tc, 2, u)), acc[r][u]), &cp->g, cp->clip);
      const vf z = vf_load(a->out2 + (n0 + r) * a->ld_out + j);
      const vf hp = vf_load(a->hprev + (n0 + r) * a->ld_hprev + j);
      vf_store(a->out + (n0 + r) * a->ld_out + j, vf_fma(z, vf_sub(hp, nn), nn));
    }
  }
}

RNNK_INLINE void elman_init(size_t NB, tile_cols tc, const rnnk_step_args *a, size_t p, size_t n0, vf acc[][MAXV]) {
  load_pre(NB, 1, tc, a, p * tc.UV * VW, n0, acc);
}

RNNK_INLINE void elman_finish(size_t NB, tile_cols tc, const rnnk_step_args *a, const rnnk_cell_param *cp,
                              size_t p, size_t n0, vf acc[][MAXV]) {
  for (size_t r = 0; r < NB; r++)
    for (size_t u = 0; u < tc.UT; u++)
      vf_store(a->out + (n0 + r) * a->ld_out + unit_of(tc, p, u), act_v(acc[r][u], &cp->g, cp->clip));
}

/* The standard activations (f sigmoid, g and h tanh, no clip) get their
 * own copy of each cell update, used for batches (N >= 4): with the kinds
 * constant the update is straight-line code that interleaves the rows'
 * sigmoid and tanh, where switching on the kind for every vector left each
 * one waiting on its own exp and division. Only the update is copied; the
 * k-loops are shared. USES says which of f, g, h a cell reads. */
enum { USE_F = 1, USE_G = 2, USE_H = 4 };
static const rnnk_cell_param STANDARD_ACTS = {
    .f = {RNNK_K_SIGMOID, 0, 0}, .g = {RNNK_K_TANH, 0, 0}, .h = {RNNK_K_TANH, 0, 0}, .clip = 0.0f};
RNNK_INLINE int standard_acts(const rnnk_cell_param *cp, int uses) {
  return cp->clip == 0.0f && !cp->input_forget && (!(uses & USE_F) || cp->f.kind == RNNK_K_SIGMOID) &&
         (!(uses & USE_G) || cp->g.kind == RNNK_K_TANH) && (!(uses & USE_H) || cp->h.kind == RNNK_K_TANH);
}

/* Rows per register tile: NB*GV accumulators + GV weights + 1 broadcast
 * fit the register file, so a k's weights are loaded once for all rows
 * (more rows made the compiler fold a weight load into every fma, a loss on
 * zmm). Except where that leaves fewer than 3 rows on a 16-register ISA
 * (AVX2 LSTM: 2 rows, 8 accumulators): there the rows fill the file and
 * the weights are read from L1 by each fma, 3 rows of 4 gates (AVX2 step,
 * LSTM N=3..64: 12-36% faster; Elman N=8 sequence 19%). */
#define NB_FIT(GV) ((RNNK_VREGS - (GV)-1) / (GV))
#define NB_RAW(GV) (RNNK_VREGS < 32 && NB_FIT(GV) < 3 ? (RNNK_VREGS - 1) / (GV) : NB_FIT(GV))
#define NB_FOR(GV) (NB_RAW(GV) < 1 ? 1 : NB_RAW(GV) > 8 ? 8 : NB_RAW(GV))

/* Vectors per gate in a tile of a panel of UV when the rows do not fit one
 * tile of the whole panel: slices of at most 4 vectors in all (LSTM: one
 * vector per gate), so a zmm tile holds 6 rows instead of 2. Except GRU's
 * r,z (two gates) on 2-vector panels, which take one vector per gate when
 * that holds all the rows in one tile (zmm N = 7, 8 unless RZ_CHUNKED;
 * ymm N = 4..6): a short tail tile (6 + 2 rows) read the weights for too
 * few FMAs, and at N = 8 with k-chunks the single 8-row tile of 4 vectors
 * spilled (Zen 5,
 * sequences N = 8, new / old: H=256 0.79, H=512 0.77, H=1024 0.87; AVX2
 * N = 5 0.83-0.88). Elman's 4-vector panels sliced so ran no faster
 * (0.99-1.02), so only this case pays for the extra code. */
#define UT_SLICE(G, UV) ((G) * (UV) <= 4 ? (UV) : (G) >= 4 ? 1 : 4 / (G))

/* With more rows than one register tile holds, every row block streams
 * the slice's weights again. From L2 that costs little. When the weights
 * overflow L2 (a->k_chunks):
 * - with at least 4 row tiles of at least 4 rows ("stream"; 6-row zmm tiles
 *   ask L2 for 21 bytes a cycle) every tile still reads the panel from L2,
 *   and the tiles share the prefetch of the next panel from L3, each taking
 *   every tiles-th k-row, so that stream runs during all of the panel's
 *   FMAs instead of stalling its first tile (LSTM N=64 H=512: 7% faster).
 *   So do the tiles of a W that fits L2 when the input GEMM's W_ih, read
 *   between time chunks, evicts part of it (a->prefetch_next; LSTM N=64
 *   H=256: W_ih and W_hh 1 MiB each, 1.1% faster, GRU 1.9%; not on AVX2,
 *   whose GRU N=64 H=256 ran 0.8% slower);
 * - with at most 8 rows and 32 vector registers, one tile takes all rows
 *   even past the register budget: the compiler then spills a few
 *   accumulators or folds weight loads into the FMAs, which costs nothing
 *   while the weights stream from L3 (LSTM N=8 H=1024: a step 12-17% faster
 *   than 6 + 2 rows over k-chunks, the whole sequence 2.5-3.5%), except
 *   GRU's r,z at N = 7, 8 (RZ_CHUNKED: 4 + 4 rows over k-chunks);
 * - else (few or short tiles: N = 9..18 on zmm, AVX2's 3-row LSTM tiles)
 *   k runs in chunks of KC: the slice's chunk stays in L1 while all row
 *   blocks pass over it, and the unfinished chains wait in a stack tile of
 *   up to TILE_ROWS rows between chunks.
 * Each chain still runs over k in increasing order. Slices touch disjoint
 * cache lines of a k-row, so slicing reads no weight twice. A chunk holds
 * KC_KIB_DEFAULT KiB of the slice's weights unless the tune cache says
 * otherwise (a->k_block_kib): 8 KiB ran AVX2 LSTM N=8 H=1024 4% faster on
 * the Xeon and 3% slower on a Zen 4, so the size is the tuner's to pick. */
#define TILE_ROWS 32

/* GRU's r,z at N = 7, 8 on 2-vector panels when W streams from L3 (k-chunks,
 * 32 registers): tiles of 4 rows x both vectors of each gate over k-chunks,
 * the second tile reading each chunk from L1, instead of one-vector slices
 * that each stream half of every k-row's lines (the other half came from
 * L3 for nothing, then again from L2). Zen 5, sequences N=8, 5-9
 * interleaved rounds, new / old: H=1024 0.88-0.90, H=512 1.00-1.02 (2 MiB
 * of W: partly in L2), 2 threads H=1024 0.99. */
#define RZ_CHUNKED(G, UV, a) \
  ((G) == 2 && (UV) == 2 && RNNK_VREGS >= 32 && (a)->k_chunks && (a)->N > NB_FOR(4) && (a)->N <= 8)
#define KC_KIB_DEFAULT 24
#define KC_FOR(PW, KIB) ((KIB) * 1024 / 4 / (PW) > 0 ? (KIB) * 1024 / 4 / (PW) : 1)

/* One register tile: NB rows, slice tc, chains over [k0, k1); started by
 * init when k0 = 0 (else from the stack tile), finished by the cell update
 * when k1 = K (else parked in the stack tile). */
#define DEFINE_STEP(op, G, USES)                                                                       \
  RNNK_INLINE void op##_block(size_t NB, tile_cols tc, const rnnk_step_args *a, size_t p, size_t n0,   \
                              size_t k0, size_t k1, const float *pf, size_t pf_every, size_t pf_first, \
                              float *tile) {                                                           \
    const size_t GV = (G) * tc.UT;                                                                     \
    vf acc[8][MAXV];                                                                                   \
    if (k0 == 0) op##_init(NB, tc, a, p, n0, acc);                                                     \
    else                                                                                               \
      for (size_t r = 0; r < NB; r++)                                                                  \
        for (size_t v = 0; v < GV; v++) acc[r][v] = vf_load(tile + r * MAXV * VW + v * VW);            \
    chain(NB, (G), tc, a, a->W + p * a->K * (G) * tc.UV * VW, n0, k0, k1, pf, pf_every, pf_first,     \
          acc);                                                                                        \
    if (k1 == a->K) {                                                                                  \
      if (a->N >= 4 && standard_acts(a->cp, USES)) op##_finish(NB, tc, a, &STANDARD_ACTS, p, n0, acc); \
      else op##_finish(NB, tc, a, a->cp, p, n0, acc);                                                  \
    } else                                                                                             \
      for (size_t r = 0; r < NB; r++)                                                                  \
        for (size_t v = 0; v < GV; v++) vf_store(tile + r * MAXV * VW + v * VW, acc[r][v]);            \
  }                                                                                                    \
  RNNK_INLINE void op##_tile(size_t nb, tile_cols tc, const rnnk_step_args *a, size_t p, size_t n0,    \
                             size_t k0, size_t k1, const float *pf, size_t pf_every, size_t pf_first,  \
                             float *tile) {                                                            \
    switch (nb) {                                                                                      \
    case 8: op##_block(8, tc, a, p, n0, k0, k1, pf, pf_every, pf_first, tile); break;                  \
    case 7: op##_block(7, tc, a, p, n0, k0, k1, pf, pf_every, pf_first, tile); break;                  \
    case 6: op##_block(6, tc, a, p, n0, k0, k1, pf, pf_every, pf_first, tile); break;                  \
    case 5: op##_block(5, tc, a, p, n0, k0, k1, pf, pf_every, pf_first, tile); break;                  \
    case 4: op##_block(4, tc, a, p, n0, k0, k1, pf, pf_every, pf_first, tile); break;                  \
    case 3: op##_block(3, tc, a, p, n0, k0, k1, pf, pf_every, pf_first, tile); break;                  \
    case 2: op##_block(2, tc, a, p, n0, k0, k1, pf, pf_every, pf_first, tile); break;                  \
    default: op##_block(1, tc, a, p, n0, k0, k1, pf, pf_every, pf_first, tile); break;                 \
    }                                                                                                  \
  }                                                                                                    \
  /* All rows of panel p, slice by slice (UT vectors per gate each). The                               \
   * tiles of a stream prefetch panel pnext (NULL: none) into L2. With                                 \
   * k-chunks, the first row tile reads a chunk from L3 by demand loads                                \
   * and the others, reading it from L1, prefetch the next chunk (after                                \
   * the last rows' last chunk, panel pnext's first), each every                                       \
   * (tiles-1)-th k-row: a prefetch in the first tile slowed its own                                   \
   * stream (sequences N=8 H=1024: AVX2 LSTM 0.934, GRU 0.952; AVX-512                                 \
   * LSTM N=16 0.886). */                                                                              \
  RNNK_INLINE void op##_rows(size_t UV, size_t UT, const rnnk_step_args *a, size_t p,                  \
                             const float *pnext) {                                                     \
    const size_t kib = a->k_block_kib ? a->k_block_kib : KC_KIB_DEFAULT;                               \
    const bool rz4 = RZ_CHUNKED(G, UV, a); /* always with UT = UV (see the dispatch below) */         \
    const size_t nbmax = rz4 ? 4 : NB_FOR((G) * UT), K = a->K, kc = KC_FOR((G) * UT * VW, kib);        \
    const size_t pw = (G) * UV * VW;                                                                   \
    const float *Wp = a->W + p * K * pw;                                                               \
    _Alignas(64) float tile[TILE_ROWS * MAXV * RNNK_VW];                                               \
    for (size_t u0 = 0; u0 < UV; u0 += UT) {                                                           \
      const tile_cols tc = {UV, UT, u0};                                                               \
      const size_t nb = a->k_chunks && a->N <= 8 && RNNK_VREGS >= 32 && !rz4 ? a->N : nbmax;          \
      const size_t tiles = (a->N + nb - 1) / nb;                                                       \
      const bool stream = (a->k_chunks || (a->prefetch_next && RNNK_VREGS >= 32)) && tiles >= 4 && nbmax >= 4; \
      if (!a->k_chunks || a->N <= nb || K <= kc || stream) {                                           \
        const float *pf = stream ? pnext : NULL;                                                       \
        for (size_t n0 = 0; n0 < a->N; n0 += nb)                                                       \
          op##_tile(a->N - n0 < nb ? a->N - n0 : nb, tc, a, p, n0, 0, K, pf, tiles, n0 / nb, tile);    \
        continue;                                                                                      \
      }                                                                                                \
      const size_t rows = TILE_ROWS / nbmax * nbmax;                                                   \
      for (size_t s0 = 0; s0 < a->N; s0 += rows) {                                                     \
        const size_t s1 = a->N - s0 < rows ? a->N : s0 + rows, nt = (s1 - s0 + nbmax - 1) / nbmax;    \
        for (size_t k0 = 0; k0 < K; k0 += kc) {                                                        \
          const float *pf = nt < 2 ? NULL : k0 + kc < K ? Wp + (k0 + kc) * pw : s1 == a->N ? pnext : NULL; \
          for (size_t n0 = s0, i = 0; n0 < s1; n0 += nbmax, i++)                                       \
            op##_tile(s1 - n0 < nbmax ? s1 - n0 : nbmax, tc, a, p, n0, k0, K - k0 < kc ? K : k0 + kc,  \
                      i ? pf : NULL, nt - 1, i ? i - 1 : 0, tile + (n0 - s0) * MAXV * VW);             \
        }                                                                                              \
      }                                                                                                \
    }                                                                                                  \
  }                                                                                                    \
  void RNNK_NAME(op)(const rnnk_step_args *a) {                                                        \
    const size_t uv = a->U / VW, pfloats = a->K * (G) * a->U;                                          \
    for (size_t i = a->p0; i < a->p1; i++) {                                                           \
      const size_t p = a->backward ? a->p1 - 1 - (i - a->p0) : i;                                      \
      const float *pnext = i + 1 < a->p1 ? a->W + (a->backward ? p - 1 : p + 1) * pfloats : NULL;      \
      if ((G) == 1 && uv == 8) {                                                                       \
        if (a->N <= NB_FOR(8)) op##_rows(8, 8, a, p, pnext);                                           \
        else op##_rows(8, UT_SLICE(G, 8), a, p, pnext);                                                \
      } else if ((G) <= 2 && uv == 4) {                                                                \
        if (a->N <= NB_FOR((G) * 4)) op##_rows(4, 4, a, p, pnext);                                     \
        else op##_rows(4, UT_SLICE(G, 4), a, p, pnext);                                                \
      } else if (uv == 2) {                                                                            \
        if (a->N <= NB_FOR((G) * 2) || RZ_CHUNKED(G, 2, a)) op##_rows(2, 2, a, p, pnext);             \
        else if ((G) == 2 && a->N <= NB_FOR(2)) op##_rows(2, 1, a, p, pnext);                          \
        else op##_rows(2, UT_SLICE(G, 2), a, p, pnext);                                                \
      } else op##_rows(1, 1, a, p, pnext);                                                             \
    }                                                                                                  \
  }

DEFINE_STEP(lstm, 4, USE_F | USE_G | USE_H)
DEFINE_STEP(gru, 3, USE_F | USE_G)
DEFINE_STEP(gru_rz, 2, USE_F)
DEFINE_STEP(gru_n, 1, USE_G)
DEFINE_STEP(elman, 1, USE_G)
