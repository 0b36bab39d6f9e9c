/* f32 kernels for avx2: kernels/simd/kernels-template.h instantiated with
 * simd-avx2.h. Formulas, packed layout, tiles and tails: see the template;
 * reference: kernels/ref/f32-ref.c (bitwise equal, tests/test_kernels.c). */
#if !defined(__AVX2__) || !defined(__FMA__)
#error "build with -mavx2 -mfma"
#endif

#include "kernels/simd/simd-avx2.h"

#define RNNK_VREGS 16
#define RNNK_NAME(op) rnnk_f32_##op##_ukernel__avx2
#include "kernels/f32-kernels.h"
#include "kernels/simd/kernels-template.h"
