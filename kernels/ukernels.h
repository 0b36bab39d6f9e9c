/* Kernel signatures shared by the scalar reference and every SIMD ISA.
 *
 * Packed panel layout ("pmat"), built once by set_weights:
 *   the G*Hp output rows of a gate matrix are cut into panels of U hidden
 *   units; a panel holds, for each k in 0..K-1, the G gates x U units that
 *   multiply input k: element (gate g, unit j, input k) lives at
 *     (j / U) * K * G*U  +  k * G*U  +  g * U  +  j % U.
 *   Hp = H rounded up to U; padded units have zero weights. A panel is
 *   PW = G*U floats wide. Vectors "in panel order" (biases, gate
 *   pre-activations) are [Hp/U][G][U].
 *
 * Arithmetic contract (what makes every ISA give the same bits): each
 * output of a matrix product is one chain acc = fma(w[k], a[k], acc) over k
 * in increasing order, starting from its init value; the cell updates are
 * the exact operation sequences written in kernels/ref/ (activations from
 * kernels/simd/activations.h). No kernel splits a k-chain.
 */
#ifndef RNNK_UKERNELS_H
#define RNNK_UKERNELS_H

#include <stdbool.h>
#include <stddef.h>

#define RNNK_MAX_PW 256 /* widest panel: G*U floats */

/* Activation kinds inside kernels (resolved defaults; matches rnnk_activation). */
enum { RNNK_K_TANH = 1, RNNK_K_SIGMOID, RNNK_K_RELU, RNNK_K_IDENTITY, RNNK_K_HARD_SIGMOID };

typedef struct rnnk_act_param {
  int kind;
  float alpha, beta;
} rnnk_act_param;

typedef struct rnnk_cell_param {
  rnnk_act_param f, g, h; /* LSTM f,g,h; GRU f,g; Elman/Jordan: g only */
  float clip;             /* 0 = off */
  bool input_forget;
} rnnk_cell_param;

/* C[m][0..ncols) = init[m] + A[m][0..K) . W  (W packed with panel width pw,
 * ncols a multiple of pw). ldi == 0 broadcasts one init row (a bias). */
typedef void (*rnnk_f32_gemm_fn)(size_t M, size_t K, size_t ncols, size_t pw, const float *A,
                                 size_t lda, const float *W, const float *init, size_t ldi,
                                 float *C, size_t ldc);

/* y[i] = act(x[i]) for n elements (x == y allowed). */
typedef void (*rnnk_f32_act_fn)(size_t n, const float *x, float *y, const rnnk_act_param *act,
                                float clip);

/* One recurrent step for N rows over panels [p0, p1), fused with the cell
 * update. All state buffers are row-major with the given row strides and
 * addressed by unit index j (0..Hp). */
typedef struct rnnk_step_args {
  size_t N, K, U;    /* rows, recurrent inputs (k-chain length), units per panel */
  size_t p0, p1;     /* panel range of this call */
  bool backward;     /* visit panels p1-1 down to p0 (results do not depend on the order;
                        alternating it per step keeps part of an L2-overflowing W_hh in L2) */
  bool k_chunks;     /* W overflows L2: with rows for several register tiles, run k in chunks
                        that stay in L1 for all of them (else each tile reads W from L2) */
  size_t k_block_kib; /* KiB of a slice per k-chunk; 0 = the default (KC_FOR) */
  bool prefetch_next; /* W fits L2 but the input GEMM's W_ih evicts part of it between
                        steps: row tiles of a stream prefetch the next panel all the same */
  const float *W;    /* packed recurrent weights of this cell/phase */
  const float *pre;  /* gate pre-activations from the input projection, panel order */
  size_t ld_pre;
  const float *hin;  /* recurrent input, [N][K] (stride ld_hin) */
  size_t ld_hin;
  const float *hprev; /* previous hidden (GRU blend), [N][Hp] */
  size_t ld_hprev;
  float *c;          /* LSTM cell in/out, [N][Hp] */
  size_t ld_c;
  float *out;        /* new hidden (LSTM: o*h(c) before projection), [N][Hp] */
  size_t ld_out;
  float *out2;       /* GRU lbr=0 phase 1: z [N][Hp] (out gets r*h) */
  const float *peep; /* LSTM peepholes [Hp/U][3][U] (i, f, o) or NULL */
  const float *bias; /* GRU: b_Rn in panel order [Hp/U][U] */
  const rnnk_cell_param *cp;
} rnnk_step_args;

typedef void (*rnnk_f32_step_fn)(const rnnk_step_args *a);

/* The kernel table of one ISA. Tiles live in the packed layout (U) or are
 * chosen by the kernel itself from N; never global state. */
typedef struct rnnk_ukernels {
  int isa; /* rnnk_isa */
  const char *name;
  unsigned unit_align;         /* U must be a multiple of this (vector width) */
  rnnk_f32_gemm_fn f32_gemm;   /* input projection, projection, Jordan V */
  rnnk_f32_act_fn f32_act;     /* elementwise activation */
  rnnk_f32_step_fn f32_lstm;   /* pw = 4U: i, f, g, o */
  rnnk_f32_step_fn f32_gru;    /* linear_before_reset=1, pw = 3U: r, z, n */
  rnnk_f32_step_fn f32_gru_rz; /* linear_before_reset=0 phase 1, pw = 2U: r, z */
  rnnk_f32_step_fn f32_gru_n;  /* linear_before_reset=0 phase 2, pw = U: n */
  rnnk_f32_step_fn f32_elman;  /* pw = U */
} rnnk_ukernels;

#endif
