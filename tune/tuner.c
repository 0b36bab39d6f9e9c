/* rnnk_tune(): time candidate tiles for one shape on this machine and keep
 * the winner in the tune cache (memory; rnnk_tune_save writes the file).
 *
 * Candidates: every ISA this host can run that is not slower by design
 * (AVX-512 and AVX2 both, to catch frequency effects), each with panels of
 * one, two (and four) vectors (U), with threads > 1 the per-step hidden-unit
 * split on and off, and with batch > 1 the input GEMM over a chunk of steps
 * or over all of them. Each candidate runs a synthetic sequence (T = 50, random
 * weights) once to warm up, then `repeats` times; the median decides. The
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
/* A candidate replaces the default tiles only if it is this much faster:
 * on a shared machine a 1-3% win of the best of 3 medians is as often noise
 * as not (a 32-unit panel "won" by 3% once and then ran 13% slower). */
#define TUNE_MARGIN 0.02

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
  const size_t G = c->cell == RNNK_LSTM ? 4 : c->cell == RNNK_GRU ? 3 : 1, H = (size_t)c->hidden_size;
  const size_t S = c->proj_size ? (size_t)c->proj_size : c->cell == RNNK_JORDAN ? (size_t)c->output_size : H;
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

int rnnk_tune_pick(const double *ms, int n, double margin) {
  int best = 0;
  for (int i = 1; i < n; i++)
    if (ms[i] < ms[best] && ms[i] < ms[0] * (1 - margin)) best = i;
  return best;
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
  candidate cand[2 * 4 * 2 * 2]; /* ISAs x panel widths (1..8 vectors) x split x time chunk */
  int nc = 0;
  const rnnk_isa isas[] = {c.isa, RNNK_ISA_AVX2};
  for (int i = 0; i < (auto_isa && c.isa == RNNK_ISA_AVX512 ? 2 : 1); i++) {
    const int vw = vector_width(isas[i]);
    for (int uv = 1; uv <= rnnk_max_unit_vectors(&c); uv *= 2)
      for (int split = threads > 1 ? 0 : 1; split <= 1; split++)
        for (int tc = 0; tc <= (batch > 1 ? TUNE_T : 0); tc += TUNE_T) { /* auto, or all steps in one GEMM */
          rnnk_tiles t;
          rnnk_tiles_default(isas[i], &c, &t);
          t.unit = uv * vw;
          t.split = split;
          t.time_chunk = tc;
          cand[nc++] = (candidate){isas[i], t};
        }
  }
  { /* put the default tiles of the default ISA in front */
    rnnk_tiles def;
    rnnk_tiles_default(c.isa, &c, &def);
    for (int i = 0; i < nc; i++)
      if (cand[i].isa == c.isa && cand[i].tiles.unit == def.unit && cand[i].tiles.split == def.split &&
          cand[i].tiles.time_chunk == 0) {
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

  /* ROUNDS passes over the candidates, interleaved so that a slow spell of
   * a shared machine hits every candidate alike; each keeps the best of its
   * per-round medians. */
  const double start = now_ms();
  double ms_of[32];
  int rounds_done = 0, done = 0;
  for (int r = 0; r < TUNE_ROUNDS && !s; r++) {
    for (int i = 0; i < nc && !s; i++) {
      if (r > 0 && now_ms() - start > limit) break; /* one full round always runs */
      rnnk_config ci = c;
      ci.isa = cand[i].isa;
      rnnk_rnn *rnn;
      double ms = 0;
      s = make_net(&ci, &cand[i].tiles, &d, &rnn);
      if (!s) {
        if (pool) rnnk_rnn_set_pool(rnn, pool);
        s = time_net(rnn, &d, repeats, &ms);
        rnnk_rnn_destroy(rnn);
      }
      if (s) break;
      ms_of[i] = r == 0 || ms < ms_of[i] ? ms : ms_of[i];
      if (opt && opt->progress) {
        char what[96];
        snprintf(what, sizeof what, "%s unit=%d split=%d chunk=%d: %.3f ms", rnnk_isa_name(cand[i].isa),
                 cand[i].tiles.unit, cand[i].tiles.split, cand[i].tiles.time_chunk, ms_of[i]);
        opt->progress(opt->user, ++done, TUNE_ROUNDS * nc, what);
      }
      if (i == nc - 1) rounds_done = r + 1;
    }
    if (rounds_done < r + 1) break; /* out of time inside this round */
  }
  if (!s && opt && opt->progress && done < TUNE_ROUNDS * nc) /* cut short by the time limit */
    opt->progress(opt->user, TUNE_ROUNDS * nc, TUNE_ROUNDS * nc, "time limit reached");
  const int best_i = s ? 0 : rnnk_tune_pick(ms_of, nc, TUNE_MARGIN);
  const double best = ms_of[best_i], baseline = ms_of[0];
  if (have_saved) pthread_setaffinity_np(pthread_self(), sizeof saved, &saved);
  rnnk_pool_destroy(pool);
  data_free(&d);
  if (s) return s;

  /* Remember the winner under the key of the ISA the network would get. */
  const rnnk_tiles *w = &cand[best_i].tiles;
  rnnk_tune_value v = {.unit = w->unit, .time_chunk = w->time_chunk, .split = w->split, .ms = best,
                       .ms_default = baseline, .isa = cand[best_i].isa == c.isa ? 0 : (int)cand[best_i].isa};
  rnnk_tune_key k = rnnk_tiles_key(c.isa, &c, batch, threads);
  if (opt && opt->result)
    *opt->result = (rnnk_tune_result){.ms_default = baseline, .ms_tuned = best, .isa = cand[best_i].isa,
                                      .unit = w->unit, .split = w->split && threads > 1,
                                      .time_chunk = w->time_chunk, .candidates = nc};
  return rnnk_tune_cache_put(&k, &v);
}
