/* anchor_res: rnnk on the anchors' cases, printed as their RES lines, so that
 * ../shared/anchors/run.sh can interleave rnnk with oneDNN, ONNX Runtime,
 * PyTorch and libxsmm in the same rounds:
 *
 *   EXTRA_BENCH="$PWD/build/bench/anchor_res 11 1,2" ./run.sh
 *
 * Usage: anchor_res [reps=21] [threads=1,2] [filter]
 * The same command line and cases as the anchors' onednn_rnn: cells lstm,
 * gru (reset before the product, ONNX's default), lbr_gru (linear before
 * reset, PyTorch's), rnn (Elman tanh); N in {1, 8, 64}; H in {128 ... 1024};
 * I = H, T = 50, one layer; and a 2-layer bidirectional LSTM at H = 256
 * (PyTorch's stacking: layer 2 reads both directions, I2 = 2H). Each case
 * warms up for ~50 ms, then times @p reps single forward calls per thread
 * count, thread counts alternating. The impl is "rnnk-<isa>", so runs under
 * RNNK_ISA=avx2 land in their own column. The calling thread is pinned to
 * core 0; 2 threads means a pinned 2-thread pool attached to the network
 * (rnnk_rnn_set_pool), which splits the call by rows or hidden units as
 * rnnk_plan decides. ANCHOR_I=n gives the one-layer cases I = n (e.g. 80,
 * speech features) for a run against an onednn_rnn patched the same way
 * (its cases take I = H). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "threads/pool.h" /* rnnk_pin_current_thread */
#include "rnnk.h"

enum { T_STEPS = 50, MAX_THREADS = 8 };

typedef struct anchor_case {
  const char *name; /* the anchors' cell name */
  rnnk_cell cell;
  bool lbr;
  int N, H, L, D;
} anchor_case;

/* Input size of layer 0: I = H unless ANCHOR_I says otherwise (one-layer cases). */
static int input_size(const anchor_case *c) {
  const char *e = getenv("ANCHOR_I");
  return e && atoi(e) > 0 && c->L == 1 ? atoi(e) : c->H;
}

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return 1e3 * (double)t.tv_sec + 1e-6 * (double)t.tv_nsec;
}

static unsigned g_rng = 12345u;
static float uniform(float scale) {
  g_rng = g_rng * 1664525u + 1013904223u;
  return scale * ((float)(g_rng >> 8) * (2.0f / 16777216.0f) - 1.0f);
}
static float *random_floats(size_t n, float scale) {
  float *p = malloc((n ? n : 1) * sizeof *p);
  if (p)
    for (size_t i = 0; i < n; i++) p[i] = uniform(scale);
  return p;
}

/* A network of the case with random weights (PyTorch's init range). */
static rnnk_rnn *make_net(const anchor_case *c) {
  rnnk_config cfg;
  rnnk_config_init(&cfg, c->cell, input_size(c), c->H);
  cfg.num_layers = c->L;
  cfg.direction = c->D == 2 ? RNNK_BIDIR_CONCAT : RNNK_FORWARD;
  cfg.linear_before_reset = c->lbr;
  cfg.batch_hint = c->N;
  rnnk_rnn *net = NULL;
  if (rnnk_rnn_create(&cfg, &net) != RNNK_OK) return NULL;
  const int G = c->cell == RNNK_LSTM ? 4 : c->cell == RNNK_GRU ? 3 : 1;
  const float s = 1.0f / sqrtf((float)c->H);
  bool ok = true;
  for (int l = 0; l < c->L && ok; l++)
    for (int d = 0; d < c->D && ok; d++) {
      const int K = l == 0 ? input_size(c) : c->D * c->H;
      float *w_ih = random_floats((size_t)G * c->H * K, s);
      float *w_hh = random_floats((size_t)G * c->H * c->H, s);
      float *b_ih = random_floats((size_t)G * c->H, s), *b_hh = random_floats((size_t)G * c->H, s);
      rnnk_weights w = {.w_ih = w_ih, .w_hh = w_hh, .b_ih = b_ih, .b_hh = b_hh};
      ok = w_ih && w_hh && b_ih && b_hh &&
           rnnk_rnn_set_weights(net, l, d, RNNK_LAYOUT_PYTORCH, &w) == RNNK_OK;
      free(w_ih), free(w_hh), free(b_ih), free(b_hh);
    }
  if (!ok) rnnk_rnn_destroy(net);
  return ok ? net : NULL;
}

static int parse_threads(const char *s, int *thr) {
  int n = 0;
  for (const char *p = s; *p && n < MAX_THREADS;) {
    char *end;
    long t = strtol(p, &end, 10);
    if (end == p || t < 1 || t > 256) return -1;
    thr[n++] = (int)t;
    p = *end == ',' ? end + 1 : end;
    if (*end && *end != ',') return -1;
  }
  return n;
}

int main(int argc, char **argv) {
  const int reps = argc > 1 ? atoi(argv[1]) : 21;
  int thr[MAX_THREADS], nthr = parse_threads(argc > 2 ? argv[2] : "1,2", thr);
  const char *filter = argc > 3 ? argv[3] : "";
  if (reps < 1 || nthr < 1) {
    fprintf(stderr, "usage: anchor_res [reps>=1] [threads, e.g. 1,2] [filter]\n");
    return 2;
  }
  /* Pools before pinning: their workers take the creating thread's mask. */
  rnnk_pool *pool[MAX_THREADS] = {0};
  for (int k = 0; k < nthr; k++)
    if (thr[k] > 1 && rnnk_pool_create(thr[k], RNNK_PIN_COMPACT, &pool[k]) != RNNK_OK) {
      fprintf(stderr, "anchor_res: rnnk_pool_create(%d): %s\n", thr[k], rnnk_last_error());
      return 1;
    }
  if (!rnnk_pin_current_thread(0)) fprintf(stderr, "anchor_res: could not pin to core 0\n");

  anchor_case cases[64];
  int nc = 0;
  const struct { const char *name; rnnk_cell cell; bool lbr; } cells[] = {
      {"lstm", RNNK_LSTM, false}, {"gru", RNNK_GRU, false},
      {"lbr_gru", RNNK_GRU, true}, {"rnn", RNNK_ELMAN, false}};
  for (int i = 0; i < 4; i++)
    for (int N = 1; N <= 64; N *= 8)
      for (int H = 128; H <= 1024; H *= 2)
        cases[nc++] = (anchor_case){cells[i].name, cells[i].cell, cells[i].lbr, N, H, 1, 1};
  cases[nc++] = (anchor_case){"lstm", RNNK_LSTM, false, 1, 256, 2, 2};

  for (int ci = 0; ci < nc; ci++) {
    const anchor_case *c = &cases[ci];
    char name[160];
    snprintf(name, sizeof name, "cell=%s N=%d H=%d I=%d T=%d L=%d D=%d I2=%d", c->name, c->N,
             c->H, input_size(c), T_STEPS, c->L, c->D, c->L > 1 ? c->D * c->H : c->H);
    if (*filter && !strstr(name, filter)) continue;
    rnnk_rnn *net = make_net(c);
    const size_t nx = (size_t)T_STEPS * c->N * input_size(c), ny = (size_t)T_STEPS * c->N * c->H * c->D;
    float *x = random_floats(nx, 1.0f), *y = malloc(ny * sizeof *y);
    double *ms = malloc((size_t)nthr * reps * sizeof *ms);
    if (!net || !x || !y || !ms) {
      fprintf(stderr, "anchor_res: %s: %s\n", name, net ? "out of memory" : rnnk_last_error());
      return 1;
    }
    char desc[512], isa[32] = "?";
    int unit = 0;
    if (rnnk_rnn_describe(net, desc, sizeof desc) == RNNK_OK) {
      const char *at = strstr(desc, " isa="), *u = strstr(desc, " unit=");
      if (at) sscanf(at, " isa=%31[a-z0-9]", isa);
      if (u) unit = atoi(u + 6);
    }
    /* Warm-up: at least 3 calls and ~50 ms per thread count. */
    for (int k = 0; k < nthr; k++) {
      rnnk_rnn_set_pool(net, pool[k]);
      const double t0 = now_ms();
      for (int w = 0; w < 50 && (w < 3 || now_ms() - t0 < 50); w++)
        rnnk_rnn_forward(net, T_STEPS, c->N, x, NULL, NULL, NULL, y, NULL, NULL);
    }
    for (int r = 0; r < reps; r++)
      for (int k = 0; k < nthr; k++) {
        rnnk_rnn_set_pool(net, pool[k]);
        const double t0 = now_ms();
        rnnk_status s = rnnk_rnn_forward(net, T_STEPS, c->N, x, NULL, NULL, NULL, y, NULL, NULL);
        ms[k * reps + r] = now_ms() - t0;
        if (s != RNNK_OK) {
          fprintf(stderr, "anchor_res: %s: %s\n", name, rnnk_last_error());
          return 1;
        }
      }
    for (int k = 0; k < nthr; k++) {
      printf("RES impl=rnnk-%s %s thr=%d impl_info=rnnk:%s:unit%d%s ms=", isa, name, thr[k], isa, unit,
             pool[k] ? ":pool" : "");
      for (int r = 0; r < reps; r++) printf(r ? ",%.4f" : "%.4f", ms[k * reps + r]);
      printf("\n");
    }
    fflush(stdout);
    free(x), free(y), free(ms);
    rnnk_rnn_destroy(net);
  }
  for (int k = 0; k < nthr; k++) rnnk_pool_destroy(pool[k]);
  return 0;
}
