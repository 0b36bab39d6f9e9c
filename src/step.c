/* Streaming: one step at a time, state held by the caller.
 *
 * A step is a forward call of T = 1 whose initial and final states are the
 * handle's own buffers, through the same driver and kernels, so T steps give
 * the same bits as one call over T steps. Scratch is allocated once, with
 * the state. */
#include <stdlib.h>
#include <string.h>

#include "src/internal.h"

struct rnnk_state {
  const rnnk_rnn *rnn;
  int N;
  size_t n_h, n_c; /* floats per layer: N*S and N*H */
  float *h, *c;    /* [L][N][S], [L][N][H] */
  float *scratch;
  bool backward; /* sweep direction of the next step: alternates (see rnnk_fwd_io) */
};

RNNK_API rnnk_status rnnk_state_create(const rnnk_rnn *rnn, int N, rnnk_state **out) {
  rnnk_clear_error();
  if (!rnn) return rnnk_fail(RNNK_EINVAL, "rnn is NULL");
  if (!out) return rnnk_fail(RNNK_EINVAL, "out is NULL");
  if (N < 1) return rnnk_fail(RNNK_EINVAL, "N = %d: must be >= 1", N);
  if (rnn->D != 1)
    return rnnk_fail(RNNK_EINVAL, "a bidirectional network cannot stream: it needs the whole sequence");
  const size_t L = (size_t)rnn->cfg.num_layers;
  rnnk_state *st = calloc(1, sizeof *st);
  if (!st) return rnnk_fail(RNNK_ENOMEM, "out of memory");
  st->rnn = rnn;
  st->N = N;
  size_t sf = rnnk_forward_scratch_floats(rnn, 1, N);
  if (!rnnk_mul_ok((size_t)N, (size_t)rnn->S, &st->n_h) || !rnnk_mul_ok((size_t)N, (size_t)rnn->H, &st->n_c) ||
      !rnnk_mul_ok(L, st->n_h, &(size_t){0}) || !rnnk_mul_ok(L, st->n_c, &(size_t){0}) || !sf) {
    free(st);
    return rnnk_fail(RNNK_ENOMEM, "N = %d: state size overflows size_t", N);
  }
  st->h = rnnk_falloc(L * st->n_h);
  st->c = rnn->cfg.cell == RNNK_LSTM ? rnnk_falloc(L * st->n_c) : NULL;
  st->scratch = rnnk_falloc(sf);
  if (!st->h || !st->scratch || (rnn->cfg.cell == RNNK_LSTM && !st->c)) {
    rnnk_state_destroy(st);
    return rnnk_fail(RNNK_ENOMEM, "out of memory for a state of %d rows", N);
  }
  *out = st;
  return RNNK_OK;
}

RNNK_API void rnnk_state_destroy(rnnk_state *st) {
  if (!st) return;
  rnnk_free(st->h);
  rnnk_free(st->c);
  rnnk_free(st->scratch);
  free(st);
}

RNNK_API rnnk_status rnnk_rnn_step(const rnnk_rnn *rnn, rnnk_state *st, const float *x_t, float *y_t) {
  rnnk_clear_error();
  if (!rnn) return rnnk_fail(RNNK_EINVAL, "rnn is NULL");
  if (!st) return rnnk_fail(RNNK_EINVAL, "st is NULL");
  if (!x_t) return rnnk_fail(RNNK_EINVAL, "x_t is NULL");
  if (st->rnn != rnn) return rnnk_fail(RNNK_EINVAL, "st was created for another network");
  rnnk_status ready = rnnk_check_ready(rnn);
  if (ready) return ready;
  const size_t N = (size_t)st->N, I = (size_t)rnn->cfg.input_size, W = (size_t)rnn->out_width;
  rnnk_fwd_io io = {.T = 1, .N = st->N, .x = x_t, .x_step_stride = N * I, .x_row_stride = I,
                    .y = y_t, .y_step_stride = N * W, .y_row_stride = W,
                    .h0 = st->h, .hT = st->h, .c0 = st->c, .cT = st->c, .scratch = st->scratch,
                    .backward = st->backward};
  const rnnk_call_plan plan = rnnk_plan(rnn, st->N);
  io.k_block = plan.k_block; /* T = 1: no time chunk */
  rnnk_status s = rnnk_forward_planned(rnn, &io, plan);
  if (s == RNNK_OK) st->backward = !st->backward;
  return s;
}

RNNK_API rnnk_status rnnk_state_reset(rnnk_state *st, int row) {
  rnnk_clear_error();
  if (!st) return rnnk_fail(RNNK_EINVAL, "st is NULL");
  if (row < -1 || row >= st->N) return rnnk_fail(RNNK_EINVAL, "row = %d: must be -1 or in 0..%d", row, st->N - 1);
  const size_t L = (size_t)st->rnn->cfg.num_layers, S = (size_t)st->rnn->S, H = (size_t)st->rnn->H;
  for (size_t l = 0; l < L; l++) {
    if (row < 0) {
      memset(st->h + l * st->n_h, 0, st->n_h * sizeof(float));
      if (st->c) memset(st->c + l * st->n_c, 0, st->n_c * sizeof(float));
    } else {
      memset(st->h + l * st->n_h + (size_t)row * S, 0, S * sizeof(float));
      if (st->c) memset(st->c + l * st->n_c + (size_t)row * H, 0, H * sizeof(float));
    }
  }
  return RNNK_OK;
}

RNNK_API rnnk_status rnnk_state_set(rnnk_state *st, const float *h, const float *c) {
  rnnk_clear_error();
  if (!st) return rnnk_fail(RNNK_EINVAL, "st is NULL");
  if (!h && !c) return rnnk_fail(RNNK_EINVAL, "h and c are both NULL");
  if (c && !st->c) return rnnk_fail(RNNK_EINVAL, "c given but only LSTM has a cell state");
  const size_t L = (size_t)st->rnn->cfg.num_layers;
  if (h) memcpy(st->h, h, L * st->n_h * sizeof(float));
  if (c) memcpy(st->c, c, L * st->n_c * sizeof(float));
  return RNNK_OK;
}

RNNK_API rnnk_status rnnk_state_set_row(rnnk_state *st, int row, const float *h, const float *c) {
  rnnk_clear_error();
  if (!st) return rnnk_fail(RNNK_EINVAL, "st is NULL");
  if (row < 0 || row >= st->N) return rnnk_fail(RNNK_EINVAL, "row = %d: must be in 0..%d", row, st->N - 1);
  if (!h && !c) return rnnk_fail(RNNK_EINVAL, "h and c are both NULL");
  if (c && !st->c) return rnnk_fail(RNNK_EINVAL, "c given but only LSTM has a cell state");
  const size_t L = (size_t)st->rnn->cfg.num_layers, S = (size_t)st->rnn->S, H = (size_t)st->rnn->H;
  for (size_t l = 0; l < L; l++) {
    if (h) memcpy(st->h + l * st->n_h + (size_t)row * S, h + l * S, S * sizeof(float));
    if (c) memcpy(st->c + l * st->n_c + (size_t)row * H, c + l * H, H * sizeof(float));
  }
  return RNNK_OK;
}

RNNK_API rnnk_status rnnk_state_get(const rnnk_state *st, float *h, float *c) {
  rnnk_clear_error();
  if (!st) return rnnk_fail(RNNK_EINVAL, "st is NULL");
  if (c && !st->c) return rnnk_fail(RNNK_EINVAL, "c given but only LSTM has a cell state");
  const size_t L = (size_t)st->rnn->cfg.num_layers;
  if (h) memcpy(h, st->h, L * st->n_h * sizeof(float));
  if (c) memcpy(c, st->c, L * st->n_c * sizeof(float));
  return RNNK_OK;
}
