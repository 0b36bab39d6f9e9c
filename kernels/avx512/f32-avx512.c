/* f32 kernels for avx512: kernels/simd/kernels-template.h instantiated with
 * simd-avx512.h. Formulas, packed layout, tiles and tails: see the template;
 * reference: kernels/ref/f32-ref.c (bitwise equal, tests/test_kernels.c). */
#if !defined(__AVX512F__) || !defined(__AVX512BW__) || !defined(__AVX512DQ__) || !defined(__AVX512VL__)
#error "build with -mavx512f -mavx512bw -mavx512dq -mavx512vl -mfma"
#endif

#include "kernels/simd/simd-avx512.h"

#define RNNK_VREGS 32
#define RNNK_NAME(op) rnnk_f32_##op##_ukernel__avx512
#include "kernels/f32-kernels.h"
#include "kernels/simd/kernels-template.h"
