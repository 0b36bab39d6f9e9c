/* f32 kernels for neon: kernels/simd/kernels-template.h instantiated with
 * simd-neon.h. Formulas, packed layout, tiles and tails: see the template;
 * reference: kernels/ref/f32-ref.c (bitwise equal, tests/test_kernels.c). */
#if !defined(__aarch64__)
#error "NEON kernels are built for aarch64"
#endif

#include "kernels/simd/simd-neon.h"

#define RNNK_VREGS 32
#define RNNK_NAME(op) rnnk_f32_##op##_ukernel__neon
#include "kernels/f32-kernels.h"
#include "kernels/simd/kernels-template.h"
