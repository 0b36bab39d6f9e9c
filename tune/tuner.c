/* rnnk_tune(): time candidate tiles for one shape on this machine and keep
 * the winner in the tune cache (memory; rnnk_tune_save writes the file).
 *
 * Candidates: every ISA this host can run that is not slower by design
 * (AVX-512 and AVX2 both, to catch frequency effects), each with panels of
 * one, two (and four) vectors (U), with threads > 1 no split, the per-step
 * hidden-unit split and (batches of 2 rows a thread) the row split, and
 * with batch > 1 the input GEMM over a chunk of steps
 * or over all of them; and when a batch's W_hh overflows half the L2, so
 * that the step may run k in chunks, the default tiles with chunks of 8
 * and 16 KiB (k_block) besides the kernels' 24. Each candidate runs a
 * synthetic sequence (T = 50, random weights) once to warm up, then
 * `repeats` times (its median), in 3 passes that each start and end with
 * the default tiles; a candidate wins only if its median ratio to the
 * default of the same pass is below 0.98, over at least 2 passes (a time
 * limit can leave later passes unfinished). The
 * measuring thread is pinned (hwloc) when it can be. Every candidate gives
 * the same bits (DESIGN.md), so the choice never changes results; the tests
 * check that. */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "src/internal.h"
#include "threads/pool.h"
#include "tune/cache.h"

#define TUNE_T 50
#define TUNE_ROUNDS 3
#define TUNE_MAX_CAND (2 * (4 * 3 * 2 + 2)) /* ISAs x (panel widths x splits x time chunk + k-chunk sizes) */
/* A candidate replaces the default tiles only if the median over passes of
 * its time over the default's is below 1 - TUNE_MARGIN: on this shared VM
 * the best of 3 medians let 3-6% noise wins through (32-unit GRU panels,
 * 1.000 in interleaved A/B rounds; 32-unit LSTM panels won by 3% and then
 * ran 13% slower in the table that followed). */
#define TUNE_MARGIN 0.02
/* A winner of the passes must then win again over the default in this many
 * pairs of timings back to back, by the same margin, or the default stays:
 * a slow spell over the default's timings in two of three passes let a
 * noise win through (the README quick start's tune on the Zen 5 VM: LSTM
 * N=64 H=256 k-chunks of 8 KiB "1.18x", level in interleaved benchmark
 * rounds, 15.2 against 15.1 ms). */
#define TUNE_CONFIRM 3

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Synthetic data for one shape, shared by all candidates. */
typedef struct tune_data {
  float *w_ih, *w_hh, *b, *peep, *w_out, *x, *y;
  int T, N;
} tune_data;

static float lcg(uint64_t *s) {
  *s = *s * 6364136223846793005ull + 1442695040888963407ull;
  return (float)(*s >> 40) / (float)(1u << 24) - 0.5f;
}

static void data_free(tune_data *d) {
  free(d->w_ih), free(d->w_hh), free(d->b), free(d->peep), free(d->w_out), free(d->x), free(d->y);
}

static rnnk_status data_make(const rnnk_config *c, int N, tune_data *d) {
  memset(d, 0, sizeof *d);
  const size_t G = (size_t)rnnk_cell_gates(c->cell), H = (size_t)c->hidden_size, S = (size_t)rnnk_state_size(c);
  const size_t D = c->direction >= RNNK_BIDIR_CONCAT ? 2 : 1;
  size_t K = (size_t)c->input_size > D * S ? (size_t)c->input_size : D * S;
  size_t So = S == H ? 1 : S;
  d->T = TUNE_T, d->N = N;
  d->w_ih = malloc(G * H * K * sizeof(float));
  d->w_hh = malloc(G * H * S * sizeof(float));
  d->b = malloc(2 * G * H * sizeof(float));
  d->peep = malloc(3 * H * sizeof(float));
  d->w_out = malloc(So * H * sizeof(float));
  d->x = malloc((size_t)TUNE_T * (size_t)N * (size_t)c->input_size * sizeof(float));
  d->y = malloc((size_t)TUNE_T * (size_t)N * D * S * sizeof(float));
  if (!d->w_ih || !d->w_hh || !d->b || !d->peep || !d->w_out || !d->x || !d->y) {
    data_free(d);
    return rnnk_fail(RNNK_ENOMEM, "out of memory for tuning data");
  }
  uint64_t s = 12345;
  const float scale = 1.0f / (float)(H > 1 ? H : 1);
  for (size_t i = 0; i < G * H * K; i++) d->w_ih[i] = lcg(&s) * scale;
  for (size_t i = 0; i < G * H * S; i++) d->w_hh[i] = lcg(&s) * scale;
  for (size_t i = 0; i < 2 * G * H; i++) d->b[i] = lcg(&s) * 0.1f;
  for (size_t i = 0; i < 3 * H; i++) d->peep[i] = lcg(&s) * 0.1f;
  for (size_t i = 0; i < So * H; i++) d->w_out[i] = lcg(&s) * scale;
  for (size_t i = 0; i < (size_t)TUNE_T * (size_t)N * (size_t)c->input_size; i++) d->x[i] = lcg(&s);
  return RNNK_OK;
}

/* A network of config @p c with tiles @p t, all layers set from @p d. */
static rnnk_status make_net(const rnnk_config *c, const rnnk_tiles *t, const tune_data *d, rnnk_rnn **out) {
  rnnk_rnn *rnn;
  rnnk_status s = rnnk_rnn_create_tiled(c, t, &rnn);
  if (s) return s;
  const size_t G = (size_t)rnn->G, H = (size_t)rnn->H;
  rnnk_weights w = {.w_ih = d->w_ih, .w_hh = d->w_hh, .b_ih = d->b, .b_hh = d->b + G * H,
                    .peephole = c->peephole ? d->peep : NULL, .w_proj = c->proj_size ? d->w_out : NULL,
                    .w_out = c->cell == RNNK_JORDAN ? d->w_out : NULL};
  for (int l = 0; l < c->num_layers && !s; l++)
    for (int dir = 0; dir < rnn->D && !s; dir++) s = rnnk_rnn_set_weights(rnn, l, dir, RNNK_LAYOUT_PYTORCH, &w);
  if (s) {
    rnnk_rnn_destroy(rnn);
    return s;
  }
  *out = rnn;
  return RNNK_OK;
}

/* Median ms of @p repeats forward calls after one warm-up call. */
static rnnk_status time_net(rnnk_rnn *rnn, const tune_data *d, int repeats, double *ms) {
  double *t = malloc((size_t)repeats * sizeof(double));
  if (!t) return rnnk_fail(RNNK_ENOMEM, "out of memory");
  rnnk_status s = rnnk_rnn_forward(rnn, d->T, d->N, d->x, NULL, NULL, NULL, d->y, NULL, NULL);
  for (int r = 0; r < repeats && !s; r++) {
    const double t0 = now_ms();
    s = rnnk_rnn_forward(rnn, d->T, d->N, d->x, NULL, NULL, NULL, d->y, NULL, NULL);
    t[r] = now_ms() - t0;
  }
  if (!s) {
    qsort(t, (size_t)repeats, sizeof(double), cmp_double);
    *ms = t[repeats / 2];
  }
  free(t);
  return s;
}

typedef struct candidate {
  rnnk_isa isa;
  rnnk_tiles tiles;
} candidate;

static int vector_width(rnnk_isa isa) {
  return isa == RNNK_ISA_AVX512 ? 16 : isa == RNNK_ISA_AVX2 ? 8 : isa == RNNK_ISA_NEON ? 4 : 8;
}

/* Median of v[0..n), n >= 1 (sorts v); of an even count the upper middle,
 * which leans toward keeping the default. */
static double median_up(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return v[n / 2];
}

int rnnk_tune_pick(const double *ms, int rounds, int n, int stride, double margin, double *ratio, double *ms_default) {
  double ref[64], q[64];
  int nr = 0;
  for (int r = 0; r < rounds && r < 64; r++) { /* the default of each pass: mean of opening and closing */
    const double *m = ms + (size_t)r * (size_t)stride;
    if (m[0] > 0) ref[nr++] = m[n] > 0 ? (m[0] + m[n]) / 2 : m[0];
    else ref[nr++] = 0;
  }
  int best = 0;
  double best_q = 1;
  for (int i = 1; i < n; i++) {
    int k = 0;
    for (int r = 0; r < nr; r++)
      if (ref[r] > 0 && ms[(size_t)r * (size_t)stride + (size_t)i] > 0)
        q[k++] = ms[(size_t)r * (size_t)stride + (size_t)i] / ref[r];
    if (k < (nr < 2 ? nr : 2)) continue; /* one pass is no evidence when there were more */
    const double qi = median_up(q, k);
    if (qi < 1 - margin && qi < best_q) best = i, best_q = qi;
  }
  int k = 0;
  for (int r = 0; r < nr; r++)
    if (ref[r] > 0) q[k++] = ref[r];
  *ms_default = k ? median_up(q, k) : 0;
  *ratio = best_q;
  return best;
}

bool rnnk_tune_confirmed(const double *pairs, int n, double margin, double *ratio) {
  double q[64];
  int k = 0;
  for (int i = 0; i < n && k < 64; i++)
    if (pairs[2 * i] > 0 && pairs[2 * i + 1] > 0) q[k++] = pairs[2 * i + 1] / pairs[2 * i];
  *ratio = k ? median_up(q, k) : 1;
  return k > 0 && *ratio < 1 - margin;
}

/* Times the default (cand[0]) and the winner (cand[w]) TUNE_CONFIRM times
 * each, alternating; *confirmed and *ratio as rnnk_tune_confirmed says. */
static rnnk_status confirm_winner(const rnnk_config *c, const candidate *cand, int w, const tune_data *d,
                                  rnnk_pool *pool, int repeats, bool *confirmed, double *ratio) {
  rnnk_rnn *net[2] = {NULL, NULL};
  double pairs[2 * TUNE_CONFIRM] = {0};
  rnnk_status s = RNNK_OK;
  for (int j = 0; j < 2 && !s; j++) {
    rnnk_config cj = *c;
    cj.isa = cand[j ? w : 0].isa;
    s = make_net(&cj, &cand[j ? w : 0].tiles, d, &net[j]);
    if (!s && pool) s = rnnk_rnn_set_pool(net[j], pool);
  }
  for (int i = 0; i < 2 * TUNE_CONFIRM && !s; i++) s = time_net(net[i % 2], d, repeats, &pairs[i]);
  rnnk_rnn_destroy(net[0]);
  rnnk_rnn_destroy(net[1]);
  *confirmed = !s && rnnk_tune_confirmed(pairs, TUNE_CONFIRM, TUNE_MARGIN, ratio);
  return s;
}

RNNK_API rnnk_status rnnk_tune(const rnnk_config *cfg, int batch, int threads, const rnnk_tune_options *opt) {
  rnnk_clear_error();
  rnnk_config c;
  rnnk_status s = rnnk_config_resolve(cfg, &c);
  if (s) return s;
  if (batch < 1 || batch > 4096) return rnnk_fail(RNNK_EINVAL, "batch = %d: must be in 1..4096", batch);
  c.batch_hint = batch; /* the defaults (the baseline) are those a network created for this batch gets */
  if (threads < 1 || threads > 1024) return rnnk_fail(RNNK_EINVAL, "threads = %d: must be in 1..1024", threads);
  const double limit = opt && opt->time_limit_s > 0 ? opt->time_limit_s * 1e3 : 10e3;
  const int repeats = opt && opt->repeats > 0 ? opt->repeats : 7;
  if (repeats > 1000) return rnnk_fail(RNNK_EINVAL, "opt->repeats = %d: at most 1000", repeats);
  const bool auto_isa = !cfg->isa; /* the caller lets rnnk pick: AVX2 may beat AVX-512 here */

  /* Candidates: default tiles of the default ISA first (the baseline). */
  candidate cand[TUNE_MAX_CAND];
  int nc = 0;
  const rnnk_isa isas[] = {c.isa, RNNK_ISA_AVX2};
  for (int i = 0; i < (auto_isa && c.isa == RNNK_ISA_AVX512 ? 2 : 1); i++) {
    const int vw = vector_width(isas[i]);
    for (int uv = 1; uv <= rnnk_max_unit_vectors(&c); uv *= 2)
      for (int split = threads > 1 ? RNNK_SPLIT_NONE : RNNK_SPLIT_UNITS;
           split <= (threads > 1 && batch >= 2 * threads ? RNNK_SPLIT_ROWS : RNNK_SPLIT_UNITS); split++)
        for (int tc = 0; tc <= (batch > 1 ? TUNE_T : 0); tc += TUNE_T) { /* auto, or all steps in one GEMM */
          rnnk_tiles t;
          rnnk_tiles_default(isas[i], &c, &t);
          t.unit = uv * vw;
          t.split = split;
          t.time_chunk = tc;
          cand[nc++] = (candidate){isas[i], t};
        }
    rnnk_tiles def_i;
    rnnk_tiles_default(isas[i], &c, &def_i);
    /* k-chunk sizes, where a batch's step runs k in chunks on this host
     * (one thread's W_hh over half the L2) */
    if (batch > 1 && rnnk_overflows_l2(rnnk_w_hh_bytes(&c, def_i.unit)))
      for (int kib = 8; kib <= 16; kib *= 2) {
        rnnk_tiles t = def_i;
        if (threads > 1) t.split = rnnk_split_choose(&c, t.unit, batch, threads);
        t.k_block = kib;
        cand[nc++] = (candidate){isas[i], t};
      }
  }
  { /* put the default tiles of the default ISA in front */
    rnnk_tiles def;
    rnnk_tiles_default(c.isa, &c, &def);
    if (threads > 1) def.split = rnnk_split_choose(&c, def.unit, batch, threads); /* what an untuned network does */
    for (int i = 0; i < nc; i++)
      if (cand[i].isa == c.isa && cand[i].tiles.unit == def.unit && cand[i].tiles.split == def.split &&
          cand[i].tiles.time_chunk == 0 && cand[i].tiles.k_block == 0) {
        const candidate t = cand[0];
        cand[0] = cand[i], cand[i] = t;
        break;
      }
  }

  tune_data d;
  if ((s = data_make(&c, batch, &d))) return s;
  rnnk_pool *pool = NULL;
  if (threads > 1 && (s = rnnk_pool_create(threads, RNNK_PIN_COMPACT, &pool))) {
    data_free(&d);
    return s;
  }
  /* Pin the measuring thread for the run (best effort), then give the
   * caller's thread its own affinity back. */
  cpu_set_t saved;
  const bool have_saved = pthread_getaffinity_np(pthread_self(), sizeof saved, &saved) == 0;
  rnnk_pin_current_thread(0);

  /* ROUNDS passes over the candidates, each pass opened and closed by the
   * default tiles, so that every candidate is compared with the default
   * measured in the same pass, seconds apart, not minutes; a slow or
   * fast spell of a shared machine then shifts one pass's ratios at most,
   * and the median over passes ignores it. ms_at[r][nc] is the closing
   * default; 0 = not measured (time limit). */
  const double start = now_ms();
  const int per_round = nc + 1;
  double ms_at[TUNE_ROUNDS][TUNE_MAX_CAND + 1] = {{0}};
  int done = 0;
  for (int r = 0; r < TUNE_ROUNDS && !s; r++) {
    for (int j = 0; j < per_round && !s; j++) {
      if (r > 0 && now_ms() - start > limit) break; /* one full round always runs */
      const candidate *cj = &cand[j == nc ? 0 : j];
      rnnk_config ci = c;
      ci.isa = cj->isa;
      rnnk_rnn *rnn;
      s = make_net(&ci, &cj->tiles, &d, &rnn);
      if (!s) {
        if (pool) rnnk_rnn_set_pool(rnn, pool);
        s = time_net(rnn, &d, repeats, &ms_at[r][j]);
        rnnk_rnn_destroy(rnn);
      }
      if (s) break;
      if (opt && opt->progress) {
        char what[112];
        snprintf(what, sizeof what, "%s unit=%d split=%d chunk=%d k_block=%d: %.3f ms%s", rnnk_isa_name(cj->isa),
                 cj->tiles.unit, cj->tiles.split, cj->tiles.time_chunk, cj->tiles.k_block, ms_at[r][j],
                 j == 0 || j == nc ? " (default)" : "");
        opt->progress(opt->user, ++done, TUNE_ROUNDS * per_round, what);
      }
    }
  }
  if (!s && opt && opt->progress && done < TUNE_ROUNDS * per_round) /* cut short by the time limit */
    opt->progress(opt->user, TUNE_ROUNDS * per_round, TUNE_ROUNDS * per_round, "time limit reached");
  double ratio = 1, baseline = 0;
  int best_i = s ? 0 : rnnk_tune_pick(&ms_at[0][0], TUNE_ROUNDS, nc, TUNE_MAX_CAND + 1, TUNE_MARGIN, &ratio, &baseline);
  if (best_i) {
    bool confirmed = false;
    s = confirm_winner(&c, cand, best_i, &d, pool, repeats, &confirmed, &ratio);
    if (!s && opt && opt->progress) {
      char what[112];
      snprintf(what, sizeof what, "%s unit=%d split=%d chunk=%d k_block=%d: %.3fx the default back to back, %s",
               rnnk_isa_name(cand[best_i].isa), cand[best_i].tiles.unit, cand[best_i].tiles.split,
               cand[best_i].tiles.time_chunk, cand[best_i].tiles.k_block, ratio, confirmed ? "kept" : "not kept");
      opt->progress(opt->user, TUNE_ROUNDS * per_round, TUNE_ROUNDS * per_round, what);
    }
    if (!confirmed) best_i = 0, ratio = 1;
  }
  const double best = baseline * ratio;
  if (have_saved) pthread_setaffinity_np(pthread_self(), sizeof saved, &saved);
  rnnk_pool_destroy(pool);
  data_free(&d);
  if (s) return s;

  /* Remember the winner under the key of the ISA the network would get. */
  const rnnk_tiles *w = &cand[best_i].tiles;
  rnnk_tune_value v = {.unit = w->unit, .time_chunk = w->time_chunk, .k_block = w->k_block, .split = w->split, .ms = best,
                       .ms_default = baseline, .isa = cand[best_i].isa == c.isa ? 0 : (int)cand[best_i].isa};
  rnnk_tune_key k = rnnk_tiles_key(c.isa, &c, batch, threads);
  if (opt && opt->result)
    *opt->result = (rnnk_tune_result){.ms_default = baseline, .ms_tuned = best, .isa = cand[best_i].isa,
                                      .unit = w->unit, .split = w->split && threads > 1,
                                      .split_rows = w->split == RNNK_SPLIT_ROWS && threads > 1,
                                      .time_chunk = w->time_chunk, .k_block = w->k_block, .candidates = nc};
  return rnnk_tune_cache_put(&k, &v);
}
