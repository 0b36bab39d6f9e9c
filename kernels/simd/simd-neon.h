/* aarch64 Advanced SIMD, 4 lanes. Operation-for-operation the same as
 * simd-scalar.h; min/max are compare+select to keep x86's NaN rule. */
#ifndef RNNK_SIMD_NEON_H
#define RNNK_SIMD_NEON_H
#include <arm_neon.h>

typedef float32x4_t vf;
#define RNNK_VW 4

static inline vf vf_set1(float a) { return vdupq_n_f32(a); }
static inline vf vf_load(const float *p) { return vld1q_f32(p); }
static inline void vf_store(float *p, vf a) { vst1q_f32(p, a); }
static inline vf vf_add(vf a, vf b) { return vaddq_f32(a, b); }
static inline vf vf_sub(vf a, vf b) { return vsubq_f32(a, b); }
static inline vf vf_mul(vf a, vf b) { return vmulq_f32(a, b); }
static inline vf vf_div(vf a, vf b) { return vdivq_f32(a, b); }
static inline vf vf_fma(vf a, vf b, vf c) { return vfmaq_f32(c, a, b); }
static inline vf vf_min(vf a, vf b) { return vbslq_f32(vcltq_f32(a, b), a, b); }
static inline vf vf_max(vf a, vf b) { return vbslq_f32(vcgtq_f32(a, b), a, b); }
static inline vf vf_abs(vf a) { return vabsq_f32(a); }
static inline vf vf_signof(vf mag, vf s) {
  return vreinterpretq_f32_u32(vorrq_u32(vreinterpretq_u32_f32(mag),
         vandq_u32(vreinterpretq_u32_f32(s), vdupq_n_u32(0x80000000u))));
}
static inline vf vf_shl23(vf a) { return vreinterpretq_f32_u32(vshlq_n_u32(vreinterpretq_u32_f32(a), 23)); }
#endif
