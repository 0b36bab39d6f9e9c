/* Many independent sequences over a pool: each worker takes whole sequences,
 * longest first (dynamic, through one atomic counter), with its own scratch
 * allocated once for the longest sequence. Each sequence runs through the
 * same driver as rnnk_rnn_forward with N = 1, so the bits are the same.
 * Workers read the weights shared, or, when the pool spans several NUMA
 * nodes, their own node's copy (src/replicas.c). A single sequence instead
 * runs as forward would over that pool: split by hidden units where the
 * plan says so (one worker would leave the others idle). */
#include <stdatomic.h>
#include <stdlib.h>

#include "src/internal.h"
#include "threads/pool.h"

typedef struct many_ctx {
  const rnnk_rnn *rnn;
  rnnk_pool *pool;
  const rnnk_replicas *rep; /* per-node weight copies or NULL */
  rnnk_sequence *seqs;
  int *order; /* sequence indices, longest first */
  int count;
  size_t scratch_floats;
  atomic_int next;
  atomic_int failed; /* workers that could not get scratch */
} many_ctx;

/* One sequence as a forward call of N = 1. */
static rnnk_fwd_io sequence_io(const rnnk_rnn *rnn, const rnnk_sequence *sq, float *scratch) {
  const size_t I = (size_t)rnn->cfg.input_size, W = (size_t)rnn->out_width;
  return (rnnk_fwd_io){.T = sq->T, .N = 1, .x = sq->x, .x_step_stride = I, .x_row_stride = I,
                       .y = sq->y, .y_step_stride = W, .y_row_stride = W, .h0 = sq->h0, .c0 = sq->c0,
                       .hT = sq->hT, .cT = sq->cT, .scratch = scratch};
}

static void run_one(const rnnk_rnn *rnn, rnnk_sequence *sq, float *scratch) {
  const rnnk_fwd_io io = sequence_io(rnn, sq, scratch);
  sq->status = rnnk_forward_rows(rnn, &io, NULL);
}

static void worker(void *vctx, int tid, int nth) {
  (void)nth;
  many_ctx *m = vctx;
  /* the network as this worker sees it: weights from its node's copy */
  rnnk_rnn view = *m->rnn;
  view.layers = rnnk_replicas_layers(m->rep, m->rnn, rnnk_pool_node_of(m->pool, tid));
  float *scratch = rnnk_falloc(m->scratch_floats);
  if (!scratch) atomic_fetch_add(&m->failed, 1);
  for (;;) {
    const int i = atomic_fetch_add(&m->next, 1);
    if (i >= m->count) break;
    rnnk_sequence *sq = &m->seqs[m->order[i]];
    if (scratch) run_one(&view, sq, scratch);
    else sq->status = RNNK_ENOMEM; /* this worker's share fails; others go on */
  }
  rnnk_free(scratch);
}

typedef struct len_index { int T, i; } len_index;
static int longer_first(const void *a, const void *b) {
  const len_index *x = a, *y = b;
  if (x->T != y->T) return x->T < y->T ? 1 : -1;
  return x->i - y->i;
}

RNNK_API rnnk_status rnnk_rnn_forward_many(const rnnk_rnn *rnn, rnnk_pool *pool, int count, rnnk_sequence *seqs) {
  rnnk_clear_error();
  if (!rnn) return rnnk_fail(RNNK_EINVAL, "rnn is NULL");
  if (count < 0) return rnnk_fail(RNNK_EINVAL, "count = %d: must be >= 0", count);
  if (count > 0 && !seqs) return rnnk_fail(RNNK_EINVAL, "seqs is NULL");
  const rnnk_config *c = &rnn->cfg;
  int Tmax = 0;
  for (int i = 0; i < count; i++) {
    const rnnk_sequence *sq = &seqs[i];
    if (sq->T < 1) return rnnk_fail(RNNK_EINVAL, "seqs[%d].T = %d: must be >= 1", i, sq->T);
    if (!sq->x) return rnnk_fail(RNNK_EINVAL, "seqs[%d].x is NULL", i);
    if (c->cell != RNNK_LSTM && (sq->c0 || sq->cT))
      return rnnk_fail(RNNK_EINVAL, "seqs[%d].%s given but only LSTM has a cell state", i, sq->c0 ? "c0" : "cT");
    size_t tmp;
    if (!rnnk_mul_ok((size_t)sq->T, (size_t)(c->input_size > rnn->out_width ? c->input_size : rnn->out_width), &tmp))
      return rnnk_fail(RNNK_EINVAL, "seqs[%d].T = %d: sizes overflow", i, sq->T);
    if (sq->T > Tmax) Tmax = sq->T;
  }
  rnnk_status s = rnnk_check_ready(rnn);
  if (s) return s;
  if (count == 0) return RNNK_OK;
  const rnnk_call_plan plan = pool && count == 1 ? rnnk_plan_with(rnn, 1, pool) : (rnnk_call_plan){0};
  if (plan.pool) {
    rnnk_fwd_io io = sequence_io(rnn, &seqs[0], NULL);
    io.time_chunk = plan.time_chunk, io.k_block = plan.k_block;
    s = seqs[0].status = rnnk_forward_planned(rnn, &io, plan);
    return s ? rnnk_fail(s, "seqs[0] failed: %s", rnnk_strerror(s)) : RNNK_OK;
  }

  many_ctx m = {.rnn = rnn, .pool = pool, .seqs = seqs, .count = count};
  m.scratch_floats = rnnk_forward_scratch_floats(rnn, Tmax, 1);
  m.order = malloc((size_t)count * sizeof(int));
  len_index *li = malloc((size_t)count * sizeof *li);
  if (!m.order || !li || !m.scratch_floats) {
    free(m.order);
    free(li);
    return rnnk_fail(RNNK_ENOMEM, "out of memory scheduling %d sequences", count);
  }
  for (int i = 0; i < count; i++) li[i] = (len_index){seqs[i].T, i};
  qsort(li, (size_t)count, sizeof *li, longer_first);
  for (int i = 0; i < count; i++) m.order[i] = li[i].i;
  free(li);
  atomic_init(&m.next, 0);
  atomic_init(&m.failed, 0);
  rnnk_replicas *rep = rnnk_replicas_acquire(rnn, pool);
  m.rep = rep;
  rnnk_pool_run(pool, worker, &m, c->flush_to_zero);
  rnnk_replicas_release(rnn, rep);
  free(m.order);
  for (int i = 0; i < count; i++)
    if (seqs[i].status != RNNK_OK)
      return rnnk_fail(seqs[i].status, "seqs[%d] failed: %s", i, rnnk_strerror(seqs[i].status));
  return RNNK_OK;
}
