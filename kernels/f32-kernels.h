/* Declarations of every ISA's f32 kernels (defined in kernels/<isa>/). */
#ifndef RNNK_F32_KERNELS_H
#define RNNK_F32_KERNELS_H
#include "kernels/ref/f32-ref.h"

#define RNNK_DECLARE_F32_KERNELS(isa)                                                                     \
  void rnnk_f32_gemm_ukernel__##isa(size_t M, size_t K, size_t ncols, size_t pw, const float *A, size_t lda, \
                                    const float *W, const float *init, size_t ldi, float *C, size_t ldc);    \
  void rnnk_f32_act_ukernel__##isa(size_t n, const float *x, float *y, const rnnk_act_param *a, float clip);  \
  void rnnk_f32_lstm_ukernel__##isa(const rnnk_step_args *a);                                              \
  void rnnk_f32_gru_ukernel__##isa(const rnnk_step_args *a);                                               \
  void rnnk_f32_gru_rz_ukernel__##isa(const rnnk_step_args *a);                                            \
  void rnnk_f32_gru_n_ukernel__##isa(const rnnk_step_args *a);                                             \
  void rnnk_f32_elman_ukernel__##isa(const rnnk_step_args *a);

RNNK_DECLARE_F32_KERNELS(avx2)
RNNK_DECLARE_F32_KERNELS(avx512)
RNNK_DECLARE_F32_KERNELS(neon)
#endif
