/* An independent double-precision reference of whole rnnk networks, written
 * from SPEC.md (not from the library), plus helpers to make random networks.
 *
 * Weights are given in canonical PyTorch layout (rnnk_weights with
 * RNNK_LAYOUT_PYTORCH): LSTM gates i,f,g,o; GRU r,z,n; peephole i,f,o;
 * w_ih [G*H][K], w_hh [G*H][S], w_proj [P][H], Jordan w_out [O][H]. */
#ifndef RNNK_TESTS_REF_DOUBLE_H
#define RNNK_TESTS_REF_DOUBLE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rnnk.h"

/* Shapes derived from a config (computed here, independently of the library). */
int ref_gates(const rnnk_config *cfg);     /* G: 4 LSTM, 3 GRU, 1 otherwise */
int ref_dirs(const rnnk_config *cfg);      /* D: 2 for bidirectional */
int ref_carried(const rnnk_config *cfg);   /* S: H, P (LSTM proj) or O (Jordan) */
int ref_layer_in(const rnnk_config *cfg, int layer); /* K of a layer */
int ref_out_width(const rnnk_config *cfg); /* features per step of y */

/* Forward of the whole network in double. w has L*D entries ([layer][dir]).
 * x is [T][N][I] ([N][T][I] with batch_first); lengths NULL = all T; h0, c0
 * may be NULL. y ([T][N][W] or [N][T][W]), hT [L*D][N][S] and cT [L*D][N][H]
 * may be NULL. */
void ref_forward(const rnnk_config *cfg, const rnnk_weights *w, int T, int N, const float *x,
                 const int *lengths, const float *h0, const float *c0, double *y, double *hT,
                 double *cT);

/* A network's weights in PyTorch layout, owned. */
typedef struct ref_net {
  rnnk_config cfg;
  int n;            /* L*D */
  rnnk_weights *w;  /* [n] */
  float **bufs;     /* owned allocations */
  int nbufs;
} ref_net;

/* Random weights uniform in +-1/sqrt(max(H, S)) (all biases, peepholes, proj, V set;
 * with_bias false leaves b_ih/b_hh/b_out NULL). */
void ref_net_random(ref_net *net, const rnnk_config *cfg, uint64_t seed, bool with_bias);
void ref_net_free(ref_net *net);
/* Create a network on @p isa with net's config and set its weights
 * (PyTorch layout). Returns the first failing status. */
rnnk_status ref_net_build(const ref_net *net, rnnk_isa isa, rnnk_rnn **out);
/* Random weights (with biases) from seed into every layer and direction of
 * rnn, a network of cfg. */
rnnk_status ref_net_set_random(rnnk_rnn *rnn, const rnnk_config *cfg, uint64_t seed);
/* A network of cfg (on cfg->isa) with random weights (with biases) from seed. */
rnnk_status ref_net_make(const rnnk_config *cfg, uint64_t seed, rnnk_rnn **out);

/* Human-readable one-line description of a config, for failure messages. */
void ref_describe(const rnnk_config *cfg, char *buf, size_t len);

/* Compare float outputs with the reference using SPEC.md's match; prints up
 * to 6 mismatches (prefixed by label) to stderr; returns the count. */
int ref_compare(const char *label, const char *what, const float *got, const double *want, size_t n);

/* malloc'd random floats in [lo, hi). */
float *ref_rand_floats(uint64_t seed, size_t n, float lo, float hi);
#endif
