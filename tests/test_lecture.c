/* The lecture's worked examples (SPEC.md, last section), on every ISA. */
#include <criterion/criterion.h>
#include <math.h>

#include "tests/common.h"

static void elman_lecture(rnnk_isa isa, const float x[3][2], const float want[3]) {
  rnnk_config cfg;
  rnnk_config_init(&cfg, RNNK_ELMAN, 2, 2);
  cfg.act[0] = RNNK_ACT_IDENTITY;
  cfg.isa = isa;
  rnnk_rnn *rnn;
  cr_assert_eq(rnnk_rnn_create(&cfg, &rnn), RNNK_OK, "%s", rnnk_last_error());
  const float ones[4] = {1, 1, 1, 1};
  rnnk_weights w = {.w_ih = ones, .w_hh = ones};
  cr_assert_eq(rnnk_rnn_set_weights(rnn, 0, 0, RNNK_LAYOUT_PYTORCH, &w), RNNK_OK);
  float h[3][2];
  cr_assert_eq(rnnk_rnn_forward(rnn, 3, 1, &x[0][0], NULL, NULL, NULL, &h[0][0], NULL, NULL), RNNK_OK);
  for (int t = 0; t < 3; t++) {
    /* the dense output layer: 2 units, all weights 1 */
    const float y = h[t][0] + h[t][1];
    cr_expect_eq(y, want[t], "isa %s t=%d: output %g, want %g", rnnk_isa_name(isa), t, y, want[t]);
    cr_expect_eq(h[t][0], h[t][1]);
  }
  rnnk_rnn_destroy(rnn);
}

Test(lecture, elman_all_ones) {
  rnnk_isa isas[4];
  const int n = test_isas(isas);
  const float x[3][2] = {{1, 1}, {1, 1}, {2, 2}}, want[3] = {4, 12, 32};
  const float xr[3][2] = {{2, 2}, {1, 1}, {1, 1}}, wantr[3] = {8, 20, 44};
  for (int i = 0; i < n; i++) {
    elman_lecture(isas[i], x, want);
    elman_lecture(isas[i], xr, wantr); /* order matters */
  }
}

Test(lecture, lstm_one_cell) {
  rnnk_isa isas[4];
  const int n = test_isas(isas);
  for (int i = 0; i < n; i++) {
    rnnk_config cfg;
    rnnk_config_init(&cfg, RNNK_LSTM, 3, 1);
    cfg.act[1] = RNNK_ACT_IDENTITY;
    cfg.act[2] = RNNK_ACT_IDENTITY;
    cfg.isa = isas[i];
    rnnk_rnn *rnn;
    cr_assert_eq(rnnk_rnn_create(&cfg, &rnn), RNNK_OK, "%s", rnnk_last_error());
    const float w_ih[12] = {0, 100, 0, 0, 100, 0, 1, 0, 0, 0, 0, 100}, w_hh[4] = {0};
    const float b_ih[4] = {-10, 10, 0, -10};
    rnnk_weights w = {.w_ih = w_ih, .w_hh = w_hh, .b_ih = b_ih};
    cr_assert_eq(rnnk_rnn_set_weights(rnn, 0, 0, RNNK_LAYOUT_PYTORCH, &w), RNNK_OK);
    const float x[5][3] = {{3, 1, 0}, {4, 1, 0}, {2, 0, 0}, {1, 0, 1}, {3, -1, 0}};
    /* SPEC.md: c = 3, 7, 6.999773, 6.999501, 0.0; a = 0.000136, 0.000318, 0.000318, 6.999501, 0.0 */
    const float c_want[5] = {3, 7, 6.999773f, 6.999501f, 0.0f};
    const float y_want[5] = {0.000136f, 0.000318f, 0.000318f, 6.999501f, 0.0f};
    rnnk_state *st;
    cr_assert_eq(rnnk_state_create(rnn, 1, &st), RNNK_OK);
    for (int t = 0; t < 5; t++) {
      float y, c;
      cr_assert_eq(rnnk_rnn_step(rnn, st, x[t], &y), RNNK_OK);
      cr_assert_eq(rnnk_state_get(st, NULL, &c), RNNK_OK);
      cr_expect(fabsf(c - c_want[t]) <= 1e-5f * fmaxf(1, fabsf(c_want[t])) + 1e-6f, "t=%d c=%.7g want %.7g", t, c, c_want[t]);
      cr_expect(fabsf(y - y_want[t]) <= 1e-6f + 1e-5f * fabsf(y_want[t]), "t=%d y=%.7g want %.7g", t, y, y_want[t]);
    }
    /* rounded as the lecture says: memory 3,7,7,7,0 and output ~0,0,0,7,0 */
    rnnk_state_destroy(st);
    rnnk_rnn_destroy(rnn);
  }
}
