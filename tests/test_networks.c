/* Whole networks against the double-precision reference (tests/ref_double.c),
 * on every ISA the host runs, and every ISA bit-identical to scalar. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/common.h"
#include "tests/ref_double.h"

TestSuite(networks, .fini = test_leak_check);

static const int sizes[] = {1, 5, 7, 13, 17, 33, 37};
static const int batches[] = {1, 3, 5};

typedef struct net_case {
  rnnk_config cfg;
  int T, N;
  bool lens, h0, bias;
  uint64_t seed;
} net_case;

static int pick(test_rng *r, int n) { return (int)test_uniform(r, 0.0f, (float)n) % n; }

/* Run one case on every ISA; false (with details on stderr) on any failure. */
static bool run_case(const net_case *k) {
  const rnnk_config *cfg = &k->cfg;
  char desc[512], label[700];
  ref_describe(cfg, desc, sizeof desc);
  snprintf(label, sizeof label, "seed=%llu T=%d N=%d lens=%d h0=%d bias=%d %s", (unsigned long long)k->seed, k->T,
           k->N, k->lens, k->h0, k->bias, desc);
  const int T = k->T, N = k->N, I = cfg->input_size, H = cfg->hidden_size;
  const int D = ref_dirs(cfg), L = cfg->num_layers, S = ref_carried(cfg), W = ref_out_width(cfg);
  const bool lstm = cfg->cell == RNNK_LSTM;
  ref_net net;
  ref_net_random(&net, cfg, k->seed, k->bias);
  test_rng r = {k->seed ^ 0xABCDEFull};
  float *x = ref_rand_floats(k->seed + 1, (size_t)T * N * I, -1, 1);
  const size_t ny = (size_t)T * N * W, nh = (size_t)L * D * N * S, nc = (size_t)L * D * N * H;
  float *h0 = k->h0 ? ref_rand_floats(k->seed + 2, nh, -1, 1) : NULL;
  float *c0 = k->h0 && lstm ? ref_rand_floats(k->seed + 3, nc, -1, 1) : NULL;
  int *lengths = NULL;
  if (k->lens) {
    lengths = malloc((size_t)N * sizeof *lengths);
    for (int n = 0; n < N; n++) lengths[n] = pick(&r, T + 1);
    if (N >= 3) { /* one row of length 0 and one of T, at random places */
      const int a = pick(&r, N), b = (a + 1 + pick(&r, N - 1)) % N;
      lengths[a] = 0;
      lengths[b] = T;
    }
  }
  double *yr = malloc(ny * sizeof *yr), *hr = malloc(nh * sizeof *hr), *cr = malloc(nc * sizeof *cr);
  ref_forward(cfg, net.w, T, N, x, lengths, h0, c0, yr, hr, lstm ? cr : NULL);

  rnnk_isa isas[4];
  const int nisa = test_isas(isas);
  float *y0 = NULL, *hT0 = NULL, *cT0 = NULL;
  bool ok = true;
  for (int ii = 0; ii < nisa && ok; ii++) {
    char lab[800];
    snprintf(lab, sizeof lab, "[%s] %s", rnnk_isa_name(isas[ii]), label);
    rnnk_rnn *rnn = NULL;
    rnnk_status s = ref_net_build(&net, isas[ii], &rnn);
    if (s) {
      fprintf(stderr, "%s: build failed: %s (%s)\n", lab, rnnk_strerror(s), rnnk_last_error());
      ok = false;
      break;
    }
    if (rnnk_rnn_output_size(rnn) != W) {
      fprintf(stderr, "%s: output_size %d, want %d\n", lab, rnnk_rnn_output_size(rnn), W);
      ok = false;
    }
    float *y = malloc(ny * sizeof *y), *hT = malloc(nh * sizeof *hT), *cT = lstm ? malloc(nc * sizeof *cT) : NULL;
    memset(y, 0x7f, ny * sizeof *y); /* canaries: every element must be written */
    memset(hT, 0x7f, nh * sizeof *hT);
    if (cT) memset(cT, 0x7f, nc * sizeof *cT);
    s = rnnk_rnn_forward(rnn, T, N, x, lengths, h0, c0, y, hT, cT);
    if (s) {
      fprintf(stderr, "%s: forward failed: %s (%s)\n", lab, rnnk_strerror(s), rnnk_last_error());
      ok = false;
    } else {
      int bad = ref_compare(lab, "y", y, yr, ny) + ref_compare(lab, "hT", hT, hr, nh);
      if (cT) bad += ref_compare(lab, "cT", cT, cr, nc);
      /* outputs past a row's length are exactly zero */
      if (lengths)
        for (int n = 0; n < N; n++)
          for (int t = lengths[n]; t < T; t++)
            for (int q = 0; q < W; q++) {
              const size_t i = cfg->batch_first ? ((size_t)n * T + t) * W + q : ((size_t)t * N + n) * W + q;
              if (y[i] != 0.0f) {
                if (bad < 8) fprintf(stderr, "  %s: y[t=%d][n=%d][%d] = %g past length %d\n", lab, t, n, q, (double)y[i], lengths[n]);
                bad++;
              }
            }
      if (bad) ok = false;
      if (ii == 0) {
        y0 = y, hT0 = hT, cT0 = cT;
        y = hT = cT = NULL;
      } else {
        if (memcmp(y, y0, ny * sizeof *y) || memcmp(hT, hT0, nh * sizeof *hT) || (cT && memcmp(cT, cT0, nc * sizeof *cT))) {
          size_t i = 0;
          while (i < ny && !memcmp(&y[i], &y0[i], sizeof *y)) i++;
          fprintf(stderr, "%s: not bit-identical to scalar (first y diff at %zu: %.9g vs %.9g)\n", lab, i,
                  i < ny ? (double)y[i] : 0.0, i < ny ? (double)y0[i] : 0.0);
          ok = false;
        }
      }
    }
    free(y);
    free(hT);
    free(cT);
    rnnk_rnn_destroy(rnn);
  }
  if (!ok) fprintf(stderr, "FAILED: %s\n", label);
  free(y0);
  free(hT0);
  free(cT0);
  free(x);
  free(h0);
  free(c0);
  free(lengths);
  free(yr);
  free(hr);
  free(cr);
  ref_net_free(&net);
  return ok;
}

static rnnk_activation rand_act(test_rng *r, bool with_default) {
  static const rnnk_activation acts[] = {RNNK_ACT_TANH, RNNK_ACT_SIGMOID, RNNK_ACT_RELU, RNNK_ACT_IDENTITY,
                                         RNNK_ACT_HARD_SIGMOID, RNNK_ACT_DEFAULT};
  return acts[pick(r, with_default ? 6 : 5)];
}

static rnnk_activation bounded_act(test_rng *r) {
  static const rnnk_activation acts[] = {RNNK_ACT_TANH, RNNK_ACT_SIGMOID, RNNK_ACT_HARD_SIGMOID, RNNK_ACT_DEFAULT};
  return acts[pick(r, 4)];
}

/* A random case of @p cell; @p variant selects options for the cell
 * (GRU: linear_before_reset; -1 = random). */
static net_case random_case(rnnk_cell cell, int variant, uint64_t seed) {
  test_rng r = {seed * 7919 + 1};
  net_case k = {.seed = seed};
  rnnk_config *c = &k.cfg;
  rnnk_config_init(c, cell, sizes[pick(&r, 7)], sizes[pick(&r, 7)]);
  c->num_layers = 1 + pick(&r, 3);
  c->direction = (rnnk_direction)pick(&r, 4);
  c->batch_first = pick(&r, 2);
  k.T = 1 + pick(&r, 9);
  k.N = batches[pick(&r, 3)];
  k.lens = pick(&r, 3) != 0;
  k.h0 = pick(&r, 2);
  k.bias = pick(&r, 5) != 0;
  const bool fancy = pick(&r, 2); /* non-default activations / clip */
  if (fancy && pick(&r, 3) == 0) c->clip = (float[]){0.5f, 1.0f, 3.0f}[pick(&r, 3)];
  for (int i = 0; i < 3; i++)
    if (fancy && pick(&r, 3) == 0) {
      c->act_alpha[i] = test_uniform(&r, 0.1f, 0.5f);
      c->act_beta[i] = test_uniform(&r, 0.3f, 0.7f);
    }
  switch (cell) {
  case RNNK_ELMAN:
    c->act[0] = rand_act(&r, true);
    break;
  case RNNK_JORDAN:
    c->output_size = sizes[pick(&r, 7)];
    c->act[0] = rand_act(&r, true);
    c->out_act = fancy ? rand_act(&r, true) : RNNK_ACT_DEFAULT;
    break;
  case RNNK_LSTM:
    c->peephole = pick(&r, 2);
    if (pick(&r, 2)) c->proj_size = sizes[pick(&r, 7)];
    c->input_forget = pick(&r, 4) == 0;
    if (fancy) /* gates stay bounded (an identity gate overflows float) */
      for (int i = 0; i < 3; i++) c->act[i] = i == 0 ? bounded_act(&r) : rand_act(&r, true);
    break;
  case RNNK_GRU:
    c->linear_before_reset = variant < 0 ? pick(&r, 2) : variant;
    if (fancy)
      for (int i = 0; i < 2; i++) c->act[i] = i == 0 ? bounded_act(&r) : rand_act(&r, true);
    break;
  }
  return k;
}

static void random_cases(rnnk_cell cell, int variant, uint64_t base, int count) {
  int failed = 0;
  for (int i = 0; i < count; i++) {
    net_case k = random_case(cell, variant, base + (uint64_t)i);
    if (!run_case(&k)) failed++;
    if (failed >= 5) break;
  }
  cr_assert_eq(failed, 0, "%d random case(s) failed (details on stderr, search FAILED)", failed);
}

#define N_RANDOM 300

Test(networks, elman_random) { random_cases(RNNK_ELMAN, -1, 1000, N_RANDOM); }
Test(networks, jordan_random) { random_cases(RNNK_JORDAN, -1, 2000, N_RANDOM); }
Test(networks, lstm_random) { random_cases(RNNK_LSTM, -1, 3000, N_RANDOM); }
Test(networks, gru_lbr0_random) { random_cases(RNNK_GRU, 0, 4000, N_RANDOM); }
Test(networks, gru_lbr1_random) { random_cases(RNNK_GRU, 1, 5000, N_RANDOM); }

/* Every cell variant x direction x layout x lengths, default activations. */
Test(networks, coverage_grid) {
  int failed = 0;
  uint64_t seed = 9000;
  for (int v = 0; v < 8; v++)
    for (int dir = 0; dir < 4; dir++)
      for (int bf = 0; bf < 2; bf++)
        for (int lens = 0; lens < 2; lens++) {
          net_case k = {.T = 3 + (int)(seed % 7), .N = batches[seed % 3], .lens = lens, .h0 = (seed & 1) != 0,
                        .bias = true, .seed = seed};
          seed++;
          rnnk_config *c = &k.cfg;
          static const rnnk_cell cells[8] = {RNNK_ELMAN, RNNK_JORDAN, RNNK_LSTM, RNNK_LSTM,
                                             RNNK_LSTM,  RNNK_LSTM,   RNNK_GRU,  RNNK_GRU};
          rnnk_config_init(c, cells[v], sizes[(seed * 3) % 7], sizes[(seed * 5 + 1) % 7]);
          c->num_layers = 1 + (int)(seed % 3);
          c->direction = (rnnk_direction)dir;
          c->batch_first = bf;
          if (v == 1) c->output_size = sizes[seed % 7];
          if (v == 3) c->peephole = true;
          if (v == 4) c->proj_size = sizes[(seed + 2) % 7];
          if (v == 5) c->peephole = true, c->proj_size = 5, c->input_forget = true;
          c->linear_before_reset = v == 7;
          if (!run_case(&k)) failed++;
        }
  cr_assert_eq(failed, 0, "%d grid case(s) failed (details on stderr, search FAILED)", failed);
}

/* Each activation and clip explicitly, on each cell. */
Test(networks, activations_and_clip) {
  static const rnnk_activation acts[] = {RNNK_ACT_TANH, RNNK_ACT_SIGMOID, RNNK_ACT_RELU, RNNK_ACT_IDENTITY,
                                         RNNK_ACT_HARD_SIGMOID};
  int failed = 0;
  uint64_t seed = 12000;
  for (int cell = 0; cell < 4; cell++)
    for (int a = 0; a < 5; a++)
      for (int slot = 0; slot < 3; slot++)
        for (int clip = 0; clip < 2; clip++) {
          if (slot > 0 && (cell == RNNK_ELMAN || cell == RNNK_JORDAN)) continue;
          if (slot > 1 && cell == RNNK_GRU) continue;
          net_case k = {.T = 7, .N = 3, .lens = true, .h0 = true, .bias = true, .seed = seed++};
          rnnk_config *c = &k.cfg;
          rnnk_config_init(c, (rnnk_cell)cell, 7, 13);
          c->num_layers = 2;
          c->direction = RNNK_BIDIR_CONCAT;
          c->act[slot] = acts[a];
          if (acts[a] == RNNK_ACT_HARD_SIGMOID && clip) c->act_alpha[slot] = 0.3f, c->act_beta[slot] = 0.4f;
          if (clip) c->clip = 0.7f;
          if (cell == RNNK_JORDAN) c->output_size = 5, c->out_act = acts[(a + slot + 1) % 5];
          if (cell == RNNK_GRU) c->linear_before_reset = (seed & 1) != 0;
          if (!run_case(&k)) failed++;
        }
  cr_assert_eq(failed, 0, "%d case(s) failed (details on stderr, search FAILED)", failed);
}

/* LSTM options one by one and together. */
Test(networks, lstm_options) {
  int failed = 0;
  uint64_t seed = 15000;
  for (int peep = 0; peep < 2; peep++)
    for (int proj = 0; proj < 3; proj++)
      for (int ifg = 0; ifg < 2; ifg++)
        for (int dir = 0; dir < 4; dir++) {
          net_case k = {.T = 9, .N = 5, .lens = true, .h0 = true, .bias = true, .seed = seed++};
          rnnk_config *c = &k.cfg;
          rnnk_config_init(c, RNNK_LSTM, 5, 17);
          c->num_layers = 2;
          c->direction = (rnnk_direction)dir;
          c->peephole = peep;
          c->proj_size = (int[]){0, 7, 1}[proj];
          c->input_forget = ifg;
          if (!run_case(&k)) failed++;
        }
  cr_assert_eq(failed, 0, "%d case(s) failed (details on stderr, search FAILED)", failed);
}

/* Extreme shapes: H = I = 1, T = 1, three layers. */
Test(networks, tiny_shapes) {
  int failed = 0;
  uint64_t seed = 17000;
  for (int cell = 0; cell < 4; cell++)
    for (int dir = 0; dir < 4; dir++) {
      net_case k = {.T = 1 + (int)(seed % 2) * 8, .N = 1, .lens = false, .h0 = true, .bias = true, .seed = seed};
      seed++;
      rnnk_config *c = &k.cfg;
      rnnk_config_init(c, (rnnk_cell)cell, 1, 1);
      c->num_layers = 3;
      c->direction = (rnnk_direction)dir;
      if (cell == RNNK_JORDAN) c->output_size = 1;
      if (cell == RNNK_LSTM) c->proj_size = 1, c->peephole = true;
      if (!run_case(&k)) failed++;
    }
  cr_assert_eq(failed, 0, "%d case(s) failed (details on stderr, search FAILED)", failed);
}
