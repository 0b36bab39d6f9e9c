/* One-lane "vector" for the scalar reference: the same operation sequence as
 * the SIMD headers, so kernels/simd/activations.h gives identical bits.
 * min/max follow x86 semantics (second operand if unordered). */
#ifndef RNNK_SIMD_SCALAR_H
#define RNNK_SIMD_SCALAR_H
#include <math.h>
#include <stdint.h>
#include <string.h>

typedef float vf;
#define RNNK_VW 1

static inline vf vf_set1(float a) { return a; }
static inline vf vf_load(const float *p) { return *p; }
static inline void vf_store(float *p, vf a) { *p = a; }
static inline vf vf_add(vf a, vf b) { return a + b; }
static inline vf vf_sub(vf a, vf b) { return a - b; }
static inline vf vf_mul(vf a, vf b) { return a * b; }
static inline vf vf_div(vf a, vf b) { return a / b; }
static inline vf vf_fma(vf a, vf b, vf c) { return fmaf(a, b, c); }
static inline vf vf_min(vf a, vf b) { return a < b ? a : b; }
static inline vf vf_max(vf a, vf b) { return a > b ? a : b; }
static inline uint32_t vf_bits_(vf a) { uint32_t u; memcpy(&u, &a, 4); return u; }
static inline vf vf_from_bits_(uint32_t u) { vf a; memcpy(&a, &u, 4); return a; }
static inline vf vf_abs(vf a) { return vf_from_bits_(vf_bits_(a) & 0x7fffffffu); }
/* |mag| with the sign bit of s */
static inline vf vf_signof(vf mag, vf s) { return vf_from_bits_(vf_bits_(mag) | (vf_bits_(s) & 0x80000000u)); }
/* the bits of a shifted left by 23 */
static inline vf vf_shl23(vf a) { return vf_from_bits_(vf_bits_(a) << 23); }
#endif
