/* Thread pool: the caller is worker 0, workers 1..n-1 are pthreads parked
 * between jobs (spin briefly, then a condition variable, so an idle pool
 * costs no CPU). Jobs are serialised by a mutex; inside a job threads meet
 * at a sense-reversing barrier that spins, then yields, and never sleeps.
 *
 * Placement uses hwloc restricted to the creating thread's CPU binding, which
 * removes the PUs we may not use, so only logical indexes and objects are
 * used here, never "os_index == i". Binding failures are not fatal. */
#include "rnnk_config.h"

#include "pool.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if RNNK_HAVE_HWLOC
#include <hwloc.h>
#endif

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

#if defined(__has_include)
#if __has_include("src/internal.h")
#include "src/internal.h"
#define RNNK_POOL_HAVE_INTERNAL_H 1
#endif
#endif
#ifndef RNNK_POOL_HAVE_INTERNAL_H
extern void rnnk_set_error(const char *fmt, ...);
#endif

#include "src/visibility.h"

enum {
  CACHE_LINE = 64,
  MAX_THREADS = 4096,            /* far beyond any machine; catches garbage */
  BARRIER_SPIN = 4096,           /* pause loops before a barrier yields */
  PARK_SPIN_NS = 100 * 1000,     /* how long an idle thread spins before sleeping */
  PARK_SPIN_NS_OVERSUB = 2000,   /* ... when threads outnumber CPUs */
  MAX_NODES = 64,                /* NUMA nodes told apart; more share the last id */
};

typedef struct worker {
  alignas(CACHE_LINE) int sense; /* barrier sense; written every barrier, own line */
  int tid;
  int core;                      /* logical core planned, -1 if none */
  int pu;                        /* logical PU bound to, -1 if not bound */
  int node;                      /* dense NUMA node id of the planned PU (0 if unknown) */
  bool started;
  pthread_t th;
  struct rnnk_pool *pool;
} worker;

struct rnnk_pool {
  /* written by the caller once per job */
  alignas(CACHE_LINE) atomic_uint gen;
  rnnk_pool_fn job_fn;
  void *job_ctx;
  bool job_ftz;
  atomic_bool stop;
  /* written by each worker once per job */
  alignas(CACHE_LINE) atomic_int pending;
  /* barrier: counter and release flag on their own lines */
  alignas(CACHE_LINE) atomic_int bar_count;
  alignas(CACHE_LINE) atomic_int bar_sense;
  /* cold */
  alignas(CACHE_LINE) int n;
  rnnk_pin pin;
  bool pinned;
  bool oversub;                  /* more threads than allowed PUs */
  long park_spin_ns;
  atomic_int sleepers;           /* workers blocked (or about to) on cv_work */
  atomic_int caller_waiting;     /* caller blocked (or about to) on cv_done */
  pthread_mutex_t run_mu;        /* one job at a time */
  pthread_mutex_t mu;            /* guards the condition variables */
  pthread_cond_t cv_work;
  pthread_cond_t cv_done;
  worker *w;                     /* n entries */
  int nodes;                     /* distinct NUMA nodes of the workers (1 if unknown) */
#if RNNK_HAVE_HWLOC
  hwloc_topology_t topo;         /* kept while nodes > 1, for memory binding */
  int node_logical[MAX_NODES];   /* dense node id -> hwloc NUMA node logical index */
#endif
};

/* The pool whose job this thread is part of (workers: always theirs). */
static _Thread_local rnnk_pool *tls_member;
/* The pool for which this thread runs a nested job inline (barrier no-op). */
static _Thread_local rnnk_pool *tls_inline;

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield" ::: "memory");
#endif
}

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ------------------------------------------------------------------ */
/* FP mode                                                             */
/* ------------------------------------------------------------------ */

#if (defined(__x86_64__) || defined(__i386__)) && defined(__SSE__)
#define FP_BITS 0x8040u /* MXCSR FTZ (15) | DAZ (6) */
static inline uint64_t fp_get(void) { return _mm_getcsr(); }
static inline void fp_set(uint64_t v) { _mm_setcsr((unsigned)v); }
#elif defined(__aarch64__)
#define FP_BITS (1ull << 24) /* FPCR.FZ: flushes inputs and outputs */
static inline uint64_t fp_get(void) {
  uint64_t v;
  __asm__ __volatile__("mrs %0, fpcr" : "=r"(v));
  return v;
}
static inline void fp_set(uint64_t v) { __asm__ __volatile__("msr fpcr, %0" ::"r"(v)); }
#else
#define FP_BITS 0u
static inline uint64_t fp_get(void) { return 0; }
static inline void fp_set(uint64_t v) { (void)v; }
#endif

rnnk_fpmode rnnk_fpmode_enter(bool ftz) {
  rnnk_fpmode m = {0, false};
  if (FP_BITS == 0) return m;
  uint64_t cur = fp_get();
  uint64_t want = ftz ? (cur | FP_BITS) : (cur & ~(uint64_t)FP_BITS);
  m.saved = cur;
  if (want != cur) {
    fp_set(want);
    m.changed = true;
  }
  return m;
}

void rnnk_fpmode_leave(rnnk_fpmode m) {
  if (!m.changed) return;
  /* Restore only our bits: exception flags raised by the job stay raised. */
  uint64_t cur = fp_get();
  fp_set((cur & ~(uint64_t)FP_BITS) | (m.saved & FP_BITS));
}

/* ------------------------------------------------------------------ */
/* Topology and placement                                              */
/* ------------------------------------------------------------------ */

/* CPUs usable without hwloc: the affinity mask, else sysconf. */
static int fallback_ncpus(void) {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    int c = CPU_COUNT(&set);
    if (c > 0) return c;
  }
  long c = sysconf(_SC_NPROCESSORS_ONLN);
  return c > 0 ? (int)(c > MAX_THREADS ? MAX_THREADS : c) : 1;
}

#if RNNK_HAVE_HWLOC
static hwloc_topology_t topo_load_all(void) {
  hwloc_topology_t t;
  if (hwloc_topology_init(&t) != 0) return NULL;
  /* DONT_CHANGE_BINDING: the x86 backend would otherwise rebind the
   * calling (user's) thread while probing. */
  if (hwloc_topology_set_flags(t, HWLOC_TOPOLOGY_FLAG_IS_THISSYSTEM |
                                      HWLOC_TOPOLOGY_FLAG_DONT_CHANGE_BINDING) == 0 &&
      hwloc_topology_load(t) == 0 && hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_PU) > 0)
    return t;
  hwloc_topology_destroy(t);
  return NULL;
}

/* Topology of the CPUs we may use: hwloc already drops PUs the cgroup
 * forbids; restrict further to the calling thread's binding (what taskset
 * and sched_getaffinity give). Not HWLOC_TOPOLOGY_FLAG_RESTRICT_TO_CPUBINDING:
 * that takes the union over all threads of the process, so any one wider
 * thread (a sanitizer's, the application's) would undo taskset. */
static hwloc_topology_t topo_load(void) {
  hwloc_topology_t t = topo_load_all();
  if (!t) return NULL;
  hwloc_bitmap_t set = hwloc_bitmap_alloc();
  if (set && hwloc_get_cpubind(t, set, HWLOC_CPUBIND_THREAD) == 0) {
    hwloc_const_cpuset_t all = hwloc_topology_get_topology_cpuset(t);
    hwloc_bitmap_and(set, set, all);
    if (!hwloc_bitmap_iszero(set) && !hwloc_bitmap_isequal(set, all) &&
        hwloc_topology_restrict(t, set, 0) != 0) {
      hwloc_topology_destroy(t); /* may be half-reset on ENOMEM */
      t = topo_load_all();
    }
  }
  hwloc_bitmap_free(set);
  return t;
}

/* The unit a worker gets: a core, or a PU where hwloc shows no cores. */
static hwloc_obj_type_t unit_type(hwloc_topology_t t) {
  return hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_CORE) > 0 ? HWLOC_OBJ_CORE : HWLOC_OBJ_PU;
}

/* Locality domains for SCATTER: NUMA nodes with CPUs if more than one, else
 * packages if more than one, else none (SCATTER == COMPACT). */
static int domains(hwloc_topology_t t, hwloc_obj_t *dom, int max) {
  const hwloc_obj_type_t types[2] = {HWLOC_OBJ_NUMANODE, HWLOC_OBJ_PACKAGE};
  for (int k = 0; k < 2; k++) {
    int nd = 0, all = hwloc_get_nbobjs_by_type(t, types[k]);
    for (int i = 0; i < all && nd < max; i++) {
      hwloc_obj_t o = hwloc_get_obj_by_type(t, types[k], (unsigned)i);
      if (o && o->cpuset && !hwloc_bitmap_iszero(o->cpuset)) dom[nd++] = o; /* skip CPU-less memory */
    }
    if (nd > 1) return nd;
  }
  return 0;
}

/* Plan n workers: core[i] and pu[i] (logical indexes). Workers past the
 * number of units wrap, taking the next SMT sibling of the unit first.
 * Returns 0, or -1 on allocation failure. */
static int plan(hwloc_topology_t t, rnnk_pin pin, int n, int *core, int *pu) {
  hwloc_obj_type_t ut = unit_type(t);
  int nu = hwloc_get_nbobjs_by_type(t, ut);
  if (nu <= 0) return -1;
  int *order = malloc((size_t)nu * sizeof *order);
  if (!order) return -1;
  for (int i = 0; i < nu; i++) order[i] = i;

  if (pin == RNNK_PIN_SCATTER) {
    hwloc_obj_t dom[256];
    int nd = domains(t, dom, 256);
    int *dom_of = malloc((size_t)nu * sizeof *dom_of);
    int *cursor = calloc((size_t)(nd > 0 ? nd : 1), sizeof *cursor);
    if (nd > 0 && dom_of && cursor) {
      for (int u = 0; u < nu; u++) {
        hwloc_obj_t o = hwloc_get_obj_by_type(t, ut, (unsigned)u);
        dom_of[u] = nd; /* in no domain: placed last */
        for (int d = 0; d < nd; d++)
          if (o && hwloc_bitmap_isincluded(o->cpuset, dom[d]->cpuset)) {
            dom_of[u] = d;
            break;
          }
      }
      /* Round robin over domains, cores in logical order inside each. */
      int k = 0;
      while (k < nu) {
        int placed = 0;
        for (int d = 0; d < nd; d++) {
          while (cursor[d] < nu && dom_of[cursor[d]] != d) cursor[d]++;
          if (cursor[d] < nu) {
            order[k++] = cursor[d]++;
            placed = 1;
          }
        }
        if (!placed) break;
      }
      for (int u = 0; u < nu && k < nu; u++)
        if (dom_of[u] == nd) order[k++] = u;
    }
    free(dom_of);
    free(cursor);
  }

  for (int i = 0; i < n; i++) {
    hwloc_obj_t u = hwloc_get_obj_by_type(t, ut, (unsigned)order[i % nu]);
    core[i] = -1;
    pu[i] = -1;
    if (!u) continue;
    int npu = hwloc_get_nbobjs_inside_cpuset_by_type(t, u->cpuset, HWLOC_OBJ_PU);
    if (npu <= 0) continue;
    hwloc_obj_t p = hwloc_get_obj_inside_cpuset_by_type(t, u->cpuset, HWLOC_OBJ_PU,
                                                        (unsigned)((i / nu) % npu));
    core[i] = ut == HWLOC_OBJ_CORE ? (int)u->logical_index : -1;
    pu[i] = p ? (int)p->logical_index : -1;
  }
  free(order);
  return 0;
}

/* Bind a thread to one PU; false (not fatal) if the OS refuses. */
static bool bind_thread(hwloc_topology_t t, pthread_t th, int pu, bool self) {
  if (pu < 0) return false;
  hwloc_obj_t o = hwloc_get_obj_by_type(t, HWLOC_OBJ_PU, (unsigned)pu);
  if (!o || !o->cpuset) return false;
  hwloc_bitmap_t set = hwloc_bitmap_dup(o->cpuset);
  if (!set) return false;
  int rc = self ? hwloc_set_cpubind(t, set, HWLOC_CPUBIND_THREAD)
                : hwloc_set_thread_cpubind(t, th, set, 0);
  hwloc_bitmap_free(set);
  return rc == 0;
}

/* NUMA node (logical index) holding logical PU pu, or -1. */
static int numa_of_pu(hwloc_topology_t t, int pu) {
  hwloc_obj_t o = pu >= 0 ? hwloc_get_obj_by_type(t, HWLOC_OBJ_PU, (unsigned)pu) : NULL;
  if (!o || !o->cpuset) return -1;
  const int nn = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_NUMANODE);
  for (int i = 0; i < nn; i++) {
    hwloc_obj_t m = hwloc_get_obj_by_type(t, HWLOC_OBJ_NUMANODE, (unsigned)i);
    if (m && m->cpuset && hwloc_bitmap_isincluded(o->cpuset, m->cpuset)) return i;
  }
  return -1;
}

/* Dense id of NUMA node m among the first nodes of logical (nodes past
 * MAX_NODES share the last id). */
static int dense_id(const int *logical, int nodes, int m) {
  int d = 0;
  while (d < nodes && logical[d] != m) d++;
  return d < MAX_NODES ? d : MAX_NODES - 1;
}

/* The NUMA nodes of n planned PUs in order of first appearance, so data
 * can be kept per node: logical[d] is the hwloc node of dense id d. Returns
 * their number, or 1 when any PU's node is unknown. */
static int dense_nodes(hwloc_topology_t t, const int *pu, int n, int logical[MAX_NODES]) {
  int nodes = 0;
  logical[0] = 0;
  for (int i = 0; i < n; i++) {
    const int m = numa_of_pu(t, pu[i]);
    if (m < 0) return 1;
    if (dense_id(logical, nodes, m) == nodes && nodes < MAX_NODES) logical[nodes++] = m;
  }
  return nodes > 0 ? nodes : 1;
}

/* The workers' node ids (the caller's too) from their planned PUs. */
static void plan_nodes(rnnk_pool *p, hwloc_topology_t t, const int *plan_pu) {
  p->nodes = dense_nodes(t, plan_pu, p->n, p->node_logical);
  for (int i = 0; i < p->n; i++)
    p->w[i].node = p->nodes > 1 ? dense_id(p->node_logical, p->nodes, numa_of_pu(t, plan_pu[i])) : 0;
}
#endif

/* ------------------------------------------------------------------ */
/* Workers                                                             */
/* ------------------------------------------------------------------ */

/* Wait until gen moves past seen: spin, then sleep on cv_work. The sleepers
 * increment and the caller's gen store are both seq_cst, so either the
 * caller sees a sleeper and broadcasts, or we see the new gen. */
static unsigned wait_gen(rnnk_pool *p, unsigned seen) {
  unsigned g;
  long long t0 = 0;
  for (unsigned i = 0;; i++) {
    g = atomic_load_explicit(&p->gen, memory_order_acquire);
    if (g != seen) return g;
    cpu_relax();
    if ((i & 255) == 0) {
      long long t = now_ns();
      if (i == 0) t0 = t;
      else if (t - t0 > p->park_spin_ns) break;
    }
  }
  pthread_mutex_lock(&p->mu);
  atomic_fetch_add(&p->sleepers, 1);
  while ((g = atomic_load(&p->gen)) == seen) pthread_cond_wait(&p->cv_work, &p->mu);
  atomic_fetch_sub(&p->sleepers, 1);
  pthread_mutex_unlock(&p->mu);
  return g;
}

static void run_share(rnnk_pool *p, int tid) {
  rnnk_fpmode m = rnnk_fpmode_enter(p->job_ftz);
  p->job_fn(p->job_ctx, tid, p->n);
  rnnk_fpmode_leave(m);
}

static void *worker_main(void *arg) {
  worker *w = arg;
  rnnk_pool *p = w->pool;
  tls_member = p;
  unsigned seen = 0;
  for (;;) {
    seen = wait_gen(p, seen);
    if (atomic_load(&p->stop)) break;
    run_share(p, w->tid);
    if (atomic_fetch_sub(&p->pending, 1) == 1 && atomic_load(&p->caller_waiting)) {
      pthread_mutex_lock(&p->mu);
      pthread_cond_signal(&p->cv_done);
      pthread_mutex_unlock(&p->mu);
    }
  }
  return NULL;
}

/* Stop and join workers 1..n-1 that were started. */
static void stop_workers(rnnk_pool *p) {
  pthread_mutex_lock(&p->mu);
  atomic_store(&p->stop, true);
  atomic_fetch_add(&p->gen, 1);
  pthread_cond_broadcast(&p->cv_work);
  pthread_mutex_unlock(&p->mu);
  for (int i = 1; i < p->n; i++)
    if (p->w[i].started) pthread_join(p->w[i].th, NULL);
}

static void free_pool(rnnk_pool *p) {
#if RNNK_HAVE_HWLOC
  if (p->topo) hwloc_topology_destroy(p->topo);
#endif
  pthread_cond_destroy(&p->cv_done);
  pthread_cond_destroy(&p->cv_work);
  pthread_mutex_destroy(&p->mu);
  pthread_mutex_destroy(&p->run_mu);
  free(p->w);
  free(p);
}

static size_t round_up(size_t x, size_t a) { return (x + a - 1) / a * a; }

/* ------------------------------------------------------------------ */
/* Public API                                                          */
/* ------------------------------------------------------------------ */

RNNK_API rnnk_status rnnk_pool_create(int threads, rnnk_pin pin, rnnk_pool **out) {
  if (!out) {
    rnnk_set_error("rnnk_pool_create: out is NULL");
    return RNNK_EINVAL;
  }
  if (threads < 0 || threads > MAX_THREADS) {
    rnnk_set_error("rnnk_pool_create: threads = %d (must be 0..%d; 0 = one per core)", threads,
                   MAX_THREADS);
    return RNNK_EINVAL;
  }
  if (pin != RNNK_PIN_NONE && pin != RNNK_PIN_COMPACT && pin != RNNK_PIN_SCATTER) {
    rnnk_set_error("rnnk_pool_create: unknown pin policy %d", (int)pin);
    return RNNK_EINVAL;
  }

  int units, npus;
#if RNNK_HAVE_HWLOC
  hwloc_topology_t topo = topo_load();
  if (topo) {
    units = hwloc_get_nbobjs_by_type(topo, unit_type(topo));
    npus = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU);
  } else {
    units = npus = fallback_ncpus();
  }
#else
  units = npus = fallback_ncpus();
#endif
  int n = threads > 0 ? threads : (units > 0 ? units : 1);

  rnnk_pool *p = aligned_alloc(CACHE_LINE, round_up(sizeof *p, CACHE_LINE));
  worker *w = p ? aligned_alloc(CACHE_LINE, round_up((size_t)n * sizeof *w, CACHE_LINE)) : NULL;
  if (!p || !w) {
    free(p);
    free(w);
#if RNNK_HAVE_HWLOC
    if (topo) hwloc_topology_destroy(topo);
#endif
    rnnk_set_error("rnnk_pool_create: out of memory for %d threads", n);
    return RNNK_ENOMEM;
  }
  memset(p, 0, sizeof *p);
  memset(w, 0, (size_t)n * sizeof *w);
  p->w = w;
  p->n = n;
  p->pin = pin;
  p->oversub = n > npus;
  p->park_spin_ns = p->oversub ? PARK_SPIN_NS_OVERSUB : PARK_SPIN_NS;
  atomic_init(&p->gen, 0);
  atomic_init(&p->stop, false);
  atomic_init(&p->pending, 0);
  atomic_init(&p->bar_count, n);
  atomic_init(&p->bar_sense, 0);
  atomic_init(&p->sleepers, 0);
  atomic_init(&p->caller_waiting, 0);
  pthread_mutex_init(&p->run_mu, NULL);
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->cv_work, NULL);
  pthread_cond_init(&p->cv_done, NULL);
  for (int i = 0; i < n; i++) {
    w[i].tid = i;
    w[i].core = -1;
    w[i].pu = -1;
    w[i].pool = p;
  }

  int *plan_core = NULL, *plan_pu = NULL;
#if RNNK_HAVE_HWLOC
  if (topo && pin != RNNK_PIN_NONE) {
    plan_core = malloc((size_t)n * sizeof *plan_core);
    plan_pu = malloc((size_t)n * sizeof *plan_pu);
    if (!plan_core || !plan_pu || plan(topo, pin, n, plan_core, plan_pu) != 0) {
      free(plan_core);
      free(plan_pu);
      plan_core = plan_pu = NULL; /* run unpinned */
    }
  }
#endif

  /* Workers get every signal blocked: the application's handlers should
   * run on its own threads, not inside our compute loops. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  bool all_bound = true;
  int err = 0;
  for (int i = 1; i < n; i++) {
    err = pthread_create(&w[i].th, NULL, worker_main, &w[i]);
    if (err != 0) break;
    w[i].started = true;
    pthread_setname_np(w[i].th, "rnnk-pool"); /* for top/gdb; failure is harmless */
    if (plan_core) w[i].core = plan_core[i];
#if RNNK_HAVE_HWLOC
    if (plan_pu && bind_thread(topo, w[i].th, plan_pu[i], false))
      w[i].pu = plan_pu[i];
    else
      all_bound = false;
#else
    all_bound = false;
#endif
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (plan_core) w[0].core = plan_core[0]; /* where the caller would fit; not bound */
  free(plan_core);
#if RNNK_HAVE_HWLOC
  p->pinned = pin != RNNK_PIN_NONE && topo != NULL && all_bound;
  p->nodes = 1;
  if (p->pinned && plan_pu) plan_nodes(p, topo, plan_pu);
  if (topo && p->nodes > 1) p->topo = topo; /* for rnnk_pool_bind_area */
  else if (topo) hwloc_topology_destroy(topo);
#else
  p->nodes = 1;
  (void)all_bound;
  p->pinned = false;
#endif
  free(plan_pu);

  if (err != 0) {
    stop_workers(p);
    free_pool(p);
    rnnk_set_error("rnnk_pool_create: cannot start %d threads: %s", n, strerror(err));
    return RNNK_ENOMEM;
  }
  *out = p;
  return RNNK_OK;
}

RNNK_API int rnnk_pool_size(const rnnk_pool *pool) { return pool ? pool->n : 1; }

RNNK_API bool rnnk_pool_pinned(const rnnk_pool *pool) { return pool ? pool->pinned : false; }

RNNK_API void rnnk_pool_destroy(rnnk_pool *pool) {
  if (!pool) return;
  pthread_mutex_lock(&pool->run_mu); /* a racing job would be a caller bug; don't crash on it */
  stop_workers(pool);
  pthread_mutex_unlock(&pool->run_mu);
  free_pool(pool);
}

/* ------------------------------------------------------------------ */
/* Internal API                                                        */
/* ------------------------------------------------------------------ */

void rnnk_pool_run(rnnk_pool *p, rnnk_pool_fn fn, void *ctx, bool ftz) {
  if (!fn) return;
  if (!p || tls_member == p) {
    /* No pool, or a nested call from inside this pool's job: run inline. */
    rnnk_pool *prev = tls_inline;
    tls_inline = p;
    rnnk_fpmode m = rnnk_fpmode_enter(ftz);
    fn(ctx, 0, 1);
    rnnk_fpmode_leave(m);
    tls_inline = prev;
    return;
  }
  pthread_mutex_lock(&p->run_mu);
  rnnk_pool *prev = tls_member;
  tls_member = p;
  p->job_fn = fn;
  p->job_ctx = ctx;
  p->job_ftz = ftz;
  if (p->n > 1) {
    atomic_store_explicit(&p->pending, p->n - 1, memory_order_relaxed);
    atomic_fetch_add(&p->gen, 1); /* publishes the job (seq_cst, see wait_gen) */
    if (atomic_load(&p->sleepers) > 0) {
      pthread_mutex_lock(&p->mu);
      pthread_cond_broadcast(&p->cv_work);
      pthread_mutex_unlock(&p->mu);
    }
  }
  run_share(p, 0);
  if (p->n > 1) {
    long long t0 = now_ns();
    for (unsigned i = 1; atomic_load_explicit(&p->pending, memory_order_acquire) != 0; i++) {
      cpu_relax();
      if ((i & 255) == 0 && now_ns() - t0 > p->park_spin_ns) {
        pthread_mutex_lock(&p->mu);
        atomic_store(&p->caller_waiting, 1);
        while (atomic_load(&p->pending) != 0) pthread_cond_wait(&p->cv_done, &p->mu);
        atomic_store(&p->caller_waiting, 0);
        pthread_mutex_unlock(&p->mu);
        break;
      }
    }
  }
  tls_member = prev;
  pthread_mutex_unlock(&p->run_mu);
}

void rnnk_pool_barrier(rnnk_pool *p, int tid) {
  if (!p || p->n <= 1 || tid < 0 || tid >= p->n || tls_inline == p) return;
  worker *w = &p->w[tid];
  int s = !w->sense;
  w->sense = s;
  if (atomic_fetch_sub_explicit(&p->bar_count, 1, memory_order_acq_rel) == 1) {
    /* Last one in: re-arm, then release the others. */
    atomic_store_explicit(&p->bar_count, p->n, memory_order_relaxed);
    atomic_store_explicit(&p->bar_sense, s, memory_order_release);
    return;
  }
  /* Oversubscribed: spinning only delays the thread we are waiting for. */
  unsigned spin = p->oversub ? 16 : BARRIER_SPIN;
  for (unsigned i = 0; atomic_load_explicit(&p->bar_sense, memory_order_acquire) != s; i++) {
    if (i < spin)
      cpu_relax();
    else
      sched_yield();
  }
}

int rnnk_pool_cpu_of(const rnnk_pool *pool, int tid) {
  if (!pool || tid < 0 || tid >= pool->n) return -1;
  return pool->w[tid].pu;
}

int rnnk_pool_nodes(const rnnk_pool *pool) { return pool ? pool->nodes : 1; }

int rnnk_pool_node_of(const rnnk_pool *pool, int tid) {
  if (!pool || tid < 0 || tid >= pool->n) return 0;
  return pool->w[tid].node;
}

bool rnnk_pool_bind_area(const rnnk_pool *pool, int node, void *addr, size_t len) {
#if RNNK_HAVE_HWLOC
  if (!pool || !pool->topo || node < 0 || node >= pool->nodes || !addr || !len) return false;
  hwloc_obj_t m = hwloc_get_obj_by_type(pool->topo, HWLOC_OBJ_NUMANODE, (unsigned)pool->node_logical[node]);
  if (!m || !m->nodeset) return false;
  return hwloc_set_area_membind(pool->topo, addr, len, m->nodeset, HWLOC_MEMBIND_BIND, HWLOC_MEMBIND_BYNODESET) == 0;
#else
  (void)pool, (void)node, (void)addr, (void)len;
  return false;
#endif
}

bool rnnk_pin_current_thread(int logical_core) {
  if (logical_core < 0) return false;
#if RNNK_HAVE_HWLOC
  hwloc_topology_t t = topo_load();
  if (!t) return false;
  bool ok = false;
  hwloc_obj_type_t ut = unit_type(t);
  hwloc_obj_t u = hwloc_get_obj_by_type(t, ut, (unsigned)logical_core);
  if (u) {
    hwloc_obj_t pu = hwloc_get_obj_inside_cpuset_by_type(t, u->cpuset, HWLOC_OBJ_PU, 0);
    if (pu) ok = bind_thread(t, pthread_self(), (int)pu->logical_index, true);
  }
  hwloc_topology_destroy(t);
  return ok;
#else
  /* No hwloc: the logical_core-th CPU of our affinity mask. */
  cpu_set_t set, one;
  if (sched_getaffinity(0, sizeof set, &set) != 0) return false;
  int k = 0;
  for (int c = 0; c < CPU_SETSIZE; c++) {
    if (!CPU_ISSET(c, &set)) continue;
    if (k++ == logical_core) {
      CPU_ZERO(&one);
      CPU_SET(c, &one);
      return pthread_setaffinity_np(pthread_self(), sizeof one, &one) == 0;
    }
  }
  return false;
#endif
}

/* ------------------------------------------------------------------ */
/* Report                                                              */
/* ------------------------------------------------------------------ */

typedef struct sbuf {
  char *buf;
  size_t len;
  size_t pos;
} sbuf;

__attribute__((format(printf, 2, 3))) static void sb_printf(sbuf *s, const char *fmt, ...) {
  size_t room = s->buf && s->pos < s->len ? s->len - s->pos : 0;
  va_list ap;
  va_start(ap, fmt);
  int k = vsnprintf(room ? s->buf + s->pos : NULL, room, fmt, ap);
  va_end(ap);
  if (k > 0) s->pos += (size_t)k;
}

int rnnk_pool_topology_report(char *buf, size_t len) {
  sbuf s = {buf, len, 0};
  if (buf && len) buf[0] = '\0';
#if RNNK_HAVE_HWLOC
  hwloc_topology_t t = topo_load();
  if (!t) {
    sb_printf(&s, "hwloc: topology load failed; %d CPUs (affinity mask), pool unpinned\n",
              fallback_ncpus());
    return s.pos > INT_MAX ? INT_MAX : (int)s.pos;
  }
  unsigned api = hwloc_get_api_version();
  sb_printf(&s, "hwloc API 0x%x, restricted to the calling thread's CPU binding\n", api);
  sb_printf(&s, "packages: %d, NUMA nodes: %d, cores: %d, PUs: %d\n",
            hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_PACKAGE),
            hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_NUMANODE),
            hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_CORE), hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_PU));
  char *list = NULL;
  if (hwloc_bitmap_list_asprintf(&list, hwloc_topology_get_allowed_cpuset(t)) >= 0 && list)
    sb_printf(&s, "allowed PUs (OS numbers): %s\n", list);
  free(list);
  const hwloc_obj_type_t caches[2] = {HWLOC_OBJ_L2CACHE, HWLOC_OBJ_L3CACHE};
  for (int k = 0; k < 2; k++) {
    hwloc_obj_t c = hwloc_get_obj_by_type(t, caches[k], 0);
    if (c && c->attr)
      sb_printf(&s, "L%d: %llu KiB x %d\n", k + 2, (unsigned long long)c->attr->cache.size / 1024,
                hwloc_get_nbobjs_by_type(t, caches[k]));
    else
      sb_printf(&s, "L%d: not reported\n", k + 2);
  }
  int n = hwloc_get_nbobjs_by_type(t, unit_type(t));
  int *core = n > 0 ? malloc((size_t)n * sizeof *core) : NULL;
  int *pu = n > 0 ? malloc((size_t)n * sizeof *pu) : NULL;
  if (core && pu && plan(t, RNNK_PIN_COMPACT, n, core, pu) == 0) {
    sb_printf(&s, "default pool (threads=0, compact): %d threads\n", n);
    for (int i = 0; i < n; i++) {
      hwloc_obj_t o = pu[i] >= 0 ? hwloc_get_obj_by_type(t, HWLOC_OBJ_PU, (unsigned)pu[i]) : NULL;
      sb_printf(&s, "  worker %d -> core L#%d, PU L#%d (P#%d), NUMA node L#%d%s\n", i, core[i], pu[i],
                o ? (int)o->os_index : -1, numa_of_pu(t, pu[i]), i == 0 ? " [caller, not pinned]" : "");
    }
    int logical[MAX_NODES];
    const int nodes = dense_nodes(t, pu, n, logical); /* as rnnk_pool_create counts them */
    if (nodes > 1)
      sb_printf(&s, "weights: one copy per NUMA node (%d) for pools that span them\n", nodes);
    else
      sb_printf(&s, "weights: one shared copy (the pool spans one NUMA node)\n");
  } else {
    sb_printf(&s, "default pool: placement unavailable\n");
  }
  free(core);
  free(pu);
  hwloc_topology_destroy(t);
#else
  sb_printf(&s, "hwloc: not built in; %d CPUs (affinity mask)\n", fallback_ncpus());
  sb_printf(&s, "default pool (threads=0): %d threads, unpinned\n", fallback_ncpus());
#endif
  return s.pos > INT_MAX ? INT_MAX : (int)s.pos;
}

RNNK_API rnnk_status rnnk_topology_report(char *buf, size_t len) {
  if (!buf || !len) return rnnk_fail(RNNK_EINVAL, "%s", !buf ? "buf is NULL" : "len is 0");
  if (rnnk_pool_topology_report(buf, len) < 0) return rnnk_fail(RNNK_ENOTSUP, "no topology information");
  return RNNK_OK;
}
