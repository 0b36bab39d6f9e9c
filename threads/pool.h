/* Thread pool: internal API for the forward driver, forward_many and the tuner.
 * The public half (create/size/pinned/destroy) is declared in rnnk.h. */
#ifndef RNNK_THREADS_POOL_H
#define RNNK_THREADS_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rnnk.h"

/* A job: called once on every thread of the pool, tid in [0, nthreads). */
typedef void (*rnnk_pool_fn)(void *ctx, int tid, int nthreads);

/* Run fn on all threads, the caller being tid 0; returns when all are done.
 * pool == NULL runs fn(ctx, 0, 1) on the caller. With ftz every thread runs
 * the job with flush-to-zero + denormals-are-zero, otherwise with both off
 * (IEEE); each thread's previous mode is restored afterwards. Jobs from
 * several caller threads are serialised; a call from inside a job of the
 * same pool runs fn(ctx, 0, 1) inline instead of deadlocking. */
void rnnk_pool_run(rnnk_pool *pool, rnnk_pool_fn fn, void *ctx, bool ftz);

/* Inside a job: wait until all nthreads threads of the job arrive. Every
 * thread must call it the same number of times. Spins, then yields; never
 * sleeps. No-op for pool == NULL or a one-thread pool. */
void rnnk_pool_barrier(rnnk_pool *pool, int tid);

/* Logical hwloc PU index worker tid is bound to, or -1 (unbound, tid 0 --
 * the caller is never pinned -- or a bad tid). */
int rnnk_pool_cpu_of(const rnnk_pool *pool, int tid);

/* NUMA nodes the pool's workers sit on (1 when unpinned or unknown), and
 * worker tid's node as a dense id in [0, nodes). The caller (tid 0) counts
 * on the node of the core it was planned for. */
int rnnk_pool_nodes(const rnnk_pool *pool);
int rnnk_pool_node_of(const rnnk_pool *pool, int tid);

/* Ask the OS to place the pages of [addr, addr+len) (page-aligned, not yet
 * touched) on the pool's node @p node. False when it cannot (no hwloc, no
 * NUMA support, a node the OS lacks): the pages then land where they are
 * first touched. */
bool rnnk_pool_bind_area(const rnnk_pool *pool, int node, void *addr, size_t len);

/* Pin the calling thread to logical core @p logical_core of the cores its
 * current binding allows (to that core's first PU). False on any failure,
 * never crashes. Note: pools see the CPUs of the thread that creates them,
 * so create pools before pinning that thread (or from another thread). */
bool rnnk_pin_current_thread(int logical_core);

/* Text report of the topology and of where a default pool (threads = 0,
 * COMPACT) would place its workers. snprintf-like: returns the length the
 * full text needs (excluding NUL), writes at most len bytes; < 0 on error. */
int rnnk_pool_topology_report(char *buf, size_t len);

/* FP mode of the calling thread: enter(ftz) sets FTZ+DAZ on (ftz) or off
 * (IEEE), leave() restores what enter() saw. x86 MXCSR bits 15/6, aarch64
 * FPCR.FZ; a no-op elsewhere. */
typedef struct rnnk_fpmode {
  uint64_t saved;
  bool changed;
} rnnk_fpmode;

rnnk_fpmode rnnk_fpmode_enter(bool ftz);
void rnnk_fpmode_leave(rnnk_fpmode mode);

#endif
