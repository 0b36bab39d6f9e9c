/* rnnk examples: the lecture's worked examples (SPEC.md, last section),
 * computed by the library and printed. */
#include <stdio.h>
#include <string.h>

#include "rnnk.h"
#include "tools/commands.h"

static int check(rnnk_status s, const char *what) {
  if (s != RNNK_OK) fprintf(stderr, "rnnk: %s: %s (%s)\n", what, rnnk_strerror(s), rnnk_last_error());
  return s != RNNK_OK;
}

/* Example 1: Elman, all weights 1, no bias, identity activation, I = H = 2,
 * then a dense output layer of 2 units with all weights 1. */
static int elman_example(const float x[3][2], const char *label) {
  rnnk_config cfg;
  rnnk_config_init(&cfg, RNNK_ELMAN, 2, 2);
  cfg.act[0] = RNNK_ACT_IDENTITY;
  rnnk_rnn *rnn;
  if (check(rnnk_rnn_create(&cfg, &rnn), "create")) return 1;
  const float ones[4] = {1, 1, 1, 1};
  rnnk_weights w = {.w_ih = ones, .w_hh = ones};
  float h[3][2];
  int bad = check(rnnk_rnn_set_weights(rnn, 0, 0, RNNK_LAYOUT_PYTORCH, &w), "set_weights") ||
            check(rnnk_rnn_forward(rnn, 3, 1, &x[0][0], NULL, NULL, NULL, &h[0][0], NULL, NULL), "forward");
  rnnk_rnn_destroy(rnn);
  if (bad) return 1;
  printf("  %s\n", label);
  for (int t = 0; t < 3; t++) {
    const float y0 = h[t][0] + h[t][1], y1 = h[t][0] + h[t][1]; /* dense layer, weights 1 */
    printf("    x=[%g,%g]  hidden=[%g,%g]  output=[%g,%g]\n", x[t][0], x[t][1], h[t][0], h[t][1], y0, y1);
  }
  return 0;
}

/* Example 2: one LSTM cell, 3-d input, no recurrent weights, identity g and
 * h: z = x1, z_i = 100 x2 - 10, z_f = 100 x2 + 10, z_o = 100 x3 - 10. */
static int lstm_example(void) {
  rnnk_config cfg;
  rnnk_config_init(&cfg, RNNK_LSTM, 3, 1);
  cfg.act[1] = RNNK_ACT_IDENTITY;
  cfg.act[2] = RNNK_ACT_IDENTITY;
  rnnk_rnn *rnn;
  if (check(rnnk_rnn_create(&cfg, &rnn), "create")) return 1;
  /* PyTorch order i, f, g, o; rows of w_ih are [x1, x2, x3]. */
  const float w_ih[4 * 3] = {0, 100, 0, /* i */ 0, 100, 0, /* f */ 1, 0, 0, /* g */ 0, 0, 100 /* o */};
  const float w_hh[4] = {0, 0, 0, 0};
  const float b_ih[4] = {-10, 10, 0, -10};
  rnnk_weights w = {.w_ih = w_ih, .w_hh = w_hh, .b_ih = b_ih};
  const float x[5][3] = {{3, 1, 0}, {4, 1, 0}, {2, 0, 0}, {1, 0, 1}, {3, -1, 0}};
  float y[5];
  int bad = check(rnnk_rnn_set_weights(rnn, 0, 0, RNNK_LAYOUT_PYTORCH, &w), "set_weights");
  printf("  x                memory c    output y\n");
  /* step by step, to show the memory after each input */
  rnnk_state *st = NULL;
  bad = bad || check(rnnk_state_create(rnn, 1, &st), "state_create");
  for (int t = 0; !bad && t < 5; t++) {
    float c;
    bad = check(rnnk_rnn_step(rnn, st, x[t], &y[t]), "step") || check(rnnk_state_get(st, NULL, &c), "state_get");
    if (!bad) printf("  (%2g,%2g,%2g)      %-10.6f  %.6f\n", x[t][0], x[t][1], x[t][2], c, y[t]);
  }
  rnnk_state_destroy(st);
  rnnk_rnn_destroy(rnn);
  return bad;
}

int rnnk_cmd_examples(int argc, char **argv) {
  (void)argc, (void)argv;
  printf("== Lecture example 1: Elman network, all weights 1, identity activations\n");
  const float fwd[3][2] = {{1, 1}, {1, 1}, {2, 2}}, rev[3][2] = {{2, 2}, {1, 1}, {1, 1}};
  if (elman_example(fwd, "input [1,1],[1,1],[2,2] (expected outputs 4, 12, 32)")) return 1;
  if (elman_example(rev, "reversed order [2,2],[1,1],[1,1] (expected outputs 8, 20, 44: order matters)")) return 1;
  printf("\n== Lecture example 2: one LSTM cell (expected memory 3, 7, 7, 7, 0; output ~0, 0, 0, 7, 0)\n");
  return lstm_example();
}
