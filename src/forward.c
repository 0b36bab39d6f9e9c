/* The forward driver: for each layer and direction, the input projection for
 * a chunk of steps as one GEMM, then per step the fused recurrent kernel.
 *
 * Rows are processed in order of decreasing length, so the rows still
 * running at step t are always a prefix 0..na-1 and kernels see dense
 * blocks. Rows outside the prefix keep their state (copied forward).
 *
 * With a pool, every thread runs this same loop on its own slice of panels
 * (hidden units, all gates), meeting at a barrier after each phase; every
 * output value is still one k-chain computed by one thread, so the bits do
 * not depend on the thread count. */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch/cpu.h"
#include "src/internal.h"
#include "threads/pool.h"
#include "tune/cache.h"

/* Where a layer's outputs go: element (t, row n, feature f). */
typedef struct out_target {
  float *p;
  size_t step, row;
  const int *row_map; /* permuted row -> target row; NULL = identity */
} out_target;

typedef struct fwd_ctx {
  const rnnk_rnn *rnn;
  const rnnk_fwd_io *io;
  rnnk_pool *pool;
  const rnnk_replicas *rep; /* per-node weight copies of the pool's nodes, or NULL */
  int T, N, Tc;
  const int *perm, *len; /* len[] in permuted order, decreasing */
  /* scratch */
  const float *xin;      /* layer 0 input, [T][N][I], permuted rows */
  bool y_covered;        /* every output element is stored (not accumulated): no zeroing */
  float *ybuf[2];        /* layer outputs [T][N][Wmax] */
  float *pre;            /* [Tc][N][G*Hp] */
  float *h[2], *c, *tmp, *zbuf;
  float *apack;          /* [Tc][N][Kmax]: a chunk's running rows packed for its GEMM (ragged calls) */
} fwd_ctx;

static void barrier(const fwd_ctx *f, int tid, int nth) {
  if (nth > 1) rnnk_pool_barrier(f->pool, tid);
}

/* Panels [p0, p1) of np for thread tid of nth. */
static void share(size_t np, int tid, int nth, size_t *p0, size_t *p1) {
  *p0 = np * (size_t)tid / (size_t)nth;
  *p1 = np * (size_t)(tid + 1) / (size_t)nth;
}

static int active_rows(const fwd_ctx *f, int t) {
  int na = 0;
  while (na < f->N && f->len[na] > t) na++;
  return na;
}

bool rnnk_overflows_l2(size_t bytes) {
  rnnk_cpu_id id;
  rnnk_cpu_identity(&id);
  return id.l2_kib == 0 || bytes > (size_t)id.l2_kib * 1024 / 2;
}

/* One layer and direction, executed by thread tid of nth. */
static void run_direction(const fwd_ctx *f, int tid, int nth, int l, int d, const float *in, size_t ld_in,
                          out_target out, size_t col, bool accumulate) {
  const rnnk_rnn *rnn = f->rnn;
  const rnnk_ukernels *uk = rnn->uk;
  /* weights from this thread's NUMA node copy, where there are copies */
  const rnnk_layer *ly = &rnnk_replicas_layers(f->rep, rnn, rnnk_pool_node_of(f->pool, tid))[l * rnn->D + d];
  const rnnk_config *c = &rnn->cfg;
  const size_t N = (size_t)f->N, G = (size_t)rnn->G, Hp = (size_t)rnn->Hp, U = (size_t)rnn->tiles.unit;
  const size_t Sp = (size_t)rnn->Sp, S = (size_t)rnn->S, K = (size_t)ly->K, H = (size_t)rnn->H;
  const size_t ghp = G * Hp, np = Hp / U;
  const size_t Uo = (size_t)rnn->tiles.unit_out, npo = rnn->Sop ? (size_t)rnn->Sop / Uo : 0;
  const int idx = l * rnn->D + d;
  const bool reverse = c->direction == RNNK_REVERSE || d == 1;
  size_t p0, p1, q0, q1, r0, r1;
  share(np, tid, nth, &p0, &p1);
  share(npo, tid, nth, &q0, &q1);
  share(N, tid, nth, &r0, &r1);
  const size_t SR = f->io->state_rows ? f->io->state_rows : N; /* rows of a state block */

  /* Initial state, rows permuted; padding stays zero. */
  float *hc = f->h[0], *hn = f->h[1];
  for (size_t n = r0; n < r1; n++) {
    const size_t src = (size_t)f->perm[n];
    memset(hc + n * Sp, 0, Sp * sizeof(float));
    if (f->io->h0) memcpy(hc + n * Sp, f->io->h0 + ((size_t)idx * SR + src) * S, S * sizeof(float));
    if (c->cell == RNNK_LSTM) {
      memset(f->c + n * Hp, 0, Hp * sizeof(float));
      if (f->io->c0) memcpy(f->c + n * Hp, f->io->c0 + ((size_t)idx * SR + src) * H, H * sizeof(float));
    }
  }
  barrier(f, tid, nth);

  rnnk_step_args a = {.U = U, .p0 = p0, .p1 = p1, .cp = &rnn->cp, .ld_pre = ghp, .ld_hprev = Sp,
                      .peep = ly->peep, .bias = ly->b_rn, .backward = f->io->backward,
                      .k_chunks = rnnk_overflows_l2((p1 - p0) * U * G * S * sizeof(float)),
                      .k_block_kib = (size_t)f->io->k_block};
  /* W_hh fits L2 but not beside W_ih: each time chunk's GEMM evicts part of it */
  a.prefetch_next = !a.k_chunks && rnnk_overflows_l2((p1 - p0) * U * G * (S + K) * sizeof(float));
  const int T = f->T, Tc = f->Tc;
  for (int ci = 0; ci < T; ci += Tc) {
    /* chunk [t0, t0 + tc) in time, visited in this direction's order */
    const int tc = T - ci < Tc ? T - ci : Tc;
    const int t0 = reverse ? T - ci - tc : ci;
    /* Input projection of the chunk: one GEMM, so that W_ih is read once
     * per chunk. The rows running at any of its steps are the prefix
     * running at t0 (rows by decreasing length); when that is not every
     * row, their inputs are first packed ([tc][na0][K], each thread some
     * steps) and pre holds only them ([tc][na0][G*Hp]). One GEMM per step
     * instead read all of W_ih per step (LSTM N=8 H=1024, one row of
     * length 1: 20% slower a row-step than all rows full). */
    const size_t na0 = (size_t)active_rows(f, t0);
    const bool packed = !f->io->backward && na0 > 0 && na0 < N;
    const size_t pre_rows = packed ? na0 : N; /* rows per step in pre for this chunk */
    const float *A = in + (size_t)t0 * N * ld_in;
    size_t lda = ld_in;
    if (packed) {
      size_t s0, s1;
      share((size_t)tc, tid, nth, &s0, &s1);
      for (size_t s = s0; s < s1; s++)
        for (size_t n = 0; n < na0; n++)
          memcpy(f->apack + (s * na0 + n) * K, A + (s * N + n) * ld_in, K * sizeof(float));
      barrier(f, tid, nth);
      A = f->apack, lda = K;
    }
    if (p1 > p0 && na0 > 0) {
      if (f->io->backward) { /* panel by panel, last first (a streaming step: tc = 1) */
        for (size_t p = p1; p-- > p0;)
          uk->f32_gemm(na0, K, G * U, G * U, A, lda, ly->w_ih + p * K * G * U, ly->b_in + p * G * U, 0,
                       f->pre + p * G * U, ghp);
      } else {
        uk->f32_gemm((size_t)tc * pre_rows, K, (p1 - p0) * G * U, G * U, A, lda, ly->w_ih + p0 * K * G * U,
                     ly->b_in + p0 * G * U, 0, f->pre + p0 * G * U, ghp);
      }
    }
    barrier(f, tid, nth);
    for (int s = 0; s < tc; s++) {
      const int t = reverse ? t0 + tc - 1 - s : t0 + s;
      const size_t na = (size_t)active_rows(f, t);
      if (na == 0) continue;
      a.N = na;
      a.pre = f->pre + (size_t)(t - t0) * pre_rows * ghp;
      a.hin = hc;
      a.ld_hin = Sp;
      a.hprev = hc;
      a.K = S;
      switch (c->cell) {
      case RNNK_ELMAN:
        a.W = ly->w_hh, a.out = hn, a.ld_out = Sp;
        uk->f32_elman(&a);
        break;
      case RNNK_JORDAN:
        a.W = ly->w_hh, a.out = f->tmp, a.ld_out = Hp;
        uk->f32_elman(&a);
        barrier(f, tid, nth);
        if (q1 > q0) {
          uk->f32_gemm(na, H, (q1 - q0) * Uo, Uo, f->tmp, Hp, ly->w_out + q0 * H * Uo, ly->b_out + q0 * Uo, 0,
                       hn + q0 * Uo, Sp);
          for (size_t n = 0; n < na; n++)
            uk->f32_act((q1 - q0) * Uo, hn + n * Sp + q0 * Uo, hn + n * Sp + q0 * Uo, &rnn->out_act, c->clip);
        }
        break;
      case RNNK_LSTM:
        a.W = ly->w_hh, a.c = f->c, a.ld_c = Hp;
        if (rnn->So) {
          a.out = f->tmp, a.ld_out = Hp;
          uk->f32_lstm(&a);
          barrier(f, tid, nth);
          if (q1 > q0)
            uk->f32_gemm(na, H, (q1 - q0) * Uo, Uo, f->tmp, Hp, ly->w_out + q0 * H * Uo, ly->b_out + q0 * Uo, 0,
                         hn + q0 * Uo, Sp);
        } else {
          a.out = hn, a.ld_out = Sp;
          uk->f32_lstm(&a);
        }
        break;
      case RNNK_GRU:
        if (c->linear_before_reset) {
          a.W = ly->w_hh, a.out = hn, a.ld_out = Sp;
          uk->f32_gru(&a);
        } else {
          a.W = ly->w_hh, a.out = f->tmp, a.out2 = f->zbuf, a.ld_out = Hp;
          uk->f32_gru_rz(&a);
          barrier(f, tid, nth);
          a.W = ly->w_hh_n, a.hin = f->tmp, a.ld_hin = Hp, a.K = H, a.out = hn, a.ld_out = Sp;
          uk->f32_gru_n(&a);
        }
        break;
      }
      barrier(f, tid, nth);
      /* Rows that are not running keep their state; running rows emit output. */
      for (size_t n = r0; n < r1; n++) {
        if (n >= na) {
          memcpy(hn + n * Sp, hc + n * Sp, Sp * sizeof(float));
          continue;
        }
        if (!out.p) continue;
        const size_t row = out.row_map ? (size_t)out.row_map[n] : n;
        float *dst = out.p + (size_t)t * out.step + row * out.row + col;
        const float *src = hn + n * Sp;
        if (accumulate)
          for (size_t i = 0; i < S; i++) dst[i] += src[i];
        else
          memcpy(dst, src, S * sizeof(float));
      }
      float *tmp = hc;
      hc = hn;
      hn = tmp;
      a.backward = !a.backward; /* sweep W_hh back and forth: what the last sweep left in L2 is reused */
      /* The next step may start without waiting unless it needs rows that
       * were just copied forward (rows joining, in the reverse direction)
       * or the states are read next (after the last step). */
      const int t_next = reverse ? t - 1 : t + 1;
      if (t_next < 0 || t_next >= T || (size_t)active_rows(f, t_next) > na) barrier(f, tid, nth);
    }
  }
  /* Final states. */
  for (size_t n = r0; n < r1; n++) {
    const size_t dst = (size_t)f->perm[n];
    if (f->io->hT) memcpy(f->io->hT + ((size_t)idx * SR + dst) * S, hc + n * Sp, S * sizeof(float));
    if (f->io->cT && c->cell == RNNK_LSTM)
      memcpy(f->io->cT + ((size_t)idx * SR + dst) * H, f->c + n * Hp, H * sizeof(float));
  }
  barrier(f, tid, nth);
}

/* All layers, by thread tid of nth. */
static void run_all(void *vctx, int tid, int nth) {
  const fwd_ctx *f = vctx;
  const rnnk_rnn *rnn = f->rnn;
  const rnnk_fwd_io *io = f->io;
  const int L = rnn->cfg.num_layers;
  const size_t N = (size_t)f->N, T = (size_t)f->T;
  const bool sum = rnn->cfg.direction == RNNK_BIDIR_SUM;
  const float *in = f->xin;
  size_t ld_in = (size_t)rnn->cfg.input_size;
  for (int l = 0; l < L; l++) {
    const size_t W = (size_t)rnnk_layer_output(rnn, l);
    out_target out;
    if (l == L - 1) {
      out = (out_target){.p = io->y, .step = io->y_step_stride, .row = io->y_row_stride, .row_map = f->perm};
    } else {
      out = (out_target){.p = f->ybuf[l & 1], .step = N * W, .row = W, .row_map = NULL};
      if (!f->y_covered) {
        if (tid == 0) memset(out.p, 0, T * N * W * sizeof(float));
        barrier(f, tid, nth);
      }
    }
    for (int d = 0; d < f->rnn->D; d++)
      run_direction(f, tid, nth, l, d, in, ld_in, out, sum ? 0 : (size_t)d * (size_t)rnn->S, sum);
    in = out.p;
    ld_in = W;
  }
}

/* What a call's scratch must hold besides the fixed parts. */
enum {
  SCRATCH_X = 1,   /* layer 0's input, rows permuted or restrided to [T][N][I] */
  SCRATCH_PACK = 2 /* a chunk's running rows packed for its GEMM: some row ends before T */
};
static int scratch_needs(const rnnk_fwd_io *io, size_t I) {
  int needs = io->x_row_stride != I || io->x_step_stride != (size_t)io->N * I ? SCRATCH_X : 0;
  for (int n = 0; io->lengths && n < io->N; n++) {
    if (io->lengths[n] < io->T) needs |= SCRATCH_PACK;
    if (n > 0 && io->lengths[n] > io->lengths[n - 1]) needs |= SCRATCH_X; /* not sorted: rows move */
  }
  return needs;
}

/* Layout of the scratch block of one forward call: part sizes in floats
 * (the input copy and the packed chunk inputs only where needed). */
enum { N_PARTS = 11 };
static bool scratch_parts(const rnnk_rnn *rnn, size_t T, size_t N, int time_chunk, int needs,
                          size_t parts[N_PARTS], size_t *Tc_out, size_t *total) {
  const rnnk_config *c = &rnn->cfg;
  const size_t I = (size_t)c->input_size, G = (size_t)rnn->G, Hp = (size_t)rnn->Hp, Sp = (size_t)rnn->Sp;
  size_t Wmax = 0;
  for (int l = 0; l + 1 < c->num_layers; l++) {
    const size_t w = (size_t)rnnk_layer_output(rnn, l);
    if (w > Wmax) Wmax = w;
  }
  size_t Tc = time_chunk > 0 ? (size_t)time_chunk : (size_t)rnn->tiles.time_chunk;
  if (Tc == 0) {
    /* ~1 MiB of pre-activations, but at least 256 rows per GEMM: every
     * chunk streams all of W_ih, which for large H lives in L3 (LSTM N=8
     * H=1024: 16 MiB per chunk; 8-step chunks cost 72-79 ms a sequence,
     * 32-step chunks 71-72) */
    Tc = (size_t)(256 * 1024) / (N * G * Hp);
    if (Tc * N < 256) Tc = (256 + N - 1) / N;
  }
  if (Tc < 1) Tc = 1;
  if (Tc > T) Tc = T;
  size_t n_x = 0, n_y, n_pre, n_pack = 0, t;
  if (((needs & SCRATCH_X) && !rnnk_mul_ok(T * N, I, &n_x)) || !rnnk_mul_ok(T * N, Wmax, &n_y) ||
      !rnnk_mul_ok(Tc * N, G * Hp, &n_pre) ||
      ((needs & SCRATCH_PACK) && !rnnk_mul_ok(Tc * N, I > Wmax ? I : Wmax, &n_pack)))
    return false;
  const size_t n_state = N * (Sp > Hp ? Sp : Hp);
  const size_t p[N_PARTS] = {n_x, n_y, n_y, n_pre, n_state, n_state, n_state, n_state, n_state, 2 * N, n_pack};
  *total = 0;
  for (size_t i = 0; i < N_PARTS; i++) {
    parts[i] = p[i];
    t = (p[i] + 15) & ~(size_t)15; /* keep every part 64-byte aligned */
    if (t < p[i] || *total + t < *total) return false;
    *total += t;
  }
  *Tc_out = Tc;
  return true;
}

/* A scratch block of at least `total` floats (after a 16-float header that
 * holds its size) from the network's slots, taken by atomic exchange so
 * concurrent calls and row-split workers never share one; NULL if out of
 * memory. */
static float *scratch_take(const rnnk_rnn *rnn, size_t total) {
  float *block = NULL;
  for (int i = 0; i < rnn->scratch_slots && !block; i++) block = atomic_exchange(&rnn->scratch_slot[i], NULL);
  size_t have = 0;
  if (block) memcpy(&have, block, sizeof have);
  if (!block || have < total) {
    rnnk_free(block);
    if (total > SIZE_MAX - 16 || !(block = rnnk_falloc_uninit(total + 16))) return NULL;
    memcpy(block, &total, sizeof total); /* the size, in the block's first 64 bytes */
  }
  return block;
}

/* Back into an empty slot, else freed. */
static void scratch_give(const rnnk_rnn *rnn, float *block) {
  for (int i = 0; i < rnn->scratch_slots; i++) {
    float *empty = NULL;
    if (atomic_compare_exchange_strong(&rnn->scratch_slot[i], &empty, block)) return;
  }
  rnnk_free(block);
}

size_t rnnk_forward_scratch_floats(const rnnk_rnn *rnn, int T, int N) {
  size_t parts[N_PARTS], Tc, total;
  return scratch_parts(rnn, (size_t)T, (size_t)N, 0, 0, parts, &Tc, &total) ? total : 0;
}

rnnk_status rnnk_forward_rows(const rnnk_rnn *rnn, const rnnk_fwd_io *io, rnnk_pool *split_pool) {
  const rnnk_config *c = &rnn->cfg;
  const size_t T = (size_t)io->T, N = (size_t)io->N, I = (size_t)c->input_size;
  size_t parts[N_PARTS], Tc, total;
  const int needs = scratch_needs(io, I); /* a caller's scratch was sized for these same needs */
  if (!scratch_parts(rnn, T, N, io->time_chunk, needs, parts, &Tc, &total))
    return rnnk_fail(RNNK_ENOMEM, "scratch for T=%zu N=%zu overflows size_t", T, N);
  /* Scratch: the caller's, or a block cached in the network. Every part is
   * written before it is read, so it is not cleared. */
  float *scratch = io->scratch, *block = NULL;
  if (!scratch) {
    if (!(block = scratch_take(rnn, total)))
      return rnnk_fail(RNNK_ENOMEM, "out of memory for %zu floats of scratch", total);
    scratch = block + 16;
  }
  float *parts_p[N_PARTS];
  float *q = scratch;
  for (size_t i = 0; i < N_PARTS; i++) {
    parts_p[i] = q;
    q += (parts[i] + 15) & ~(size_t)15;
  }
  int *perm = (int *)parts_p[9], *len = perm + N;

  /* Rows by decreasing length (stable), so running rows form a prefix. */
  for (size_t n = 0; n < N; n++) perm[n] = (int)n;
  for (size_t n = 1; n < N; n++) { /* insertion sort: N is small and this is O(N^2) at worst */
    const int v = perm[n], lv = io->lengths ? io->lengths[v] : (int)T;
    size_t m = n;
    while (m > 0 && (io->lengths ? io->lengths[perm[m - 1]] : (int)T) < lv) {
      perm[m] = perm[m - 1];
      m--;
    }
    perm[m] = v;
  }
  for (size_t n = 0; n < N; n++) len[n] = io->lengths ? io->lengths[perm[n]] : (int)T;

  /* Layer 0 input, permuted to [T][N][I] (the caller's x itself when it
   * already is that); outputs start as zeros unless every row runs every
   * step and nothing is accumulated, so that each element is stored. */
  bool identity = true;
  for (size_t n = 0; n < N; n++) identity = identity && perm[n] == (int)n;
  const float *xin = io->x;
  if (!identity || io->x_row_stride != I || io->x_step_stride != N * I) {
    float *xp = parts_p[0];
    for (size_t tt = 0; tt < T; tt++)
      for (size_t n = 0; n < N; n++)
        memcpy(xp + (tt * N + n) * I, io->x + tt * io->x_step_stride + (size_t)perm[n] * io->x_row_stride,
               I * sizeof(float));
    xin = xp;
  }
  const bool y_covered = len[N - 1] == (int)T && c->direction != RNNK_BIDIR_SUM;
  if (io->y && !y_covered) {
    const size_t W = (size_t)rnn->out_width;
    for (size_t tt = 0; tt < T; tt++)
      for (size_t n = 0; n < N; n++) memset(io->y + tt * io->y_step_stride + n * io->y_row_stride, 0, W * sizeof(float));
  }

  fwd_ctx f = {.rnn = rnn, .io = io, .pool = split_pool, .T = (int)T, .N = (int)N, .Tc = (int)Tc,
               .perm = perm, .len = len, .xin = xin, .y_covered = y_covered, .ybuf = {parts_p[1], parts_p[2]}, .pre = parts_p[3],
               .h = {parts_p[4], parts_p[5]}, .c = parts_p[6], .tmp = parts_p[7], .zbuf = parts_p[8],
               .apack = parts_p[10]};
  if (split_pool) {
    rnnk_replicas *rep = rnnk_replicas_acquire(rnn, split_pool);
    f.rep = rep;
    rnnk_pool_run(split_pool, run_all, &f, c->flush_to_zero);
    rnnk_replicas_release(rnn, rep);
  } else {
    rnnk_fpmode mode = rnnk_fpmode_enter(c->flush_to_zero);
    run_all(&f, 0, 1);
    rnnk_fpmode_leave(mode);
  }
  if (block) scratch_give(rnn, block);
  return RNNK_OK;
}

/* A batch split by rows over a pool: each thread runs a slice of the rows
 * through every layer, with no barrier per step. Rows are independent and
 * run the same chains as in one call, so the bits are one thread's. Every
 * slice's scratch is taken before any thread starts, so running out of
 * memory leaves the outputs untouched. */
typedef struct rows_ctx {
  const rnnk_rnn *rnn;
  const rnnk_fwd_io *io;
  rnnk_pool *pool;
  const rnnk_replicas *rep; /* per-node weight copies or NULL */
  int slices;               /* the pool's threads */
  const size_t *bound;      /* [slices + 1]: slice i is rows [bound[i], bound[i + 1]) */
  float **block;            /* [slices] scratch blocks (NULL: no rows) */
  rnnk_status *status;      /* [slices] */
} rows_ctx;

/* Slice bounds: equal row counts (the row tiles of the step kernels like
 * equal slices), unless that leaves one slice more than 1/4 above the mean
 * of row-steps, as a batch sorted by length (PyTorch's enforce_sorted)
 * does: then the row-steps are shared evenly instead, a row of length l
 * weighing l + 1 (the 1 for its state copy). Zen 5, 2 threads, T = 50,
 * lengths 50..5 sorted, interleaved rounds, new / equal counts: LSTM N=64
 * H=256 0.75, GRU N=64 H=128 0.77, LSTM N=16 H=256 0.93. The same lengths
 * shuffled (slices 10% over the mean) ran 9% slower cut by row-steps than
 * by equal counts (5 + 11 rows: the 11-row slice takes worse row tiles). */
static size_t row_weight(const rnnk_fwd_io *io, size_t n) {
  return (io->lengths ? (size_t)io->lengths[n] : (size_t)io->T) + 1;
}

void rnnk_row_bounds(const rnnk_fwd_io *io, int nth, size_t *bound) {
  const size_t N = (size_t)io->N;
  size_t total = 0, heaviest = 0;
  for (size_t n = 0; n < N; n++) total += row_weight(io, n);
  for (int i = 0; i < nth; i++) {
    size_t n0, n1, w = 0;
    share(N, i, nth, &n0, &n1);
    for (size_t n = n0; n < n1; n++) w += row_weight(io, n);
    if (w > heaviest) heaviest = w;
    bound[i] = n0;
  }
  bound[nth] = N;
  if (4 * heaviest * (size_t)nth <= 5 * total) return;
  size_t acc = 0, n = 0;
  for (int i = 1; i < nth; i++) {
    const size_t want = total * (size_t)i / (size_t)nth; /* row-steps before slice i */
    while (n < N && acc + row_weight(io, n) / 2 < want) acc += row_weight(io, n), n++;
    bound[i] = n;
  }
}

/* Rows [n0, n1) of io as a call of their own. */
static rnnk_fwd_io row_slice(const rnnk_rnn *rnn, const rnnk_fwd_io *io, size_t n0, size_t n1) {
  const size_t S = (size_t)rnn->S, H = (size_t)rnn->H;
  rnnk_fwd_io r = *io;
  r.N = (int)(n1 - n0);
  r.x = io->x + n0 * io->x_row_stride;
  r.lengths = io->lengths ? io->lengths + n0 : NULL;
  r.y = io->y ? io->y + n0 * io->y_row_stride : NULL;
  r.h0 = io->h0 ? io->h0 + n0 * S : NULL, r.hT = io->hT ? io->hT + n0 * S : NULL;
  r.c0 = io->c0 ? io->c0 + n0 * H : NULL, r.cT = io->cT ? io->cT + n0 * H : NULL;
  r.state_rows = io->state_rows ? io->state_rows : (size_t)io->N;
  return r;
}

/* Slice tid, or every slice when the pool runs the job inline (nth = 1). */
static void run_rows(void *vctx, int tid, int nth) {
  rows_ctx *r = vctx;
  rnnk_rnn view = *r->rnn; /* the weights of this worker's NUMA node */
  view.layers = rnnk_replicas_layers(r->rep, r->rnn, rnnk_pool_node_of(r->pool, tid));
  for (int i = tid; i < r->slices; i += nth) {
    const size_t n0 = r->bound[i], n1 = r->bound[i + 1];
    if (!r->block[i]) continue;
    rnnk_fwd_io slice = row_slice(r->rnn, r->io, n0, n1);
    slice.scratch = r->block[i] + 16;
    r->status[i] = rnnk_forward_rows(&view, &slice, NULL);
  }
}

rnnk_status rnnk_forward_row_split(const rnnk_rnn *rnn, const rnnk_fwd_io *io, rnnk_pool *pool) {
  enum { ON_STACK = 64 }; /* a streaming step allocates nothing for pools up to this size */
  const int nth = rnnk_pool_size(pool);
  float *blocks[ON_STACK] = {0};
  rnnk_status statuses[ON_STACK] = {0};
  size_t bounds[ON_STACK + 1];
  const bool heap = nth > ON_STACK;
  size_t *bound = heap ? malloc(((size_t)nth + 1) * sizeof *bound) : bounds;
  rows_ctx r = {.rnn = rnn, .io = io, .pool = pool, .slices = nth, .bound = bound,
                .block = heap ? calloc((size_t)nth, sizeof(float *)) : blocks,
                .status = heap ? calloc((size_t)nth, sizeof(rnnk_status)) : statuses};
  rnnk_status s = r.block && r.status && bound ? RNNK_OK
                                               : rnnk_fail(RNNK_ENOMEM, "out of memory for %d row slices", nth);
  if (!s) rnnk_row_bounds(io, nth, bound);
  for (int tid = 0; tid < nth && !s; tid++) {
    const size_t n0 = bound[tid], n1 = bound[tid + 1];
    size_t parts[N_PARTS], Tc, total;
    if (n0 == n1) continue;
    const rnnk_fwd_io slice = row_slice(rnn, io, n0, n1);
    const int needs = scratch_needs(&slice, (size_t)rnn->cfg.input_size);
    if (!scratch_parts(rnn, (size_t)io->T, n1 - n0, io->time_chunk, needs, parts, &Tc, &total))
      s = rnnk_fail(RNNK_ENOMEM, "scratch for T=%d N=%zu overflows size_t", io->T, n1 - n0);
    else if (!(r.block[tid] = scratch_take(rnn, total)))
      s = rnnk_fail(RNNK_ENOMEM, "out of memory for %zu floats of scratch", total);
  }
  if (!s) {
    rnnk_replicas *rep = rnnk_replicas_acquire(rnn, pool);
    r.rep = rep;
    rnnk_pool_run(pool, run_rows, &r, rnn->cfg.flush_to_zero);
    rnnk_replicas_release(rnn, rep);
    for (int tid = 0; tid < nth && !s; tid++) s = r.status[tid];
  }
  for (int tid = 0; r.block && tid < nth; tid++)
    if (r.block[tid]) scratch_give(rnn, r.block[tid]);
  if (heap) free(r.block), free(r.status), free(bound);
  return s;
}

/* Checks shared by forward and forward_many. */
rnnk_status rnnk_check_ready(const rnnk_rnn *rnn) {
  for (int l = 0; l < rnn->cfg.num_layers; l++)
    for (int d = 0; d < rnn->D; d++)
      if (!rnn->layers[l * rnn->D + d].set)
        return rnnk_fail(RNNK_ESTATE, "weights of layer %d direction %d are not set", l, d);
  return RNNK_OK;
}

/* The per-call choices for N rows: whether to split the call over the
 * attached pool (by hidden units or by rows), the time chunk of the input
 * GEMM and the step's k-chunk size. From the tune cache entry of this
 * batch and thread count if there is one, else the defaults
 * (rnnk_split_choose). A network created
 * with explicit tiles (a tuner candidate) runs them as given: an entry for
 * its own key must not turn every candidate into the winner of an earlier
 * tuning. Never a repack. */
rnnk_call_plan rnnk_plan(const rnnk_rnn *rnn, int N) { return rnnk_plan_with(rnn, N, rnn->pool); }

rnnk_call_plan rnnk_plan_with(const rnnk_rnn *rnn, int N, rnnk_pool *pool) {
  rnnk_call_plan plan = {.pool = NULL, .time_chunk = rnn->tiles.time_chunk, .k_block = rnn->tiles.k_block};
  const int threads = pool ? rnnk_pool_size(pool) : 1;
  int split; /* RNNK_SPLIT_* */
  rnnk_tune_key k = rnnk_tiles_key(rnn->isa, &rnn->cfg, N, threads);
  rnnk_tune_value v;
  if (rnn->tiles_given) {
    split = rnn->tiles.split;
  } else if (rnnk_tune_cache_lookup(&k, &v) == RNNK_OK) {
    if (v.time_chunk > 0) plan.time_chunk = v.time_chunk;
    if (v.k_block > 0) plan.k_block = v.k_block;
    split = v.split;
  } else {
    split = rnn->tiles.split ? rnnk_split_choose(&rnn->cfg, rnn->tiles.unit, N, threads) : RNNK_SPLIT_NONE;
  }
  if (threads >= 2 && split != RNNK_SPLIT_NONE) plan.pool = pool, plan.rows = split == RNNK_SPLIT_ROWS;
  return plan;
}

rnnk_status rnnk_forward_planned(const rnnk_rnn *rnn, const rnnk_fwd_io *io, rnnk_call_plan plan) {
  return plan.rows ? rnnk_forward_row_split(rnn, io, plan.pool) : rnnk_forward_rows(rnn, io, plan.pool);
}

RNNK_API rnnk_status rnnk_rnn_forward(const rnnk_rnn *rnn, int T, int N, const float *x, const int *lengths,
                                      const float *h0, const float *c0, float *y, float *hT, float *cT) {
  rnnk_clear_error();
  if (!rnn) return rnnk_fail(RNNK_EINVAL, "rnn is NULL");
  if (T < 1) return rnnk_fail(RNNK_EINVAL, "T = %d: must be >= 1", T);
  if (N < 1) return rnnk_fail(RNNK_EINVAL, "N = %d: must be >= 1", N);
  if (!x) return rnnk_fail(RNNK_EINVAL, "x is NULL");
  const rnnk_config *c = &rnn->cfg;
  if (c->cell != RNNK_LSTM && (c0 || cT))
    return rnnk_fail(RNNK_EINVAL, "%s given but only LSTM has a cell state", c0 ? "c0" : "cT");
  size_t tn, tmp;
  if (!rnnk_mul_ok((size_t)T, (size_t)N, &tn) || !rnnk_mul_ok(tn, (size_t)c->input_size, &tmp) ||
      !rnnk_mul_ok(tn, (size_t)rnn->out_width, &tmp) || !rnnk_mul_ok(tmp, sizeof(float), &tmp))
    return rnnk_fail(RNNK_EINVAL, "T = %d x N = %d: tensor sizes overflow size_t", T, N);
  if (lengths)
    for (int n = 0; n < N; n++)
      if (lengths[n] < 0 || lengths[n] > T)
        return rnnk_fail(RNNK_EINVAL, "lengths[%d] = %d: must be in 0..T (%d)", n, lengths[n], T);
  rnnk_status s = rnnk_check_ready(rnn);
  if (s) return s;
  const size_t I = (size_t)c->input_size, W = (size_t)rnn->out_width;
  rnnk_fwd_io io = {.T = T, .N = N, .x = x, .lengths = lengths, .h0 = h0, .c0 = c0, .y = y, .hT = hT, .cT = cT};
  if (c->batch_first) {
    io.x_step_stride = I, io.x_row_stride = (size_t)T * I;
    io.y_step_stride = W, io.y_row_stride = (size_t)T * W;
  } else {
    io.x_step_stride = (size_t)N * I, io.x_row_stride = I;
    io.y_step_stride = (size_t)N * W, io.y_row_stride = W;
  }
  const rnnk_call_plan plan = rnnk_plan(rnn, N);
  io.time_chunk = plan.time_chunk;
  io.k_block = plan.k_block;
  return rnnk_forward_planned(rnn, &io, plan);
}
