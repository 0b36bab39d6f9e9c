/* Weight import layouts: the same network imported from PyTorch, ONNX and
 * Keras layouts gives the same bits; GRU reset placements match their own
 * references. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/common.h"
#include "tests/ref_double.h"

TestSuite(layouts, .fini = test_leak_check);

/* Framework slot -> PyTorch (canonical) gate. */
static const int onnx_lstm[4] = {0, 3, 1, 2};  /* i o f c <- i f g o */
static const int keras_lstm[4] = {0, 1, 2, 3}; /* i f c o */
static const int zrh_gru[3] = {1, 0, 2};       /* z r h <- r z n */
static const int one[1] = {0};

/* Converted weights of one network; owns its buffers. */
typedef struct conv_net {
  rnnk_weights *w;
  float *bufs[64 * 8];
  int nbufs;
} conv_net;

static float *conv_alloc(conv_net *c, size_t n) {
  float *p = calloc(n ? n : 1, sizeof *p);
  c->bufs[c->nbufs++] = p;
  return p;
}

static void conv_free(conv_net *c) {
  for (int i = 0; i < c->nbufs; i++) free(c->bufs[i]);
  free(c->w);
}

/* Rows reordered by gate map (ONNX), or reordered and transposed (Keras). */
static float *conv_mat(conv_net *c, const float *src, const int *map, int G, int H, int K, bool transpose) {
  float *d = conv_alloc(c, (size_t)G * H * K);
  for (int s = 0; s < G; s++)
    for (int j = 0; j < H; j++)
      for (int k = 0; k < K; k++) {
        const float v = src[((size_t)map[s] * H + j) * K + k];
        if (transpose) d[(size_t)k * G * H + (size_t)s * H + j] = v;
        else d[((size_t)s * H + j) * K + k] = v;
      }
  return d;
}

static void conv_vec(float *d, const float *src, const int *map, int G, int H) {
  for (int s = 0; s < G; s++)
    for (int j = 0; j < H; j++) d[s * H + j] = src ? src[map[s] * H + j] : 0.0f;
}

/* PyTorch weights of @p net -> @p layout. For Keras with a single bias the
 * PyTorch biases are folded (b_ih + b_hh, as the library folds them); a GRU
 * with linear_before_reset = 0 must then have b_hh's n part zero. */
static void convert(conv_net *c, const ref_net *net, rnnk_layout layout) {
  const rnnk_config *cfg = &net->cfg;
  const int G = ref_gates(cfg), H = cfg->hidden_size, S = ref_carried(cfg), D = ref_dirs(cfg);
  const int *map = cfg->cell == RNNK_LSTM ? (layout == RNNK_LAYOUT_ONNX ? onnx_lstm : keras_lstm)
                   : cfg->cell == RNNK_GRU ? zrh_gru
                                           : one;
  const bool keras = layout == RNNK_LAYOUT_KERAS;
  memset(c, 0, sizeof *c);
  c->w = calloc((size_t)net->n, sizeof *c->w);
  for (int i = 0; i < net->n; i++) {
    const rnnk_weights *p = &net->w[i];
    rnnk_weights *o = &c->w[i];
    const int K = ref_layer_in(cfg, i / D), GH = G * H;
    o->w_ih = conv_mat(c, p->w_ih, map, G, H, K, keras);
    o->w_hh = conv_mat(c, p->w_hh, map, G, H, S, keras);
    if (p->b_ih || p->b_hh) {
      if (layout == RNNK_LAYOUT_ONNX || (keras && cfg->cell == RNNK_GRU && cfg->linear_before_reset)) {
        float *b = conv_alloc(c, 2 * (size_t)GH);
        conv_vec(b, p->b_ih, map, G, H);
        conv_vec(b + GH, p->b_hh, map, G, H);
        o->b_ih = b;
      } else { /* Keras, one bias */
        float *bi = conv_alloc(c, (size_t)GH), *bh = conv_alloc(c, (size_t)GH), *b = conv_alloc(c, (size_t)GH);
        conv_vec(bi, p->b_ih, map, G, H);
        conv_vec(bh, p->b_hh, map, G, H);
        for (int q = 0; q < GH; q++) b[q] = bi[q] + bh[q];
        o->b_ih = b;
      }
    }
    if (p->peephole) {
      float *pp = conv_alloc(c, 3 * (size_t)H);
      static const int onnx_peep[3] = {0, 2, 1}, ifo[3] = {0, 1, 2};
      conv_vec(pp, p->peephole, layout == RNNK_LAYOUT_ONNX ? onnx_peep : ifo, 3, H);
      o->peephole = pp;
    }
    if (p->w_proj) o->w_proj = conv_mat(c, p->w_proj, one, 1, cfg->proj_size, H, keras);
    if (p->w_out) o->w_out = conv_mat(c, p->w_out, one, 1, cfg->output_size, H, keras);
    o->b_out = p->b_out;
  }
}

typedef struct outs {
  float *y, *hT, *cT;
  size_t ny, nh, nc;
} outs;

static void outs_free(outs *o) {
  free(o->y);
  free(o->hT);
  free(o->cT);
}

/* Build with @p w in @p layout on @p isa and run; cr_assert on failures. */
static outs run(const rnnk_config *cfg, rnnk_isa isa, rnnk_layout layout, const rnnk_weights *w, int T, int N,
                const float *x, const int *lengths, const float *h0, const float *c0) {
  rnnk_config c = *cfg;
  c.isa = isa;
  rnnk_rnn *rnn;
  cr_assert_eq(rnnk_rnn_create(&c, &rnn), RNNK_OK, "%s", rnnk_last_error());
  const int D = ref_dirs(cfg), L = cfg->num_layers;
  for (int i = 0; i < L * D; i++)
    cr_assert_eq(rnnk_rnn_set_weights(rnn, i / D, i % D, layout, &w[i]), RNNK_OK, "layout %d: %s", (int)layout,
                 rnnk_last_error());
  outs o = {.ny = (size_t)T * N * ref_out_width(cfg), .nh = (size_t)L * D * N * ref_carried(cfg),
            .nc = cfg->cell == RNNK_LSTM ? (size_t)L * D * N * cfg->hidden_size : 0};
  o.y = malloc(o.ny * sizeof(float));
  o.hT = malloc(o.nh * sizeof(float));
  o.cT = o.nc ? malloc(o.nc * sizeof(float)) : NULL;
  cr_assert_eq(rnnk_rnn_forward(rnn, T, N, x, lengths, h0, c0, o.y, o.hT, o.cT), RNNK_OK, "%s", rnnk_last_error());
  rnnk_rnn_destroy(rnn);
  return o;
}

static bool same(const outs *a, const outs *b) {
  return a->ny == b->ny && !memcmp(a->y, b->y, a->ny * sizeof(float)) && !memcmp(a->hT, b->hT, a->nh * sizeof(float)) &&
         (!a->nc || !memcmp(a->cT, b->cT, a->nc * sizeof(float)));
}

/* PyTorch vs ONNX vs Keras import of one random network, on every ISA. */
static void check_layouts(const rnnk_config *cfg, uint64_t seed) {
  char desc[512];
  ref_describe(cfg, desc, sizeof desc);
  ref_net net;
  ref_net_random(&net, cfg, seed, true);
  const int T = 6, N = 3, I = cfg->input_size, D = ref_dirs(cfg), L = cfg->num_layers;
  const int lengths[3] = {4, 6, 0};
  float *x = ref_rand_floats(seed + 1, (size_t)T * N * I, -1, 1);
  float *h0 = ref_rand_floats(seed + 2, (size_t)L * D * N * ref_carried(cfg), -1, 1);
  float *c0 = cfg->cell == RNNK_LSTM ? ref_rand_floats(seed + 3, (size_t)L * D * N * cfg->hidden_size, -1, 1) : NULL;
  conv_net onnx, keras;
  convert(&onnx, &net, RNNK_LAYOUT_ONNX);
  rnnk_isa isas[4];
  const int nisa = test_isas(isas);
  for (int ii = 0; ii < nisa; ii++) {
    outs pt = run(cfg, isas[ii], RNNK_LAYOUT_PYTORCH, net.w, T, N, x, lengths, h0, c0);
    outs on = run(cfg, isas[ii], RNNK_LAYOUT_ONNX, onnx.w, T, N, x, lengths, h0, c0);
    cr_expect(same(&pt, &on), "[%s] ONNX import differs from PyTorch import: seed=%llu %s", rnnk_isa_name(isas[ii]),
              (unsigned long long)seed, desc);
    /* and the PyTorch import matches the reference */
    double *yr = malloc(pt.ny * sizeof *yr), *hr = malloc(pt.nh * sizeof *hr), *cr = malloc((pt.nc + 1) * sizeof *cr);
    ref_forward(cfg, net.w, T, N, x, lengths, h0, c0, yr, hr, pt.nc ? cr : NULL);
    const int bad = ref_compare(desc, "y", pt.y, yr, pt.ny) + ref_compare(desc, "hT", pt.hT, hr, pt.nh) +
                    (pt.nc ? ref_compare(desc, "cT", pt.cT, cr, pt.nc) : 0);
    cr_expect_eq(bad, 0, "[%s] %d mismatches against the reference: seed=%llu %s", rnnk_isa_name(isas[ii]), bad,
                 (unsigned long long)seed, desc);
    free(yr);
    free(hr);
    free(cr);
    outs_free(&pt);
    outs_free(&on);
  }
  if (cfg->cell == RNNK_GRU && !cfg->linear_before_reset) /* Keras reset_after=False: one bias, no b_Rn */
    for (int i = 0; i < net.n; i++)
      memset((float *)net.w[i].b_hh + 2 * cfg->hidden_size, 0, (size_t)cfg->hidden_size * sizeof(float));
  convert(&keras, &net, RNNK_LAYOUT_KERAS);
  for (int ii = 0; ii < nisa; ii++) {
    outs pt = run(cfg, isas[ii], RNNK_LAYOUT_PYTORCH, net.w, T, N, x, lengths, h0, c0);
    outs ke = run(cfg, isas[ii], RNNK_LAYOUT_KERAS, keras.w, T, N, x, lengths, h0, c0);
    cr_expect(same(&pt, &ke), "[%s] Keras import differs from PyTorch import: seed=%llu %s", rnnk_isa_name(isas[ii]),
              (unsigned long long)seed, desc);
    outs_free(&pt);
    outs_free(&ke);
  }
  conv_free(&onnx);
  conv_free(&keras);
  free(x);
  free(h0);
  free(c0);
  ref_net_free(&net);
}

static void each_direction(rnnk_config cfg, uint64_t seed) {
  static const rnnk_direction dirs[] = {RNNK_FORWARD, RNNK_REVERSE, RNNK_BIDIR_CONCAT, RNNK_BIDIR_SUM};
  for (int d = 0; d < 4; d++)
    for (int L = 1; L <= 2; L++) {
      cfg.direction = dirs[d];
      cfg.num_layers = L;
      check_layouts(&cfg, seed + (uint64_t)(d * 2 + L));
    }
}

Test(layouts, elman) {
  rnnk_config cfg;
  rnnk_config_init(&cfg, RNNK_ELMAN, 7, 13);
  each_direction(cfg, 100);
  cfg.act[0] = RNNK_ACT_RELU;
  each_direction(cfg, 120);
}

Test(layouts, jordan) {
  rnnk_config cfg;
  rnnk_config_init(&cfg, RNNK_JORDAN, 5, 17);
  cfg.output_size = 7;
  each_direction(cfg, 200);
}

Test(layouts, lstm) {
  rnnk_config cfg;
  rnnk_config_init(&cfg, RNNK_LSTM, 13, 17);
  each_direction(cfg, 300);
}

Test(layouts, lstm_peephole) {
  rnnk_config cfg;
  rnnk_config_init(&cfg, RNNK_LSTM, 5, 33);
  cfg.peephole = true;
  each_direction(cfg, 400);
}

Test(layouts, lstm_projection) {
  rnnk_config cfg;
  rnnk_config_init(&cfg, RNNK_LSTM, 7, 13);
  cfg.proj_size = 5;
  each_direction(cfg, 500);
  cfg.peephole = true;
  each_direction(cfg, 520);
}

Test(layouts, gru_lbr0) {
  rnnk_config cfg;
  rnnk_config_init(&cfg, RNNK_GRU, 13, 37);
  cfg.linear_before_reset = false;
  each_direction(cfg, 600);
}

Test(layouts, gru_lbr1) {
  rnnk_config cfg;
  rnnk_config_init(&cfg, RNNK_GRU, 13, 37);
  cfg.linear_before_reset = true;
  each_direction(cfg, 700);
}

/* The two reset placements are different functions, each matching its own
 * reference (and not the other's). */
Test(layouts, gru_reset_placements) {
  rnnk_isa isas[4];
  const int nisa = test_isas(isas);
  for (int dir = 0; dir < 4; dir++) {
    rnnk_config cfg[2];
    for (int v = 0; v < 2; v++) {
      rnnk_config_init(&cfg[v], RNNK_GRU, 7, 13);
      cfg[v].direction = (rnnk_direction)dir;
      cfg[v].num_layers = 2;
      cfg[v].linear_before_reset = v;
    }
    ref_net net;
    ref_net_random(&net, &cfg[0], 800 + (uint64_t)dir, true);
    const int T = 5, N = 4;
    float *x = ref_rand_floats(900 + (uint64_t)dir, (size_t)T * N * 7, -1, 1);
    float *h0 = ref_rand_floats(950 + (uint64_t)dir, (size_t)2 * ref_dirs(&cfg[0]) * N * 13, -1, 1);
    const size_t ny = (size_t)T * N * ref_out_width(&cfg[0]), nh = (size_t)2 * ref_dirs(&cfg[0]) * N * 13;
    double *yr[2], *hr[2];
    for (int v = 0; v < 2; v++) {
      yr[v] = malloc(ny * sizeof(double));
      hr[v] = malloc(nh * sizeof(double));
      ref_forward(&cfg[v], net.w, T, N, x, NULL, h0, NULL, yr[v], hr[v], NULL);
    }
    /* the references themselves differ clearly */
    double maxdiff = 0;
    for (size_t i = 0; i < ny; i++) maxdiff = fmax(maxdiff, fabs(yr[0][i] - yr[1][i]));
    cr_assert_gt(maxdiff, 1e-3, "the two reset placements should give different outputs");
    for (int ii = 0; ii < nisa; ii++) {
      outs o[2];
      for (int v = 0; v < 2; v++) {
        o[v] = run(&cfg[v], isas[ii], RNNK_LAYOUT_PYTORCH, net.w, T, N, x, NULL, h0, NULL);
        char lab[64];
        snprintf(lab, sizeof lab, "[%s] lbr=%d dir=%d", rnnk_isa_name(isas[ii]), v, dir);
        const int bad = ref_compare(lab, "y", o[v].y, yr[v], ny) + ref_compare(lab, "hT", o[v].hT, hr[v], nh);
        cr_expect_eq(bad, 0, "%s: %d mismatches against its own reference", lab, bad);
        int bad_other = 0;
        for (size_t i = 0; i < ny; i++) bad_other += !test_match(o[v].y[i], (float)yr[1 - v][i]);
        cr_expect_gt(bad_other, 0, "%s: matches the other placement's reference", lab);
      }
      cr_expect_neq(memcmp(o[0].y, o[1].y, ny * sizeof(float)), 0);
      outs_free(&o[0]);
      outs_free(&o[1]);
    }
    for (int v = 0; v < 2; v++) {
      free(yr[v]);
      free(hr[v]);
    }
    free(x);
    free(h0);
    ref_net_free(&net);
  }
}
