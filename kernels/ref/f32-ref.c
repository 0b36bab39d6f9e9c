/* Scalar reference kernels: the oracle every SIMD kernel is tested against,
 * written straight from SPEC.md, one loop per equation. Built with baseline
 * flags and -ffp-contract=off; fmaf() is exact (hardware or libm).
 *
 * Each output of a product is one fma chain over k in increasing order,
 * started from its init value (ukernels.h); the cell updates below are the
 * canonical operation sequences that every ISA reproduces. */
#include "kernels/ref/f32-ref.h"

#include "kernels/simd/simd-scalar.h"
#include "kernels/simd/activations.h"

/* Element (gate g, unit j, input k) of a packed matrix; see ukernels.h. */
static inline float packed_at(const float *W, size_t K, size_t U, size_t pw, size_t g, size_t j,
                              size_t k) {
  return W[(j / U) * K * pw + k * pw + g * U + j % U];
}

static inline float act(float x, const rnnk_act_param *a, float clip) {
  if (clip > 0.0f) x = rnnk_vclamp(x, -clip, clip);
  return rnnk_vact(x, a->kind, a->alpha, a->beta);
}

/* Recurrent product for one gate of unit j, row n: init + sum_k W(g,j,k) hin[n][k]. */
static float chain(const rnnk_step_args *a, size_t pw, size_t g, size_t j, size_t n, float init) {
  float acc = init;
  for (size_t k = 0; k < a->K; k++)
    acc = fmaf(packed_at(a->W, a->K, a->U, pw, g, j, k), a->hin[n * a->ld_hin + k], acc);
  return acc;
}

/* Value of gate g for unit j in a panel-order vector of G gates. */
static inline float gate_at(const float *v, size_t U, size_t G, size_t g, size_t j) {
  return v[(j / U) * G * U + g * U + j % U];
}

void rnnk_f32_gemm_ukernel__scalar(size_t M, size_t K, size_t ncols, size_t pw, const float *A,
                                   size_t lda, const float *W, const float *init, size_t ldi,
                                   float *C, size_t ldc) {
  for (size_t m = 0; m < M; m++) {
    for (size_t col = 0; col < ncols; col++) {
      const float *w = W + (col / pw) * K * pw + col % pw;
      float acc = init[m * ldi + col];
      for (size_t k = 0; k < K; k++) acc = fmaf(w[k * pw], A[m * lda + k], acc);
      C[m * ldc + col] = acc;
    }
  }
}

void rnnk_f32_act_ukernel__scalar(size_t n, const float *x, float *y, const rnnk_act_param *a,
                                  float clip) {
  for (size_t i = 0; i < n; i++) y[i] = act(x[i], a, clip);
}

void rnnk_f32_lstm_ukernel__scalar(const rnnk_step_args *a) {
  const size_t U = a->U, pw = 4 * U;
  const rnnk_cell_param *cp = a->cp;
  for (size_t n = 0; n < a->N; n++) {
    const float *pre = a->pre + n * a->ld_pre;
    float *c = a->c + n * a->ld_c;
    for (size_t j = a->p0 * U; j < a->p1 * U; j++) {
      float ai = chain(a, pw, 0, j, n, gate_at(pre, U, 4, 0, j));
      float af = chain(a, pw, 1, j, n, gate_at(pre, U, 4, 1, j));
      float ag = chain(a, pw, 2, j, n, gate_at(pre, U, 4, 2, j));
      float ao = chain(a, pw, 3, j, n, gate_at(pre, U, 4, 3, j));
      const float c_prev = c[j];
      if (a->peep) {
        ai = fmaf(gate_at(a->peep, U, 3, 0, j), c_prev, ai);
        af = fmaf(gate_at(a->peep, U, 3, 1, j), c_prev, af);
      }
      const float i = act(ai, &cp->f, cp->clip);
      const float f = cp->input_forget ? 1.0f - i : act(af, &cp->f, cp->clip);
      const float g = act(ag, &cp->g, cp->clip);
      const float c_new = fmaf(f, c_prev, i * g);
      if (a->peep) ao = fmaf(gate_at(a->peep, U, 3, 2, j), c_new, ao);
      const float o = act(ao, &cp->f, cp->clip);
      c[j] = c_new;
      a->out[n * a->ld_out + j] = o * act(c_new, &cp->h, cp->clip);
    }
  }
}

/* GRU, linear_before_reset = 1: n = g(W_n x + b_Wn + r (R_n h + b_Rn)). */
void rnnk_f32_gru_ukernel__scalar(const rnnk_step_args *a) {
  const size_t U = a->U, pw = 3 * U;
  const rnnk_cell_param *cp = a->cp;
  for (size_t n = 0; n < a->N; n++) {
    const float *pre = a->pre + n * a->ld_pre;
    for (size_t j = a->p0 * U; j < a->p1 * U; j++) {
      const float r = act(chain(a, pw, 0, j, n, gate_at(pre, U, 3, 0, j)), &cp->f, cp->clip);
      const float z = act(chain(a, pw, 1, j, n, gate_at(pre, U, 3, 1, j)), &cp->f, cp->clip);
      const float rn = chain(a, pw, 2, j, n, a->bias[j]);
      const float nn = act(fmaf(r, rn, gate_at(pre, U, 3, 2, j)), &cp->g, cp->clip);
      const float hp = a->hprev[n * a->ld_hprev + j];
      a->out[n * a->ld_out + j] = fmaf(z, hp - nn, nn);
    }
  }
}

/* GRU, linear_before_reset = 0, phase 1: r and z; out = r * h_prev, out2 = z. */
void rnnk_f32_gru_rz_ukernel__scalar(const rnnk_step_args *a) {
  const size_t U = a->U, pw = 2 * U;
  const rnnk_cell_param *cp = a->cp;
  for (size_t n = 0; n < a->N; n++) {
    const float *pre = a->pre + n * a->ld_pre;
    for (size_t j = a->p0 * U; j < a->p1 * U; j++) {
      const float r = act(chain(a, pw, 0, j, n, gate_at(pre, U, 3, 0, j)), &cp->f, cp->clip);
      const float z = act(chain(a, pw, 1, j, n, gate_at(pre, U, 3, 1, j)), &cp->f, cp->clip);
      a->out[n * a->ld_out + j] = r * a->hprev[n * a->ld_hprev + j];
      a->out2[n * a->ld_out + j] = z;
    }
  }
}

/* GRU, linear_before_reset = 0, phase 2: n = g(W_n x + b_Wn + R_n (r h) + b_Rn). */
void rnnk_f32_gru_n_ukernel__scalar(const rnnk_step_args *a) {
  const size_t U = a->U, pw = U;
  const rnnk_cell_param *cp = a->cp;
  for (size_t n = 0; n < a->N; n++) {
    const float *pre = a->pre + n * a->ld_pre;
    for (size_t j = a->p0 * U; j < a->p1 * U; j++) {
      const float rn = chain(a, pw, 0, j, n, a->bias[j]);
      const float nn = act(gate_at(pre, U, 3, 2, j) + rn, &cp->g, cp->clip);
      const float z = a->out2[n * a->ld_out + j];
      const float hp = a->hprev[n * a->ld_hprev + j];
      a->out[n * a->ld_out + j] = fmaf(z, hp - nn, nn);
    }
  }
}

/* Elman (and Jordan's hidden layer): h = g(W x + b + R h_prev). */
void rnnk_f32_elman_ukernel__scalar(const rnnk_step_args *a) {
  const size_t U = a->U;
  const rnnk_cell_param *cp = a->cp;
  for (size_t n = 0; n < a->N; n++) {
    const float *pre = a->pre + n * a->ld_pre;
    for (size_t j = a->p0 * U; j < a->p1 * U; j++)
      a->out[n * a->ld_out + j] = act(chain(a, U, 0, j, n, pre[j]), &cp->g, cp->clip);
  }
}
