/* Scalar reference kernels (kernels/ref/f32-ref.c). */
#ifndef RNNK_F32_REF_H
#define RNNK_F32_REF_H
#include "kernels/ukernels.h"

void rnnk_f32_gemm_ukernel__scalar(size_t M, size_t K, size_t ncols, size_t pw, const float *A,
                                   size_t lda, const float *W, const float *init, size_t ldi,
                                   float *C, size_t ldc);
void rnnk_f32_act_ukernel__scalar(size_t n, const float *x, float *y, const rnnk_act_param *a,
                                  float clip);
void rnnk_f32_lstm_ukernel__scalar(const rnnk_step_args *a);
void rnnk_f32_gru_ukernel__scalar(const rnnk_step_args *a);
void rnnk_f32_gru_rz_ukernel__scalar(const rnnk_step_args *a);
void rnnk_f32_gru_n_ukernel__scalar(const rnnk_step_args *a);
void rnnk_f32_elman_ukernel__scalar(const rnnk_step_args *a);
#endif
