/* Double-precision reference of whole networks, straight from SPEC.md.
 * Deliberately naive: one row, one step, one unit at a time. */
#include "tests/ref_double.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/common.h"

int ref_gates(const rnnk_config *cfg) {
  return cfg->cell == RNNK_LSTM ? 4 : cfg->cell == RNNK_GRU ? 3 : 1;
}

int ref_dirs(const rnnk_config *cfg) {
  return cfg->direction == RNNK_BIDIR_CONCAT || cfg->direction == RNNK_BIDIR_SUM ? 2 : 1;
}

int ref_carried(const rnnk_config *cfg) {
  if (cfg->cell == RNNK_JORDAN) return cfg->output_size;
  if (cfg->cell == RNNK_LSTM && cfg->proj_size > 0) return cfg->proj_size;
  return cfg->hidden_size;
}

int ref_out_width(const rnnk_config *cfg) {
  return cfg->direction == RNNK_BIDIR_CONCAT ? 2 * ref_carried(cfg) : ref_carried(cfg);
}

int ref_layer_in(const rnnk_config *cfg, int layer) {
  return layer == 0 ? cfg->input_size : ref_out_width(cfg);
}

/* One activation with its ONNX parameters; clip clamps its input first. */
typedef struct ref_act {
  rnnk_activation kind;
  double alpha, beta, clip;
} ref_act;

static double act(const ref_act *a, double v) {
  if (a->clip > 0) v = v < -a->clip ? -a->clip : v > a->clip ? a->clip : v;
  switch (a->kind) {
  case RNNK_ACT_TANH: return tanh(v);
  case RNNK_ACT_SIGMOID: return 1.0 / (1.0 + exp(-v));
  case RNNK_ACT_RELU: return v > 0 ? v : 0.0;
  case RNNK_ACT_IDENTITY: return v;
  case RNNK_ACT_HARD_SIGMOID: {
    const double r = a->alpha * v + a->beta;
    return r < 0 ? 0.0 : r > 1 ? 1.0 : r;
  }
  default: abort();
  }
}

static ref_act make_act(const rnnk_config *cfg, int i, rnnk_activation dflt) {
  ref_act a;
  a.kind = cfg->act[i] == RNNK_ACT_DEFAULT ? dflt : cfg->act[i];
  a.alpha = cfg->act_alpha[i] == 0.0f ? 0.2 : (double)cfg->act_alpha[i];
  a.beta = cfg->act_beta[i] == 0.0f ? 0.5 : (double)cfg->act_beta[i];
  a.clip = (double)cfg->clip;
  return a;
}

static double at(const float *p, size_t i) { return p ? (double)p[i] : 0.0; }

/* Row of W (gate g, unit j) times a vector v of length K. */
static double dot(const float *W, int g, int H, int j, int K, const double *v) {
  const float *row = W + ((size_t)g * (size_t)H + (size_t)j) * (size_t)K;
  double s = 0;
  for (int k = 0; k < K; k++) s += (double)row[k] * v[k];
  return s;
}

/* One step of one row of one layer/direction. h [S] and c [H] are updated in place. */
static void cell_step(const rnnk_config *cfg, const rnnk_weights *w, int K, const double *x, double *h,
                      double *c, double *tmp) {
  const int H = cfg->hidden_size, S = ref_carried(cfg);
  switch (cfg->cell) {
  case RNNK_ELMAN: {
    const ref_act a = make_act(cfg, 0, RNNK_ACT_TANH);
    for (int j = 0; j < H; j++)
      tmp[j] = act(&a, dot(w->w_ih, 0, H, j, K, x) + at(w->b_ih, j) + dot(w->w_hh, 0, H, j, S, h) + at(w->b_hh, j));
    memcpy(h, tmp, (size_t)H * sizeof *h);
    break;
  }
  case RNNK_JORDAN: {
    const ref_act a = make_act(cfg, 0, RNNK_ACT_TANH);
    ref_act ao = {.kind = cfg->out_act == RNNK_ACT_DEFAULT ? RNNK_ACT_IDENTITY : cfg->out_act,
                  .alpha = 0.2, .beta = 0.5, .clip = (double)cfg->clip};
    const int O = cfg->output_size;
    for (int j = 0; j < H; j++) /* h_t = act(W x + R y_{t-1} + b) */
      tmp[j] = act(&a, dot(w->w_ih, 0, H, j, K, x) + at(w->b_ih, j) + dot(w->w_hh, 0, H, j, O, h) + at(w->b_hh, j));
    for (int o = 0; o < O; o++) /* y_t = act_o(V h_t + b_V) */
      h[o] = act(&ao, dot(w->w_out, 0, O, o, H, tmp) + at(w->b_out, o));
    break;
  }
  case RNNK_LSTM: {
    const ref_act f = make_act(cfg, 0, RNNK_ACT_SIGMOID), g = make_act(cfg, 1, RNNK_ACT_TANH),
                  hh = make_act(cfg, 2, RNNK_ACT_TANH);
    double *hn = tmp; /* o * h(c) [H] */
    for (int j = 0; j < H; j++) {
      double pre[4];
      for (int q = 0; q < 4; q++)
        pre[q] = dot(w->w_ih, q, H, j, K, x) + at(w->b_ih, (size_t)q * H + j) + dot(w->w_hh, q, H, j, S, h) +
                 at(w->b_hh, (size_t)q * H + j);
      const double cp = c[j];
      const double pi = at(w->peephole, j), pf = at(w->peephole, (size_t)H + j), po = at(w->peephole, 2 * (size_t)H + j);
      const double ig = act(&f, pre[0] + pi * cp);
      const double fg = cfg->input_forget ? 1.0 - ig : act(&f, pre[1] + pf * cp);
      const double gg = act(&g, pre[2]);
      const double cn = fg * cp + ig * gg;
      const double og = act(&f, pre[3] + po * cn); /* P_o sees the new c */
      c[j] = cn;
      hn[j] = og * act(&hh, cn);
    }
    if (cfg->proj_size > 0) {
      for (int p = 0; p < cfg->proj_size; p++) h[p] = dot(w->w_proj, 0, cfg->proj_size, p, H, hn);
    } else {
      memcpy(h, hn, (size_t)H * sizeof *h);
    }
    break;
  }
  case RNNK_GRU: {
    const ref_act f = make_act(cfg, 0, RNNK_ACT_SIGMOID), g = make_act(cfg, 1, RNNK_ACT_TANH);
    double *rh = tmp, *hn = tmp + H; /* r*h (lbr=0), new h */
    double *rv = tmp + 2 * (size_t)H;
    for (int j = 0; j < H; j++) /* r */
      rv[j] = act(&f, dot(w->w_ih, 0, H, j, K, x) + at(w->b_ih, j) + dot(w->w_hh, 0, H, j, H, h) + at(w->b_hh, j));
    for (int j = 0; j < H; j++) rh[j] = rv[j] * h[j];
    for (int j = 0; j < H; j++) {
      const double z = act(&f, dot(w->w_ih, 1, H, j, K, x) + at(w->b_ih, (size_t)H + j) + dot(w->w_hh, 1, H, j, H, h) +
                                   at(w->b_hh, (size_t)H + j));
      const double xn = dot(w->w_ih, 2, H, j, K, x) + at(w->b_ih, 2 * (size_t)H + j);
      const double bn = at(w->b_hh, 2 * (size_t)H + j);
      double n;
      if (cfg->linear_before_reset)
        n = act(&g, xn + rv[j] * (dot(w->w_hh, 2, H, j, H, h) + bn));
      else
        n = act(&g, xn + dot(w->w_hh, 2, H, j, H, rh) + bn);
      hn[j] = (1.0 - z) * n + z * h[j];
    }
    memcpy(h, hn, (size_t)H * sizeof *h);
    break;
  }
  }
}

void ref_forward(const rnnk_config *cfg, const rnnk_weights *w, int T, int N, const float *x,
                 const int *lengths, const float *h0, const float *c0, double *y, double *hT,
                 double *cT) {
  const int L = cfg->num_layers, D = ref_dirs(cfg), S = ref_carried(cfg), H = cfg->hidden_size;
  const int I = cfg->input_size, W = ref_out_width(cfg);
  const bool rev_only = cfg->direction == RNNK_REVERSE, sum = cfg->direction == RNNK_BIDIR_SUM;
  const size_t TN = (size_t)T * (size_t)N;
  int Wmax = I > W ? I : W;
  double *in = calloc(TN * (size_t)Wmax, sizeof *in), *out = calloc(TN * (size_t)W, sizeof *out);
  const int Smax = S > H ? S : H;
  double *h = calloc((size_t)Smax, sizeof *h), *c = calloc((size_t)H, sizeof *c);
  double *tmp = calloc(3 * (size_t)Smax + 3 * (size_t)H + 8, sizeof *tmp);
  /* layer 0 input as [T][N][I] */
  for (int t = 0; t < T; t++)
    for (int n = 0; n < N; n++)
      for (int i = 0; i < I; i++) {
        const size_t src = cfg->batch_first ? ((size_t)n * T + t) * I + i : ((size_t)t * N + n) * I + i;
        in[((size_t)t * N + n) * I + i] = x[src];
      }
  int K = I;
  for (int l = 0; l < L; l++) {
    memset(out, 0, TN * (size_t)W * sizeof *out);
    for (int d = 0; d < D; d++) {
      const int idx = l * D + d;
      const bool reverse = rev_only || d == 1;
      const size_t col = sum ? 0 : (size_t)d * (size_t)S;
      for (int n = 0; n < N; n++) {
        const int len = lengths ? lengths[n] : T;
        memset(h, 0, (size_t)Smax * sizeof *h);
        memset(c, 0, (size_t)H * sizeof *c);
        for (int s = 0; s < S; s++) h[s] = at(h0, ((size_t)idx * N + n) * S + s);
        if (cfg->cell == RNNK_LSTM)
          for (int j = 0; j < H; j++) c[j] = at(c0, ((size_t)idx * N + n) * H + j);
        for (int s = 0; s < len; s++) {
          const int t = reverse ? len - 1 - s : s;
          cell_step(cfg, &w[idx], K, in + ((size_t)t * N + n) * K, h, c, tmp);
          double *dst = out + ((size_t)t * N + n) * W + col;
          for (int q = 0; q < S; q++) dst[q] += h[q];
        }
        if (hT)
          for (int q = 0; q < S; q++) hT[((size_t)idx * N + n) * S + q] = h[q];
        if (cT && cfg->cell == RNNK_LSTM)
          for (int j = 0; j < H; j++) cT[((size_t)idx * N + n) * H + j] = c[j];
      }
    }
    memcpy(in, out, TN * (size_t)W * sizeof *out);
    K = W;
  }
  if (y)
    for (int t = 0; t < T; t++)
      for (int n = 0; n < N; n++)
        for (int q = 0; q < W; q++) {
          const size_t dst = cfg->batch_first ? ((size_t)n * T + t) * W + q : ((size_t)t * N + n) * W + q;
          y[dst] = out[((size_t)t * N + n) * W + q];
        }
  free(in);
  free(out);
  free(h);
  free(c);
  free(tmp);
}

/* ------------------------------------------------------------------ */

static float *net_alloc(ref_net *net, test_rng *r, size_t n, float a) {
  float *p = malloc((n ? n : 1) * sizeof *p);
  test_fill(r, p, n, -a, a);
  net->bufs[net->nbufs++] = p;
  return p;
}

void ref_net_random(ref_net *net, const rnnk_config *cfg, uint64_t seed, bool with_bias) {
  memset(net, 0, sizeof *net);
  net->cfg = *cfg;
  const int L = cfg->num_layers, D = ref_dirs(cfg), G = ref_gates(cfg), H = cfg->hidden_size, S = ref_carried(cfg);
  net->n = L * D;
  net->w = calloc((size_t)net->n, sizeof *net->w);
  net->bufs = calloc((size_t)net->n * 8, sizeof *net->bufs);
  test_rng r = {seed * 2654435761u + 12345};
  /* 1/sqrt(H) (SPEC.md's typical weights), or 1/sqrt(S) when the carried state is wider (Jordan O or
   * projection P > H): keeps the recurrence's gain near 1, so float rounding
   * is not amplified past SPEC.md's match by an ill-conditioned network. */
  const float a = 1.0f / sqrtf((float)(S > H ? S : H));
  for (int l = 0; l < L; l++)
    for (int d = 0; d < D; d++) {
      rnnk_weights *w = &net->w[l * D + d];
      const size_t K = (size_t)ref_layer_in(cfg, l), GH = (size_t)G * H;
      /* and 1/sqrt(K) for a wide input: an identity-activation network with
       * H = 1 and K = 37 otherwise amplifies rounding past 1e-5 */
      w->w_ih = net_alloc(net, &r, GH * K, K > (size_t)H && K > (size_t)S ? 1.0f / sqrtf((float)K) : a);
      w->w_hh = net_alloc(net, &r, GH * (size_t)S, a);
      if (with_bias) {
        w->b_ih = net_alloc(net, &r, GH, a);
        w->b_hh = net_alloc(net, &r, GH, a);
      }
      if (cfg->cell == RNNK_LSTM && cfg->peephole) w->peephole = net_alloc(net, &r, 3 * (size_t)H, a);
      if (cfg->cell == RNNK_LSTM && cfg->proj_size > 0)
        w->w_proj = net_alloc(net, &r, (size_t)cfg->proj_size * H, a);
      if (cfg->cell == RNNK_JORDAN) {
        w->w_out = net_alloc(net, &r, (size_t)cfg->output_size * H, a);
        if (with_bias) w->b_out = net_alloc(net, &r, (size_t)cfg->output_size, a);
      }
    }
}

void ref_net_free(ref_net *net) {
  for (int i = 0; i < net->nbufs; i++) free(net->bufs[i]);
  free(net->bufs);
  free(net->w);
  memset(net, 0, sizeof *net);
}

/* net's weights into every layer and direction of rnn. */
static rnnk_status set_net(rnnk_rnn *rnn, const ref_net *net) {
  const int D = ref_dirs(&net->cfg);
  for (int i = 0; i < net->n; i++) {
    const rnnk_status s = rnnk_rnn_set_weights(rnn, i / D, i % D, RNNK_LAYOUT_PYTORCH, &net->w[i]);
    if (s) return s;
  }
  return RNNK_OK;
}

rnnk_status ref_net_build(const ref_net *net, rnnk_isa isa, rnnk_rnn **out) {
  rnnk_config cfg = net->cfg;
  cfg.isa = isa;
  rnnk_rnn *rnn;
  rnnk_status s = rnnk_rnn_create(&cfg, &rnn);
  if (s) return s;
  if ((s = set_net(rnn, net))) {
    rnnk_rnn_destroy(rnn);
    return s;
  }
  *out = rnn;
  return RNNK_OK;
}

rnnk_status ref_net_set_random(rnnk_rnn *rnn, const rnnk_config *cfg, uint64_t seed) {
  ref_net net;
  ref_net_random(&net, cfg, seed, true);
  const rnnk_status s = set_net(rnn, &net);
  ref_net_free(&net);
  return s;
}

static const char *act_name(rnnk_activation a) {
  static const char *names[] = {"dflt", "tanh", "sigmoid", "relu", "identity", "hard_sigmoid"};
  return (unsigned)a < 6 ? names[a] : "?";
}

void ref_describe(const rnnk_config *c, char *buf, size_t len) {
  static const char *cells[] = {"elman", "jordan", "lstm", "gru"};
  static const char *dirs[] = {"fwd", "rev", "bidir_concat", "bidir_sum"};
  snprintf(buf, len,
           "cell=%s I=%d H=%d L=%d dir=%s P=%d O=%d peep=%d lbr=%d ifg=%d act=%s/%s/%s "
           "alpha=%g/%g/%g beta=%g/%g/%g out_act=%s clip=%g bf=%d",
           cells[c->cell & 3], c->input_size, c->hidden_size, c->num_layers, dirs[c->direction & 3], c->proj_size,
           c->output_size, c->peephole, c->linear_before_reset, c->input_forget, act_name(c->act[0]),
           act_name(c->act[1]), act_name(c->act[2]), (double)c->act_alpha[0], (double)c->act_alpha[1],
           (double)c->act_alpha[2], (double)c->act_beta[0], (double)c->act_beta[1], (double)c->act_beta[2],
           act_name(c->out_act), (double)c->clip, c->batch_first);
}

float *ref_rand_floats(uint64_t seed, size_t n, float lo, float hi) {
  test_rng r = {seed * 0x9E3779B97F4A7C15ull + 7};
  float *p = malloc((n ? n : 1) * sizeof *p);
  test_fill(&r, p, n, lo, hi);
  return p;
}

int ref_compare(const char *label, const char *what, const float *got, const double *want, size_t n) {
  int bad = 0;
  for (size_t i = 0; i < n; i++) {
    const bool ok = want[i] == 0.0 ? got[i] == 0.0f || test_match(got[i], 0.0f) : test_match(got[i], (float)want[i]);
    if (!ok) {
      if (bad < 6)
        fprintf(stderr, "  %s: %s[%zu] = %.9g, reference %.9g\n", label, what, i, (double)got[i], want[i]);
      bad++;
    }
  }
  if (bad > 6) fprintf(stderr, "  %s: %s: %d mismatches in all (of %zu)\n", label, what, bad, n);
  return bad;
}

rnnk_status ref_net_make(const rnnk_config *cfg, uint64_t seed, rnnk_rnn **out) {
  ref_net net;
  ref_net_random(&net, cfg, seed, true);
  const rnnk_status s = ref_net_build(&net, cfg->isa, out);
  ref_net_free(&net);
  return s;
}
