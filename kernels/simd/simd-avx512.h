/* AVX-512F, 16 lanes. Operation-for-operation the same as simd-scalar.h. */
#ifndef RNNK_SIMD_AVX512_H
#define RNNK_SIMD_AVX512_H
#include <immintrin.h>

typedef __m512 vf;
#define RNNK_VW 16

static inline vf vf_set1(float a) { return _mm512_set1_ps(a); }
static inline vf vf_load(const float *p) { return _mm512_loadu_ps(p); }
static inline void vf_store(float *p, vf a) { _mm512_storeu_ps(p, a); }
static inline vf vf_add(vf a, vf b) { return _mm512_add_ps(a, b); }
static inline vf vf_sub(vf a, vf b) { return _mm512_sub_ps(a, b); }
static inline vf vf_mul(vf a, vf b) { return _mm512_mul_ps(a, b); }
static inline vf vf_div(vf a, vf b) { return _mm512_div_ps(a, b); }
static inline vf vf_fma(vf a, vf b, vf c) { return _mm512_fmadd_ps(a, b, c); }
static inline vf vf_min(vf a, vf b) { return _mm512_min_ps(a, b); }
static inline vf vf_max(vf a, vf b) { return _mm512_max_ps(a, b); }
static inline vf vf_abs(vf a) { return _mm512_castsi512_ps(_mm512_and_epi32(_mm512_castps_si512(a), _mm512_set1_epi32(0x7fffffff))); }
static inline vf vf_signof(vf mag, vf s) {
  return _mm512_castsi512_ps(_mm512_or_epi32(_mm512_castps_si512(mag),
         _mm512_and_epi32(_mm512_castps_si512(s), _mm512_set1_epi32((int)0x80000000u))));
}
static inline vf vf_shl23(vf a) { return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_castps_si512(a), 23)); }
#endif
