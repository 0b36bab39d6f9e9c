/* Internal declarations shared by src/, dispatch/, tune/ and threads/. */
#ifndef RNNK_INTERNAL_H
#define RNNK_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "kernels/ukernels.h"
#include "rnnk.h"
#include "rnnk_config.h"

#include "src/visibility.h"

/* Thread-local error detail; returns nothing so callers can `return fail(...)`. */
void rnnk_set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void rnnk_clear_error(void);
/* Sets the message and returns @p s. */
rnnk_status rnnk_fail(rnnk_status s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* 64-byte aligned allocation of n floats (zeroed); NULL on overflow/OOM. */
float *rnnk_falloc(size_t n);
/* The same, not zeroed: scratch that is always written before it is read. */
float *rnnk_falloc_uninit(size_t n);
/* bytes of memory, 64-byte aligned; from 2 MiB on, 2 MiB aligned and
 * advised to use transparent huge pages (a 16 MiB W_hh streamed every step
 * would otherwise miss the TLB on every 4 KiB page). Free with rnnk_free. */
void *rnnk_alloc_pages(size_t bytes);
void rnnk_free(void *p);
/* a*b with overflow check; false on overflow. */
bool rnnk_mul_ok(size_t a, size_t b, size_t *out);
/* Gate blocks of a cell's weight matrices: 4 (LSTM), 3 (GRU), else 1. */
static inline int rnnk_cell_gates(rnnk_cell cell) { return cell == RNNK_LSTM ? 4 : cell == RNNK_GRU ? 3 : 1; }
/* Width of the fed-back state: P with a projection, O for Jordan, else H. */
static inline int rnnk_state_size(const rnnk_config *c) {
  return c->proj_size ? c->proj_size : c->cell == RNNK_JORDAN ? c->output_size : c->hidden_size;
}
/* Bytes of one layer's recurrent weights W_hh, hidden units padded to
 * panels of `unit`: what each step reads. */
static inline size_t rnnk_w_hh_bytes(const rnnk_config *c, int unit) {
  const size_t panels = ((size_t)c->hidden_size + (size_t)unit - 1) / (size_t)unit;
  return (size_t)rnnk_cell_gates(c->cell) * panels * (size_t)unit * (size_t)rnnk_state_size(c) * sizeof(float);
}
/* Whether a thread's recurrent weights (bytes) overflow half of its L2 (the
 * other half holds the step's rows), so that the step streams them from L3
 * and runs k in chunks; yes when the size is unknown (src/forward.c). */
bool rnnk_overflows_l2(size_t bytes);

/* The kernel table of an ISA (dispatch/ukernels.c); NULL if not runnable here. */
const rnnk_ukernels *rnnk_ukernels_for(rnnk_isa isa);

/* Tile choice for one network, from tune/tiles.c (defaults as data) and the tune cache. */
enum { RNNK_SPLIT_NONE = 0, RNNK_SPLIT_UNITS = 1, RNNK_SPLIT_ROWS = 2 };
typedef struct rnnk_tiles {
  int unit;       /* U: hidden units per panel (a multiple of the ISA's vector width) */
  int unit_out;   /* units per panel of the projection / Jordan output matrix */
  int time_chunk; /* steps of input projection per GEMM call (0 = auto) */
  int split;      /* over an attached pool: RNNK_SPLIT_NONE, _UNITS (one sequence's hidden
                     units, a barrier per step) or _ROWS (the batch's rows); the
                     defaults hold UNITS, meaning "as rnnk_plan's rules decide" */
  int k_block;    /* KiB of a weight slice per k-chunk of the step, where the step runs k
                     in chunks (0 = the kernels' default; see KC_FOR) */
} rnnk_tiles;
void rnnk_tiles_default(rnnk_isa isa, const rnnk_config *cfg, rnnk_tiles *t);
/* Widest panel, in vectors, the step kernels of this cell are built for:
 * 2 for LSTM and GRU (linear before reset), 4 for GRU with the reset before
 * the product (kernels of two gates and one), 8 for the one-gate Elman and
 * Jordan cells. */
int rnnk_max_unit_vectors(const rnnk_config *cfg);
/* The tuner's choice among n candidates timed in passes (tune/tuner.c):
 * ms[r * stride + i] is candidate i's median ms in pass r (0 = not timed),
 * candidate 0 the default tiles, ms[r * stride + n] the default timed again
 * at the end of the pass. Each candidate's ratio to the default of the same
 * pass (mean of opening and closing), median over the passes that timed
 * it, at least 2 of them (or the one, if rounds is 1); the smallest ratio
 * below 1 - margin wins, else the default (0). *ratio gets the
 * winner's ratio (1 for the default), *ms_default the default's median. */
int rnnk_tune_pick(const double *ms, int rounds, int n, int stride, double margin, double *ratio,
                   double *ms_default);
/* The confirmation of a winner of the passes (tune/tuner.c): pairs[2i] is
 * the default's ms and pairs[2i + 1] the winner's, timed back to back, for
 * n pairs. True if the median (upper middle) of winner / default is below
 * 1 - margin; *ratio gets that median. */
bool rnnk_tune_confirmed(const double *pairs, int n, double margin, double *ratio);
/* Whether u units per panel fit kernels of vector width vw (1: the scalar
 * reference, any u in 1..64) for panels of at most max_uv vectors: u is vw
 * times a power of two up to max_uv. */
bool rnnk_unit_valid(int u, int vw, int max_uv);
void rnnk_tiles_choose(rnnk_isa isa, const rnnk_config *cfg, rnnk_tiles *t);
/* Whether the defaults split one sequence of N rows over a pool of
 * `threads` (no tune cache entry): every thread gets two panels of `unit`
 * units, and each phase of a step enough work to pay for its barrier. */
bool rnnk_split_default(const rnnk_config *cfg, int unit, int N, int threads);
/* Whether the defaults split a batch of N rows over a pool of `threads` by
 * rows instead (preferred over the unit split where both qualify). */
bool rnnk_split_rows_default(const rnnk_config *cfg, int unit, int N, int threads);
/* The split an untuned call makes (RNNK_SPLIT_*): rows if that rule holds,
 * else units if that one does, else none. rnnk_plan and the tuner's
 * baseline both use it. */
int rnnk_split_choose(const rnnk_config *cfg, int unit, int N, int threads);
/* The tune-cache key of a shape (tune/tiles.c). */
struct rnnk_tune_key rnnk_tiles_key(rnnk_isa isa, const rnnk_config *cfg, int batch, int threads);

/* One layer and direction, packed. */
typedef struct rnnk_layer {
  int K;         /* input features of this layer */
  bool set;      /* weights imported */
  float *w_ih;   /* packed [Hp/U][K][G*U] */
  float *b_in;   /* input-projection init, panel order [Hp/U][G][U] */
  float *w_hh;   /* packed recurrent (GRU lbr=0: the r,z part, pw 2U) */
  float *w_hh_n; /* GRU lbr=0: the n part, pw U */
  float *b_rn;   /* GRU: b_Rn [Hp] */
  float *peep;   /* LSTM peepholes [Hp/U][3][U] or NULL */
  float *w_out;  /* LSTM projection or Jordan V, packed [So_p/Uo][H][Uo] */
  float *b_out;  /* its init row [So_p] (zeros for the projection) */
  size_t bytes;  /* packed bytes */
} rnnk_layer;

/* Forward scratch blocks a network keeps between calls: one per concurrent
 * call or row-split worker, at least this many, and as many as the largest
 * pool attached (rnnk_rnn_set_pool grows them). */
#define RNNK_SCRATCH_SLOTS 16

struct rnnk_rnn {
  rnnk_config cfg; /* defaults resolved */
  rnnk_isa isa;
  const rnnk_ukernels *uk;
  rnnk_tiles tiles;
  bool tiles_given; /* created with explicit tiles (the tuner's candidates): the
                       tune cache does not override them per call */
  int G;    /* gates */
  int D;    /* directions */
  int H, Hp;
  int S, Sp;  /* carried h size (H, P or O) and its padded row stride */
  int So, Sop;/* size of the output matrix (P or O) and padded; 0 if none */
  int out_width; /* features per step of y */
  rnnk_cell_param cp;
  rnnk_act_param out_act;
  rnnk_layer *layers; /* [L][D] */
  rnnk_pool *pool;
  _Atomic(float *) *scratch_slot; /* [scratch_slots] cached forward scratch blocks (forward.c) */
  int scratch_slots;
  unsigned weights_gen;            /* bumped by every set_weights */
  _Atomic(struct rnnk_replicas *) *replica_slot; /* cached per-node weight copies (replicas.c) */
};

/* Per-NUMA-node copies of the packed weights (src/replicas.c). acquire
 * returns the set for pool's nodes (built and placed if the cached one is
 * missing or stale), or NULL when the pool spans one node or memory is
 * short (then every worker reads rnn->layers); release puts it back in the
 * cache. layers() gives node m's layer array (rnn->layers for r == NULL).
 * cached() is for tests: the node count of the cached set, 0 if none. */
typedef struct rnnk_replicas rnnk_replicas;
rnnk_replicas *rnnk_replicas_acquire(const rnnk_rnn *rnn, rnnk_pool *pool);
void rnnk_replicas_release(const rnnk_rnn *rnn, rnnk_replicas *r);
void rnnk_replicas_free(rnnk_replicas *r);
rnnk_layer *rnnk_replicas_layers(const rnnk_replicas *r, const rnnk_rnn *rnn, int node);
int rnnk_replicas_cached(const rnnk_rnn *rnn);

/* The packed arrays of a layer: where each pointer lives in *ly and its
 * length in floats (0: the layer has no such array). False if a length
 * overflows size_t. Shared by allocation and the per-node copies. */
enum { RNNK_LAYER_PARTS = 8 };
typedef struct rnnk_layer_part {
  float **p;
  size_t n;
} rnnk_layer_part;
bool rnnk_layer_parts(const rnnk_rnn *rnn, rnnk_layer *ly, int K, rnnk_layer_part part[RNNK_LAYER_PARTS]);

/* Create with given tiles (NULL = defaults and tune cache); the tuner's hook. */
rnnk_status rnnk_rnn_create_tiled(const rnnk_config *cfg, const rnnk_tiles *tiles, rnnk_rnn **out);

/* Input features of layer l. */
int rnnk_layer_input(const rnnk_rnn *rnn, int l);
/* Width of layer l's output sequence (D*S for concat, else S). */
int rnnk_layer_output(const rnnk_rnn *rnn, int l);

/* Resolve defaults and validate; false with the error message set. */
rnnk_status rnnk_config_resolve(const rnnk_config *in, rnnk_config *out);

/* Forward of one batch of rows through all layers, rows already validated.
 * Used by forward, forward_many and the tuner. */
typedef struct rnnk_fwd_io {
  int T, N;
  const float *x; size_t x_row_stride, x_step_stride; /* element (t, n, :) at x + t*step + n*row */
  const int *lengths;        /* NULL = T */
  const float *h0, *c0;      /* [L*D][state_rows][S], [L*D][state_rows][H] or NULL */
  float *y; size_t y_row_stride, y_step_stride;
  float *hT, *cT;
  size_t state_rows; /* rows of each [L*D] block of h0, c0, hT, cT (0 = N; more when
                        these rows are a slice of a caller's batch) */
  float *scratch; /* NULL, or rnnk_forward_scratch_floats() floats, 64-byte aligned
                     (then time_chunk must be 0, and x rows [T][N][I] dense with no
                     lengths: that size has no room for an input copy or packing) */
  int time_chunk;  /* steps per input GEMM; 0 = the network's tiles */
  int k_block;     /* KiB per k-chunk of the step; 0 = the kernels' default */
  bool backward;   /* sweep the weights' panels backward first (streaming alternates
                      it per call so consecutive calls meet what the last one left in L2) */
} rnnk_fwd_io;
size_t rnnk_forward_scratch_floats(const rnnk_rnn *rnn, int T, int N);
/* How a row split over nth threads slices io's rows: slice i is rows
 * [bound[i], bound[i + 1]) (src/forward.c says how they are chosen). */
void rnnk_row_bounds(const rnnk_fwd_io *io, int nth, size_t *bound);
/* Weights of every layer set? (ESTATE otherwise) */
rnnk_status rnnk_check_ready(const rnnk_rnn *rnn);
/* Per-call choices for N rows (tune cache, else defaults). */
typedef struct rnnk_call_plan {
  rnnk_pool *pool; /* split the call over it; NULL = caller's thread */
  bool rows;       /* split the batch's rows (each thread runs its rows through every
                      layer, no barrier per step) instead of the hidden units */
  int time_chunk;  /* 0 = auto */
  int k_block;     /* 0 = the kernels' default */
} rnnk_call_plan;
rnnk_call_plan rnnk_plan(const rnnk_rnn *rnn, int N);
/* The same for a call over pool (NULL: none) instead of the attached one. */
rnnk_call_plan rnnk_plan_with(const rnnk_rnn *rnn, int N, rnnk_pool *pool);
rnnk_status rnnk_forward_rows(const rnnk_rnn *rnn, const rnnk_fwd_io *io, rnnk_pool *split_pool);
/* The same call with its rows split over the pool's threads (plan.rows). */
rnnk_status rnnk_forward_row_split(const rnnk_rnn *rnn, const rnnk_fwd_io *io, rnnk_pool *pool);
/* Run io as plan splits it: by rows, by hidden units over plan.pool, or on
 * the caller's thread (io's time_chunk and k_block are the caller's to set). */
rnnk_status rnnk_forward_planned(const rnnk_rnn *rnn, const rnnk_fwd_io *io, rnnk_call_plan plan);

/* Whether forward_many runs `count` sequences of up to Tmax steps as one
 * batch split over the whole pool of `threads` as forward would split it,
 * rather than workers taking groups of them (src/forward_many.c). */
bool rnnk_many_one_batch(const rnnk_rnn *rnn, int count, int threads, int Tmax);

/* Fingerprint of the kernel set, written into the tune cache header. */
extern const char rnnk_kernel_fingerprint[];

#endif
