/* Many independent sequences over a pool, longest first. Sequences run in
 * batches, so that a batch's rows share each read of the weights:
 * - where W_hh overflows a thread's L2, up to 8 sequences a thread run as
 *   one batch split over the whole pool by hidden units (where the plan
 *   for that batch says so), each thread's slice of W_hh in its own L2;
 * - else workers take groups of up to 4 or 8 consecutive sequences
 *   (dynamic, through one atomic counter) and run each as one ragged
 *   batch on their own thread, reading the weights shared or, when the
 *   pool spans several NUMA nodes, from their own node's copy
 *   (src/replicas.c).
 * A single sequence runs as forward would over the pool. Rows of a batch
 * give the bits they give alone, so every sequence gets the bits of
 * rnnk_rnn_forward with N = 1. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "src/internal.h"
#include "threads/pool.h"

/* Buffers that hold a group of sequences as one batch: x gathered to
 * [Tmax][rows][I], y to [Tmax][rows][W], the states to [L*D][rows][S or H]
 * (an array is left out when no sequence of the call has it), and the
 * lengths. One allocation, reused for a worker's groups. x past a row's
 * length may be read (by the input GEMM of a chunk that row leaves) but
 * what it gives is never used: it holds zeros or an earlier group's x. */
typedef struct group_buf {
  float *x, *y, *h0, *c0, *hT, *cT;
  int *lengths;
} group_buf;

typedef struct many_ctx {
  const rnnk_rnn *rnn;
  rnnk_pool *pool;
  const rnnk_replicas *rep; /* per-node weight copies or NULL */
  rnnk_sequence *seqs;
  const int *order; /* sequence indices, longest first */
  int count;
  int groups; /* batches the sequences are cut into, in order: a worker takes one at a time */
  int group_rows; /* sequences in the largest group */
  rnnk_call_plan group_plan; /* a group's time chunk and k-chunk (tune cache, else defaults) */
  int Tmax;
  bool has[5]; /* some sequence gives y, h0, c0, hT, cT */
  atomic_int next;
} many_ctx;

/* Allocates buffers for `rows` sequences; NULL (and nothing to free) if
 * out of memory or the sizes overflow. Free the returned block with rnnk_free. */
static float *group_alloc(const many_ctx *m, int rows, group_buf *b) {
  const rnnk_rnn *rnn = m->rnn;
  const size_t N = (size_t)rows, I = (size_t)rnn->cfg.input_size, W = (size_t)rnn->out_width;
  const size_t S = (size_t)rnn->S, H = (size_t)rnn->H, LD = (size_t)rnn->cfg.num_layers * (size_t)rnn->D;
  size_t len[7], tn, total = 0; /* floats of x, y, h0, c0, hT, cT; ints of lengths */
  bool ok = rnnk_mul_ok((size_t)m->Tmax, N, &tn) && rnnk_mul_ok(tn, I, &len[0]) && rnnk_mul_ok(tn, W, &len[1]);
  len[1] = m->has[0] ? len[1] : 0;
  len[2] = m->has[1] ? LD * N * S : 0, len[3] = m->has[2] ? LD * N * H : 0;
  len[4] = m->has[3] ? LD * N * S : 0, len[5] = m->has[4] ? LD * N * H : 0, len[6] = N;
  for (int i = 0; i < 7 && ok; i++) ok = total + len[i] >= total, total += len[i];
  float *mem = ok ? rnnk_falloc(total) : NULL, *p = mem;
  if (!mem) return NULL;
  float **part[6] = {&b->x, &b->y, &b->h0, &b->c0, &b->hT, &b->cT};
  for (int i = 0; i < 6; i++) *part[i] = len[i] ? p : NULL, p += len[i];
  b->lengths = (int *)p;
  return mem;
}

/* Sequences idx[0..rows) as one ragged batch (idx longest first, so the
 * rows are already in the length order forward wants and x is not copied
 * again), run as plan says; each sequence's status is set. */
static rnnk_status run_group(const rnnk_rnn *rnn, rnnk_call_plan plan, rnnk_sequence *seqs, const int *idx, int rows,
                             const group_buf *b) {
  const size_t N = (size_t)rows, I = (size_t)rnn->cfg.input_size, W = (size_t)rnn->out_width;
  const size_t S = (size_t)rnn->S, H = (size_t)rnn->H, LD = (size_t)rnn->cfg.num_layers * (size_t)rnn->D;
  bool has_y = false, has_h0 = false, has_c0 = false, has_hT = false, has_cT = false;
  for (size_t n = 0; n < N; n++) {
    const rnnk_sequence *sq = &seqs[idx[n]];
    has_y |= sq->y != NULL, has_h0 |= sq->h0 != NULL, has_c0 |= sq->c0 != NULL;
    has_hT |= sq->hT != NULL, has_cT |= sq->cT != NULL;
    b->lengths[n] = sq->T;
    for (size_t t = 0; t < (size_t)sq->T; t++) memcpy(b->x + (t * N + n) * I, sq->x + t * I, I * sizeof(float));
    for (size_t l = 0; l < LD; l++) {
      if (sq->h0) memcpy(b->h0 + (l * N + n) * S, sq->h0 + l * S, S * sizeof(float));
      else if (b->h0) memset(b->h0 + (l * N + n) * S, 0, S * sizeof(float));
      if (sq->c0) memcpy(b->c0 + (l * N + n) * H, sq->c0 + l * H, H * sizeof(float));
      else if (b->c0) memset(b->c0 + (l * N + n) * H, 0, H * sizeof(float));
    }
  }
  rnnk_fwd_io io = {.T = b->lengths[0], .N = rows, .x = b->x, .x_step_stride = N * I, .x_row_stride = I,
                    .lengths = b->lengths, .h0 = has_h0 ? b->h0 : NULL, .c0 = has_c0 ? b->c0 : NULL,
                    .y = has_y ? b->y : NULL, .y_step_stride = N * W, .y_row_stride = W,
                    .hT = has_hT ? b->hT : NULL, .cT = has_cT ? b->cT : NULL,
                    .time_chunk = plan.time_chunk, .k_block = plan.k_block};
  const rnnk_status s = rnnk_forward_planned(rnn, &io, plan);
  for (size_t n = 0; n < N; n++) {
    rnnk_sequence *sq = &seqs[idx[n]];
    sq->status = s;
    if (s) continue;
    if (sq->y)
      for (size_t t = 0; t < (size_t)sq->T; t++) memcpy(sq->y + t * W, b->y + (t * N + n) * W, W * sizeof(float));
    for (size_t l = 0; l < LD; l++) {
      if (sq->hT) memcpy(sq->hT + l * S, b->hT + (l * N + n) * S, S * sizeof(float));
      if (sq->cT) memcpy(sq->cT + l * H, b->cT + (l * N + n) * H, H * sizeof(float));
    }
  }
  return s;
}

/* One sequence as a forward call of N = 1. */
static rnnk_fwd_io sequence_io(const rnnk_rnn *rnn, const rnnk_sequence *sq) {
  const size_t I = (size_t)rnn->cfg.input_size, W = (size_t)rnn->out_width;
  return (rnnk_fwd_io){.T = sq->T, .N = 1, .x = sq->x, .x_step_stride = I, .x_row_stride = I,
                       .y = sq->y, .y_step_stride = W, .y_row_stride = W, .h0 = sq->h0, .c0 = sq->c0,
                       .hT = sq->hT, .cT = sq->cT};
}

static void worker(void *vctx, int tid, int nth) {
  (void)nth;
  many_ctx *m = vctx;
  /* the network as this worker sees it: weights from its node's copy */
  rnnk_rnn view = *m->rnn;
  view.layers = rnnk_replicas_layers(m->rep, m->rnn, rnnk_pool_node_of(m->pool, tid));
  group_buf b;
  float *mem = m->group_rows > 1 ? group_alloc(m, m->group_rows, &b) : NULL;
  for (;;) {
    const int i = atomic_fetch_add(&m->next, 1);
    if (i >= m->groups) break;
    const int n0 = (int)((long long)m->count * i / m->groups), n1 = (int)((long long)m->count * (i + 1) / m->groups);
    if (n1 - n0 == 1) { /* no batch to gather */
      rnnk_sequence *sq = &m->seqs[m->order[n0]];
      const rnnk_fwd_io io = sequence_io(m->rnn, sq);
      sq->status = rnnk_forward_rows(&view, &io, NULL);
    } else if (mem) {
      run_group(&view, m->group_plan, m->seqs, m->order + n0, n1 - n0, &b);
    } else {
      for (int n = n0; n < n1; n++) m->seqs[m->order[n]].status = RNNK_ENOMEM; /* others go on */
    }
  }
  rnnk_free(mem);
}

/* Whether one layer's recurrent weights overflow a thread's L2, so that
 * every step streams them from L3. */
static bool w_hh_overflows_l2(const rnnk_rnn *rnn) {
  return rnnk_overflows_l2(rnnk_w_hh_bytes(&rnn->cfg, rnn->tiles.unit));
}

/* Sequences of up to Tmax steps whose gathered x and y fit 64 MiB: a
 * batch's copies, and the forward scratch that grows with its rows. */
static size_t rows_in_budget(const rnnk_rnn *rnn, int Tmax) {
  size_t per_row;
  if (!rnnk_mul_ok((size_t)Tmax, (size_t)(rnn->cfg.input_size + rnn->out_width) * sizeof(float), &per_row)) return 0;
  return ((size_t)64 << 20) / per_row;
}

/* Groups the workers cut the sequences into: the same number for every
 * thread, each group of at most 4 sequences, or 8 where W_hh overflows L2
 * (each step streams it from L3), and no more than fit 64 MiB. Zen 5,
 * one thread, T uniform in 1..100, groups of 4 / 8 against one sequence
 * at a time: LSTM H=64 0.75 / 0.83, H=128
 * 0.63 / 0.68, H=256 0.50 / 0.56, H=512 0.45 / 0.45 (T 1..50: H=1024
 * 0.45 / 0.35); GRU (linear before reset) H=64 0.72 / 0.78, H=256 0.57 /
 * 0.61; Elman H=64 0.99 / 1.21, H=256 0.58 / 0.73. Wider groups lose at
 * small H: the 8-row tiles of the step kernels spill registers. */
static int many_groups(const rnnk_rnn *rnn, int count, int threads, int Tmax) {
  const size_t fit = rows_in_budget(rnn, Tmax);
  long long g = w_hh_overflows_l2(rnn) ? 8 : 4;
  if ((size_t)g > fit) g = fit ? (long long)fit : 1;
  const long long groups = (count + threads * g - 1) / (threads * g) * threads;
  return groups < count ? (int)groups : count;
}

/* Whether `count` sequences run as one batch split over the whole pool
 * (declared in src/internal.h): where W_hh overflows a thread's L2, so that
 * each worker would stream all of it every step, and the sequences are too
 * few to give every thread a group of 8. Split by hidden units, each
 * thread reads its slice once per step for all the rows, from its own L2.
 * Zen 5, 2 threads, LSTM, T uniform in 1..50, against workers taking
 * groups: 4 sequences H=512 0.72, H=1024 0.64; 16: 0.83, 0.75; GRU (linear
 * before reset) 4 sequences H=512 0.76, H=1024 0.63, 16: 0.86, 0.76;
 * Elman H=2048 4 0.62, 16 0.76. More sequences run better as the workers'
 * groups: batches of 16 one after another, each waiting for its longest
 * row, ran GRU H=512, 200 sequences of 1..200 steps, 1.16x slower. */
bool rnnk_many_one_batch(const rnnk_rnn *rnn, int count, int threads, int Tmax) {
  return threads >= 2 && count <= 8 * threads && (size_t)count <= rows_in_budget(rnn, Tmax) &&
         w_hh_overflows_l2(rnn);
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
  const int threads = pool ? rnnk_pool_size(pool) : 1;
  if (pool && count == 1) { /* as forward would split it: no copies */
    const rnnk_call_plan plan = rnnk_plan_with(rnn, 1, pool);
    if (plan.pool) {
      rnnk_fwd_io io = sequence_io(rnn, &seqs[0]);
      io.time_chunk = plan.time_chunk, io.k_block = plan.k_block;
      s = seqs[0].status = rnnk_forward_planned(rnn, &io, plan);
      return s ? rnnk_fail(s, "seqs[0] failed: %s", rnnk_strerror(s)) : RNNK_OK;
    }
  }

  many_ctx m = {.rnn = rnn, .pool = pool, .seqs = seqs, .count = count, .Tmax = Tmax};
  for (int i = 0; i < count; i++) {
    const rnnk_sequence *sq = &seqs[i];
    m.has[0] |= sq->y != NULL, m.has[1] |= sq->h0 != NULL, m.has[2] |= sq->c0 != NULL;
    m.has[3] |= sq->hT != NULL, m.has[4] |= sq->cT != NULL;
  }
  int *order = malloc((size_t)count * sizeof(int));
  len_index *li = malloc((size_t)count * sizeof *li);
  if (!order || !li) {
    free(order);
    free(li);
    return rnnk_fail(RNNK_ENOMEM, "out of memory scheduling %d sequences", count);
  }
  for (int i = 0; i < count; i++) li[i] = (len_index){seqs[i].T, i};
  qsort(li, (size_t)count, sizeof *li, longer_first);
  for (int i = 0; i < count; i++) order[i] = li[i].i;
  free(li);
  m.order = order;

  const rnnk_call_plan plan =
      rnnk_many_one_batch(rnn, count, threads, Tmax) ? rnnk_plan_with(rnn, count, pool) : (rnnk_call_plan){0};
  if (plan.pool && !plan.rows) {
    group_buf b;
    float *mem = group_alloc(&m, count, &b);
    if (mem) {
      s = run_group(rnn, plan, seqs, order, count, &b);
      rnnk_free(mem);
    } else {
      s = rnnk_fail(RNNK_ENOMEM, "out of memory batching %d sequences of up to %d steps", count, Tmax);
      for (int i = 0; i < count; i++) seqs[i].status = s;
    }
  } else {
    m.groups = many_groups(rnn, count, threads, Tmax);
    m.group_rows = (int)(((long long)count + m.groups - 1) / m.groups);
    m.group_plan = rnnk_plan_with(rnn, m.group_rows, NULL);
    atomic_init(&m.next, 0);
    rnnk_replicas *rep = rnnk_replicas_acquire(rnn, pool);
    m.rep = rep;
    rnnk_pool_run(pool, worker, &m, c->flush_to_zero);
    rnnk_replicas_release(rnn, rep);
  }
  free(order);
  if (s) return s;
  for (int i = 0; i < count; i++)
    if (seqs[i].status != RNNK_OK)
      return rnnk_fail(seqs[i].status, "seqs[%d] failed: %s", i, rnnk_strerror(seqs[i].status));
  return RNNK_OK;
}
