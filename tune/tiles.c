/* Tile parameters: built-in defaults per ISA, kept as data (BLIS-style), and
 * the per-network choice (defaults, overridden by the tune cache).
 *
 * Only `unit` shapes the packed weights; it is fixed when the network is
 * created. Units are 1, 2, 4 or 8 vector widths (rnnk_max_unit_vectors).
 * The defaults: one vector per gate-row for LSTM and GRU (their 3-4 gates
 * already give a single row enough independent fma chains); four for the
 * one-gate Elman and Jordan cells, measured 2x faster than one at N = 1.
 * Except AVX2 for a single sequence (config batch_hint <= 1), where a 1-row
 * tile of the batch panels has fewer accumulators than FMA latency x ports
 * (8 on this core): LSTM and GRU take 16-unit panels (8-unit ones have 3-4
 * accumulators; N = 1 sequences GRU H=256 0.71, LSTM H=128 0.82, H=256
 * 0.98, L3-bound H=512 1.02, but batches 17% slower), Elman and Jordan
 * 64-unit ones (32-unit ones have 4; Elman N = 1 H=128 0.82, H=256 0.89,
 * H=512 0.91, H=1024 0.98; batches 1-3% slower). AVX-512's 4-accumulator
 * Elman tiles load twice the bytes per FMA and already run at L2 speed. */
#include "src/internal.h"
#include "tune/cache.h"

typedef struct tile_defaults {
  rnnk_isa isa;
  int unit_lstm, unit_gru, unit_elman; /* U per cell family */
  int single_gates, single_elman;      /* LSTM and GRU, Elman and Jordan, when batch_hint <= 1 (0: as above) */
  int unit_out;                        /* projection / Jordan output panels */
} tile_defaults;

static const tile_defaults defaults[] = {
    /*                              single
     * isa              lstm gru elman  gates elman out */
    {RNNK_ISA_SCALAR,   8,   8,  8,     0,    0,    8},
    {RNNK_ISA_AVX2,     8,   8,  32,    16,   64,   8},
    {RNNK_ISA_AVX512,   16,  16, 64,    0,    0,    16},
    {RNNK_ISA_NEON,     8,   8,  16,    0,    0,    4},
};

void rnnk_tiles_default(rnnk_isa isa, const rnnk_config *cfg, rnnk_tiles *t) {
  const tile_defaults *d = &defaults[0];
  for (size_t i = 0; i < sizeof defaults / sizeof *defaults; i++)
    if (defaults[i].isa == isa) d = &defaults[i];
  t->unit = cfg->cell == RNNK_LSTM ? d->unit_lstm : cfg->cell == RNNK_GRU ? d->unit_gru : d->unit_elman;
  if (cfg->batch_hint <= 1) {
    const bool gates = cfg->cell == RNNK_LSTM || cfg->cell == RNNK_GRU;
    const int single = gates ? d->single_gates : d->single_elman;
    if (single) t->unit = single;
  }
  t->unit_out = d->unit_out;
  t->time_chunk = 0;
  t->split = 1;
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
  t->split = v.split;
}
