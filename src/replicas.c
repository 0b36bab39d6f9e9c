/* Per-NUMA-node copies of a network's packed weights, for pools whose
 * workers sit on more than one node: each worker then streams its weights
 * from its own node's memory instead of across the interconnect.
 *
 * A set is built the first time such a pool runs the network, with each
 * node's copy placed on that node (bound with hwloc where the OS allows,
 * and in any case written by a worker of that node, so first-touch puts
 * the pages there). It is cached in the network (one slot, taken by atomic
 * exchange like the forward scratch, so concurrent calls never share one
 * they are building) and rebuilt when the weights or the node count change.
 * The copies hold the same bits, so results do not change. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "src/internal.h"
#include "threads/pool.h"

struct rnnk_replicas {
  int nodes, nl;        /* copies, layers (L*D) per copy */
  unsigned weights_gen; /* rnn->weights_gen they copy */
  rnnk_layer *layers;   /* [nodes][nl]: same shape as rnn->layers, pointers into block[node] */
  float **block;        /* [nodes]: one page-aligned allocation per node */
  size_t block_bytes;
};

enum { PAGE = 4096, HUGE = 2 << 20 };

static size_t floats_up(size_t n) { return (n + 15) & ~(size_t)15; } /* 64-byte steps */

void rnnk_replicas_free(rnnk_replicas *r) {
  if (!r) return;
  if (r->block)
    for (int i = 0; i < r->nodes; i++) rnnk_free(r->block[i]);
  free(r->block);
  free(r->layers);
  free(r);
}

/* One node's copy of every layer laid out from q, each part 64-byte
 * aligned: the floats it takes, and, when dst is not NULL, dst[i] = layer
 * i with its pointers into q. (q NULL: only count.) */
static size_t lay_out(const rnnk_rnn *rnn, int nl, rnnk_layer *dst, float *q) {
  size_t used = 0;
  for (int i = 0; i < nl; i++) {
    rnnk_layer tmp = rnn->layers[i]; /* K, set, bytes; pointers replaced below */
    rnnk_layer_part part[RNNK_LAYER_PARTS];
    rnnk_layer_parts(rnn, &tmp, tmp.K, part); /* sizes were checked at create */
    for (int k = 0; k < RNNK_LAYER_PARTS; k++) {
      *part[k].p = q && part[k].n ? q + used : NULL;
      used += floats_up(part[k].n);
    }
    if (dst) dst[i] = tmp;
  }
  return used;
}

/* Allocate (untouched) and lay out a set for `nodes` nodes; NULL on ENOMEM. */
static rnnk_replicas *alloc_set(const rnnk_rnn *rnn, int nodes) {
  const int nl = rnn->cfg.num_layers * rnn->D;
  rnnk_replicas *r = calloc(1, sizeof *r);
  if (!r) return NULL;
  r->nodes = nodes;
  r->nl = nl;
  r->weights_gen = rnn->weights_gen;
  r->block_bytes = (lay_out(rnn, nl, NULL, NULL) * sizeof(float) + PAGE - 1) / PAGE * PAGE;
  r->layers = calloc((size_t)nodes * (size_t)nl, sizeof *r->layers);
  r->block = calloc((size_t)nodes, sizeof *r->block);
  if (!r->layers || !r->block) {
    rnnk_replicas_free(r);
    return NULL;
  }
  for (int m = 0; m < nodes; m++) {
    /* whole pages (huge ones from 2 MiB on), untouched until their node's
     * worker binds and writes them */
    r->block[m] = r->block_bytes >= HUGE ? rnnk_alloc_pages(r->block_bytes) : aligned_alloc(PAGE, r->block_bytes);
    if (!r->block[m]) {
      rnnk_replicas_free(r);
      return NULL;
    }
    lay_out(rnn, nl, r->layers + (size_t)m * (size_t)nl, r->block[m]);
  }
  return r;
}

typedef struct copy_job {
  const rnnk_rnn *rnn;
  rnnk_replicas *r;
  rnnk_pool *pool;
} copy_job;

/* Bind and fill node m's copy. */
static void fill_node(const copy_job *j, int m) {
  rnnk_pool_bind_area(j->pool, m, j->r->block[m], j->r->block_bytes);
  for (int i = 0; i < j->r->nl; i++) {
    rnnk_layer src = j->rnn->layers[i];
    rnnk_layer *dst = &j->r->layers[(size_t)m * (size_t)j->r->nl + (size_t)i];
    rnnk_layer_part from[RNNK_LAYER_PARTS], to[RNNK_LAYER_PARTS];
    rnnk_layer_parts(j->rnn, &src, src.K, from);
    rnnk_layer_parts(j->rnn, dst, dst->K, to);
    for (int k = 0; k < RNNK_LAYER_PARTS; k++)
      if (from[k].n) memcpy(*to[k].p, *from[k].p, from[k].n * sizeof(float));
  }
}

/* The first worker of each node fills that node's copy; a job run inline
 * (one thread: a call nested in a job of the same pool) fills them all. */
static void copy_fn(void *vctx, int tid, int nth) {
  const copy_job *j = vctx;
  if (nth == 1) {
    for (int m = 0; m < j->r->nodes; m++) fill_node(j, m);
    return;
  }
  const int node = rnnk_pool_node_of(j->pool, tid);
  for (int t = 0; t < tid; t++)
    if (rnnk_pool_node_of(j->pool, t) == node) return; /* not the first of its node */
  fill_node(j, node);
}

rnnk_replicas *rnnk_replicas_acquire(const rnnk_rnn *rnn, rnnk_pool *pool) {
  const int nodes = rnnk_pool_nodes(pool);
  if (nodes < 2) return NULL;
  rnnk_replicas *r = atomic_exchange(rnn->replica_slot, NULL);
  if (r && r->nodes == nodes && r->weights_gen == rnn->weights_gen) return r;
  rnnk_replicas_free(r);
  if (!(r = alloc_set(rnn, nodes))) return NULL; /* no copies: every node reads the originals */
  copy_job j = {.rnn = rnn, .r = r, .pool = pool};
  rnnk_pool_run(pool, copy_fn, &j, false);
  return r;
}

void rnnk_replicas_release(const rnnk_rnn *rnn, rnnk_replicas *r) {
  if (!r) return;
  rnnk_replicas *empty = NULL;
  if (!atomic_compare_exchange_strong(rnn->replica_slot, &empty, r)) rnnk_replicas_free(r);
}

rnnk_layer *rnnk_replicas_layers(const rnnk_replicas *r, const rnnk_rnn *rnn, int node) {
  if (!r || node < 0 || node >= r->nodes) return rnn->layers;
  return r->layers + (size_t)node * (size_t)r->nl;
}

int rnnk_replicas_cached(const rnnk_rnn *rnn) {
  rnnk_replicas *r = atomic_load(rnn->replica_slot);
  return r ? r->nodes : 0;
}
