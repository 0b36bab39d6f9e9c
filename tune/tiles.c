/* Tile parameters: built-in defaults per ISA, kept as data (BLIS-style), and
 * the per-network choice (defaults, overridden by the tune cache).
 *
 * Only `unit` shapes the packed weights; it is fixed when the network is
 * created. Units are 1, 2, 4 or 8 vector widths (rnnk_max_unit_vectors).
 * What the defaults balance: a register tile row holds every gate vector of
 * its units, and wants at least FMA latency x ports independent chains (8
 * on this Xeon) without crowding out rows (each row's k-step reloads the
 * weights once per tile, not per row). Measured in interleaved rounds,
 * new / old, T = 50, I = H:
 * - LSTM and GRU (linear before reset): one vector per gate (3-4 chains a
 *   row, and tiles of many rows). Except AVX2 for one sequence (batch_hint
 *   <= 1), whose 1-row tiles need 2 vectors: N = 1 GRU H=256 0.71, LSTM
 *   H=128 0.82, H=256 0.98 (L3-bound H=512 1.02); batches 17% slower.
 * - GRU with the reset before the product runs two kernels, r,z (2 gates)
 *   and n (1 gate), so one vector per gate left the n kernel 1 chain per
 *   row. AVX2 takes 2 vectors (N = 1 H=256 0.58, N = 8 0.77, N = 64 0.76
 *   against 1), AVX-512 2 for batches (N = 8 0.93, N = 64 0.87 against 1)
 *   and 4 for one sequence (H=128 and 256: 0.67-0.71 against 1, 0.92
 *   against 2; L3-bound H=512 and 1024 1.00).
 * - Elman and Jordan (one gate): four vectors (N = 1: 2x faster than one).
 *   Except AVX2: 8 for one sequence (N = 1 H=128 0.82, H=256 0.89, H=512
 *   0.91, H=1024 0.98; batches 1-3% slower), and 2 for batches, whose
 *   tiles then hold 6 rows with the weights in registers instead of 3 rows
 *   that read the weights from L1 in every FMA (Zen 4, against 4 vectors:
 *   N = 8 H=128 0.66, H=256 0.64, H=512 0.86, H=1024 0.86; N = 64 0.65,
 *   0.62, 0.90, 0.96). AVX-512's 4-vector Elman tiles already load twice
 *   the bytes per FMA and run at L2 speed (8: 1.00).
 * NEON has the AVX-512 register count but is not measured here: it keeps
 * one vector per gate and four for Elman. */
#include "src/internal.h"
#include "tune/cache.h"

/* Cell kinds with their own panel defaults. */
enum { LSTM, GRU, GRU_RZ, ELMAN, KINDS };

typedef struct tile_defaults {
  rnnk_isa isa;
  int batch[KINDS];  /* U when batch_hint > 1 */
  int single[KINDS]; /* U for one sequence (batch_hint <= 1) */
  int unit_out;      /* projection / Jordan output panels */
} tile_defaults;

static const tile_defaults defaults[] = {
    /* isa               batch: lstm gru rz elman  single: lstm gru rz elman  out */
    {RNNK_ISA_SCALAR,  {8, 8, 8, 8},     {8, 8, 8, 8},       8},
    {RNNK_ISA_AVX2,    {8, 8, 16, 16},   {16, 16, 16, 64},   8},
    {RNNK_ISA_AVX512,  {16, 16, 32, 64}, {16, 16, 64, 64},   16},
    {RNNK_ISA_NEON,    {8, 8, 8, 16},    {8, 8, 8, 16},      4},
};

void rnnk_tiles_default(rnnk_isa isa, const rnnk_config *cfg, rnnk_tiles *t) {
  const tile_defaults *d = &defaults[0];
  for (size_t i = 0; i < sizeof defaults / sizeof *defaults; i++)
    if (defaults[i].isa == isa) d = &defaults[i];
  const int kind = cfg->cell == RNNK_LSTM ? LSTM
                   : cfg->cell == RNNK_GRU ? (cfg->linear_before_reset ? GRU : GRU_RZ)
                                           : ELMAN;
  t->unit = cfg->batch_hint <= 1 ? d->single[kind] : d->batch[kind];
  t->unit_out = d->unit_out;
  t->time_chunk = 0;
  t->split = 1;
  t->k_block = 0;
}

int rnnk_max_unit_vectors(const rnnk_config *cfg) {
  if (cfg->cell == RNNK_LSTM || (cfg->cell == RNNK_GRU && cfg->linear_before_reset)) return 2;
  return cfg->cell == RNNK_GRU ? 4 : 8;
}

bool rnnk_unit_valid(int u, int vw, int max_uv) {
  if (vw <= 1) return u >= 1 && u <= 64;
  for (int uv = 1; uv <= max_uv; uv *= 2)
    if (u == uv * vw) return true;
  return false;
}

/* The vector width of an ISA: units must be a few of them. */
static int vector_width(rnnk_isa isa) {
  switch (isa) {
  case RNNK_ISA_AVX2: return 8;
  case RNNK_ISA_AVX512: return 16;
  case RNNK_ISA_NEON: return 4;
  default: return 0; /* scalar: any unit */
  }
}

rnnk_tune_key rnnk_tiles_key(rnnk_isa isa, const rnnk_config *cfg, int batch, int threads) {
  rnnk_tune_key k = {.isa = (int)isa, .cell = (int)cfg->cell, .dtype = (int)cfg->weight_type,
                     .hidden = cfg->hidden_size, .input_bucket = rnnk_tune_bucket(cfg->input_size),
                     .batch_bucket = rnnk_tune_bucket(batch), .threads = threads,
                     .variant = (cfg->cell == RNNK_GRU && cfg->linear_before_reset) | (cfg->proj_size ? 2 : 0)};
  return k;
}

void rnnk_tiles_choose(rnnk_isa isa, const rnnk_config *cfg, rnnk_tiles *t) {
  rnnk_tiles_default(isa, cfg, t);
  /* The packed layout is chosen per (ISA, cell, H, I): look the shape up
   * for the batch the caller expects (else batch 1), one thread. */
  const int batch = cfg->batch_hint > 1 ? cfg->batch_hint : 1;
  rnnk_tune_key k = rnnk_tiles_key(isa, cfg, batch, 1);
  rnnk_tune_value v;
  if (rnnk_tune_cache_lookup(&k, &v) != RNNK_OK) {
    if (batch == 1) return;
    k = rnnk_tiles_key(isa, cfg, 1, 1);
    if (rnnk_tune_cache_lookup(&k, &v) != RNNK_OK) return;
  }
  if (rnnk_unit_valid(v.unit, vector_width(isa), rnnk_max_unit_vectors(cfg))) t->unit = v.unit;
  if (v.time_chunk > 0) t->time_chunk = v.time_chunk;
  if (v.k_block > 0) t->k_block = v.k_block;
  t->split = v.split;
}

/* The default split of one sequence over a pool: besides two panels for
 * every thread, each phase of a step must hold about 2 us of one core's
 * work, counted at 200 GFLOP/s for its products (recurrent and input, N
 * rows) or at 100 GB/s for reading its W_hh, whichever is longer. GRU with
 * the reset before the product runs two phases a step, r,z and then n,
 * each ended by a barrier; the n phase, a third of the gates, counts. A
 * split step pays the barrier (0.2 us on a 2-core Zen 5 VM) plus each
 * thread reading the others' slices of h and waiting for the slower one.
 * Measured there, 2 threads over 1 (T = 50, I = H, blocks of 8 calls of
 * each, the last 6 timed, 25 blocks; the old rule split at two panels a
 * thread): no longer split: LSTM H=64 N=1 1.74, N=4 1.28; GRU (linear
 * before reset) H=64 N=1 1.91, N=4 1.37, N=8 1.00, H=128 N=1 1.01; GRU
 * H=128 N=4 1.19. Still split: LSTM H=64 N=8 0.93, H=128 N=1 0.91; Elman
 * H=256 N=1 0.91, N=4 0.78; GRU (lbr) H=128 N=4 0.84; GRU H=256 N=1
 * 0.76, H=128 N=8 1.01. The tune cache decides per shape where it has an
 * entry. */
/* Gate rows of a layer padded to panels of `unit`. */
static double gate_rows(const rnnk_config *cfg, int unit) {
  return (double)rnnk_cell_gates(cfg->cell) * ((cfg->hidden_size + unit - 1) / unit * unit);
}

bool rnnk_split_default(const rnnk_config *cfg, int unit, int N, int threads) {
  if (threads < 2 || unit < 1) return false;
  if ((cfg->hidden_size + unit - 1) / unit < 2 * threads) return false; /* two panels a thread */
  const double rows = gate_rows(cfg, unit), S = rnnk_state_size(cfg);
  const double phase = cfg->cell == RNNK_GRU && !cfg->linear_before_reset ? 1.0 / 3 : 1; /* share of the smallest */
  const double flops = 2 * rows * (S + cfg->input_size) * N, bytes = 4 * rows * S;
  const double ns = (flops / 200 > bytes / 100 ? flops / 200 : bytes / 100) * phase;
  return ns >= 2000;
}

/* The default row split of a batch: each thread runs its own rows through
 * every layer, with no barrier per step, when every thread gets at least 4
 * rows and W_hh fits two L2s (each thread reads all of it every step; a
 * larger one is better cut by units, each core's slice in its own L2).
 * Zen 5 VM, 2 threads over 1 (T = 50, I = H, blocks of 8 calls), rows
 * against units: LSTM N=8 H=128 0.57 / 0.76, H=256 0.53 / 0.59, N=64
 * H=128 0.53 / 0.67, H=256 0.53 / 0.58, H=512 0.52 / 0.52; GRU N=8 H=128
 * 0.58 / 0.99; Elman N=64 H=128 0.59 / 0.99 (2 panels: no unit split);
 * but LSTM N=8 H=1024 0.57 / 0.47, N=4 H=256 0.71 / 0.58. */
bool rnnk_split_rows_default(const rnnk_config *cfg, int unit, int N, int threads) {
  if (threads < 2 || N < 4 * threads || unit < 1) return false;
  return !rnnk_overflows_l2(rnnk_w_hh_bytes(cfg, unit) / 4); /* that tests against half the L2: W_hh <= 2 L2 */
}

int rnnk_split_choose(const rnnk_config *cfg, int unit, int N, int threads) {
  return rnnk_split_rows_default(cfg, unit, N, threads) ? RNNK_SPLIT_ROWS
         : rnnk_split_default(cfg, unit, N, threads)    ? RNNK_SPLIT_UNITS
                                                        : RNNK_SPLIT_NONE;
}
