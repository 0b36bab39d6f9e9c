/* Streaming steps, concurrent callers, forward_many and pools: all give the
 * bits of one rnnk_rnn_forward call. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/internal.h" /* RNNK_SPLIT_* */
#include "tests/common.h"
#include "tests/ref_double.h"

TestSuite(step_threads, .fini = test_leak_check);

/* Cell variants: elman, jordan, lstm, lstm+peephole+proj, gru lbr 0, gru lbr 1. */
#define N_VARIANTS 6
static rnnk_config variant(int v, int I, int H, int L) {
  static const rnnk_cell cells[N_VARIANTS] = {RNNK_ELMAN, RNNK_JORDAN, RNNK_LSTM, RNNK_LSTM, RNNK_GRU, RNNK_GRU};
  rnnk_config cfg;
  rnnk_config_init(&cfg, cells[v], I, H);
  cfg.num_layers = L;
  if (v == 1) cfg.output_size = 5;
  if (v == 3) cfg.peephole = true, cfg.proj_size = 3;
  cfg.linear_before_reset = v == 5;
  return cfg;
}

static rnnk_rnn *build(const rnnk_config *cfg, uint64_t seed) {
  rnnk_rnn *rnn = NULL;
  cr_assert_eq(ref_net_make(cfg, seed, &rnn), RNNK_OK, "%s", rnnk_last_error());
  return rnn;
}

Test(step_threads, step_equals_forward) {
  rnnk_isa isas[4];
  const int nisa = test_isas(isas);
  for (int ii = 0; ii < nisa; ii++)
    for (int v = 0; v < N_VARIANTS; v++)
      for (int L = 1; L <= 3; L++)
        for (int ni = 0; ni < 2; ni++)
          for (int rev = 0; rev < 2; rev++) {
            const int N = ni ? 4 : 1, T = 6, I = 7, H = 13;
            rnnk_config cfg = variant(v, I, H, L);
            cfg.isa = isas[ii];
            cfg.direction = rev ? RNNK_REVERSE : RNNK_FORWARD;
            const uint64_t seed = (uint64_t)(v * 100 + L * 10 + ni * 2 + rev);
            rnnk_rnn *rnn = build(&cfg, seed);
            const int S = ref_carried(&cfg), W = ref_out_width(&cfg);
            const bool lstm = cfg.cell == RNNK_LSTM;
            const size_t nh = (size_t)L * N * S, nc = (size_t)L * N * H, ny = (size_t)T * N * W;
            float *x = ref_rand_floats(seed + 1, (size_t)T * N * I, -1, 1);
            float *h0 = ref_rand_floats(seed + 2, nh, -1, 1), *c0 = ref_rand_floats(seed + 3, nc, -1, 1);
            float *y = malloc(ny * 4), *hT = malloc(nh * 4), *cT = malloc(nc * 4);
            float *ys = malloc(ny * 4), *hs = malloc(nh * 4), *cs = malloc(nc * 4);
            cr_assert_eq(rnnk_rnn_forward(rnn, T, N, x, NULL, h0, lstm ? c0 : NULL, y, hT, lstm ? cT : NULL), RNNK_OK);
            rnnk_state *st;
            cr_assert_eq(rnnk_state_create(rnn, N, &st), RNNK_OK);
            cr_assert_eq(rnnk_state_set(st, h0, lstm ? c0 : NULL), RNNK_OK);
            for (int s = 0; s < T; s++) { /* a reverse network steps in the order given */
              const int t = rev ? T - 1 - s : s;
              cr_assert_eq(rnnk_rnn_step(rnn, st, x + (size_t)t * N * I, ys + (size_t)t * N * W), RNNK_OK);
            }
            cr_assert_eq(rnnk_state_get(st, hs, lstm ? cs : NULL), RNNK_OK);
            cr_expect_eq(memcmp(y, ys, ny * 4), 0, "[%s] variant %d L=%d N=%d rev=%d: step y != forward y",
                         rnnk_isa_name(isas[ii]), v, L, N, rev);
            cr_expect_eq(memcmp(hT, hs, nh * 4), 0, "[%s] variant %d L=%d N=%d rev=%d: step h != forward hT",
                         rnnk_isa_name(isas[ii]), v, L, N, rev);
            if (lstm)
              cr_expect_eq(memcmp(cT, cs, nc * 4), 0, "[%s] variant %d L=%d N=%d rev=%d: step c != forward cT",
                           rnnk_isa_name(isas[ii]), v, L, N, rev);
            rnnk_state_destroy(st);
            free(x), free(h0), free(c0), free(y), free(hT), free(cT), free(ys), free(hs), free(cs);
            rnnk_rnn_destroy(rnn);
          }
}

/* reset(row) and set_row(row) touch only that row, and rows stay independent. */
Test(step_threads, reset_and_set_row) {
  for (int v = 0; v < N_VARIANTS; v++) {
    const int N = 4, I = 5, H = 7, L = 2;
    rnnk_config cfg = variant(v, I, H, L);
    rnnk_rnn *rnn = build(&cfg, 300 + (uint64_t)v);
    const int S = ref_carried(&cfg), W = ref_out_width(&cfg);
    const bool lstm = cfg.cell == RNNK_LSTM;
    const size_t nh = (size_t)L * N * S, nc = (size_t)L * N * H;
    float *x = ref_rand_floats(310 + (uint64_t)v, (size_t)4 * N * I, -1, 1);
    rnnk_state *a, *b;
    cr_assert_eq(rnnk_state_create(rnn, N, &a), RNNK_OK);
    cr_assert_eq(rnnk_state_create(rnn, N, &b), RNNK_OK);
    for (int t = 0; t < 3; t++) {
      cr_assert_eq(rnnk_rnn_step(rnn, a, x + (size_t)t * N * I, NULL), RNNK_OK);
      cr_assert_eq(rnnk_rnn_step(rnn, b, x + (size_t)t * N * I, NULL), RNNK_OK);
    }
    float *h1 = malloc(nh * 4), *c1 = malloc(nc * 4), *h2 = malloc(nh * 4), *c2 = malloc(nc * 4);
    cr_assert_eq(rnnk_state_get(b, h1, lstm ? c1 : NULL), RNNK_OK);
    cr_assert_eq(rnnk_state_reset(b, 2), RNNK_OK);
    cr_assert_eq(rnnk_state_get(b, h2, lstm ? c2 : NULL), RNNK_OK);
    for (int l = 0; l < L; l++)
      for (int n = 0; n < N; n++) {
        const float *p1 = h1 + ((size_t)l * N + n) * S, *p2 = h2 + ((size_t)l * N + n) * S;
        for (int q = 0; q < S; q++) {
          if (n == 2) cr_expect_eq(p2[q], 0.0f, "variant %d: reset row 2 not zero", v);
          else cr_expect_eq(p2[q], p1[q], "variant %d: reset(2) changed row %d", v, n);
        }
        if (lstm)
          for (int q = 0; q < H; q++) {
            const float c_1 = c1[((size_t)l * N + n) * H + q], c_2 = c2[((size_t)l * N + n) * H + q];
            if (n == 2) cr_expect_eq(c_2, 0.0f);
            else cr_expect_eq(c_2, c_1);
          }
      }
    /* set_row(1): row 1 gets exactly the given values, others unchanged */
    float *hr = ref_rand_floats(320, (size_t)L * S, -1, 1), *cr_ = ref_rand_floats(321, (size_t)L * H, -1, 1);
    cr_assert_eq(rnnk_state_set_row(b, 1, hr, lstm ? cr_ : NULL), RNNK_OK);
    cr_assert_eq(rnnk_state_get(b, h1, lstm ? c1 : NULL), RNNK_OK);
    for (int l = 0; l < L; l++)
      for (int n = 0; n < N; n++) {
        const float *want = n == 1 ? hr + (size_t)l * S : h2 + ((size_t)l * N + n) * S;
        cr_expect_eq(memcmp(h1 + ((size_t)l * N + n) * S, want, (size_t)S * 4), 0, "variant %d: set_row h row %d", v, n);
        if (lstm) {
          const float *wc = n == 1 ? cr_ + (size_t)l * H : c2 + ((size_t)l * N + n) * H;
          cr_expect_eq(memcmp(c1 + ((size_t)l * N + n) * H, wc, (size_t)H * 4), 0, "variant %d: set_row c row %d", v, n);
        }
      }
    /* one more step: rows 0 and 3 give the same bits in both states */
    float *ya = malloc((size_t)N * W * 4), *yb = malloc((size_t)N * W * 4);
    cr_assert_eq(rnnk_rnn_step(rnn, a, x + (size_t)3 * N * I, ya), RNNK_OK);
    cr_assert_eq(rnnk_rnn_step(rnn, b, x + (size_t)3 * N * I, yb), RNNK_OK);
    cr_expect_eq(memcmp(ya, yb, (size_t)W * 4), 0, "variant %d: row 0 affected by other rows' reset", v);
    cr_expect_eq(memcmp(ya + 3 * W, yb + 3 * W, (size_t)W * 4), 0, "variant %d: row 3 affected", v);
    cr_expect_neq(memcmp(ya + 2 * W, yb + 2 * W, (size_t)W * 4), 0, "variant %d: reset row 2 had no effect", v);
    /* reset(-1) zeroes everything */
    cr_assert_eq(rnnk_state_reset(b, -1), RNNK_OK);
    cr_assert_eq(rnnk_state_get(b, h1, lstm ? c1 : NULL), RNNK_OK);
    for (size_t i = 0; i < nh; i++) cr_expect_eq(h1[i], 0.0f);
    if (lstm)
      for (size_t i = 0; i < nc; i++) cr_expect_eq(c1[i], 0.0f);
    free(ya), free(yb), free(hr), free(cr_), free(h1), free(c1), free(h2), free(c2), free(x);
    rnnk_state_destroy(a);
    rnnk_state_destroy(b);
    rnnk_rnn_destroy(rnn);
  }
}

/* ---- concurrent forward on one network ---- */
enum { NTHREADS = 8, CALLS = 50, CT = 7, CN = 3, CI = 13, CH = 33 };
typedef struct th_arg {
  const rnnk_rnn *rnn;
  const float *x;      /* this thread's input */
  const float *want_y; /* single-caller result */
  size_t ny;
  int bad_status, bad_bits;
} th_arg;

static void *th_main(void *p) {
  th_arg *a = p;
  float *y = malloc(a->ny * 4);
  for (int i = 0; i < CALLS; i++) {
    memset(y, 0, a->ny * 4);
    if (rnnk_rnn_forward(a->rnn, CT, CN, a->x, NULL, NULL, NULL, y, NULL, NULL) != RNNK_OK) a->bad_status++;
    else if (memcmp(y, a->want_y, a->ny * 4)) a->bad_bits++;
  }
  free(y);
  return NULL;
}

Test(step_threads, concurrent_forward) {
  rnnk_config cfg = variant(2, CI, CH, 2);
  cfg.direction = RNNK_BIDIR_CONCAT;
  cfg.peephole = true;
  rnnk_rnn *rnn = build(&cfg, 400);
  const size_t ny = (size_t)CT * CN * ref_out_width(&cfg);
  float *x[NTHREADS], *want[NTHREADS];
  th_arg args[NTHREADS];
  for (int i = 0; i < NTHREADS; i++) {
    x[i] = ref_rand_floats(410 + (uint64_t)i, (size_t)CT * CN * CI, -1, 1);
    want[i] = malloc(ny * 4);
    cr_assert_eq(rnnk_rnn_forward(rnn, CT, CN, x[i], NULL, NULL, NULL, want[i], NULL, NULL), RNNK_OK);
    args[i] = (th_arg){.rnn = rnn, .x = x[i], .want_y = want[i], .ny = ny};
  }
  pthread_t th[NTHREADS];
  for (int i = 0; i < NTHREADS; i++) cr_assert_eq(pthread_create(&th[i], NULL, th_main, &args[i]), 0);
  for (int i = 0; i < NTHREADS; i++) pthread_join(th[i], NULL);
  for (int i = 0; i < NTHREADS; i++) {
    cr_expect_eq(args[i].bad_status, 0, "thread %d: %d failed calls", i, args[i].bad_status);
    cr_expect_eq(args[i].bad_bits, 0, "thread %d: %d calls with different bits", i, args[i].bad_bits);
    free(x[i]);
    free(want[i]);
  }
  rnnk_rnn_destroy(rnn);
}

/* ---- forward_many ---- */
enum { NSEQ = 9 };

/* forward_many over @p pool against forward per sequence, every variant. */
static void check_many(rnnk_pool *pool, const char *what) {
  for (int v = 0; v < N_VARIANTS; v++)
    for (int bidir = 0; bidir < 2; bidir++) {
      rnnk_config cfg = variant(v, 5, 17, 2);
      cfg.direction = bidir ? RNNK_BIDIR_SUM : RNNK_FORWARD;
      rnnk_rnn *rnn = build(&cfg, 500 + (uint64_t)v);
      const int S = ref_carried(&cfg), W = ref_out_width(&cfg), D = ref_dirs(&cfg), L = 2, H = 17;
      const bool lstm = cfg.cell == RNNK_LSTM;
      const size_t nh = (size_t)L * D * S, nc = (size_t)L * D * H;
      rnnk_sequence seqs[NSEQ];
      float *want_y[NSEQ], *want_h[NSEQ], *want_c[NSEQ];
      for (int i = 0; i < NSEQ; i++) {
        const int T = 1 + (i * 5) % 9;
        const size_t ny = (size_t)T * W;
        float *x = ref_rand_floats(600 + (uint64_t)i, (size_t)T * 5, -1, 1);
        float *h0 = i % 2 ? ref_rand_floats(700 + (uint64_t)i, nh, -1, 1) : NULL;
        float *c0 = i % 2 && lstm ? ref_rand_floats(800 + (uint64_t)i, nc, -1, 1) : NULL;
        /* some sequences leave out y or hT: a batch of them has no buffer for it */
        seqs[i] = (rnnk_sequence){.T = T, .x = x, .y = i % 3 == 2 ? NULL : malloc(ny * 4), .h0 = h0, .c0 = c0,
                                  .hT = i % 4 == 3 ? NULL : malloc(nh * 4), .cT = lstm ? malloc(nc * 4) : NULL,
                                  .status = RNNK_EINVAL};
        want_y[i] = malloc(ny * 4), want_h[i] = malloc(nh * 4), want_c[i] = lstm ? malloc(nc * 4) : NULL;
        cr_assert_eq(rnnk_rnn_forward(rnn, T, 1, x, NULL, h0, c0, want_y[i], want_h[i], want_c[i]), RNNK_OK);
      }
      cr_assert_eq(rnnk_rnn_forward_many(rnn, pool, NSEQ, seqs), RNNK_OK, "%s: %s", what, rnnk_last_error());
      for (int i = 0; i < NSEQ; i++) {
        cr_expect_eq(seqs[i].status, RNNK_OK);
        if (seqs[i].y)
          cr_expect_eq(memcmp(seqs[i].y, want_y[i], (size_t)seqs[i].T * W * 4), 0, "%s variant %d bidir %d seq %d: y",
                       what, v, bidir, i);
        if (seqs[i].hT) cr_expect_eq(memcmp(seqs[i].hT, want_h[i], nh * 4), 0, "%s variant %d seq %d: hT", what, v, i);
        if (lstm) cr_expect_eq(memcmp(seqs[i].cT, want_c[i], nc * 4), 0, "%s variant %d seq %d: cT", what, v, i);
        free((void *)seqs[i].x), free((void *)seqs[i].h0), free((void *)seqs[i].c0);
        free(seqs[i].y), free(seqs[i].hT), free(seqs[i].cT);
        free(want_y[i]), free(want_h[i]), free(want_c[i]);
      }
      rnnk_rnn_destroy(rnn);
    }
}

Test(step_threads, forward_many_no_pool) { check_many(NULL, "pool NULL"); }

Test(step_threads, forward_many_pools) {
  static const int sizes[] = {1, 2, 3, 7};
  for (int i = 0; i < 4; i++) {
    rnnk_pool *pool = NULL;
    const rnnk_status s = rnnk_pool_create(sizes[i], RNNK_PIN_NONE, &pool);
    cr_assert_eq(s, RNNK_OK, "rnnk_pool_create(%d): %s", sizes[i], rnnk_last_error());
    cr_expect_eq(rnnk_pool_size(pool), sizes[i]);
    char what[32];
    snprintf(what, sizeof what, "pool of %d", sizes[i]);
    check_many(pool, what);
    rnnk_pool_destroy(pool);
  }
}

/* One sequence given to forward_many with a pool runs split by hidden units
 * over that pool where the plan says so (here a tune cache entry), with the
 * bits of one thread. */
Test(step_threads, forward_many_one_sequence_splits) {
  enum { T = 9, I = 6, H = 70, L = 2 };
  rnnk_pool *pool;
  cr_assert_eq(rnnk_pool_create(3, RNNK_PIN_NONE, &pool), RNNK_OK, "%s", rnnk_last_error());
  for (int v = 0; v < N_VARIANTS; v++) {
    rnnk_config cfg = variant(v, I, H, L);
    cfg.direction = RNNK_BIDIR_CONCAT;
    rnnk_rnn *rnn = build(&cfg, 1100 + (uint64_t)v), *ref = build(&cfg, 1100 + (uint64_t)v);
    const int S = ref_carried(&cfg), W = ref_out_width(&cfg);
    const bool lstm = cfg.cell == RNNK_LSTM;
    const size_t ny = (size_t)T * W, nh = (size_t)L * 2 * S, nc = (size_t)L * 2 * H;
    float *x = ref_rand_floats(1101, (size_t)T * I, -1, 1), *h0 = ref_rand_floats(1102, nh, -1, 1);
    float *y0 = malloc(ny * 4), *h_0 = malloc(nh * 4), *c_0 = malloc(nc * 4);
    float *y = malloc(ny * 4), *h = malloc(nh * 4), *c = malloc(nc * 4);
    cr_assert_eq(rnnk_rnn_forward(ref, T, 1, x, NULL, h0, NULL, y0, h_0, lstm ? c_0 : NULL), RNNK_OK);
    cr_assert_eq(rnnk_rnn_set_pool(rnn, pool), RNNK_OK); /* only to key the entry to 3 threads */
    cr_assert(test_force_split(rnn, 1, false), "variant %d: no split", v);
    cr_assert_eq(rnnk_rnn_set_pool(rnn, NULL), RNNK_OK);
    const rnnk_call_plan plan = rnnk_plan_with(rnn, 1, pool);
    cr_assert(plan.pool == pool && !plan.rows, "variant %d: forward_many's plan does not split", v);
    rnnk_sequence seq = {.T = T, .x = x, .y = y, .h0 = h0, .hT = h, .cT = lstm ? c : NULL, .status = RNNK_EINVAL};
    cr_assert_eq(test_scratch_cached(rnn), 0);
    cr_assert_eq(rnnk_rnn_forward_many(rnn, pool, 1, &seq), RNNK_OK, "%s", rnnk_last_error());
    cr_expect_eq(seq.status, RNNK_OK);
    /* the split call took one scratch block from the network, as forward does */
    cr_expect_eq(test_scratch_cached(rnn), 1, "variant %d: forward_many did not run the split call", v);
    cr_expect_eq(memcmp(y, y0, ny * 4), 0, "variant %d: y differs", v);
    cr_expect_eq(memcmp(h, h_0, nh * 4), 0, "variant %d: hT differs", v);
    if (lstm) cr_expect_eq(memcmp(c, c_0, nc * 4), 0, "variant %d: cT differs", v);
    free(x), free(h0), free(y0), free(h_0), free(c_0), free(y), free(h), free(c);
    rnnk_rnn_destroy(rnn), rnnk_rnn_destroy(ref);
  }
  rnnk_pool_destroy(pool);
}

/* A few sequences whose W_hh overflows a core's L2 (6.5 MiB) run as one
 * ragged batch split by hidden units over the whole pool; each gets the
 * bits of forward alone, whichever of y, h0, c0, hT, cT it gives. */
Test(step_threads, forward_many_batches_over_pool) {
  enum { I = 16, H = 640, COUNT = 5, THREADS = 3 };
  static const int lengths[COUNT] = {4, 7, 1, 7, 5};
  rnnk_pool *pool;
  cr_assert_eq(rnnk_pool_create(THREADS, RNNK_PIN_NONE, &pool), RNNK_OK, "%s", rnnk_last_error());
  rnnk_config cfg;
  rnnk_config_init(&cfg, RNNK_LSTM, I, H);
  cfg.direction = RNNK_BIDIR_CONCAT;
  rnnk_rnn *rnn = build(&cfg, 1200);
  cr_assert(rnnk_many_one_batch(rnn, COUNT, THREADS, 7), "forward_many would not batch over the pool");
  cr_assert(rnnk_plan_with(rnn, COUNT, pool).pool == pool && !rnnk_plan_with(rnn, COUNT, pool).rows,
            "a batch of %d rows is not split by units", COUNT);
  const size_t W = 2 * H, nh = 2 * H;
  rnnk_sequence seqs[COUNT];
  float *want_y[COUNT], *want_h[COUNT], *want_c[COUNT];
  for (int i = 0; i < COUNT; i++) {
    const int T = lengths[i];
    float *x = ref_rand_floats(1201 + (uint64_t)i, (size_t)T * I, -1, 1);
    float *h0 = i % 2 ? ref_rand_floats(1211 + (uint64_t)i, nh, -1, 1) : NULL;
    float *c0 = i % 3 ? ref_rand_floats(1221 + (uint64_t)i, nh, -1, 1) : NULL;
    seqs[i] = (rnnk_sequence){.T = T, .x = x, .y = i == 1 ? NULL : malloc((size_t)T * W * 4), .h0 = h0, .c0 = c0,
                              .hT = i == 2 ? NULL : malloc(nh * 4), .cT = i == 3 ? NULL : malloc(nh * 4),
                              .status = RNNK_EINVAL};
    want_y[i] = malloc((size_t)T * W * 4), want_h[i] = malloc(nh * 4), want_c[i] = malloc(nh * 4);
    cr_assert_eq(rnnk_rnn_forward(rnn, T, 1, x, NULL, h0, c0, want_y[i], want_h[i], want_c[i]), RNNK_OK);
  }
  cr_assert_eq(rnnk_rnn_forward_many(rnn, pool, COUNT, seqs), RNNK_OK, "%s", rnnk_last_error());
  for (int i = 0; i < COUNT; i++) {
    cr_expect_eq(seqs[i].status, RNNK_OK);
    if (seqs[i].y) cr_expect_eq(memcmp(seqs[i].y, want_y[i], (size_t)seqs[i].T * W * 4), 0, "seq %d: y", i);
    if (seqs[i].hT) cr_expect_eq(memcmp(seqs[i].hT, want_h[i], nh * 4), 0, "seq %d: hT", i);
    if (seqs[i].cT) cr_expect_eq(memcmp(seqs[i].cT, want_c[i], nh * 4), 0, "seq %d: cT", i);
    free((void *)seqs[i].x), free((void *)seqs[i].h0), free((void *)seqs[i].c0);
    free(seqs[i].y), free(seqs[i].hT), free(seqs[i].cT), free(want_y[i]), free(want_h[i]), free(want_c[i]);
  }
  rnnk_rnn_destroy(rnn);
  rnnk_pool_destroy(pool);
}

/* A pool attached with set_pool splits hidden units; the bits do not change. */
Test(step_threads, split_pool_same_bits) {
  static const int sizes[] = {1, 2, 3, 7};
  rnnk_pool *pools[4];
  for (int i = 0; i < 4; i++)
    cr_assert_eq(rnnk_pool_create(sizes[i], RNNK_PIN_NONE, &pools[i]), RNNK_OK, "%s", rnnk_last_error());
  rnnk_isa isas[4];
  const int nisa = test_isas(isas);
  for (int ii = 0; ii < nisa; ii++)
    for (int v = 0; v < N_VARIANTS; v++) {
      const int T = 5, N = 3, I = 9, H = 100, L = 2;
      rnnk_config cfg = variant(v, I, H, L);
      cfg.isa = isas[ii];
      cfg.direction = RNNK_BIDIR_CONCAT;
      if (v == 1) cfg.output_size = 40;
      if (v == 3) cfg.proj_size = 37;
      rnnk_rnn *rnn = build(&cfg, 900 + (uint64_t)v);
      const int S = ref_carried(&cfg), W = ref_out_width(&cfg);
      const bool lstm = cfg.cell == RNNK_LSTM;
      const size_t ny = (size_t)T * N * W, nh = (size_t)L * 2 * N * S, nc = (size_t)L * 2 * N * H;
      float *x = ref_rand_floats(910, (size_t)T * N * I, -1, 1);
      float *h0 = ref_rand_floats(911, nh, -1, 1), *c0 = lstm ? ref_rand_floats(912, nc, -1, 1) : NULL;
      const int lengths[3] = {3, 5, 0};
      float *y0 = malloc(ny * 4), *h_0 = malloc(nh * 4), *c_0 = malloc(nc * 4);
      float *y = malloc(ny * 4), *h = malloc(nh * 4), *c = malloc(nc * 4);
      cr_assert_eq(rnnk_rnn_forward(rnn, T, N, x, lengths, h0, c0, y0, h_0, lstm ? c_0 : NULL), RNNK_OK);
      for (int p = 0; p < 4; p++) {
        cr_assert_eq(rnnk_rnn_set_pool(rnn, pools[p]), RNNK_OK);
        for (int rows = 0; rows < 2; rows++) { /* split by hidden units, then by rows */
          cr_assert(test_force_split(rnn, N, rows) == (sizes[p] > 1), "variant %d, %d threads: no split", v, sizes[p]);
          memset(y, 0xff, ny * 4);
          cr_assert_eq(rnnk_rnn_forward(rnn, T, N, x, lengths, h0, c0, y, h, lstm ? c : NULL), RNNK_OK);
          cr_expect_eq(memcmp(y, y0, ny * 4), 0, "[%s] variant %d, %d threads, rows %d: y differs",
                       rnnk_isa_name(isas[ii]), v, sizes[p], rows);
          cr_expect_eq(memcmp(h, h_0, nh * 4), 0, "[%s] variant %d, %d threads, rows %d: hT differs",
                       rnnk_isa_name(isas[ii]), v, sizes[p], rows);
          if (lstm)
            cr_expect_eq(memcmp(c, c_0, nc * 4), 0, "[%s] variant %d, %d threads, rows %d: cT differs",
                         rnnk_isa_name(isas[ii]), v, sizes[p], rows);
        }
      }
      cr_assert_eq(rnnk_rnn_set_pool(rnn, NULL), RNNK_OK);
      free(x), free(h0), free(c0), free(y0), free(h_0), free(c_0), free(y), free(h), free(c);
      rnnk_rnn_destroy(rnn);
    }
  /* streaming with a split pool: same bits as without */
  rnnk_config cfg = variant(2, 9, 100, 2);
  rnnk_rnn *rnn = build(&cfg, 950);
  float *x = ref_rand_floats(951, 4 * 2 * 9, -1, 1), y0[4 * 2 * 100], y1[4 * 2 * 100];
  for (int p = -1; p < 4; p++)
    for (int rows = 0; rows < 2; rows++) {
      cr_assert_eq(rnnk_rnn_set_pool(rnn, p < 0 ? NULL : pools[p]), RNNK_OK);
      cr_assert(test_force_split(rnn, 2, rows) == (p >= 0 && sizes[p] > 1), "streaming with a pool: no split");
      rnnk_state *st;
      cr_assert_eq(rnnk_state_create(rnn, 2, &st), RNNK_OK);
      for (int t = 0; t < 4; t++)
        cr_assert_eq(rnnk_rnn_step(rnn, st, x + t * 2 * 9, (p < 0 ? y0 : y1) + t * 2 * 100), RNNK_OK);
      if (p >= 0) cr_expect_eq(memcmp(y0, y1, sizeof y0), 0, "step with a pool of %d, rows %d differs", sizes[p], rows);
      rnnk_state_destroy(st);
    }
  cr_assert_eq(rnnk_rnn_set_pool(rnn, NULL), RNNK_OK);
  rnnk_rnn_destroy(rnn);
  free(x);
  for (int i = 0; i < 4; i++) rnnk_pool_destroy(pools[i]);
}

/* A row's results do not depend on the other rows of its batch: each row of
 * a ragged batch (lengths 0..T, so chunks pack their running rows for the
 * input GEMM) equals that row run alone, bit for bit, through two
 * bidirectional layers (packing in both directions and in the second
 * layer), on one thread and split over 3 by hidden units or by rows (the
 * sorted lengths make the row split share row-steps, not rows). */
Test(step_threads, ragged_batch_rows_equal_rows_alone) {
  enum { T = 23, N = 6, I = 7, H = 40, L = 2 };
  static const int length_sets[2][N] = {{T, 0, 3, T - 1, 1, 17}, {T, T - 1, 17, 3, 1, 0}};
  rnnk_pool *pool;
  cr_assert_eq(rnnk_pool_create(3, RNNK_PIN_NONE, &pool), RNNK_OK, "%s", rnnk_last_error());
  for (int v = 0; v < N_VARIANTS; v++) {
    rnnk_config cfg = variant(v, I, H, L);
    cfg.direction = RNNK_BIDIR_CONCAT;
    rnnk_rnn *rnn = build(&cfg, 990 + (uint64_t)v);
    const int S = ref_carried(&cfg), W = ref_out_width(&cfg);
    const bool lstm = cfg.cell == RNNK_LSTM;
    const size_t ny = (size_t)T * N * W, nh = (size_t)L * 2 * N * S, nc = (size_t)L * 2 * N * H;
    float *x = ref_rand_floats(991, (size_t)T * N * I, -1, 1);
    float *y = malloc(ny * 4), *h = malloc(nh * 4), *c = malloc(nc * 4);
    float *x1 = malloc((size_t)T * I * 4), *y1 = malloc((size_t)T * W * 4);
    float *h1 = malloc((size_t)L * 2 * S * 4), *c1 = malloc((size_t)L * 2 * H * 4);
    for (int run = 0; run < 6; run++) { /* each length set, with no split, by units, by rows */
      const int ls = run / 3, split = run % 3; /* RNNK_SPLIT_NONE, _UNITS, _ROWS */
      const int *lengths = length_sets[ls];
      cr_assert_eq(rnnk_rnn_set_pool(rnn, split ? pool : NULL), RNNK_OK);
      /* chunks of 4 steps, each packing its own running rows */
      cr_assert(test_force_plan(rnn, N, split, 4), "variant %d: plan", v);
      cr_assert_eq(rnnk_rnn_forward(rnn, T, N, x, lengths, NULL, NULL, y, h, lstm ? c : NULL), RNNK_OK, "%s",
                   rnnk_last_error());
      for (int n = 0; n < N; n++) {
        for (int t = 0; t < T; t++) memcpy(x1 + (size_t)t * I, x + ((size_t)t * N + n) * I, (size_t)I * 4);
        cr_assert_eq(rnnk_rnn_forward(rnn, T, 1, x1, &lengths[n], NULL, NULL, y1, h1, lstm ? c1 : NULL), RNNK_OK);
        for (int t = 0; t < T; t++)
          cr_expect_eq(memcmp(y1 + (size_t)t * W, y + ((size_t)t * N + n) * W, (size_t)W * 4), 0,
                       "variant %d, lengths %d, split %d: y[t=%d] of row %d (length %d) differs", v, ls, split, t, n,
                       lengths[n]);
        for (int ld = 0; ld < 2 * L; ld++) {
          cr_expect_eq(memcmp(h1 + (size_t)ld * S, h + ((size_t)ld * N + n) * S, (size_t)S * 4), 0,
                       "variant %d, lengths %d, split %d: hT[%d] of row %d differs", v, ls, split, ld, n);
          if (lstm)
            cr_expect_eq(memcmp(c1 + (size_t)ld * H, c + ((size_t)ld * N + n) * H, (size_t)H * 4), 0,
                         "variant %d, lengths %d, split %d: cT[%d] of row %d differs", v, ls, split, ld, n);
        }
      }
    }
    cr_assert_eq(rnnk_rnn_set_pool(rnn, NULL), RNNK_OK);
    free(x), free(y), free(h), free(c), free(x1), free(y1), free(h1), free(c1);
    rnnk_rnn_destroy(rnn);
  }
  rnnk_pool_destroy(pool);
}

/* The row split's slices: equal row counts while they hold about equal
 * row-steps; a batch sorted by length is cut where the row-steps are
 * halved instead (the first slice: the 5 longest rows, not 8). */
Test(step_threads, row_split_shares_row_steps) {
  enum { T = 50, N = 16 };
  int sorted[N], shuffled[N];
  for (int n = 0; n < N; n++) sorted[n] = T - 3 * n; /* 50, 47, ..., 5 */
  for (int n = 0; n < N; n++) shuffled[n] = sorted[(7 * n) % N];
  size_t b[4];
  rnnk_fwd_io io = {.T = T, .N = N};
  rnnk_row_bounds(&io, 2, b);
  cr_expect(b[0] == 0 && b[1] == 8 && b[2] == N, "all rows full: %zu %zu %zu", b[0], b[1], b[2]);
  io.lengths = shuffled;
  rnnk_row_bounds(&io, 2, b);
  cr_expect(b[1] == 8, "shuffled lengths (slices within 11%% of the mean): cut at %zu, not 8", b[1]);
  io.lengths = sorted;
  rnnk_row_bounds(&io, 2, b);
  cr_expect(b[0] == 0 && b[1] == 5 && b[2] == N, "sorted lengths: %zu %zu %zu, not 0 5 16", b[0], b[1], b[2]);
  rnnk_row_bounds(&io, 3, b);
  cr_expect(b[0] == 0 && b[1] < b[2] && b[2] < b[3] && b[3] == N && b[1] < 4,
            "3 slices of sorted lengths: %zu %zu %zu %zu", b[0], b[1], b[2], b[3]);
}

/* A row split over a pool bigger than the network's default scratch cache
 * keeps a block per thread between calls (set_pool grows the cache), and
 * its bits are one thread's. */
Test(step_threads, row_split_caches_scratch_per_thread) {
  enum { THREADS = 20, T = 4, N = 2 * THREADS, I = 7, H = 33 };
  rnnk_config cfg = variant(2, I, H, 1);
  rnnk_rnn *rnn = build(&cfg, 970);
  rnnk_pool *pool;
  cr_assert_eq(rnnk_pool_create(THREADS, RNNK_PIN_NONE, &pool), RNNK_OK, "%s", rnnk_last_error());
  float *x = ref_rand_floats(971, (size_t)T * N * I, -1, 1);
  float *y0 = malloc((size_t)T * N * H * 4), *y = malloc((size_t)T * N * H * 4);
  cr_assert_eq(rnnk_rnn_forward(rnn, T, N, x, NULL, NULL, NULL, y0, NULL, NULL), RNNK_OK);
  cr_assert_eq(rnnk_rnn_set_pool(rnn, pool), RNNK_OK);
  cr_assert(test_force_split(rnn, N, true), "no row split");
  for (int call = 0; call < 2; call++) {
    cr_assert_eq(rnnk_rnn_forward(rnn, T, N, x, NULL, NULL, NULL, y, NULL, NULL), RNNK_OK, "%s", rnnk_last_error());
    cr_expect_eq(memcmp(y, y0, (size_t)T * N * H * 4), 0, "call %d: y differs", call);
    cr_expect_eq(test_scratch_cached(rnn), THREADS, "call %d: %d scratch blocks cached, not one per thread", call,
                 test_scratch_cached(rnn));
  }
  cr_assert_eq(rnnk_rnn_set_pool(rnn, NULL), RNNK_OK);
  rnnk_pool_destroy(pool);
  rnnk_rnn_destroy(rnn);
  free(x), free(y0), free(y);
}

/* Flush-to-zero is a per-network option applied to every thread of a call
 * alike: denormal results become zero with it, stay denormal without it, a
 * split over a pool gives the same bits either way, and the caller's own
 * floating-point mode is untouched afterwards. */
Test(step_threads, flush_to_zero_on_every_thread) {
  float probe = 1e-30f;
  for (int ftz = 0; ftz < 2; ftz++) {
    rnnk_config cfg;
    rnnk_config_init(&cfg, RNNK_ELMAN, 1, 300);
    cfg.act[0] = RNNK_ACT_IDENTITY;
    cfg.flush_to_zero = ftz;
    rnnk_rnn *rnn;
    cr_assert_eq(rnnk_rnn_create(&cfg, &rnn), RNNK_OK);
    static float w_ih[300], w_hh[300 * 300];
    for (int i = 0; i < 300; i++) w_ih[i] = 1e-20f; /* x * w = 1e-40: a denormal */
    rnnk_weights w = {.w_ih = w_ih, .w_hh = w_hh};
    cr_assert_eq(rnnk_rnn_set_weights(rnn, 0, 0, RNNK_LAYOUT_PYTORCH, &w), RNNK_OK);
    const float x[2] = {1e-20f, 1e-20f};
    float y1[600], y2[600];
    cr_assert_eq(rnnk_rnn_forward(rnn, 2, 1, x, NULL, NULL, NULL, y1, NULL, NULL), RNNK_OK);
    cr_expect(ftz ? y1[0] == 0.0f : y1[0] > 0.0f && y1[0] < 1.2e-38f, "ftz=%d: y = %g", ftz, y1[0]);
    rnnk_pool *pool;
    cr_assert_eq(rnnk_pool_create(2, RNNK_PIN_NONE, &pool), RNNK_OK);
    rnnk_rnn_set_pool(rnn, pool);
    cr_assert(test_force_split(rnn, 1, false), "ftz=%d: no split", ftz);
    cr_assert_eq(rnnk_rnn_forward(rnn, 2, 1, x, NULL, NULL, NULL, y2, NULL, NULL), RNNK_OK);
    cr_expect(!memcmp(y1, y2, sizeof y1), "ftz=%d: the split over a pool changed the bits", ftz);
    rnnk_rnn_destroy(rnn);
    rnnk_pool_destroy(pool);
    /* the caller's mode is IEEE again: a denormal survives */
    volatile float d = probe;
    d = d * 1e-10f;
    cr_expect(d > 0.0f, "ftz=%d: the caller's denormals were left flushed", ftz);
  }
}
