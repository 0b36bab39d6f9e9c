/* Golden tests against PyTorch's nn.RNN / nn.LSTM / nn.GRU.
 *
 * The data lives in tests/golden/ (format and regeneration:
 * tests/golden/README.md), read from $RNNK_GOLDEN_DIR. For every case:
 * - golden::pytorch runs the case with isa = RNNK_ISA_AUTO (so the RNNK_ISA
 *   cap picks the ISA; CI runs the suite once per cap) and checks every y,
 *   hT, cT element: |a - b| <= 1e-5 * max(1, |b|) (SPEC.md, "Numerical
 *   contract"). Outputs past a row's length must be exactly zero.
 * - golden::isa_bitwise runs it on every ISA the host supports and checks
 *   the outputs are bit-identical to the scalar ISA's (DESIGN.md,
 *   "Reproducibility by construction").
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "golden_io.h"
#include "rnnk.h"

/* Keep in step with tests/golden/cases.txt (golden::index checks it). */
#define GOLDEN_CASES(X)                                                                          \
  X(rnn_tanh_l1_i7_h13_n1)                                                                       \
  X(rnn_tanh_l2_i13_h7_n3_h0)                                                                    \
  X(rnn_tanh_l1_bi_i1_h1_n2)                                                                     \
  X(rnn_tanh_l1_i13_h7_n4_len)                                                                   \
  X(rnn_tanh_l1_i129_h129_n1)                                                                    \
  X(rnn_relu_l1_i7_h13_n2)                                                                       \
  X(rnn_relu_l2_bi_i5_h37_n3_len)                                                                \
  X(rnn_relu_l3_i37_h7_n5_bf_len)                                                                \
  X(rnn_relu_l1_bi_i129_h13_n2)                                                                  \
  X(lstm_l1_i1_h7_n1)                                                                            \
  X(lstm_l1_i7_h13_n3_h0)                                                                        \
  X(lstm_l2_bi_i13_h37_n4_len)                                                                   \
  X(lstm_l1_bi_i13_h1_n5_bf_len)                                                                 \
  X(lstm_l1_i37_h129_n2_h0)                                                                      \
  X(lstm_l3_i37_h129_p7_n2)                                                                      \
  X(lstm_l2_bi_i5_h13_p3_n3_len)                                                                 \
  X(lstm_l1_i7_h7_p1_n4_len)                                                                     \
  X(lstm_l2_bi_i7_h13_p5_n2_bf)                                                                  \
  X(lstm_l1_i13_h37_n4_t12_len)                                                                  \
  X(gru_l1_i13_h1_n1)                                                                            \
  X(gru_l2_bi_i129_h7_n4_len)                                                                    \
  X(gru_l1_i7_h129_n2)                                                                           \
  X(gru_l3_i5_h13_n3_bf_len)                                                                     \
  X(gru_l1_bi_i1_h37_n1)                                                                         \
  X(gru_l2_i37_h37_n5_h0)                                                                        \
  X(gru_l1_bi_i7_h13_n1_len)

/* A parameter is copied into the worker process, so it holds the name
 * itself, not a pointer. */
struct golden_param {
  char name[64];
};

#define GOLDEN_PARAM(n) {#n},
static const struct golden_param golden_params[] = {GOLDEN_CASES(GOLDEN_PARAM)};
#define GOLDEN_NPARAMS (sizeof golden_params / sizeof golden_params[0])

#define GOLDEN_TOL 1e-5f
#define GOLDEN_MAX_REPORT 5
#define GOLDEN_CANARY 16
static const float golden_sentinel = 1234.5f; /* pre-fills outputs */
static const float golden_canary = -8765.25f; /* past the end of outputs */

/* Outputs of one run; each array has GOLDEN_CANARY extra floats. */
typedef struct golden_out {
  float *y, *hT, *cT;
} golden_out;

static void golden_out_free(golden_out *o) {
  free(o->y);
  free(o->hT);
  free(o->cT);
  memset(o, 0, sizeof *o);
}

static float *alloc_out(size_t count) {
  float *a = malloc((count + GOLDEN_CANARY) * sizeof *a);
  cr_assert_not_null(a, "out of memory");
  for (size_t i = 0; i < count; i++) a[i] = golden_sentinel;
  for (size_t i = 0; i < GOLDEN_CANARY; i++) a[count + i] = golden_canary;
  return a;
}

static void load_case(const char *name, golden_case *g) {
  char err[1024];
  int rc = golden_load(name, g, err, sizeof err);
  cr_assert_eq(rc, GOLDEN_OK, "case %s: %s", name, err);
}

/* Build the network for @p g on @p isa and run it. Returns the first
 * failing status (and the network is destroyed); asserts on bad results of
 * the API itself (output size, canaries). */
static rnnk_status run_case(const golden_case *g, rnnk_isa isa, golden_out *o, char *err,
                            size_t err_len) {
  static const rnnk_cell cells[] = {RNNK_ELMAN, RNNK_ELMAN, RNNK_LSTM, RNNK_GRU};
  rnnk_config cfg;
  rnnk_config_init(&cfg, cells[g->cell], g->input_size, g->hidden_size);
  cfg.num_layers = g->num_layers;
  cfg.direction = g->bidir ? RNNK_BIDIR_CONCAT : RNNK_FORWARD;
  cfg.batch_first = g->batch_first != 0;
  cfg.isa = isa;
  if (g->cell == GOLDEN_RNN_TANH) cfg.act[0] = RNNK_ACT_TANH;
  if (g->cell == GOLDEN_RNN_RELU) cfg.act[0] = RNNK_ACT_RELU;
  if (g->cell == GOLDEN_LSTM) cfg.proj_size = g->proj_size;
  if (g->cell == GOLDEN_GRU) cfg.linear_before_reset = true;

  memset(o, 0, sizeof *o);
  rnnk_rnn *rnn = NULL;
  rnnk_status st = rnnk_rnn_create(&cfg, &rnn);
  if (st != RNNK_OK) {
    snprintf(err, err_len, "rnnk_rnn_create: %s", rnnk_last_error());
    return st;
  }
  for (int l = 0; l < g->num_layers && st == RNNK_OK; l++) {
    for (int d = 0; d < g->dirs && st == RNNK_OK; d++) {
      const golden_weights *gw = &g->w[l * g->dirs + d];
      rnnk_weights w;
      memset(&w, 0, sizeof w);
      w.w_ih = gw->w_ih;
      w.w_hh = gw->w_hh;
      w.b_ih = gw->b_ih;
      w.b_hh = gw->b_hh;
      w.w_proj = gw->w_hr;
      st = rnnk_rnn_set_weights(rnn, l, d, RNNK_LAYOUT_PYTORCH, &w);
      if (st != RNNK_OK)
        snprintf(err, err_len, "rnnk_rnn_set_weights(layer %d, dir %d): %s", l, d,
                 rnnk_last_error());
    }
  }
  if (st != RNNK_OK) {
    rnnk_rnn_destroy(rnn);
    return st;
  }
  int out_size = rnnk_rnn_output_size(rnn);
  if (out_size != g->dirs * g->state_size) {
    rnnk_rnn_destroy(rnn);
    cr_assert_fail("case %s: rnnk_rnn_output_size = %d, expected %d", g->name, out_size,
                   g->dirs * g->state_size);
  }
  o->y = alloc_out(g->y_count);
  o->hT = alloc_out(g->h_count);
  if (g->c_count) o->cT = alloc_out(g->c_count);
  st = rnnk_rnn_forward(rnn, g->T, g->N, g->x, g->lengths, g->h0, g->c0, o->y, o->hT, o->cT);
  if (st != RNNK_OK) snprintf(err, err_len, "rnnk_rnn_forward: %s", rnnk_last_error());
  rnnk_rnn_destroy(rnn);
  if (st != RNNK_OK) {
    golden_out_free(o);
    return st;
  }
  const float *arrays[] = {o->y, o->hT, o->cT};
  const size_t counts[] = {g->y_count, g->h_count, g->c_count};
  const char *names[] = {"y", "hT", "cT"};
  for (int a = 0; a < 3; a++) {
    if (arrays[a] == NULL) continue;
    for (size_t i = 0; i < GOLDEN_CANARY; i++) {
      cr_assert(memcmp(&arrays[a][counts[a] + i], &golden_canary, sizeof(float)) == 0,
                "case %s (%s): %s written past its end (element %zu)", g->name,
                rnnk_isa_name(isa), names[a], counts[a] + i);
    }
  }
  return RNNK_OK;
}

/* Coordinates of element i of y, e.g. "t 3, n 1, feature 5". */
static void describe_y(const golden_case *g, size_t i, char *buf, size_t len) {
  size_t F = (size_t)g->dirs * (size_t)g->state_size;
  size_t f = i % F, outer = i / F;
  size_t t, n;
  if (g->batch_first) {
    t = outer % (size_t)g->T;
    n = outer / (size_t)g->T;
  } else {
    n = outer % (size_t)g->N;
    t = outer / (size_t)g->N;
  }
  snprintf(buf, len, "t %zu, n %zu, feature %zu", t, n, f);
}

/* Coordinates of element i of a [L*D][N][width] state. */
static void describe_state(const golden_case *g, size_t width, size_t i, char *buf, size_t len) {
  size_t f = i % width, outer = i / width;
  size_t n = outer % (size_t)g->N, ld = outer / (size_t)g->N;
  snprintf(buf, len, "layer %zu, dir %zu, n %zu, unit %zu", ld / (size_t)g->dirs,
           ld % (size_t)g->dirs, n, f);
}

/* Count mismatches of @p got against @p want, reporting the first few. */
static size_t compare_tol(const golden_case *g, const char *isa, const char *what,
                          const float *got, const float *want, size_t count, size_t width) {
  size_t bad = 0;
  for (size_t i = 0; i < count; i++) {
    float a = got[i], b = want[i];
    float tol = GOLDEN_TOL * fmaxf(1.0f, fabsf(b));
    /* Written as !(<=) so that NaN fails. */
    if (!(fabsf(a - b) <= tol)) {
      if (bad < GOLDEN_MAX_REPORT) {
        char where[128];
        if (width == 0)
          describe_y(g, i, where, sizeof where);
        else
          describe_state(g, width, i, where, sizeof where);
        cr_log_error("case %s (isa %s): %s[%zu] (%s) = %.9g, expected %.9g (|diff| %.3g > %.3g)",
                     g->name, isa, what, i, where, (double)a, (double)b, (double)fabsf(a - b),
                     (double)tol);
      }
      bad++;
    }
  }
  return bad;
}

/* Index of the first element whose bits differ, or count if none. */
static size_t first_bit_diff(const float *a, const float *b, size_t count) {
  if (memcmp(a, b, count * sizeof *a) == 0) return count;
  for (size_t i = 0; i < count; i++)
    if (memcmp(&a[i], &b[i], sizeof *a) != 0) return i;
  return count;
}

ParameterizedTestParameters(golden, pytorch) {
  return cr_make_param_array(struct golden_param, (void *)golden_params, GOLDEN_NPARAMS);
}

ParameterizedTest(const struct golden_param *p, golden, pytorch) {
  golden_case g;
  load_case(p->name, &g);
  const char *isa = rnnk_isa_name(rnnk_active_isa());
  golden_out o;
  char err[1024] = "";
  rnnk_status st = run_case(&g, RNNK_ISA_AUTO, &o, err, sizeof err);
  cr_assert_eq(st, RNNK_OK, "case %s (isa auto = %s): %s: %s", g.name, isa, rnnk_strerror(st),
               err);
  size_t bad_y = compare_tol(&g, isa, "y", o.y, g.y, g.y_count, 0);
  size_t bad_h = compare_tol(&g, isa, "hT", o.hT, g.hT, g.h_count, (size_t)g.state_size);
  size_t bad_c = 0;
  if (g.c_count) bad_c = compare_tol(&g, isa, "cT", o.cT, g.cT, g.c_count, (size_t)g.hidden_size);
  golden_out_free(&o);
  char name[sizeof g.name];
  memcpy(name, g.name, sizeof name);
  golden_free(&g);
  cr_assert(bad_y + bad_h + bad_c == 0,
            "case %s (isa %s): %zu y, %zu hT, %zu cT elements outside 1e-5*max(1,|b|) "
            "(first %d of each logged above)",
            name, isa, bad_y, bad_h, bad_c, GOLDEN_MAX_REPORT);
}

ParameterizedTestParameters(golden, isa_bitwise) {
  return cr_make_param_array(struct golden_param, (void *)golden_params, GOLDEN_NPARAMS);
}

ParameterizedTest(const struct golden_param *p, golden, isa_bitwise) {
  static const rnnk_isa isas[] = {RNNK_ISA_AUTO, RNNK_ISA_AVX2, RNNK_ISA_AVX512, RNNK_ISA_NEON};
  golden_case g;
  load_case(p->name, &g);
  golden_out ref;
  char err[1024] = "";
  rnnk_status st = run_case(&g, RNNK_ISA_SCALAR, &ref, err, sizeof err);
  cr_assert_eq(st, RNNK_OK, "case %s (isa scalar): %s: %s", g.name, rnnk_strerror(st), err);
  int ran = 0;
  for (size_t k = 0; k < sizeof isas / sizeof isas[0]; k++) {
    if (isas[k] != RNNK_ISA_AUTO && !rnnk_isa_supported(isas[k])) continue;
    const char *isa = isas[k] == RNNK_ISA_AUTO ? rnnk_isa_name(rnnk_active_isa())
                                               : rnnk_isa_name(isas[k]);
    golden_out o;
    st = run_case(&g, isas[k], &o, err, sizeof err);
    cr_assert_eq(st, RNNK_OK, "case %s (isa %s%s): %s: %s", g.name,
                 isas[k] == RNNK_ISA_AUTO ? "auto = " : "", isa, rnnk_strerror(st), err);
    const float *got[] = {o.y, o.hT, o.cT};
    const float *want[] = {ref.y, ref.hT, ref.cT};
    const size_t counts[] = {g.y_count, g.h_count, g.c_count};
    const size_t widths[] = {0, (size_t)g.state_size, (size_t)g.hidden_size};
    const char *names[] = {"y", "hT", "cT"};
    for (int a = 0; a < 3; a++) {
      if (counts[a] == 0) continue;
      size_t i = first_bit_diff(got[a], want[a], counts[a]);
      if (i == counts[a]) continue;
      char where[128];
      if (widths[a] == 0)
        describe_y(&g, i, where, sizeof where);
      else
        describe_state(&g, widths[a], i, where, sizeof where);
      uint32_t ua, ub;
      memcpy(&ua, &got[a][i], sizeof ua);
      memcpy(&ub, &want[a][i], sizeof ub);
      cr_assert_fail("case %s: isa %s differs from scalar: %s[%zu] (%s) = %.9g (0x%08x), "
                     "scalar %.9g (0x%08x)",
                     g.name, isa, names[a], i, where, (double)got[a][i], (unsigned)ua,
                     (double)want[a][i], (unsigned)ub);
    }
    golden_out_free(&o);
    ran++;
  }
  cr_log_info("case %s: %d ISA runs bit-identical to scalar", g.name, ran);
  golden_out_free(&ref);
  golden_free(&g);
}

/* The compiled-in list and tests/golden/cases.txt name the same cases. */
Test(golden, index) {
  char **names = NULL;
  char err[1024];
  int n = golden_list(&names, err, sizeof err);
  cr_assert_geq(n, 0, "%s", err);
  cr_expect_eq((size_t)n, GOLDEN_NPARAMS, "cases.txt lists %d cases, test_golden.c %zu", n,
               GOLDEN_NPARAMS);
  for (int i = 0; i < n; i++) {
    int found = 0;
    for (size_t k = 0; k < GOLDEN_NPARAMS; k++)
      found |= strcmp(names[i], golden_params[k].name) == 0;
    cr_expect(found, "case %s of cases.txt is missing from test_golden.c's GOLDEN_CASES",
              names[i]);
  }
  golden_free_names(names, n);
}
