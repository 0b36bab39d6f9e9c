/* Bad input to every public function: the right status, a message naming
 * the argument, and no output buffer touched. Misaligned buffers, NaN/Inf
 * propagation, status strings. */
#include <criterion/criterion.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/common.h"
#include "tests/ref_double.h"

/* C11 aligned_alloc wants a size that is a multiple of the alignment (ASan
 * enforces it). */
static void *alloc64(size_t bytes) { return aligned_alloc(64, (bytes + 63) & ~(size_t)63); }

/* Huge sizes must fail with ENOMEM, not abort: under ASan a failed giant
 * malloc aborts unless the allocator may return NULL. */
__attribute__((used)) const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }

TestSuite(errors, .fini = test_leak_check);

#define CANARY 0xA5

static void fill_canary(void *p, size_t n) { memset(p, CANARY, n); }

static bool is_canary(const void *p, size_t n) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++)
    if (b[i] != CANARY) return false;
  return true;
}

/* Expect @p call to return @p st with a message containing @p sub. */
#define EXPECT_FAIL(call, st, sub)                                                                            \
  do {                                                                                                        \
    const rnnk_status s_ = (call);                                                                            \
    cr_expect_eq(s_, (st), "%s: got %s (%s), want %s", #call, rnnk_strerror(s_), rnnk_last_error(),        \
                 rnnk_strerror(st));                                                                          \
    cr_expect(strstr(rnnk_last_error(), (sub)) != NULL, "%s: message \"%s\" does not name \"%s\"", #call,    \
              rnnk_last_error(), (sub));                                                                      \
  } while (0)

/* A network with random weights set (PyTorch layout). */
static rnnk_rnn *make_net(const rnnk_config *cfg, uint64_t seed) {
  rnnk_rnn *rnn = NULL;
  cr_assert_eq(ref_net_make(cfg, seed, &rnn), RNNK_OK, "%s", rnnk_last_error());
  return rnn;
}

Test(errors, strerror_distinct) {
  const char *s[8];
  for (int i = 0; i < 8; i++) {
    s[i] = rnnk_strerror((rnnk_status)i);
    cr_assert_not_null(s[i]);
    cr_expect_gt(strlen(s[i]), 0);
    for (int j = 0; j < i; j++) cr_expect_str_neq(s[i], s[j], "status %d and %d share \"%s\"", i, j, s[i]);
  }
  cr_expect_not_null(rnnk_strerror((rnnk_status)99));
  cr_expect_not_null(rnnk_last_error());
  cr_expect_not_null(rnnk_version());
}

Test(errors, create) {
  rnnk_rnn *const canary = (rnnk_rnn *)(uintptr_t)0xDEADBEE0u;
  rnnk_rnn *out = canary;
  rnnk_config good;
  rnnk_config_init(&good, RNNK_LSTM, 5, 7);
  EXPECT_FAIL(rnnk_rnn_create(NULL, &out), RNNK_EINVAL, "cfg");
  EXPECT_FAIL(rnnk_rnn_create(&good, NULL), RNNK_EINVAL, "out");
  rnnk_config_init(NULL, RNNK_LSTM, 1, 1); /* no crash */

  /* (field mutation, expected status, substring) as a table of configs */
  typedef struct bad {
    rnnk_config cfg;
    rnnk_status st;
    const char *sub;
  } bad;
  bad b[40];
  int nb = 0;
#define BAD(stmt, status, sub)         \
  do {                                 \
    rnnk_config c_ = good;             \
    rnnk_config *c = &c_;              \
    stmt;                              \
    b[nb++] = (bad){c_, status, sub};  \
  } while (0)
  BAD(c->cell = (rnnk_cell)99, RNNK_EINVAL, "cell");
  BAD(c->cell = (rnnk_cell)-1, RNNK_EINVAL, "cell");
  BAD(c->direction = (rnnk_direction)7, RNNK_EINVAL, "direction");
  BAD(c->input_size = 0, RNNK_EINVAL, "input_size");
  BAD(c->input_size = -3, RNNK_EINVAL, "input_size");
  BAD(c->hidden_size = 0, RNNK_EINVAL, "hidden_size");
  BAD(c->hidden_size = INT_MIN, RNNK_EINVAL, "hidden_size");
  BAD(c->hidden_size = INT_MAX, RNNK_EINVAL, "hidden_size");
  BAD(c->num_layers = 0, RNNK_EINVAL, "num_layers");
  BAD(c->num_layers = -1, RNNK_EINVAL, "num_layers");
  BAD(c->proj_size = -1, RNNK_EINVAL, "proj_size");
  BAD((c->cell = RNNK_GRU, c->proj_size = 3), RNNK_EINVAL, "proj_size");
  BAD(c->output_size = 3, RNNK_EINVAL, "output_size");
  BAD(c->cell = RNNK_JORDAN, RNNK_EINVAL, "output_size");
  BAD((c->cell = RNNK_JORDAN, c->output_size = -2), RNNK_EINVAL, "output_size");
  BAD((c->cell = RNNK_GRU, c->peephole = true), RNNK_EINVAL, "peephole");
  BAD((c->cell = RNNK_ELMAN, c->input_forget = true), RNNK_EINVAL, "input_forget");
  BAD(c->clip = -1.0f, RNNK_EINVAL, "clip");
  BAD(c->clip = NAN, RNNK_EINVAL, "clip");
  BAD(c->clip = INFINITY, RNNK_EINVAL, "clip");
  BAD(c->act[0] = (rnnk_activation)42, RNNK_EINVAL, "act");
  BAD(c->act[2] = (rnnk_activation)-1, RNNK_EINVAL, "act");
  BAD(c->out_act = (rnnk_activation)42, RNNK_EINVAL, "out_act");
  BAD(c->isa = (rnnk_isa)42, RNNK_EINVAL, "isa");
  BAD(c->weight_type = (rnnk_dtype)3, RNNK_ENOTSUP, "weight_type");
  const rnnk_isa all[] = {RNNK_ISA_SCALAR, RNNK_ISA_AVX2, RNNK_ISA_AVX512, RNNK_ISA_NEON};
  for (int i = 0; i < 4; i++)
    if (!rnnk_isa_supported(all[i])) BAD(c->isa = all[i], RNNK_ENOTSUP, "isa");
#undef BAD
  for (int i = 0; i < nb; i++) {
    out = canary;
    char desc[512];
    ref_describe(&b[i].cfg, desc, sizeof desc);
    const rnnk_status s = rnnk_rnn_create(&b[i].cfg, &out);
    cr_expect_eq(s, b[i].st, "case %d (%s): got %s (%s)", i, desc, rnnk_strerror(s), rnnk_last_error());
    cr_expect(strstr(rnnk_last_error(), b[i].sub), "case %d: \"%s\" does not name %s", i, rnnk_last_error(), b[i].sub);
    cr_expect_eq(out, canary, "case %d: out written on failure", i);
    if (s == RNNK_OK && out != canary) rnnk_rnn_destroy(out);
  }
  /* a good config still works, and resolves its defaults */
  cr_assert_eq(rnnk_rnn_create(&good, &out), RNNK_OK);
  rnnk_config got;
  cr_expect_eq(rnnk_rnn_config(out, &got), RNNK_OK);
  cr_expect_eq(got.act[0], RNNK_ACT_SIGMOID);
  EXPECT_FAIL(rnnk_rnn_config(NULL, &got), RNNK_EINVAL, "rnn");
  EXPECT_FAIL(rnnk_rnn_config(out, NULL), RNNK_EINVAL, "cfg");
  char buf[16];
  fill_canary(buf, sizeof buf);
  EXPECT_FAIL(rnnk_rnn_describe(NULL, buf, sizeof buf), RNNK_EINVAL, "rnn");
  cr_expect(is_canary(buf, sizeof buf));
  EXPECT_FAIL(rnnk_rnn_describe(out, NULL, 10), RNNK_EINVAL, "buf");
  EXPECT_FAIL(rnnk_rnn_describe(out, buf, 0), RNNK_EINVAL, "len");
  cr_expect(is_canary(buf, sizeof buf));
  cr_expect_eq(rnnk_rnn_describe(out, buf, sizeof buf), RNNK_OK); /* truncated, terminated */
  cr_expect_lt(strlen(buf), sizeof buf);
  cr_expect_eq(rnnk_rnn_output_size(NULL), 0);
  rnnk_rnn_destroy(out);
  rnnk_rnn_destroy(NULL);
}

/* Sizes whose products overflow or exhaust memory: a status, never a crash. */
Test(errors, create_huge) {
  static const rnnk_cell cells[] = {RNNK_ELMAN, RNNK_LSTM, RNNK_GRU};
  for (int i = 0; i < 3; i++) {
    rnnk_config cfg;
    rnnk_config_init(&cfg, cells[i], 1 << 20, 1 << 20);
    rnnk_rnn *const canary = (rnnk_rnn *)(uintptr_t)0xDEADBEE0u;
    rnnk_rnn *out = canary;
    rnnk_status s = rnnk_rnn_create(&cfg, &out);
    cr_expect(s == RNNK_ENOMEM || s == RNNK_EINVAL, "cell %d: %s (%s)", i, rnnk_strerror(s), rnnk_last_error());
    cr_expect_eq(out, canary);
    cr_expect_gt(strlen(rnnk_last_error()), 0);
    cfg.num_layers = 1024;
    cfg.direction = RNNK_BIDIR_CONCAT;
    s = rnnk_rnn_create(&cfg, &out);
    cr_expect(s == RNNK_ENOMEM || s == RNNK_EINVAL, "cell %d: %s", i, rnnk_strerror(s));
    cr_expect_eq(out, canary);
    cfg.hidden_size = (1 << 20) + 1;
    EXPECT_FAIL(rnnk_rnn_create(&cfg, &out), RNNK_EINVAL, "hidden_size");
  }
}

Test(errors, set_weights) {
  rnnk_config cfg;
  rnnk_config_init(&cfg, RNNK_LSTM, 3, 4);
  cfg.num_layers = 2;
  cfg.peephole = true;
  cfg.proj_size = 2;
  ref_net net;
  ref_net_random(&net, &cfg, 1, true);
  rnnk_rnn *rnn;
  cr_assert_eq(rnnk_rnn_create(&cfg, &rnn), RNNK_OK);
  rnnk_weights w = net.w[0];
  EXPECT_FAIL(rnnk_rnn_set_weights(NULL, 0, 0, RNNK_LAYOUT_PYTORCH, &w), RNNK_EINVAL, "rnn");
  EXPECT_FAIL(rnnk_rnn_set_weights(rnn, 0, 0, RNNK_LAYOUT_PYTORCH, NULL), RNNK_EINVAL, "w");
  EXPECT_FAIL(rnnk_rnn_set_weights(rnn, -1, 0, RNNK_LAYOUT_PYTORCH, &w), RNNK_EINVAL, "layer");
  EXPECT_FAIL(rnnk_rnn_set_weights(rnn, 2, 0, RNNK_LAYOUT_PYTORCH, &w), RNNK_EINVAL, "layer");
  EXPECT_FAIL(rnnk_rnn_set_weights(rnn, 0, 1, RNNK_LAYOUT_PYTORCH, &w), RNNK_EINVAL, "dir");
  EXPECT_FAIL(rnnk_rnn_set_weights(rnn, 0, -1, RNNK_LAYOUT_PYTORCH, &w), RNNK_EINVAL, "dir");
  EXPECT_FAIL(rnnk_rnn_set_weights(rnn, 0, 0, (rnnk_layout)7, &w), RNNK_EINVAL, "layout");
  w.w_ih = NULL;
  EXPECT_FAIL(rnnk_rnn_set_weights(rnn, 0, 0, RNNK_LAYOUT_PYTORCH, &w), RNNK_EINVAL, "w_ih");
  w = net.w[0], w.w_hh = NULL;
  EXPECT_FAIL(rnnk_rnn_set_weights(rnn, 0, 0, RNNK_LAYOUT_PYTORCH, &w), RNNK_EINVAL, "w_hh");
  w = net.w[0], w.peephole = NULL;
  EXPECT_FAIL(rnnk_rnn_set_weights(rnn, 0, 0, RNNK_LAYOUT_PYTORCH, &w), RNNK_EINVAL, "peephole");
  w = net.w[0], w.w_proj = NULL;
  EXPECT_FAIL(rnnk_rnn_set_weights(rnn, 0, 0, RNNK_LAYOUT_PYTORCH, &w), RNNK_EINVAL, "w_proj");
  w = net.w[0], w.w_out = net.w[0].w_ih;
  EXPECT_FAIL(rnnk_rnn_set_weights(rnn, 0, 0, RNNK_LAYOUT_PYTORCH, &w), RNNK_EINVAL, "w_out");
  w = net.w[0], w.b_out = net.w[0].b_ih;
  EXPECT_FAIL(rnnk_rnn_set_weights(rnn, 0, 0, RNNK_LAYOUT_PYTORCH, &w), RNNK_EINVAL, "b_out");
  w = net.w[0];
  EXPECT_FAIL(rnnk_rnn_set_weights(rnn, 0, 0, RNNK_LAYOUT_ONNX, &w), RNNK_EINVAL, "b_hh");
  EXPECT_FAIL(rnnk_rnn_set_weights(rnn, 0, 0, RNNK_LAYOUT_KERAS, &w), RNNK_EINVAL, "b_hh");

  /* weights not (all) set: ESTATE, outputs untouched */
  const int T = 3, N = 2;
  float x[3 * 2 * 3] = {0}, y[3 * 2 * 2], hT[2 * 2 * 2], cT[2 * 2 * 4];
  fill_canary(y, sizeof y), fill_canary(hT, sizeof hT), fill_canary(cT, sizeof cT);
  EXPECT_FAIL(rnnk_rnn_forward(rnn, T, N, x, NULL, NULL, NULL, y, hT, cT), RNNK_ESTATE, "weights");
  cr_assert_eq(rnnk_rnn_set_weights(rnn, 0, 0, RNNK_LAYOUT_PYTORCH, &net.w[0]), RNNK_OK);
  EXPECT_FAIL(rnnk_rnn_forward(rnn, T, N, x, NULL, NULL, NULL, y, hT, cT), RNNK_ESTATE, "layer 1");
  cr_expect(is_canary(y, sizeof y) && is_canary(hT, sizeof hT) && is_canary(cT, sizeof cT));
  rnnk_state *st = NULL;
  cr_assert_eq(rnnk_state_create(rnn, N, &st), RNNK_OK);
  EXPECT_FAIL(rnnk_rnn_step(rnn, st, x, y), RNNK_ESTATE, "weights");
  cr_expect(is_canary(y, sizeof y));
  rnnk_sequence seq = {.T = 2, .x = x, .y = y};
  EXPECT_FAIL(rnnk_rnn_forward_many(rnn, NULL, 1, &seq), RNNK_ESTATE, "weights");
  cr_expect(is_canary(y, sizeof y));
  cr_assert_eq(rnnk_rnn_set_weights(rnn, 1, 0, RNNK_LAYOUT_PYTORCH, &net.w[1]), RNNK_OK);

  /* a failed set_weights changes nothing */
  float y1[sizeof y / sizeof *y], y2[sizeof y / sizeof *y];
  for (int i = 0; i < 18; i++) x[i] = (float)i / 10.0f - 0.5f;
  cr_assert_eq(rnnk_rnn_forward(rnn, T, N, x, NULL, NULL, NULL, y1, NULL, NULL), RNNK_OK);
  w = net.w[1], w.peephole = NULL;
  EXPECT_FAIL(rnnk_rnn_set_weights(rnn, 1, 0, RNNK_LAYOUT_PYTORCH, &w), RNNK_EINVAL, "peephole");
  cr_assert_eq(rnnk_rnn_forward(rnn, T, N, x, NULL, NULL, NULL, y2, NULL, NULL), RNNK_OK);
  cr_expect_eq(memcmp(y1, y2, sizeof y1), 0);
  rnnk_state_destroy(st);
  rnnk_rnn_destroy(rnn);
  ref_net_free(&net);

  /* Jordan without V; bidirectional direction range */
  rnnk_config_init(&cfg, RNNK_JORDAN, 3, 4);
  cfg.output_size = 2;
  cfg.direction = RNNK_BIDIR_SUM;
  ref_net_random(&net, &cfg, 2, true);
  cr_assert_eq(rnnk_rnn_create(&cfg, &rnn), RNNK_OK);
  w = net.w[0], w.w_out = NULL;
  EXPECT_FAIL(rnnk_rnn_set_weights(rnn, 0, 0, RNNK_LAYOUT_PYTORCH, &w), RNNK_EINVAL, "w_out");
  EXPECT_FAIL(rnnk_rnn_set_weights(rnn, 0, 2, RNNK_LAYOUT_PYTORCH, &net.w[1]), RNNK_EINVAL, "dir");
  cr_expect_eq(rnnk_rnn_set_weights(rnn, 0, 1, RNNK_LAYOUT_PYTORCH, &net.w[1]), RNNK_OK);
  rnnk_rnn_destroy(rnn);
  ref_net_free(&net);

  /* peephole given to a network without peepholes */
  rnnk_config_init(&cfg, RNNK_LSTM, 3, 4);
  cfg.peephole = true;
  ref_net_random(&net, &cfg, 3, true);
  cfg.peephole = false;
  cr_assert_eq(rnnk_rnn_create(&cfg, &rnn), RNNK_OK);
  EXPECT_FAIL(rnnk_rnn_set_weights(rnn, 0, 0, RNNK_LAYOUT_PYTORCH, &net.w[0]), RNNK_EINVAL, "peephole");
  rnnk_rnn_destroy(rnn);
  ref_net_free(&net);
}

Test(errors, forward) {
  rnnk_config cfg;
  rnnk_config_init(&cfg, RNNK_GRU, 3, 4);
  rnnk_rnn *rnn = make_net(&cfg, 5);
  enum { T = 4, N = 2 };
  float x[T * N * 3] = {0}, y[T * N * 4], hT[N * 4], cT[N * 4], c0[N * 4] = {0};
  int lengths[N] = {4, 2};
#define FWD_FAIL(args, st, sub)                                                        \
  do {                                                                                 \
    fill_canary(y, sizeof y), fill_canary(hT, sizeof hT), fill_canary(cT, sizeof cT);  \
    EXPECT_FAIL(rnnk_rnn_forward args, st, sub);                                       \
    cr_expect(is_canary(y, sizeof y) && is_canary(hT, sizeof hT) && is_canary(cT, sizeof cT), \
              "%s wrote an output on failure", #args);                                 \
  } while (0)
  FWD_FAIL((NULL, T, N, x, NULL, NULL, NULL, y, hT, NULL), RNNK_EINVAL, "rnn");
  FWD_FAIL((rnn, 0, N, x, NULL, NULL, NULL, y, hT, NULL), RNNK_EINVAL, "T");
  FWD_FAIL((rnn, -5, N, x, NULL, NULL, NULL, y, hT, NULL), RNNK_EINVAL, "T");
  FWD_FAIL((rnn, T, 0, x, NULL, NULL, NULL, y, hT, NULL), RNNK_EINVAL, "N");
  FWD_FAIL((rnn, T, -1, x, NULL, NULL, NULL, y, hT, NULL), RNNK_EINVAL, "N");
  FWD_FAIL((rnn, T, N, NULL, NULL, NULL, NULL, y, hT, NULL), RNNK_EINVAL, "x");
  FWD_FAIL((rnn, T, N, x, NULL, NULL, c0, y, hT, NULL), RNNK_EINVAL, "c0");
  FWD_FAIL((rnn, T, N, x, NULL, NULL, NULL, y, hT, cT), RNNK_EINVAL, "cT");
  lengths[1] = -1;
  FWD_FAIL((rnn, T, N, x, lengths, NULL, NULL, y, hT, NULL), RNNK_EINVAL, "lengths[1]");
  lengths[1] = T + 1;
  FWD_FAIL((rnn, T, N, x, lengths, NULL, NULL, y, hT, NULL), RNNK_EINVAL, "lengths[1]");
  lengths[1] = INT_MIN;
  FWD_FAIL((rnn, T, N, x, lengths, NULL, NULL, y, hT, NULL), RNNK_EINVAL, "lengths[1]");
  /* Huge T x N, x never read: byte counts that overflow size_t are refused
   * (EINVAL); for a two-layer network, sizes whose inter-layer scratch
   * (2 x T*N*H floats, 2^58 bytes here) exceeds any address space fail
   * to allocate (ENOMEM) before anything is read or written. Sizes that
   * fit are the caller's to back with real buffers (a one-layer call of
   * T = 2^20, N = 2^20 may run: it needs no copy of x). */
  rnnk_config cfg2 = cfg;
  cfg2.num_layers = 2;
  rnnk_rnn *deep = make_net(&cfg2, 15);
  const int huge[][3] = {{INT_MAX, INT_MAX, 1}, {INT_MAX, INT_MAX, 2}, {INT_MAX, 1 << 22, 2}, {1 << 22, INT_MAX, 2}};
  for (int i = 0; i < 4; i++) {
    fill_canary(y, sizeof y), fill_canary(hT, sizeof hT);
    const rnnk_status s =
        rnnk_rnn_forward(huge[i][2] == 2 ? deep : rnn, huge[i][0], huge[i][1], x, NULL, NULL, NULL, y, hT, NULL);
    cr_expect(s == (i < 2 ? RNNK_EINVAL : RNNK_ENOMEM), "T=%d N=%d L=%d: %s (%s)", huge[i][0], huge[i][1], huge[i][2],
              rnnk_strerror(s), rnnk_last_error());
    cr_expect_gt(strlen(rnnk_last_error()), 0);
    cr_expect(is_canary(y, sizeof y) && is_canary(hT, sizeof hT));
  }
  rnnk_rnn_destroy(deep);
  /* the good call works */
  lengths[1] = 0;
  cr_expect_eq(rnnk_rnn_forward(rnn, T, N, x, lengths, NULL, NULL, y, hT, NULL), RNNK_OK);
  cr_expect_str_empty(rnnk_last_error());
  rnnk_rnn_destroy(rnn);
#undef FWD_FAIL
}

Test(errors, state) {
  rnnk_config cfg;
  rnnk_config_init(&cfg, RNNK_GRU, 3, 4);
  cfg.num_layers = 2;
  rnnk_rnn *rnn = make_net(&cfg, 6), *other = make_net(&cfg, 7);
  rnnk_state *const canary = (rnnk_state *)(uintptr_t)0xDEADBEE0u;
  rnnk_state *st = canary;
  EXPECT_FAIL(rnnk_state_create(NULL, 2, &st), RNNK_EINVAL, "rnn");
  EXPECT_FAIL(rnnk_state_create(rnn, 2, NULL), RNNK_EINVAL, "out");
  EXPECT_FAIL(rnnk_state_create(rnn, 0, &st), RNNK_EINVAL, "N");
  EXPECT_FAIL(rnnk_state_create(rnn, -4, &st), RNNK_EINVAL, "N");
  const rnnk_status hs = rnnk_state_create(rnn, INT_MAX, &st);
  cr_expect(hs == RNNK_ENOMEM || hs == RNNK_EINVAL, "N = INT_MAX: %s", rnnk_strerror(hs));
  cr_expect_eq(st, canary);
  rnnk_config bc = cfg;
  bc.direction = RNNK_BIDIR_CONCAT;
  rnnk_rnn *bi = make_net(&bc, 8);
  EXPECT_FAIL(rnnk_state_create(bi, 2, &st), RNNK_EINVAL, "bidirectional");
  cr_expect_eq(st, canary);
  rnnk_rnn_destroy(bi);

  cr_assert_eq(rnnk_state_create(rnn, 2, &st), RNNK_OK);
  float x[2 * 3] = {0}, y[2 * 4], h[2 * 2 * 4], c[2 * 2 * 4] = {0};
  fill_canary(y, sizeof y);
  EXPECT_FAIL(rnnk_rnn_step(NULL, st, x, y), RNNK_EINVAL, "rnn");
  EXPECT_FAIL(rnnk_rnn_step(rnn, NULL, x, y), RNNK_EINVAL, "st");
  EXPECT_FAIL(rnnk_rnn_step(rnn, st, NULL, y), RNNK_EINVAL, "x_t");
  EXPECT_FAIL(rnnk_rnn_step(other, st, x, y), RNNK_EINVAL, "another");
  cr_expect(is_canary(y, sizeof y));
  EXPECT_FAIL(rnnk_state_reset(NULL, 0), RNNK_EINVAL, "st");
  EXPECT_FAIL(rnnk_state_reset(st, -2), RNNK_EINVAL, "row");
  EXPECT_FAIL(rnnk_state_reset(st, 2), RNNK_EINVAL, "row");
  EXPECT_FAIL(rnnk_state_set(NULL, h, NULL), RNNK_EINVAL, "st");
  EXPECT_FAIL(rnnk_state_set(st, NULL, NULL), RNNK_EINVAL, "h");
  EXPECT_FAIL(rnnk_state_set(st, h, c), RNNK_EINVAL, "c");
  EXPECT_FAIL(rnnk_state_set_row(NULL, 0, h, NULL), RNNK_EINVAL, "st");
  EXPECT_FAIL(rnnk_state_set_row(st, -1, h, NULL), RNNK_EINVAL, "row");
  EXPECT_FAIL(rnnk_state_set_row(st, 2, h, NULL), RNNK_EINVAL, "row");
  EXPECT_FAIL(rnnk_state_set_row(st, 0, NULL, NULL), RNNK_EINVAL, "h");
  EXPECT_FAIL(rnnk_state_set_row(st, 0, h, c), RNNK_EINVAL, "c");
  fill_canary(h, sizeof h), fill_canary(c, sizeof c);
  EXPECT_FAIL(rnnk_state_get(NULL, h, NULL), RNNK_EINVAL, "st");
  EXPECT_FAIL(rnnk_state_get(st, h, c), RNNK_EINVAL, "c");
  cr_expect(is_canary(h, sizeof h) && is_canary(c, sizeof c), "state_get wrote on failure");
  /* the state is still zero after all that */
  cr_assert_eq(rnnk_state_get(st, h, NULL), RNNK_OK);
  for (int i = 0; i < 16; i++) cr_expect_eq(h[i], 0.0f);
  rnnk_state_destroy(st);
  rnnk_state_destroy(NULL);
  rnnk_rnn_destroy(rnn);
  rnnk_rnn_destroy(other);
}

Test(errors, pool_and_many) {
  rnnk_pool *const canary = (rnnk_pool *)(uintptr_t)0xDEADBEE0u;
  rnnk_pool *pool = canary;
  EXPECT_FAIL(rnnk_pool_create(2, RNNK_PIN_NONE, NULL), RNNK_EINVAL, "out");
  EXPECT_FAIL(rnnk_pool_create(-1, RNNK_PIN_NONE, &pool), RNNK_EINVAL, "threads");
  EXPECT_FAIL(rnnk_pool_create(INT_MAX, RNNK_PIN_NONE, &pool), RNNK_EINVAL, "threads");
  EXPECT_FAIL(rnnk_pool_create(2, (rnnk_pin)9, &pool), RNNK_EINVAL, "pin");
  cr_expect_eq(pool, canary);
  rnnk_pool_destroy(NULL);
  EXPECT_FAIL(rnnk_rnn_set_pool(NULL, NULL), RNNK_EINVAL, "rnn");

  rnnk_config cfg;
  rnnk_config_init(&cfg, RNNK_ELMAN, 3, 4);
  rnnk_rnn *rnn = make_net(&cfg, 9);
  float x[4 * 3] = {0}, y[4 * 4], c0[4] = {0};
  rnnk_sequence seq[2] = {{.T = 4, .x = x, .y = y}, {.T = 2, .x = x, .y = y}};
#define MANY_FAIL(call, st, sub)                \
  do {                                          \
    fill_canary(y, sizeof y);                   \
    EXPECT_FAIL(call, st, sub);                 \
    cr_expect(is_canary(y, sizeof y), "%s wrote y", #call); \
  } while (0)
  MANY_FAIL(rnnk_rnn_forward_many(NULL, NULL, 2, seq), RNNK_EINVAL, "rnn");
  MANY_FAIL(rnnk_rnn_forward_many(rnn, NULL, -1, seq), RNNK_EINVAL, "count");
  MANY_FAIL(rnnk_rnn_forward_many(rnn, NULL, 2, NULL), RNNK_EINVAL, "seqs");
  seq[1].T = 0;
  MANY_FAIL(rnnk_rnn_forward_many(rnn, NULL, 2, seq), RNNK_EINVAL, "seqs[1].T");
  seq[1].T = 2, seq[1].x = NULL;
  MANY_FAIL(rnnk_rnn_forward_many(rnn, NULL, 2, seq), RNNK_EINVAL, "seqs[1].x");
  seq[1].x = x, seq[0].c0 = c0;
  MANY_FAIL(rnnk_rnn_forward_many(rnn, NULL, 2, seq), RNNK_EINVAL, "seqs[0].c0");
  /* (A sequence of T = INT_MAX is legal: its x and y are the caller's to
   * provide, and its scratch, with no copy of x, fits; so no test here
   * passes a short x for one.) */
  seq[0].c0 = NULL;
  cr_expect_eq(rnnk_rnn_forward_many(rnn, NULL, 0, NULL), RNNK_OK);
  cr_expect_eq(rnnk_rnn_forward_many(rnn, NULL, 2, seq), RNNK_OK, "%s", rnnk_last_error());
  rnnk_rnn_destroy(rnn);
#undef MANY_FAIL
}

Test(errors, misc_functions) {
  char buf[32];
  fill_canary(buf, sizeof buf);
  cr_expect_eq(rnnk_isa_report(NULL, 10), RNNK_EINVAL);
  cr_expect_eq(rnnk_isa_report(buf, 0), RNNK_EINVAL);
  cr_expect(is_canary(buf, sizeof buf));
  cr_expect_eq(rnnk_tune_report(NULL, 10), RNNK_EINVAL);
  cr_expect_eq(rnnk_tune_report(buf, 0), RNNK_EINVAL);
  cr_expect(is_canary(buf, sizeof buf));
  EXPECT_FAIL(rnnk_tune(NULL, 1, 1, NULL), RNNK_EINVAL, "cfg");
  rnnk_config cfg;
  rnnk_config_init(&cfg, RNNK_LSTM, 4, 4);
  EXPECT_FAIL(rnnk_tune(&cfg, 0, 1, NULL), RNNK_EINVAL, "batch");
  EXPECT_FAIL(rnnk_tune(&cfg, 1, 0, NULL), RNNK_EINVAL, "threads");
  cfg.hidden_size = -1;
  EXPECT_FAIL(rnnk_tune(&cfg, 1, 1, NULL), RNNK_EINVAL, "hidden_size");
  cr_expect(rnnk_isa_supported(RNNK_ISA_AUTO));
  cr_expect(rnnk_isa_supported(RNNK_ISA_SCALAR));
  cr_expect_not(rnnk_isa_supported((rnnk_isa)42));
  cr_expect_not_null(rnnk_isa_name((rnnk_isa)42));
}

/* Buffers offset by one float from an aligned allocation give the same bits. */
Test(errors, misaligned_buffers) {
  rnnk_isa isas[4];
  const int nisa = test_isas(isas);
  for (int ii = 0; ii < nisa; ii++)
    for (int cell = 0; cell < 4; cell++) {
      rnnk_config cfg;
      rnnk_config_init(&cfg, (rnnk_cell)cell, 13, 37);
      cfg.isa = isas[ii];
      cfg.num_layers = 2;
      if (cell == RNNK_JORDAN) cfg.output_size = 5;
      rnnk_rnn *rnn = make_net(&cfg, 20 + (uint64_t)cell);
      const int T = 5, N = 3, S = ref_carried(&cfg), W = ref_out_width(&cfg), H = 37;
      const size_t nx = (size_t)T * N * 13, ny = (size_t)T * N * W, nh = 2 * (size_t)N * S, nc = 2 * (size_t)N * H;
      const bool lstm = cell == RNNK_LSTM;
      float *a[6], *m[6]; /* aligned, misaligned: x h0 c0 y hT cT */
      const size_t n[6] = {nx, nh, nc, ny, nh, nc};
      for (int i = 0; i < 6; i++) {
        a[i] = alloc64((n[i] + 16) * sizeof(float) + 64);
        m[i] = (float *)alloc64((n[i] + 16) * sizeof(float) + 64) + 1;
      }
      float *r = ref_rand_floats(30, nx + nh + nc, -1, 1);
      memcpy(a[0], r, nx * 4), memcpy(a[1], r + nx, nh * 4), memcpy(a[2], r + nx + nh, nc * 4);
      for (int i = 0; i < 3; i++) memcpy(m[i], a[i], n[i] * 4);
      int *lens_a = alloc64(64), *lens_m = (int *)alloc64(128) + 1;
      lens_a[0] = lens_m[0] = 5, lens_a[1] = lens_m[1] = 2, lens_a[2] = lens_m[2] = 4;
      cr_assert_eq(rnnk_rnn_forward(rnn, T, N, a[0], lens_a, a[1], lstm ? a[2] : NULL, a[3], a[4], lstm ? a[5] : NULL),
                   RNNK_OK);
      cr_assert_eq(rnnk_rnn_forward(rnn, T, N, m[0], lens_m, m[1], lstm ? m[2] : NULL, m[3], m[4], lstm ? m[5] : NULL),
                   RNNK_OK);
      cr_expect_eq(memcmp(a[3], m[3], ny * 4), 0, "[%s] cell %d: y differs when misaligned", rnnk_isa_name(isas[ii]), cell);
      cr_expect_eq(memcmp(a[4], m[4], nh * 4), 0, "[%s] cell %d: hT differs", rnnk_isa_name(isas[ii]), cell);
      if (lstm) cr_expect_eq(memcmp(a[5], m[5], nc * 4), 0, "[%s] cell %d: cT differs", rnnk_isa_name(isas[ii]), cell);
      /* step API with misaligned x_t / y_t */
      rnnk_state *st;
      cr_assert_eq(rnnk_state_create(rnn, N, &st), RNNK_OK);
      float *ya = a[3], *ym = m[3];
      rnnk_state *st2;
      cr_assert_eq(rnnk_state_create(rnn, N, &st2), RNNK_OK);
      for (int t = 0; t < T; t++) {
        cr_assert_eq(rnnk_rnn_step(rnn, st, a[0] + (size_t)t * N * 13, ya + (size_t)t * N * W), RNNK_OK);
        cr_assert_eq(rnnk_rnn_step(rnn, st2, m[0] + (size_t)t * N * 13, ym + (size_t)t * N * W), RNNK_OK);
      }
      cr_expect_eq(memcmp(ya, ym, ny * 4), 0, "[%s] cell %d: step differs when misaligned", rnnk_isa_name(isas[ii]), cell);
      rnnk_state_destroy(st);
      rnnk_state_destroy(st2);
      for (int i = 0; i < 6; i++) {
        free(a[i]);
        free(m[i] - 1);
      }
      free(lens_a);
      free(lens_m - 1);
      free(r);
      rnnk_rnn_destroy(rnn);
    }
}

/* NaN in an input poisons that row from that step on, and nothing else. */
Test(errors, nan_inf_propagate) {
  rnnk_isa isas[4];
  const int nisa = test_isas(isas);
  for (int ii = 0; ii < nisa; ii++)
    for (int cell = 0; cell < 4; cell++) {
      rnnk_config cfg;
      rnnk_config_init(&cfg, (rnnk_cell)cell, 5, 7);
      cfg.isa = isas[ii];
      if (cell == RNNK_JORDAN) cfg.output_size = 3;
      rnnk_rnn *rnn = make_net(&cfg, 40 + (uint64_t)cell);
      const int T = 6, N = 3, W = ref_out_width(&cfg);
      float *x = ref_rand_floats(41, (size_t)T * N * 5, -1, 1);
      x[((size_t)2 * N + 1) * 5 + 3] = NAN; /* t = 2, row 1 */
      x[((size_t)4 * N + 2) * 5 + 0] = INFINITY; /* t = 4, row 2: no crash */
      float *y = malloc((size_t)T * N * W * sizeof *y);
      cr_assert_eq(rnnk_rnn_forward(rnn, T, N, x, NULL, NULL, NULL, y, NULL, NULL), RNNK_OK);
      for (int t = 0; t < T; t++)
        for (int q = 0; q < W; q++) {
          const float v0 = y[((size_t)t * N + 0) * W + q], v1 = y[((size_t)t * N + 1) * W + q];
          cr_expect(isfinite(v0), "[%s] cell %d: row 0 t=%d not finite", rnnk_isa_name(isas[ii]), cell, t);
          if (t < 2) cr_expect(isfinite(v1), "[%s] cell %d: row 1 t=%d poisoned early", rnnk_isa_name(isas[ii]), cell, t);
          else cr_expect(isnan(v1), "[%s] cell %d: row 1 t=%d q=%d = %g, want NaN", rnnk_isa_name(isas[ii]), cell, t, q, (double)v1);
          if (t < 4) cr_expect(isfinite(y[((size_t)t * N + 2) * W + q]));
        }
      free(x);
      free(y);
      rnnk_rnn_destroy(rnn);

      /* NaN and Inf in weights: runs, and the NaN shows */
      ref_net net;
      ref_net_random(&net, &cfg, 50, true);
      ((float *)net.w[0].w_hh)[0] = NAN;
      ((float *)net.w[0].w_ih)[1] = INFINITY;
      cr_assert_eq(ref_net_build(&net, isas[ii], &rnn), RNNK_OK);
      x = ref_rand_floats(51, (size_t)T * N * 5, -1, 1);
      y = malloc((size_t)T * N * W * sizeof *y);
      cr_assert_eq(rnnk_rnn_forward(rnn, T, N, x, NULL, NULL, NULL, y, NULL, NULL), RNNK_OK);
      bool any_nan = false;
      for (size_t i = (size_t)(T - 1) * N * W; i < (size_t)T * N * W; i++) any_nan |= isnan(y[i]) != 0;
      cr_expect(any_nan, "[%s] cell %d: a NaN weight left no NaN in the last step", rnnk_isa_name(isas[ii]), cell);
      free(x);
      free(y);
      rnnk_rnn_destroy(rnn);
      ref_net_free(&net);
    }
}
