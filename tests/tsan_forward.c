/* Threaded forward paths as a plain program, for ThreadSanitizer (Criterion
 * cannot start under TSan): concurrent callers on one network, the hidden-
 * unit split over a pool, and forward_many; each must give the bits of one
 * plain forward call. Prints "N passed, N failed". */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rnnk.h"
#include "tests/common.h"

enum { T = 7, N = 3, I = 19, H = 100, CALLERS = 4 };
static int passed, failed;
static void check(int ok, const char *what) {
  if (ok) passed++;
  else failed++, printf("FAIL: %s\n", what);
}

static float x[T * N * I], want[T * N * 2 * H];
static const int lengths[N] = {T, 3, 5}; /* rows join late in the reverse direction */
static rnnk_rnn *net;

static void *caller(void *arg) {
  float *y = arg;
  for (int r = 0; r < 5; r++) rnnk_rnn_forward(net, T, N, x, lengths, NULL, NULL, y, NULL, NULL);
  return NULL;
}

int main(void) {
  const rnnk_cell cells[] = {RNNK_LSTM, RNNK_GRU, RNNK_ELMAN};
  for (int ci = 0; ci < 3; ci++) {
    rnnk_config c;
    rnnk_config_init(&c, cells[ci], I, H);
    c.direction = RNNK_BIDIR_CONCAT;
    const int G = cells[ci] == RNNK_LSTM ? 4 : cells[ci] == RNNK_GRU ? 3 : 1;
    float *wi = malloc(sizeof(float) * G * H * I), *wh = malloc(sizeof(float) * G * H * H);
    unsigned s = 1;
    for (int i = 0; i < G * H * I; i++) wi[i] = (float)((s = s * 1103515245u + 12345u) >> 16 & 0x7fff) / 32768.f - .5f;
    for (int i = 0; i < G * H * H; i++) wh[i] = (float)((s = s * 1103515245u + 12345u) >> 16 & 0x7fff) / 32768.f * .2f - .1f;
    for (int i = 0; i < T * N * I; i++) x[i] = (float)((s = s * 1103515245u + 12345u) >> 16 & 0x7fff) / 32768.f - .5f;
    rnnk_weights w = {.w_ih = wi, .w_hh = wh};
    if (rnnk_rnn_create(&c, &net) || rnnk_rnn_set_weights(net, 0, 0, RNNK_LAYOUT_PYTORCH, &w) ||
        rnnk_rnn_set_weights(net, 0, 1, RNNK_LAYOUT_PYTORCH, &w)) {
      printf("setup: %s\n", rnnk_last_error());
      return 1;
    }
    rnnk_rnn_forward(net, T, N, x, lengths, NULL, NULL, want, NULL, NULL);

    pthread_t th[CALLERS];
    float *ys = calloc((size_t)CALLERS * T * N * 2 * H, sizeof(float));
    for (int t = 0; t < CALLERS; t++) pthread_create(&th[t], NULL, caller, ys + (size_t)t * T * N * 2 * H);
    for (int t = 0; t < CALLERS; t++) pthread_join(th[t], NULL);
    for (int t = 0; t < CALLERS; t++) check(!memcmp(ys + (size_t)t * T * N * 2 * H, want, sizeof want), "concurrent callers");

    for (int threads = 2; threads <= 3; threads++) {
      rnnk_pool *pool;
      if (rnnk_pool_create(threads, RNNK_PIN_COMPACT, &pool)) return 1;
      rnnk_rnn_set_pool(net, pool);
      for (int rows = 0; rows < 2; rows++) {
        check(test_force_split(net, N, rows), "the plan splits over the pool");
        float y[T * N * 2 * H];
        rnnk_rnn_forward(net, T, N, x, lengths, NULL, NULL, y, NULL, NULL);
        check(!memcmp(y, want, sizeof y), rows ? "rows split over a pool" : "units split over a pool");
      }
      rnnk_rnn_set_pool(net, NULL);
      /* forward_many: each row as its own sequence */
      rnnk_sequence seq[N];
      float xs[N][T * I], yseq[N][T * 2 * H];
      for (int n = 0; n < N; n++) {
        for (int t = 0; t < T; t++) memcpy(&xs[n][t * I], &x[(t * N + n) * I], I * sizeof(float));
        seq[n] = (rnnk_sequence){.T = lengths[n], .x = xs[n], .y = yseq[n]};
      }
      rnnk_rnn_forward_many(net, pool, N, seq);
      int ok = 1;
      for (int n = 0; n < N; n++)
        for (int t = 0; t < lengths[n]; t++) ok &= !memcmp(&yseq[n][t * 2 * H], &want[(t * N + n) * 2 * H], 2 * H * sizeof(float));
      check(ok, "forward_many over a pool");
      rnnk_pool_destroy(pool);
    }
    free(ys), free(wi), free(wh);
    rnnk_rnn_destroy(net);
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed != 0;
}
