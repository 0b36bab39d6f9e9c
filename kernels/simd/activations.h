/* Sigmoid and tanh written once over the vf_* operations of one ISA header
 * (include simd-<isa>.h first). Every ISA runs the same sequence of IEEE
 * operations and FMAs, so scalar, AVX2, AVX-512 and NEON agree bit for bit.
 *
 * Both go through one reduced expm1 (Cody-Waite reduction as in Cephes expf,
 * then a degree-4 polynomial; rnnk_vexpm1_reduced_ below):
 *   sigmoid(x) = 1 / (1 + e^-x);
 *   tanh(x) = sign(x) m / (m + 2), m = e^{2|x|} - 1 (accurate near 0, so no
 *   separate small-|x| branch: ~20 operations and one division per vector).
 * Measured bounds against double precision (tests/test_activations.c):
 *   sigmoid <= 3 ulp where the result is normal (measured 2.46), absolute error
 *   <= 1.2e-38 below; tanh <= 2.5 ulp (measured 2.38); NaN propagates;
 *   sigmoid(-inf) = 6.05e-39 (not 0: the clamp), sigmoid(+inf) = 1, tanh(+-inf) = +-1.
 */
#ifndef RNNK_ACTIVATIONS_H
#define RNNK_ACTIVATIONS_H

/* Always inlined: a call from a cell update would spill every live
 * accumulator (all vector registers are caller-saved). */
#define RNNK_ACT_INLINE static inline __attribute__((always_inline))

/* Clamp with NaN passing through (vf_max/vf_min return their second
 * operand when unordered). */
RNNK_ACT_INLINE vf rnnk_vclamp(vf x, vf lo, vf hi) { return vf_min(hi, vf_max(lo, x)); }

/* expm1 on the reduced range: e^t = 2^n (1 + q), returns q = e^r - 1 and
 * *s = 2^n. n = t log2e rounded to an integer by one FMA that adds 1.5 * 2^23
 * + 127 (ulp 1 there; a tie goes to the odd n, which keeps |r| <= ln2/2), and
 * 2^n is that sum's bits shifted left by 23 (the low 8 bits are n + 127):
 * 3 operations where roundscale + add + shift took 5 uops (sigmoid 4.66 ->
 * 4.42 ns a zmm vector; the same worst ulp, tests/test_activations.c).
 * r = t - n ln2 in two FMA steps (C1 + C2 = ln2, C1 exact in 9 bits so
 * n C1 is exact); q = r + r^2 P(r), P of degree 4, a Chebyshev fit of (e^r - 1 - r) / r^2 on |r| <= ln2/2
 * (tools/fit_expm1.py). t in [-87, 88] (callers clamp), so 2^n is normal. */
RNNK_ACT_INLINE vf rnnk_vexpm1_reduced_(vf t, vf *s) {
  const vf shift = vf_set1(12583039.0f); /* 1.5 * 2^23 + 127 */
  const vf j = vf_fma(t, vf_set1(0x1.715476p+0f), shift);
  const vf n = vf_sub(j, shift);
  vf r = vf_fma(n, vf_set1(-0x1.63p-1f), t);   /* -C1 = -0.693359375 */
  r = vf_fma(n, vf_set1(0x1.bd0106p-13f), r);  /* -C2 = +2.12194440e-4 */
  vf p = vf_set1(0x1.6d1122p-10f);
  p = vf_fma(p, r, vf_set1(0x1.120b86p-7f));
  p = vf_fma(p, r, vf_set1(0x1.55551ap-5f));
  p = vf_fma(p, r, vf_set1(0x1.5554dcp-3f));
  p = vf_fma(p, r, vf_set1(0x1p-1f));
  *s = vf_shl23(j);
  return vf_fma(vf_mul(r, r), p, r);
}

/* sigmoid(x) = 1 / (1 + e^-x), e^-x = 2^n (1 + q) = fma(2^n, q, 2^n). */
RNNK_ACT_INLINE vf rnnk_vsigmoid(vf x) {
  const vf t = rnnk_vclamp(vf_sub(vf_set1(0.0f), x), vf_set1(-87.0f), vf_set1(88.0f));
  vf s;
  const vf q = rnnk_vexpm1_reduced_(t, &s);
  return vf_div(vf_set1(1.0f), vf_add(vf_set1(1.0f), vf_fma(s, q, s)));
}

/* tanh|x| = m / (m + 2) with m = e^{2|x|} - 1 = fma(2^n, q, 2^n - 1), which
 * keeps full relative precision near 0 (n = 0: m = q); sign of x last, so
 * tanh is odd and tanh(-0) = -0. 2|x| is clamped to 88 (tanh = 1 there). */
RNNK_ACT_INLINE vf rnnk_vtanh(vf x) {
  const vf a = vf_abs(x);
  vf s;
  const vf q = rnnk_vexpm1_reduced_(vf_min(vf_set1(88.0f), vf_add(a, a)), &s);
  const vf m = vf_fma(s, q, vf_sub(s, vf_set1(1.0f)));
  return vf_signof(vf_div(m, vf_add(m, vf_set1(2.0f))), x);
}

RNNK_ACT_INLINE vf rnnk_vrelu(vf x) { return vf_max(vf_set1(0.0f), x); }

RNNK_ACT_INLINE vf rnnk_vhard_sigmoid(vf x, float alpha, float beta) {
  return rnnk_vclamp(vf_fma(vf_set1(alpha), x, vf_set1(beta)), vf_set1(0.0f), vf_set1(1.0f));
}

/* Activation by kind (RNNK_K_*); the switch is per call, outside lane loops. */
RNNK_ACT_INLINE vf rnnk_vact(vf x, int kind, float alpha, float beta) {
  switch (kind) {
  case RNNK_K_TANH: return rnnk_vtanh(x);
  case RNNK_K_SIGMOID: return rnnk_vsigmoid(x);
  case RNNK_K_RELU: return rnnk_vrelu(x);
  case RNNK_K_HARD_SIGMOID: return rnnk_vhard_sigmoid(x, alpha, beta);
  default: return x;
  }
}
#endif
