/* Config defaults and validation. */
#include <limits.h>
#include <string.h>

#include "src/internal.h"
#include "tune/cache.h"

/* Sizes are capped so every derived element count fits comfortably in
 * size_t and int arithmetic (G*Hp*K products are checked again at packing). */
#define RNNK_MAX_SIZE (1 << 20)

RNNK_API void rnnk_config_init(rnnk_config *cfg, rnnk_cell cell, int input_size, int hidden_size) {
  if (!cfg) return;
  memset(cfg, 0, sizeof *cfg);
  cfg->cell = cell;
  cfg->input_size = input_size;
  cfg->hidden_size = hidden_size;
  cfg->num_layers = 1;
  cfg->direction = RNNK_FORWARD;
  cfg->linear_before_reset = true;
}

static bool act_valid(rnnk_activation a) { return a >= RNNK_ACT_DEFAULT && a <= RNNK_ACT_HARD_SIGMOID; }

static rnnk_status check_size(const char *name, int v, bool zero_ok) {
  if (v < 0 || (v == 0 && !zero_ok) || v > RNNK_MAX_SIZE)
    return rnnk_fail(RNNK_EINVAL, "config.%s = %d: must be in %d..%d", name, v, zero_ok ? 0 : 1,
                     RNNK_MAX_SIZE);
  return RNNK_OK;
}

rnnk_status rnnk_config_resolve(const rnnk_config *in, rnnk_config *out) {
  if (!in) return rnnk_fail(RNNK_EINVAL, "cfg is NULL");
  rnnk_config c = *in;
  rnnk_status s;
  if ((unsigned)c.cell > RNNK_GRU) return rnnk_fail(RNNK_EINVAL, "config.cell = %d: unknown cell", (int)c.cell);
  if ((unsigned)c.direction > RNNK_BIDIR_SUM)
    return rnnk_fail(RNNK_EINVAL, "config.direction = %d: unknown direction", (int)c.direction);
  if ((s = check_size("input_size", c.input_size, false))) return s;
  if ((s = check_size("hidden_size", c.hidden_size, false))) return s;
  if (c.num_layers < 1 || c.num_layers > 1024)
    return rnnk_fail(RNNK_EINVAL, "config.num_layers = %d: must be in 1..1024", c.num_layers);
  if ((s = check_size("proj_size", c.proj_size, true))) return s;
  if ((s = check_size("output_size", c.output_size, true))) return s;
  if (c.proj_size && c.cell != RNNK_LSTM)
    return rnnk_fail(RNNK_EINVAL, "config.proj_size = %d: only LSTM has a projection", c.proj_size);
  if (c.cell == RNNK_JORDAN && c.output_size == 0)
    return rnnk_fail(RNNK_EINVAL, "config.output_size = 0: a Jordan network needs its output size");
  if (c.cell != RNNK_JORDAN && c.output_size)
    return rnnk_fail(RNNK_EINVAL, "config.output_size = %d: only Jordan networks have one", c.output_size);
  if ((c.peephole || c.input_forget) && c.cell != RNNK_LSTM)
    return rnnk_fail(RNNK_EINVAL, "config.%s: LSTM only", c.peephole ? "peephole" : "input_forget");
  if (!(c.clip >= 0.0f) || c.clip > 3.4e38f)
    return rnnk_fail(RNNK_EINVAL, "config.clip = %g: must be >= 0 and finite", (double)c.clip);
  if (c.weight_type != RNNK_F32)
    return rnnk_fail(RNNK_ENOTSUP, "config.weight_type = %d: only RNNK_F32 is supported", (int)c.weight_type);
  if ((unsigned)c.isa > RNNK_ISA_NEON) return rnnk_fail(RNNK_EINVAL, "config.isa = %d: unknown ISA", (int)c.isa);
  if ((s = check_size("batch_hint", c.batch_hint, true))) return s;
  for (int i = 0; i < 3; i++) {
    if (!act_valid(c.act[i])) return rnnk_fail(RNNK_EINVAL, "config.act[%d] = %d: unknown activation", i, (int)c.act[i]);
    if (c.act_alpha[i] == 0.0f) c.act_alpha[i] = 0.2f;
    if (c.act_beta[i] == 0.0f) c.act_beta[i] = 0.5f;
  }
  if (!act_valid(c.out_act)) return rnnk_fail(RNNK_EINVAL, "config.out_act = %d: unknown activation", (int)c.out_act);
  switch (c.cell) {
  case RNNK_LSTM:
    if (!c.act[0]) c.act[0] = RNNK_ACT_SIGMOID;
    if (!c.act[1]) c.act[1] = RNNK_ACT_TANH;
    if (!c.act[2]) c.act[2] = RNNK_ACT_TANH;
    break;
  case RNNK_GRU:
    if (!c.act[0]) c.act[0] = RNNK_ACT_SIGMOID;
    if (!c.act[1]) c.act[1] = RNNK_ACT_TANH;
    if (!c.act[2]) c.act[2] = RNNK_ACT_TANH; /* unused */
    break;
  default:
    if (!c.act[0]) c.act[0] = RNNK_ACT_TANH;
    if (!c.act[1]) c.act[1] = RNNK_ACT_TANH; /* unused */
    if (!c.act[2]) c.act[2] = RNNK_ACT_TANH; /* unused */
    if (!c.out_act) c.out_act = RNNK_ACT_IDENTITY;
    break;
  }
  if (!c.out_act) c.out_act = RNNK_ACT_IDENTITY;
  if (c.isa == RNNK_ISA_AUTO) {
    c.isa = rnnk_active_isa();
    /* A tuned host may prefer a lower ISA for this shape (frequency effects). */
    rnnk_tune_key k = rnnk_tiles_key(c.isa, &c, 1, 1);
    rnnk_tune_value v;
    if (rnnk_tune_cache_lookup(&k, &v) == RNNK_OK && v.isa && rnnk_isa_supported((rnnk_isa)v.isa)) c.isa = (rnnk_isa)v.isa;
  }
  else if (!rnnk_isa_supported(c.isa))
    return rnnk_fail(RNNK_ENOTSUP, "config.isa = %s: not available on this CPU/OS or not compiled in",
                     rnnk_isa_name(c.isa));
  *out = c;
  return RNNK_OK;
}
