/**
 * @file rnnk.h
 * @brief rnnk: vectorized CPU kernels for recurrent neural networks.
 *
 * One header, C11. Every exported symbol starts with `rnnk_`.
 *
 * Conventions
 * - Sizes are `int` (> 0 unless stated); tensors are dense row-major f32.
 * - Buffers need no particular alignment (misaligned pointers work).
 * - Every function that can fail returns an ::rnnk_status. On failure it
 *   sets a thread-local message (rnnk_last_error()) naming the bad argument
 *   and writes nothing to any output buffer. The library never aborts,
 *   exits or prints.
 * - Arithmetic is IEEE single precision: NaN and Inf in weights or inputs
 *   propagate as IEEE arithmetic does; denormals are kept unless the
 *   config asks for flush-to-zero.
 *
 * Thread safety
 * - rnnk_rnn_create / rnnk_rnn_set_weights / rnnk_rnn_set_pool /
 *   rnnk_rnn_destroy modify a network: call them from one thread, with no
 *   other call on that network running.
 * - After its weights are set, a network is read-only: rnnk_rnn_forward,
 *   rnnk_rnn_forward_many and rnnk_rnn_step (each on its own rnnk_state)
 *   may run concurrently from any number of threads on one network.
 *   A network with a pool attached serialises forward calls on that pool.
 * - An rnnk_state belongs to one thread at a time.
 * - rnnk_tune_load / rnnk_tune_save / rnnk_tune may run while other threads
 *   run forward: the tune cache is replaced atomically; networks keep the
 *   panel width they were created with, and per-call choices (thread split,
 *   time chunk) never change results.
 */
#ifndef RNNK_H
#define RNNK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Errors                                                              */
/* ------------------------------------------------------------------ */

/** Status returned by every fallible call. */
typedef enum rnnk_status {
  RNNK_OK = 0,
  RNNK_EINVAL,  /**< a bad argument (see rnnk_last_error()) */
  RNNK_ENOMEM,  /**< out of memory, or a size whose byte count overflows */
  RNNK_ENOTSUP, /**< unsupported feature, e.g. an ISA this CPU lacks */
  RNNK_EIO,     /**< a file could not be read or written */
  RNNK_EFORMAT, /**< a malformed file; nothing was changed */
  RNNK_ESTALE,  /**< a tune cache from another CPU or library version */
  RNNK_ESTATE,  /**< call not valid in the object's current state (e.g. weights not set) */
} rnnk_status;

/** Short constant description of a status. Never NULL. */
const char *rnnk_strerror(rnnk_status s);

/** Detail of the last failure on the calling thread ("" if none). Valid
 *  until the next rnnk call on this thread. */
const char *rnnk_last_error(void);

/** Library version, "MAJOR.MINOR.PATCH". */
const char *rnnk_version(void);

/* ------------------------------------------------------------------ */
/* Machine                                                             */
/* ------------------------------------------------------------------ */

/** Instruction sets a network can run on. */
typedef enum rnnk_isa {
  RNNK_ISA_AUTO = 0, /**< the default: rnnk_active_isa() */
  RNNK_ISA_SCALAR,   /**< portable C; the reference */
  RNNK_ISA_AVX2,     /**< x86-64 AVX2 + FMA (ymm) */
  RNNK_ISA_AVX512,   /**< x86-64 AVX-512 F/BW/DQ/VL (zmm) */
  RNNK_ISA_NEON,     /**< aarch64 Advanced SIMD */
} rnnk_isa;

/** Feature bits of rnnk_cpu_features(). */
enum {
  RNNK_CPU_FMA = 1u << 0,
  RNNK_CPU_AVX2 = 1u << 1,
  RNNK_CPU_AVX512F = 1u << 2,
  RNNK_CPU_AVX512BW = 1u << 3,
  RNNK_CPU_AVX512DQ = 1u << 4,
  RNNK_CPU_AVX512VL = 1u << 5,
  RNNK_CPU_AVX512BF16 = 1u << 6,
  RNNK_CPU_AVX512FP16 = 1u << 7,
  RNNK_CPU_AVXVNNI = 1u << 8,
  RNNK_CPU_NEON = 1u << 9,
  RNNK_CPU_NEON_DOT = 1u << 10,
  RNNK_CPU_OS_YMM = 1u << 16, /**< the OS saves YMM state (XCR0) */
  RNNK_CPU_OS_ZMM = 1u << 17, /**< the OS saves opmask and ZMM state (XCR0) */
};

/** Features of this CPU *usable under this OS*; detected once. Thread-safe. */
uint64_t rnnk_cpu_features(void);

/** True if this CPU and OS can run @p isa (RNNK_ISA_AUTO: always true). */
bool rnnk_isa_supported(rnnk_isa isa);

/** The default ISA: the best the CPU and OS allow, capped by the
 *  environment variable RNNK_ISA=scalar|avx2|avx512|neon (read once). A cap
 *  above what the CPU has is ignored (rnnk_isa_report() says so). */
rnnk_isa rnnk_active_isa(void);

/** Name of an ISA ("scalar", "avx2", "avx512", "neon", "auto"). */
const char *rnnk_isa_name(rnnk_isa isa);

/** Human-readable account of detection: features, XCR0, RNNK_ISA cap,
 *  the chosen ISA and why. Writes at most @p len bytes, NUL-terminated. */
rnnk_status rnnk_isa_report(char *buf, size_t len);

/* ------------------------------------------------------------------ */
/* Describing a network                                                */
/* ------------------------------------------------------------------ */

/** Cell types (SPEC.md). */
typedef enum rnnk_cell {
  RNNK_ELMAN = 0, /**< simple RNN: h = act(W x + R h + b) */
  RNNK_JORDAN,    /**< output y = act_o(V h + b_V) fed back instead of h */
  RNNK_LSTM,      /**< optional peephole and projection */
  RNNK_GRU,       /**< linear_before_reset selects the reset placement */
} rnnk_cell;

/** Directions. */
typedef enum rnnk_direction {
  RNNK_FORWARD = 0,
  RNNK_REVERSE,
  RNNK_BIDIR_CONCAT, /**< outputs [fwd, bwd] along features (PyTorch) */
  RNNK_BIDIR_SUM,    /**< outputs fwd + bwd */
} rnnk_direction;

/** Activations (ONNX names). RNNK_ACT_DEFAULT picks the cell's default. */
typedef enum rnnk_activation {
  RNNK_ACT_DEFAULT = 0,
  RNNK_ACT_TANH,
  RNNK_ACT_SIGMOID,
  RNNK_ACT_RELU,
  RNNK_ACT_IDENTITY,
  RNNK_ACT_HARD_SIGMOID, /**< max(0, min(1, alpha x + beta)), defaults 0.2, 0.5 */
} rnnk_activation;

/** Weight data types. Only f32 exists today. */
typedef enum rnnk_dtype { RNNK_F32 = 0 } rnnk_dtype;

/**
 * A network's shape and options. Zero-initialise, then set cell, sizes and
 * num_layers (or use rnnk_config_init()); zero means "default" for every
 * optional field.
 */
typedef struct rnnk_config {
  rnnk_cell cell;
  int input_size;  /**< I, features of x */
  int hidden_size; /**< H */
  int num_layers;  /**< >= 1 */
  rnnk_direction direction;
  int proj_size;            /**< LSTM projection P (0 = none); h then has size P */
  int output_size;          /**< Jordan: O, size of the fed-back output y (required) */
  bool peephole;            /**< LSTM peepholes (weights then required) */
  bool linear_before_reset; /**< GRU: true = PyTorch/cuDNN, false = ONNX default */
  bool input_forget;        /**< LSTM (ONNX): couple f = 1 - i */
  /** Activations. LSTM: f, g, h (default sigmoid, tanh, tanh). GRU: f, g
   *  (default sigmoid, tanh). Elman and Jordan: act[0] (default tanh). */
  rnnk_activation act[3];
  float act_alpha[3], act_beta[3]; /**< for hard_sigmoid; 0 = ONNX default */
  rnnk_activation out_act;         /**< Jordan act_o; default identity */
  float clip;                      /**< > 0: clamp every activation input to [-clip, clip] */
  bool batch_first;                /**< x and y as [N][T][features] */
  bool flush_to_zero;              /**< flush denormals on every compute path of a call */
  rnnk_dtype weight_type;          /**< RNNK_F32 */
  rnnk_isa isa;                    /**< RNNK_ISA_AUTO or a specific ISA (ENOTSUP if absent) */
  /** Typical rows per forward call (0 = 1). The packed layout is fixed at
   *  create time from the tune cache entry of this batch size (falling
   *  back to batch 1), so a network serving batches of 64 gets the panels
   *  tuned for 64. Any N still works; results never depend on it. */
  int batch_hint;
} rnnk_config;

/** Fill @p cfg with defaults for a one-layer forward network. */
void rnnk_config_init(rnnk_config *cfg, rnnk_cell cell, int input_size, int hidden_size);

/** Opaque network. */
typedef struct rnnk_rnn rnnk_rnn;

/** Validate @p cfg and create a network. Its weights must then be set for
 *  every layer and direction (rnnk_rnn_set_weights); until then forward
 *  and step return RNNK_ESTATE.
 *  @param out receives the network; untouched on failure. */
rnnk_status rnnk_rnn_create(const rnnk_config *cfg, rnnk_rnn **out);

/** Free a network (NULL is fine). */
void rnnk_rnn_destroy(rnnk_rnn *rnn);

/** Copy of the network's config (defaults resolved). */
rnnk_status rnnk_rnn_config(const rnnk_rnn *rnn, rnnk_config *cfg);

/** Text describing what was chosen: ISA, kernel names, tiles, packed
 *  bytes. Truncated to @p len bytes, always NUL-terminated. */
rnnk_status rnnk_rnn_describe(const rnnk_rnn *rnn, char *buf, size_t len);

/** Framework weight layouts (SPEC.md, "Gate order"). */
typedef enum rnnk_layout {
  RNNK_LAYOUT_PYTORCH = 0, /**< LSTM i,f,g,o; GRU r,z,n; w_ih [G*H][I], w_hh [G*H][S] */
  RNNK_LAYOUT_ONNX,        /**< LSTM i,o,f,c; GRU z,r,h; b_ih = B slice [2*G*H] (Wb then Rb);
                                peephole [3*H] in i,o,f order */
  RNNK_LAYOUT_KERAS,       /**< LSTM i,f,c,o; GRU z,r,h; w_ih [I][G*H], w_hh [S][G*H];
                                b_ih [G*H] or, for GRU with reset_after, [2][G*H]
                                (input then recurrent bias, b_hh must be NULL) */
} rnnk_layout;

/** One layer and direction's weights in a framework layout. Any bias may
 *  be NULL (= 0). Sizes follow from the config: G = 4 (LSTM), 3 (GRU),
 *  1 (Elman, Jordan); S = carried size (H, P with projection, O for Jordan);
 *  K = the layer's input size (I for layer 0, else the previous layer's
 *  output width). */
typedef struct rnnk_weights {
  const float *w_ih;     /**< [G*H][K] (Keras: [K][G*H]) */
  const float *w_hh;     /**< [G*H][S] (Keras: [S][G*H]) */
  const float *b_ih;     /**< [G*H]; ONNX: [2*G*H] = Wb then Rb, b_hh NULL */
  const float *b_hh;     /**< [G*H] */
  const float *peephole; /**< LSTM [3*H]: PyTorch/Keras order i,f,o; ONNX i,o,f */
  const float *w_proj;   /**< LSTM projection [P][H] (Keras: [H][P]) */
  const float *w_out;    /**< Jordan V [O][H] (Keras: [H][O]) */
  const float *b_out;    /**< Jordan b_V [O] */
} rnnk_weights;

/** Import and pack the weights of (@p layer, @p dir); dir is 0 (forward)
 *  or 1 (the reverse half of a bidirectional network). The library keeps
 *  no pointer to @p w. Not thread-safe with other calls on @p rnn. */
rnnk_status rnnk_rnn_set_weights(rnnk_rnn *rnn, int layer, int dir, rnnk_layout layout,
                                 const rnnk_weights *w);

/* ------------------------------------------------------------------ */
/* Running                                                             */
/* ------------------------------------------------------------------ */

/**
 * Run whole sequences.
 * @param T steps, @param N rows (batch).
 * @param x [T][N][I] (or [N][T][I] with batch_first).
 * @param lengths [N] valid steps per row, 0..T, any order; NULL = all T.
 *        Outputs past a row's length are zero; a row of length 0 keeps its
 *        initial state.
 * @param h0, c0 initial states [L*D][N][S] and [L*D][N][H] (c only for
 *        LSTM); NULL = zeros. S is the carried size (H, P, or O).
 * @param y [T][N][D*S_out] (concat) or [T][N][S_out] (forward/reverse/sum);
 *        batch-major with batch_first. May be NULL.
 * @param hT, cT final states, same shapes as h0, c0; may be NULL.
 * y must not overlap x (x is read while y is written).
 * Reentrant: many threads may call it at once on one network. Scratch
 * memory is allocated per call, except that the network keeps blocks
 * (one per concurrent call or pool thread) for later calls to reuse.
 * Cost: x is read in place when it is time-major and the lengths are NULL
 * or already in decreasing order; otherwise it is first copied into
 * scratch (T*N*I floats) with the rows sorted by length. Rows that have
 * ended cost nothing but their state copy.
 */
rnnk_status rnnk_rnn_forward(const rnnk_rnn *rnn, int T, int N, const float *x,
                             const int *lengths, const float *h0, const float *c0, float *y,
                             float *hT, float *cT);

/** Features per step of y: D*S_out (concat) or S_out. */
int rnnk_rnn_output_size(const rnnk_rnn *rnn);

/** Streaming state for @p N rows of a unidirectional network; starts at zero. */
typedef struct rnnk_state rnnk_state;

/** Create a state of N rows for @p rnn (which must be forward or reverse
 *  with one direction; reverse networks step in the order given). */
rnnk_status rnnk_state_create(const rnnk_rnn *rnn, int N, rnnk_state **out);

/** Advance every row one step: x_t [N][I] -> y_t [N][S_out] (y_t may be NULL). */
rnnk_status rnnk_rnn_step(const rnnk_rnn *rnn, rnnk_state *st, const float *x_t, float *y_t);

/** Zero the state of one row, or of all rows with row = -1. */
rnnk_status rnnk_state_reset(rnnk_state *st, int row);

/** Set the state: h [L][N][S], c [L][N][H] (LSTM; NULL leaves c). */
rnnk_status rnnk_state_set(rnnk_state *st, const float *h, const float *c);

/** Set one row's state: h [L][S], c [L][H] (c may be NULL). */
rnnk_status rnnk_state_set_row(rnnk_state *st, int row, const float *h, const float *c);

/** Read the state into h [L][N][S] and c [L][N][H] (either may be NULL). */
rnnk_status rnnk_state_get(const rnnk_state *st, float *h, float *c);

/** Free a state (NULL is fine). */
void rnnk_state_destroy(rnnk_state *st);

/* ------------------------------------------------------------------ */
/* Threads                                                             */
/* ------------------------------------------------------------------ */

/** Pinning policies for pool workers. */
typedef enum rnnk_pin {
  RNNK_PIN_NONE = 0,
  RNNK_PIN_COMPACT, /**< fill cores in order */
  RNNK_PIN_SCATTER, /**< spread over packages / NUMA nodes first */
} rnnk_pin;

typedef struct rnnk_pool rnnk_pool;

/** Create a pool of @p threads workers (0 = one per allowed core; more than
 *  the allowed CPUs only when asked explicitly). If pinning fails the pool
 *  still works, unpinned. The calling thread counts as worker 0. */
rnnk_status rnnk_pool_create(int threads, rnnk_pin pin, rnnk_pool **out);

/** Number of threads (including the caller). */
int rnnk_pool_size(const rnnk_pool *pool);

/** True if every worker is bound to its CPU. */
bool rnnk_pool_pinned(const rnnk_pool *pool);

/** Free a pool (NULL is fine). No call may be using it. */
void rnnk_pool_destroy(rnnk_pool *pool);

/** Text account of the machine as hwloc sees it (packages, NUMA nodes,
 *  cores, PUs, caches, the CPUs this process may use) and where a default
 *  pool (threads = 0, RNNK_PIN_COMPACT) would place its workers.
 *  Truncated to @p len bytes, always NUL-terminated. */
rnnk_status rnnk_topology_report(char *buf, size_t len);

/** Attach a pool (NULL detaches): forward and step may then spread a call
 *  over it. Each call decides from the tune cache entry for its batch and
 *  the pool's size, else by default: a batch of at least 4 rows a thread
 *  whose W_hh fits two L2 caches is split by rows (each thread runs its
 *  rows through every layer); otherwise one sequence's hidden units are
 *  split when every thread gets two panels and each phase of a step about
 *  2 us of one core's work (smaller steps run on the caller's thread: a
 *  barrier per step would cost more than it saves). Results are the same
 *  bits either way. The pool must outlive the attachment. The network
 *  keeps a scratch block per pool thread between calls; RNNK_ENOMEM (and
 *  nothing changed) if there is no memory for that many slots. */
rnnk_status rnnk_rnn_set_pool(rnnk_rnn *rnn, rnnk_pool *pool);

/** One independent sequence for rnnk_rnn_forward_many(). */
typedef struct rnnk_sequence {
  int T;
  const float *x; /**< [T][I] */
  float *y;       /**< [T][D*S_out] or [T][S_out]; may be NULL */
  const float *h0, *c0;
  float *hT, *cT;     /**< [L*D][S], [L*D][H]; any may be NULL */
  rnnk_status status; /**< set per sequence */
} rnnk_sequence;

/** Run @p count independent sequences, spread over @p pool (NULL = the
 *  calling thread), longest first. Sequences run in small batches, so that
 *  a batch's rows share each read of the weights: each worker takes groups
 *  of up to 4 sequences (8 where W_hh overflows a core's L2); where W_hh
 *  overflows L2 and there are at most 8 sequences a thread, they run
 *  instead as one batch split over the whole pool by hidden units (where
 *  a step holds enough work). A single sequence is split over the pool as
 *  rnnk_rnn_forward would split it. Batching copies each sequence's x, y
 *  and states once, into buffers of at most about 64 MiB per batch (one
 *  batch per worker at a time; fewer sequences per batch where they are
 *  long). Returns the first failing status; each sequence's own status
 *  is set. Results are bitwise those of forward on each sequence alone. */
rnnk_status rnnk_rnn_forward_many(const rnnk_rnn *rnn, rnnk_pool *pool, int count,
                                  rnnk_sequence *seqs);

/* ------------------------------------------------------------------ */
/* Tuning                                                              */
/* ------------------------------------------------------------------ */

/** What rnnk_tune() chose, if the caller asks (rnnk_tune_options.result). */
typedef struct rnnk_tune_result {
  double ms_default; /**< ms of the built-in default tiles (median over passes) */
  double ms_tuned;   /**< ms_default times the winner's median ratio to it in the back-to-back
                          pairs (= ms_default if the default stays) */
  rnnk_isa isa;      /**< the winner's ISA */
  int unit;          /**< hidden units per panel */
  bool split;        /**< the call split over threads (threads > 1) */
  int time_chunk;    /**< steps per input GEMM (0 = automatic) */
  int k_block;       /**< KiB of weights per k-chunk of a batch's step (0 = the kernels' default) */
  int candidates;    /**< candidates timed */
  bool split_rows;   /**< split by the batch's rows (each thread runs its rows through every
                          layer); else, if split, by one sequence's hidden units */
} rnnk_tune_result;

/** Options of rnnk_tune(). Zero-initialise for defaults. */
typedef struct rnnk_tune_options {
  double time_limit_s; /**< budget for this call; 0 = 10 s */
  int repeats;         /**< timed runs per candidate (median); 0 = 7 */
  /** Called after each candidate; the library itself never prints. */
  void (*progress)(void *user, int done, int total, const char *what);
  void *user;
  rnnk_tune_result *result; /**< if not NULL, receives the outcome */
} rnnk_tune_options;

/** Time candidate tiles for this shape on this machine and remember the
 *  winner in the in-memory cache (rnnk_tune_save() writes it). The winner
 *  is the default tiles unless a candidate, timed in 3 passes that each
 *  open and close with the default, runs below 0.98 of the default of its
 *  own pass in the median over passes, and then again in the median of 3
 *  pairs (default, winner) timed back to back (smaller wins are noise on a
 *  shared machine). Runs for up to opt->time_limit_s on the calling thread
 *  (pinned for the run, its affinity restored afterwards; the 3 pairs run
 *  past the limit), plus a pool of @p threads when > 1.
 *  Never called by the library itself. */
rnnk_status rnnk_tune(const rnnk_config *cfg, int batch, int threads,
                      const rnnk_tune_options *opt);

/** Load a tune cache file (NULL = default path, with the system file
 *  beneath). All-or-nothing: EFORMAT/ESTALE leave the cache unchanged. */
rnnk_status rnnk_tune_load(const char *path);

/** Merge the in-memory cache into a file (NULL = default path) under a
 *  lock, atomically (temp file, fsync, rename). */
rnnk_status rnnk_tune_save(const char *path);

/** Text account of the tune cache: path, state, entries, why ignored. */
rnnk_status rnnk_tune_report(char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif /* RNNK_H */
