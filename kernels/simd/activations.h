/* Sigmoid and tanh written once over the vf_* operations of one ISA header
 * (include simd-<isa>.h first). Every ISA runs the same sequence of IEEE
 * operations and FMAs, so scalar, AVX2, AVX-512 and NEON agree bit for bit.
 *
 * exp: Cephes expf (S. Moshier): n = floor(t log2e + 1/2), r = t - n ln2 in
 *   two FMA steps (C1 + C2 = ln2), degree-5 minimax polynomial for
 *   (e^r - 1 - r) / r^2 on |r| <= ln2/2, scaled by 2^n built in the exponent
 *   field. t is clamped to [-87, 88] so 2^n stays normal.
 * sigmoid(x) = 1 / (1 + exp(-x)).
 * tanh: |x| < 0.625: Cephes tanhf odd polynomial x + x^3 P(x^2);
 *   else sign(x) (1 - 2 / (exp(2|x|) + 1)).
 * Measured bounds against double precision (tests/test_activations.c):
 *   sigmoid <= 3 ulp where the result is normal (measured 2.47), absolute error
 *   <= 1.2e-38 below; tanh <= 2 ulp (measured 1.30); NaN propagates;
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

/* e^t for t in [-87, 88] (callers clamp). */
RNNK_ACT_INLINE vf rnnk_vexp_(vf t) {
  const vf n = vf_floor(vf_add(vf_mul(t, vf_set1(0x1.715476p+0f)), vf_set1(0.5f)));
  vf r = vf_fma(n, vf_set1(-0x1.63p-1f), t);   /* -C1 = -0.693359375 */
  r = vf_fma(n, vf_set1(0x1.bd0106p-13f), r);  /* -C2 = +2.12194440e-4 */
  vf p = vf_set1(0x1.a0d2cep-13f);             /* 1.9875691500e-4 */
  p = vf_fma(p, r, vf_set1(0x1.6e879cp-10f));  /* 1.3981999507e-3 */
  p = vf_fma(p, r, vf_set1(0x1.111210p-7f));   /* 8.3334519073e-3 */
  p = vf_fma(p, r, vf_set1(0x1.555382p-5f));   /* 4.1665795894e-2 */
  p = vf_fma(p, r, vf_set1(0x1.555554p-3f));   /* 1.6666665459e-1 */
  p = vf_fma(p, r, vf_set1(0x1p-1f));   /* 5.0000001201e-1 */
  p = vf_fma(p, vf_mul(r, r), r);
  p = vf_add(p, vf_set1(1.0f));
  return vf_mul(p, vf_pow2i(n));
}

RNNK_ACT_INLINE vf rnnk_vsigmoid(vf x) {
  const vf t = rnnk_vclamp(vf_sub(vf_set1(0.0f), x), vf_set1(-87.0f), vf_set1(88.0f));
  return vf_div(vf_set1(1.0f), vf_add(vf_set1(1.0f), rnnk_vexp_(t)));
}

RNNK_ACT_INLINE vf rnnk_vtanh(vf x) {
  const vf a = vf_abs(x);
  /* small |x|: |x| + |x|^3 P(x^2); the sign is applied last, so tanh is odd (and tanh(-0) = -0) */
  const vf z = vf_mul(x, x);
  vf p = vf_set1(-0x1.75e1d4p-8f);             /* -5.70498872745e-3 */
  p = vf_fma(p, z, vf_set1(0x1.52269cp-6f));   /*  2.06390887954e-2 */
  p = vf_fma(p, z, vf_set1(-0x1.b83c5ap-5f));  /* -5.37397155531e-2 */
  p = vf_fma(p, z, vf_set1(0x1.110726p-3f));   /*  1.33314422036e-1 */
  p = vf_fma(p, z, vf_set1(-0x1.555532p-2f));  /* -3.33332819422e-1 */
  const vf small = vf_fma(vf_mul(p, z), a, a);
  /* large |x|: 1 - 2 / (e^{2|x|} + 1), sign of x */
  const vf e = rnnk_vexp_(vf_min(vf_set1(88.0f), vf_add(a, a)));
  const vf big = vf_sub(vf_set1(1.0f), vf_div(vf_set1(2.0f), vf_add(e, vf_set1(1.0f))));
  return vf_signof(vf_lt_select(a, vf_set1(0.625f), small, big), x);
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
