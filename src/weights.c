/* Weight import: framework layouts -> canonical gate order -> packed panels.
 *
 * Canonical gate order: LSTM i, f, g, o; GRU r, z, n; Elman/Jordan one gate.
 * Everything framework-specific (gate order, transposes, split or stacked
 * biases) is resolved here, once; kernels see only the packed layout. */
#include <string.h>

#include "src/internal.h"

/* Framework gate index of each canonical gate. */
static const int lstm_from_pytorch[4] = {0, 1, 2, 3}; /* i f g o */
static const int lstm_from_onnx[4] = {0, 2, 3, 1};    /* i o f c */
static const int lstm_from_keras[4] = {0, 1, 2, 3};   /* i f c o */
static const int gru_from_pytorch[3] = {0, 1, 2};     /* r z n */
static const int gru_from_zrh[3] = {1, 0, 2};         /* z r h (ONNX, Keras) */
static const int one_gate[1] = {0};
static const int peep_from_ifo[3] = {0, 1, 2};
static const int peep_from_onnx[3] = {0, 2, 1};       /* i o f */

/* A framework matrix seen as canonical (gate, unit, k). */
typedef struct mat_view {
  const float *p;
  size_t row_stride, k_stride; /* of framework row (gate*H + unit) and of k */
  const int *gate_map;
  int H; /* units per gate in the source */
} mat_view;

static inline float view_at(const mat_view *v, int g, int j, int k) {
  return v->p[((size_t)v->gate_map[g] * (size_t)v->H + (size_t)j) * v->row_stride + (size_t)k * v->k_stride];
}

static mat_view make_view(const float *p, rnnk_layout layout, const int *map, int G, int H, int K) {
  mat_view v = {.p = p, .gate_map = map, .H = H};
  if (layout == RNNK_LAYOUT_KERAS) {
    v.row_stride = 1;
    v.k_stride = (size_t)G * (size_t)H;
  } else {
    v.row_stride = (size_t)K;
    v.k_stride = 1;
  }
  return v;
}

/* Pack canonical gates [g0, g0+Gs) of v into panels of U units (ukernels.h). */
static void pack(float *dst, const mat_view *v, int g0, int Gs, int H, int Hp, int U, int K) {
  const size_t pw = (size_t)Gs * (size_t)U;
  for (int j = 0; j < Hp; j++)
    for (int g = 0; g < Gs; g++)
      for (int k = 0; k < K; k++)
        dst[(size_t)(j / U) * (size_t)K * pw + (size_t)k * pw + (size_t)g * (size_t)U + (size_t)(j % U)] =
            j < H ? view_at(v, g0 + g, j, k) : 0.0f;
}

/* Value of a [gates][H] vector in canonical order; NULL reads as zero. */
static inline float vec_at(const float *b, const int *map, int H, int g, int j) {
  return b ? b[map[g] * H + j] : 0.0f;
}

RNNK_API rnnk_status rnnk_rnn_set_weights(rnnk_rnn *rnn, int layer, int dir, rnnk_layout layout,
                                          const rnnk_weights *w) {
  rnnk_clear_error();
  if (!rnn) return rnnk_fail(RNNK_EINVAL, "rnn is NULL");
  if (!w) return rnnk_fail(RNNK_EINVAL, "w is NULL");
  const rnnk_config *c = &rnn->cfg;
  if (layer < 0 || layer >= c->num_layers)
    return rnnk_fail(RNNK_EINVAL, "layer = %d: the network has layers 0..%d", layer, c->num_layers - 1);
  if (dir < 0 || dir >= rnn->D)
    return rnnk_fail(RNNK_EINVAL, "dir = %d: the network has direction%s 0..%d", dir, rnn->D > 1 ? "s" : "", rnn->D - 1);
  if ((unsigned)layout > RNNK_LAYOUT_KERAS) return rnnk_fail(RNNK_EINVAL, "layout = %d: unknown layout", (int)layout);
  if (!w->w_ih) return rnnk_fail(RNNK_EINVAL, "w->w_ih is NULL");
  if (!w->w_hh) return rnnk_fail(RNNK_EINVAL, "w->w_hh is NULL");
  if (c->peephole != (w->peephole != NULL))
    return rnnk_fail(RNNK_EINVAL, c->peephole ? "w->peephole is NULL but config.peephole is set"
                                              : "w->peephole given but config.peephole is false");
  if ((c->proj_size > 0) != (w->w_proj != NULL))
    return rnnk_fail(RNNK_EINVAL, c->proj_size ? "w->w_proj is NULL but config.proj_size > 0"
                                               : "w->w_proj given but config.proj_size is 0");
  if ((c->cell == RNNK_JORDAN) != (w->w_out != NULL))
    return rnnk_fail(RNNK_EINVAL, c->cell == RNNK_JORDAN ? "w->w_out is NULL: a Jordan network needs V"
                                                         : "w->w_out given: only Jordan networks have V");
  if (w->b_out && c->cell != RNNK_JORDAN) return rnnk_fail(RNNK_EINVAL, "w->b_out given: only Jordan networks have b_V");
  if (layout != RNNK_LAYOUT_PYTORCH && w->b_hh)
    return rnnk_fail(RNNK_EINVAL, "w->b_hh must be NULL for the %s layout (its biases are stacked in b_ih)",
                     layout == RNNK_LAYOUT_ONNX ? "ONNX" : "Keras");

  const int G = rnn->G, H = rnn->H, Hp = rnn->Hp, U = rnn->tiles.unit, S = rnn->S;
  rnnk_layer *ly = &rnn->layers[layer * rnn->D + dir];
  const int K = ly->K;
  const int *map = c->cell == RNNK_LSTM ? (layout == RNNK_LAYOUT_PYTORCH ? lstm_from_pytorch
                                           : layout == RNNK_LAYOUT_ONNX  ? lstm_from_onnx
                                                                         : lstm_from_keras)
                   : c->cell == RNNK_GRU ? (layout == RNNK_LAYOUT_PYTORCH ? gru_from_pytorch : gru_from_zrh)
                                         : one_gate;

  /* Biases: Wb and Rb per canonical gate, from the layout's arrangement. */
  const float *wb = w->b_ih, *rb = w->b_hh;
  if (layout == RNNK_LAYOUT_ONNX && w->b_ih) rb = w->b_ih + (size_t)G * H;
  if (layout == RNNK_LAYOUT_KERAS && w->b_ih && c->cell == RNNK_GRU && c->linear_before_reset)
    rb = w->b_ih + (size_t)G * H;

  /* Everything validated: from here on nothing can fail. */
  mat_view vih = make_view(w->w_ih, layout, map, G, H, K);
  mat_view vhh = make_view(w->w_hh, layout, map, G, H, S);
  pack(ly->w_ih, &vih, 0, G, H, Hp, U, K);
  if (ly->w_hh_n) { /* GRU, reset before the product: r,z then n */
    pack(ly->w_hh, &vhh, 0, 2, H, Hp, U, S);
    pack(ly->w_hh_n, &vhh, 2, 1, H, Hp, U, S);
  } else {
    pack(ly->w_hh, &vhh, 0, G, H, Hp, U, S);
  }
  for (int j = 0; j < Hp; j++) {
    for (int g = 0; g < G; g++) {
      float b = 0.0f;
      if (j < H) {
        const bool gru_n = c->cell == RNNK_GRU && g == 2; /* b_Rn stays inside r * (...) */
        b = gru_n ? vec_at(wb, map, H, g, j) : vec_at(wb, map, H, g, j) + vec_at(rb, map, H, g, j);
      }
      ly->b_in[(size_t)(j / U) * G * U + (size_t)g * U + (size_t)(j % U)] = b;
    }
    if (ly->b_rn) ly->b_rn[j] = j < H ? vec_at(rb, map, H, 2, j) : 0.0f;
    if (ly->peep) {
      const int *pm = layout == RNNK_LAYOUT_ONNX ? peep_from_onnx : peep_from_ifo;
      for (int g = 0; g < 3; g++)
        ly->peep[(size_t)(j / U) * 3 * U + (size_t)g * U + (size_t)(j % U)] = j < H ? vec_at(w->peephole, pm, H, g, j) : 0.0f;
    }
  }
  if (ly->w_out) { /* projection [P][H] or Jordan V [O][H]; Keras transposed */
    const int So = rnn->So, Uo = rnn->tiles.unit_out;
    const float *src = c->cell == RNNK_JORDAN ? w->w_out : w->w_proj;
    mat_view vo = make_view(src, layout, one_gate, 1, So, H);
    pack(ly->w_out, &vo, 0, 1, So, rnn->Sop, Uo, H);
    for (int o = 0; o < rnn->Sop; o++) ly->b_out[o] = (w->b_out && o < So) ? w->b_out[o] : 0.0f;
  }
  ly->set = true;
  rnn->weights_gen++; /* per-node copies of the old weights are stale */
  return RNNK_OK;
}
