/* The kernel tables, one per ISA, const. A network takes the table of its
 * config's ISA at create time; the hot path is one indirect call, with no
 * feature test. Only ISAs that are compiled in and that this CPU and OS can
 * run are handed out (rnnk_isa_supported). */
#include "kernels/f32-kernels.h"
#include "src/internal.h"

#define TABLE(isa_enum, tok, align)                                                                  \
  {.isa = isa_enum, .name = #tok, .unit_align = align, .f32_gemm = rnnk_f32_gemm_ukernel__##tok,     \
   .f32_act = rnnk_f32_act_ukernel__##tok, .f32_lstm = rnnk_f32_lstm_ukernel__##tok,                 \
   .f32_gru = rnnk_f32_gru_ukernel__##tok, .f32_gru_rz = rnnk_f32_gru_rz_ukernel__##tok,             \
   .f32_gru_n = rnnk_f32_gru_n_ukernel__##tok, .f32_elman = rnnk_f32_elman_ukernel__##tok}

static const rnnk_ukernels scalar_table = TABLE(RNNK_ISA_SCALAR, scalar, 1);
#if RNNK_HAVE_AVX2
static const rnnk_ukernels avx2_table = TABLE(RNNK_ISA_AVX2, avx2, 8);
#endif
#if RNNK_HAVE_AVX512
static const rnnk_ukernels avx512_table = TABLE(RNNK_ISA_AVX512, avx512, 16);
#endif
#if RNNK_HAVE_NEON
static const rnnk_ukernels neon_table = TABLE(RNNK_ISA_NEON, neon, 4);
#endif

const rnnk_ukernels *rnnk_ukernels_for(rnnk_isa isa) {
  if (isa == RNNK_ISA_AUTO) isa = rnnk_active_isa();
  if (!rnnk_isa_supported(isa)) return NULL;
  switch (isa) {
  case RNNK_ISA_SCALAR: return &scalar_table;
#if RNNK_HAVE_AVX2
  case RNNK_ISA_AVX2: return &avx2_table;
#endif
#if RNNK_HAVE_AVX512
  case RNNK_ISA_AVX512: return &avx512_table;
#endif
#if RNNK_HAVE_NEON
  case RNNK_ISA_NEON: return &neon_table;
#endif
  default: return NULL;
  }
}

/* Names the kernel set for the tune cache: a cache made by another set of
 * kernels (or tile rules) is stale. Bump when kernels or layouts change. */
const char rnnk_kernel_fingerprint[] = "f32-panel-v1"
#if RNNK_HAVE_AVX2
                                       "+avx2"
#endif
#if RNNK_HAVE_AVX512
                                       "+avx512"
#endif
#if RNNK_HAVE_NEON
                                       "+neon"
#endif
    ;
