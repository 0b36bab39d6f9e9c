/* A small C-callable wrapper over oneDNN's RNN primitive (bench-only).
 *
 * One object = one primitive for a fixed shape: f32, forward_inference,
 * one layer, left-to-right, T x N x I -> T x N x H. Weights are given in
 * PyTorch layout and gate order (the same arrays rnnk imports with
 * RNNK_LAYOUT_PYTORCH); the wrapper converts them to oneDNN's gate order and
 * ldigo layout and reorders them once, at creation, into the layout the
 * primitive prefers (format_tag::any). Execution then only runs the
 * primitive. Initial states are zero.
 *
 * Threads: Debian's libdnnl uses OpenMP. rnnk_dnnl_threads_init() starts the
 * OpenMP team (call it before pinning the main thread, so the workers keep
 * the process's full CPU mask); creation and execution call
 * omp_set_num_threads(threads) first.
 */
#ifndef RNNK_BENCH_ONEDNN_RNN_H
#define RNNK_BENCH_ONEDNN_RNN_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum rnnk_dnnl_cell {
  RNNK_DNNL_RNN_TANH = 0, /* vanilla_rnn, eltwise_tanh (rnnk Elman) */
  RNNK_DNNL_LSTM,         /* gates i,f,c,o (= PyTorch i,f,g,o) */
  RNNK_DNNL_LBR_GRU,      /* lbr_gru = linear_before_reset GRU; gates u,r,o (= PyTorch z,r,n) */
} rnnk_dnnl_cell;

typedef struct rnnk_dnnl rnnk_dnnl;

/* Start an OpenMP team of max_threads (no-op without OpenMP). */
void rnnk_dnnl_threads_init(int max_threads);

/* Create the primitive and reorder the weights. w_ih [G*H][I], w_hh [G*H][H],
 * b_ih, b_hh [G*H] (may be NULL = 0), PyTorch gate order. NULL on failure,
 * with a message in err. */
rnnk_dnnl *rnnk_dnnl_create(rnnk_dnnl_cell cell, int T, int N, int I, int H, int threads,
                            const float *w_ih, const float *w_hh, const float *b_ih,
                            const float *b_hh, char *err, size_t errlen);

/* Copy the input x [T][N][I] into the primitive's source buffer. */
void rnnk_dnnl_set_input(rnnk_dnnl *d, const float *x);

/* Run the primitive once and wait for it. 0 on success. */
int rnnk_dnnl_execute(rnnk_dnnl *d);

/* The output sequence [T][N][H] of the last execution. */
const float *rnnk_dnnl_output(const rnnk_dnnl *d);

/* oneDNN's implementation name (impl_info_str), e.g. "ref:any". */
const char *rnnk_dnnl_impl(const rnnk_dnnl *d);

/* oneDNN's version, "MAJOR.MINOR.PATCH (commit)". */
const char *rnnk_dnnl_version(void);

void rnnk_dnnl_destroy(rnnk_dnnl *d);

#ifdef __cplusplus
}
#endif
#endif
