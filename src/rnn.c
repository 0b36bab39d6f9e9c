/* Network creation, destruction and description. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/internal.h"

static int round_up(int v, int m) { return (v + m - 1) / m * m; }

int rnnk_layer_input(const rnnk_rnn *rnn, int l) {
  return l == 0 ? rnn->cfg.input_size : rnnk_layer_output(rnn, l - 1);
}

int rnnk_layer_output(const rnnk_rnn *rnn, int l) {
  (void)l;
  return rnn->cfg.direction == RNNK_BIDIR_CONCAT ? 2 * rnn->S : rnn->S;
}

static rnnk_act_param act_param(rnnk_activation a, float alpha, float beta) {
  /* rnnk_activation and RNNK_K_* share their values. */
  return (rnnk_act_param){.kind = (int)a, .alpha = alpha, .beta = beta};
}

static void free_layer(rnnk_layer *ly) {
  rnnk_free(ly->w_ih);
  rnnk_free(ly->b_in);
  rnnk_free(ly->w_hh);
  rnnk_free(ly->w_hh_n);
  rnnk_free(ly->b_rn);
  rnnk_free(ly->peep);
  rnnk_free(ly->w_out);
  rnnk_free(ly->b_out);
}

RNNK_API void rnnk_rnn_destroy(rnnk_rnn *rnn) {
  if (!rnn) return;
  if (rnn->layers)
    for (int i = 0; i < rnn->cfg.num_layers * rnn->D; i++) free_layer(&rnn->layers[i]);
  free(rnn->layers);
  if (rnn->scratch_slot)
    for (int i = 0; i < rnn->scratch_slots; i++) rnnk_free(atomic_load(&rnn->scratch_slot[i]));
  free(rnn->scratch_slot);
  if (rnn->replica_slot) rnnk_replicas_free(atomic_load(rnn->replica_slot));
  free(rnn->replica_slot);
  free(rnn);
}

bool rnnk_layer_parts(const rnnk_rnn *rnn, rnnk_layer *ly, int K, rnnk_layer_part part[RNNK_LAYER_PARTS]) {
  const size_t G = (size_t)rnn->G, Hp = (size_t)rnn->Hp, H = (size_t)rnn->H;
  size_t n_ih, n_hh, n_out = 0;
  if (!rnnk_mul_ok(G * Hp, (size_t)K, &n_ih) || !rnnk_mul_ok(G * Hp, (size_t)rnn->S, &n_hh) ||
      (rnn->So && !rnnk_mul_ok((size_t)rnn->Sop, H, &n_out)))
    return false;
  const bool gru = rnn->cfg.cell == RNNK_GRU, gru0 = gru && !rnn->cfg.linear_before_reset;
  const rnnk_layer_part p[RNNK_LAYER_PARTS] = {
      {&ly->w_ih, n_ih},
      {&ly->b_in, G * Hp},
      {&ly->w_hh, gru0 ? n_hh / 3 * 2 : n_hh},
      {&ly->w_hh_n, gru0 ? n_hh / 3 : 0},
      {&ly->b_rn, gru ? Hp : 0},
      {&ly->peep, rnn->cfg.peephole ? 3 * Hp : 0},
      {&ly->w_out, n_out},
      {&ly->b_out, rnn->So ? (size_t)rnn->Sop : 0},
  };
  for (int i = 0; i < RNNK_LAYER_PARTS; i++) part[i] = p[i];
  return true;
}

/* Allocate the zeroed packed buffers of one layer. */
static rnnk_status alloc_layer(const rnnk_rnn *rnn, rnnk_layer *ly, int K) {
  rnnk_layer_part part[RNNK_LAYER_PARTS];
  if (!rnnk_layer_parts(rnn, ly, K, part))
    return rnnk_fail(RNNK_ENOMEM, "weights of %d x %d floats overflow size_t", rnn->G * rnn->Hp, K);
  ly->K = K;
  size_t total = 0;
  for (int i = 0; i < RNNK_LAYER_PARTS; i++) {
    if (!part[i].n) continue;
    if (!(*part[i].p = rnnk_falloc(part[i].n)))
      return rnnk_fail(RNNK_ENOMEM, "out of memory packing layer weights (%zu floats)", part[i].n);
    total += part[i].n;
  }
  ly->bytes = total * sizeof(float);
  return RNNK_OK;
}

RNNK_API rnnk_status rnnk_rnn_create(const rnnk_config *cfg, rnnk_rnn **out) {
  return rnnk_rnn_create_tiled(cfg, NULL, out);
}

rnnk_status rnnk_rnn_create_tiled(const rnnk_config *cfg, const rnnk_tiles *tiles, rnnk_rnn **out) {
  rnnk_clear_error();
  if (!out) return rnnk_fail(RNNK_EINVAL, "out is NULL");
  rnnk_config c;
  rnnk_status s = rnnk_config_resolve(cfg, &c);
  if (s) return s;
  const rnnk_ukernels *uk = rnnk_ukernels_for(c.isa);
  if (!uk) return rnnk_fail(RNNK_ENOTSUP, "no kernels for ISA %s", rnnk_isa_name(c.isa));

  rnnk_rnn *rnn = calloc(1, sizeof *rnn);
  if (!rnn) return rnnk_fail(RNNK_ENOMEM, "out of memory");
  rnn->cfg = c;
  rnn->isa = c.isa;
  rnn->uk = uk;
  if (tiles) rnn->tiles = *tiles, rnn->tiles_given = true;
  else rnnk_tiles_choose(c.isa, &c, &rnn->tiles);
  const int vw = (int)uk->unit_align;
  if (!rnnk_unit_valid(rnn->tiles.unit, vw, rnnk_max_unit_vectors(&c)) || !rnnk_unit_valid(rnn->tiles.unit_out, vw, 2)) {
    const rnnk_tiles bad = rnn->tiles;
    free(rnn);
    return rnnk_fail(RNNK_EINVAL, "tiles unit=%d unit_out=%d do not fit the %s kernels", bad.unit, bad.unit_out,
                     uk->name);
  }
  rnn->G = rnnk_cell_gates(c.cell);
  rnn->D = c.direction >= RNNK_BIDIR_CONCAT ? 2 : 1;
  rnn->H = c.hidden_size;
  rnn->Hp = round_up(c.hidden_size, rnn->tiles.unit);
  rnn->So = c.cell == RNNK_JORDAN ? c.output_size : c.proj_size;
  rnn->Sop = rnn->So ? round_up(rnn->So, rnn->tiles.unit_out) : 0;
  rnn->S = rnn->So ? rnn->So : rnn->H;
  rnn->Sp = rnn->So ? rnn->Sop : rnn->Hp;
  rnn->out_width = rnnk_layer_output(rnn, c.num_layers - 1);
  rnn->cp.f = act_param(c.act[0], c.act_alpha[0], c.act_beta[0]);
  rnn->cp.g = act_param(c.act[1], c.act_alpha[1], c.act_beta[1]);
  rnn->cp.h = act_param(c.act[2], c.act_alpha[2], c.act_beta[2]);
  if (c.cell == RNNK_ELMAN || c.cell == RNNK_JORDAN) /* one activation: the kernels read g */
    rnn->cp.g = act_param(c.act[0], c.act_alpha[0], c.act_beta[0]);
  rnn->cp.clip = c.clip;
  rnn->cp.input_forget = c.input_forget;
  rnn->out_act = act_param(c.out_act, 0.2f, 0.5f);

  const int nl = c.num_layers * rnn->D;
  rnn->layers = calloc((size_t)nl, sizeof *rnn->layers);
  rnn->scratch_slot = malloc(RNNK_SCRATCH_SLOTS * sizeof *rnn->scratch_slot);
  if (rnn->scratch_slot)
    for (int i = 0; i < RNNK_SCRATCH_SLOTS; i++) atomic_init(&rnn->scratch_slot[i], NULL);
  rnn->scratch_slots = rnn->scratch_slot ? RNNK_SCRATCH_SLOTS : 0;
  rnn->replica_slot = malloc(sizeof *rnn->replica_slot);
  if (rnn->replica_slot) atomic_init(rnn->replica_slot, NULL);
  if (!rnn->layers || !rnn->scratch_slot || !rnn->replica_slot) {
    free(rnn->layers);
    free(rnn->scratch_slot);
    free(rnn->replica_slot);
    free(rnn);
    return rnnk_fail(RNNK_ENOMEM, "out of memory");
  }
  for (int i = 0; i < nl; i++) {
    if ((s = alloc_layer(rnn, &rnn->layers[i], rnnk_layer_input(rnn, i / rnn->D)))) {
      rnnk_rnn_destroy(rnn);
      return s;
    }
  }
  *out = rnn;
  return RNNK_OK;
}

RNNK_API rnnk_status rnnk_rnn_config(const rnnk_rnn *rnn, rnnk_config *cfg) {
  rnnk_clear_error();
  if (!rnn || !cfg) return rnnk_fail(RNNK_EINVAL, "%s is NULL", rnn ? "cfg" : "rnn");
  *cfg = rnn->cfg;
  return RNNK_OK;
}

RNNK_API int rnnk_rnn_output_size(const rnnk_rnn *rnn) { return rnn ? rnn->out_width : 0; }

static const char *cell_name(const rnnk_config *c) {
  switch (c->cell) {
  case RNNK_ELMAN: return "elman";
  case RNNK_JORDAN: return "jordan";
  case RNNK_LSTM: return "lstm";
  default: return c->linear_before_reset ? "gru(linear_before_reset)" : "gru";
  }
}

RNNK_API rnnk_status rnnk_rnn_describe(const rnnk_rnn *rnn, char *buf, size_t len) {
  rnnk_clear_error();
  if (!rnn || !buf || !len) return rnnk_fail(RNNK_EINVAL, "%s", !rnn ? "rnn is NULL" : !buf ? "buf is NULL" : "len is 0");
  size_t bytes = 0;
  for (int i = 0; i < rnn->cfg.num_layers * rnn->D; i++) bytes += rnn->layers[i].bytes;
  const rnnk_config *c = &rnn->cfg;
  snprintf(buf, len,
           "cell=%s layers=%d dirs=%d I=%d H=%d%s%.0d isa=%s kernels=%s unit=%d unit_out=%d "
           "hidden_padded=%d time_chunk=%d split=%d packed_bytes=%zu",
           cell_name(c), c->num_layers, rnn->D, c->input_size, c->hidden_size,
           rnn->So ? (c->cell == RNNK_JORDAN ? " O=" : " P=") : "", rnn->So, rnnk_isa_name(rnn->isa),
           rnn->uk->name, rnn->tiles.unit, rnn->tiles.unit_out, rnn->Hp, rnn->tiles.time_chunk,
           rnn->tiles.split, bytes);
  return RNNK_OK;
}

RNNK_API rnnk_status rnnk_rnn_set_pool(rnnk_rnn *rnn, rnnk_pool *pool) {
  rnnk_clear_error();
  if (!rnn) return rnnk_fail(RNNK_EINVAL, "rnn is NULL");
  /* A slot per thread, so that a row split over a big pool reuses its
   * scratch between calls; no call runs now, so the array may move. */
  const int want = pool ? rnnk_pool_size(pool) : 0;
  if (want > rnn->scratch_slots) {
    _Atomic(float *) *slots = malloc((size_t)want * sizeof *slots);
    if (!slots) return rnnk_fail(RNNK_ENOMEM, "out of memory for %d scratch slots", want);
    for (int i = 0; i < want; i++)
      atomic_init(&slots[i], i < rnn->scratch_slots ? atomic_load(&rnn->scratch_slot[i]) : NULL);
    free(rnn->scratch_slot);
    rnn->scratch_slot = slots;
    rnn->scratch_slots = want;
  }
  rnn->pool = pool;
  return RNNK_OK;
}
