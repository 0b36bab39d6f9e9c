/* Per-NUMA-node weight copies (src/replicas.c) on a pretend two-node
 * machine: hwloc's HWLOC_SYNTHETIC topology "two packages, one NUMA node,
 * one core, one PU each" over this host's CPUs 0 and 1. Binding still goes
 * to the real CPUs (the pool loads topologies as this system's), so the
 * pool is pinned and sees two nodes; the memory binding of node 1 fails on
 * a one-node host and its copy is placed by first touch instead.
 *
 * Checks: the pool's node map; forward_many and the split forward on the
 * copies give the bits of one thread; the copies are cached, and rebuilt
 * when the weights change; a one-node pool makes no copies. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "src/internal.h"
#include "tests/common.h"
#include "tests/ref_double.h"
#include "threads/pool.h"

#define SYNTHETIC "pack:2 numa:1 core:1 pu:1"
enum { T = 7, NSEQ = 5 };

static void leak_check_fini(void) { test_leak_check(); }
TestSuite(numa, .fini = leak_check_fini);

/* A pinned pool of two workers on the synthetic two-node topology; skips
 * (saying why) where CPUs 0 and 1 are not both ours to bind to. */
static rnnk_pool *two_node_pool(void) {
  setenv("HWLOC_SYNTHETIC", SYNTHETIC, 1);
  rnnk_pool *pool = NULL;
  cr_assert_eq(rnnk_pool_create(2, RNNK_PIN_COMPACT, &pool), RNNK_OK, "%s", rnnk_last_error());
  unsetenv("HWLOC_SYNTHETIC");
  if (!rnnk_pool_pinned(pool)) {
    rnnk_pool_destroy(pool);
    cr_skip_test("cannot bind threads to CPUs 0 and 1 on this host");
  }
  return pool;
}

/* LSTM with peepholes and projection, 2 layers, bidirectional (every LSTM
 * array), or GRU with reset before the product (w_hh_n, b_rn). */
static rnnk_rnn *make_net(bool lstm, int H) {
  rnnk_config cfg;
  rnnk_config_init(&cfg, lstm ? RNNK_LSTM : RNNK_GRU, 9, H);
  cfg.num_layers = 2;
  cfg.direction = RNNK_BIDIR_CONCAT;
  if (lstm) {
    cfg.peephole = true;
    cfg.proj_size = H / 2;
  } else {
    cfg.linear_before_reset = false;
  }
  rnnk_rnn *rnn = NULL;
  cr_assert_eq(rnnk_rnn_create(&cfg, &rnn), RNNK_OK, "%s", rnnk_last_error());
  return rnn;
}

/* Random weights from seed into every layer and direction. */
static void set_all(rnnk_rnn *rnn, uint64_t seed) {
  cr_assert_eq(ref_net_set_random(rnn, &rnn->cfg, seed), RNNK_OK, "%s", rnnk_last_error());
}

/* y of forward_many over NSEQ sequences of lengths 1..T, concatenated. */
static float *run_many(const rnnk_rnn *rnn, rnnk_pool *pool, const float *x, size_t y_step) {
  float *y = calloc((size_t)NSEQ * T * y_step, sizeof(float));
  rnnk_sequence seqs[NSEQ];
  for (int i = 0; i < NSEQ; i++)
    seqs[i] = (rnnk_sequence){.T = 1 + (i * 3) % T, .x = x + (size_t)i * T * 9, .y = y + (size_t)i * T * y_step};
  cr_assert_eq(rnnk_rnn_forward_many(rnn, pool, NSEQ, seqs), RNNK_OK, "%s", rnnk_last_error());
  return y;
}

Test(numa, pool_sees_two_nodes) {
  rnnk_pool *pool = two_node_pool();
  cr_expect_eq(rnnk_pool_nodes(pool), 2);
  cr_expect_eq(rnnk_pool_node_of(pool, 0), 0);
  cr_expect_eq(rnnk_pool_node_of(pool, 1), 1);
  rnnk_pool_destroy(pool);
}

/* Every node's copy holds the bits of every packed array of the network. */
static void check_copies(const rnnk_rnn *rnn, rnnk_pool *pool) {
  rnnk_replicas *r = rnnk_replicas_acquire(rnn, pool);
  cr_assert(r != NULL, "no copies for a two-node pool");
  const int nl = rnn->cfg.num_layers * rnn->D;
  for (int m = 0; m < 2; m++)
    for (int i = 0; i < nl; i++) {
      rnnk_layer a = rnn->layers[i], b = rnnk_replicas_layers(r, rnn, m)[i];
      rnnk_layer_part pa[RNNK_LAYER_PARTS], pb[RNNK_LAYER_PARTS];
      rnnk_layer_parts(rnn, &a, a.K, pa);
      rnnk_layer_parts(rnn, &b, b.K, pb);
      for (int k = 0; k < RNNK_LAYER_PARTS; k++) {
        if (!pa[k].n) continue;
        cr_expect(*pa[k].p != *pb[k].p, "node %d layer %d part %d is not a copy", m, i, k);
        cr_expect(memcmp(*pa[k].p, *pb[k].p, pa[k].n * sizeof(float)) == 0, "node %d layer %d part %d differs", m,
                  i, k);
      }
    }
  rnnk_replicas_release(rnn, r);
}

static void check_many(bool lstm) {
  rnnk_pool *pool = two_node_pool(), *one = NULL;
  cr_assert_eq(rnnk_pool_create(1, RNNK_PIN_NONE, &one), RNNK_OK);
  const int H = 24;
  rnnk_rnn *rnn = make_net(lstm, H);
  set_all(rnn, 11);
  const size_t y_step = 2 * (size_t)(lstm ? H / 2 : H), ny = (size_t)NSEQ * T * y_step;
  float x[NSEQ * T * 9];
  test_rng rng = {5};
  test_fill(&rng, x, sizeof x / sizeof x[0], -1.0f, 1.0f);

  float *ref = run_many(rnn, one, x, y_step);
  cr_expect_eq(rnnk_replicas_cached(rnn), 0, "a one-thread pool made copies");
  for (int rep = 0; rep < 2; rep++) { /* building the copies, then the cached ones */
    float *got = run_many(rnn, pool, x, y_step);
    cr_expect_eq(rnnk_replicas_cached(rnn), 2, "no copies cached for a two-node pool");
    cr_expect(memcmp(ref, got, ny * sizeof(float)) == 0, "run %d on two nodes differs from one thread", rep);
    free(got);
  }
  free(ref);

  /* New weights: the cached copies are stale and must be rebuilt. */
  set_all(rnn, 99);
  ref = run_many(rnn, one, x, y_step);
  float *got = run_many(rnn, pool, x, y_step);
  cr_expect(memcmp(ref, got, ny * sizeof(float)) == 0, "copies of the old weights were used");
  free(got), free(ref);
  check_copies(rnn, pool);
  rnnk_rnn_destroy(rnn);
  rnnk_pool_destroy(one);
  rnnk_pool_destroy(pool);
}

Test(numa, forward_many_lstm) { check_many(true); }
Test(numa, forward_many_gru) { check_many(false); }

/* One sequence split over the two nodes' workers (the driver called with
 * the split pool directly, whatever the tune cache would choose). */
Test(numa, split_forward) {
  rnnk_pool *pool = two_node_pool();
  const int H = 64, N = 3;
  rnnk_rnn *rnn = make_net(true, H);
  set_all(rnn, 3);
  float x[T * N * 9], y1[T * N * H], y2[T * N * H];
  test_rng rng = {8};
  test_fill(&rng, x, sizeof x / sizeof x[0], -1.0f, 1.0f);
  rnnk_fwd_io io = {.T = T, .N = N, .x = x, .x_step_stride = N * 9, .x_row_stride = 9,
                    .y = y1, .y_step_stride = N * H, .y_row_stride = H};
  cr_assert_eq(rnnk_forward_rows(rnn, &io, NULL), RNNK_OK);
  io.y = y2;
  cr_assert_eq(rnnk_forward_rows(rnn, &io, pool), RNNK_OK);
  cr_expect_eq(rnnk_replicas_cached(rnn), 2);
  cr_expect(memcmp(y1, y2, sizeof y1) == 0, "split over two nodes differs from one thread");
  rnnk_rnn_destroy(rnn);
  rnnk_pool_destroy(pool);
}

/* The real topology of a one-node host: no copies. */
Test(numa, one_node_makes_no_copies) {
  rnnk_pool *pool = NULL;
  cr_assert_eq(rnnk_pool_create(2, RNNK_PIN_COMPACT, &pool), RNNK_OK);
  if (rnnk_pool_nodes(pool) > 1) {
    rnnk_pool_destroy(pool);
    cr_skip_test("this host has several NUMA nodes");
  }
  rnnk_rnn *rnn = make_net(false, 16);
  set_all(rnn, 1);
  float x[NSEQ * T * 9] = {0};
  free(run_many(rnn, pool, x, 32));
  cr_expect_eq(rnnk_replicas_cached(rnn), 0);
  rnnk_rnn_destroy(rnn);
  rnnk_pool_destroy(pool);
}
