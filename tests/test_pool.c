/* Thread pool: lifecycle, job dispatch, barrier, concurrent callers, FTZ,
 * restricted cpusets. Jobs only record what they see (cr_assert is not safe
 * off the test's own thread); the checks run on the caller afterwards. */
#ifndef RNNK_TEST_NO_CRITERION
#include <criterion/criterion.h>
#else
/* Plain driver for ThreadSanitizer builds: Criterion aborts at start-up
 * under TSan ("Could not initialize inheritable arena", Criterion#274).
 * Build with -DRNNK_TEST_NO_CRITERION and without -lcriterion. */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
typedef struct plain_test {
  const char *name;
  void (*fn)(void);
} plain_test;
static plain_test plain_tests[64];
static int plain_ntests;
static jmp_buf plain_jmp;
#define Test(suite, name, ...)                                                \
  static void suite##_##name(void);                                           \
  __attribute__((constructor)) static void reg_##suite##_##name(void) {       \
    plain_tests[plain_ntests++] = (plain_test){#suite "::" #name, suite##_##name}; \
  }                                                                           \
  static void suite##_##name(void)
#define cr_assert(c, ...)                                                     \
  do {                                                                        \
    if (!(c)) {                                                               \
      fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #c); \
      longjmp(plain_jmp, 1);                                                  \
    }                                                                         \
  } while (0)
#define cr_assert_not(c, ...) cr_assert(!(c))
#define cr_assert_eq(a, b, ...) cr_assert((a) == (b))
#define cr_assert_neq(a, b, ...) cr_assert((a) != (b))
#define cr_assert_gt(a, b, ...) cr_assert((a) > (b))
#define cr_assert_geq(a, b, ...) cr_assert((a) >= (b))
#define cr_assert_lt(a, b, ...) cr_assert((a) < (b))
#define cr_assert_not_null(p, ...) cr_assert((p) != NULL)
#define cr_log_info(...) ((void)0)
int main(void) {
  static int failed, i; /* static: survive longjmp */
  for (i = 0; i < plain_ntests; i++) {
    if (setjmp(plain_jmp) == 0) {
      plain_tests[i].fn();
      fprintf(stderr, "[PASS] %s\n", plain_tests[i].name);
    } else {
      fprintf(stderr, "[FAIL] %s\n", plain_tests[i].name);
      failed++;
    }
  }
  printf("%d passed, %d failed\n", plain_ntests - failed, failed);
  return failed != 0;
}
#endif

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rnnk.h"
#include "threads/pool.h"

static const rnnk_pin pins[3] = {RNNK_PIN_NONE, RNNK_PIN_COMPACT, RNNK_PIN_SCATTER};

static rnnk_pool *make_pool(int threads, rnnk_pin pin) {
  rnnk_pool *p = NULL;
  rnnk_status st = rnnk_pool_create(threads, pin, &p);
  cr_assert_eq(st, RNNK_OK, "create(%d, %d): %s", threads, (int)pin, rnnk_last_error());
  cr_assert_not_null(p);
  return p;
}

/* ---- run: every tid exactly once, with the right nthreads ---- */

typedef struct count_ctx {
  atomic_int calls[64];
  atomic_int bad_n;
  int want_n;
} count_ctx;

static void count_fn(void *vctx, int tid, int nthreads) {
  count_ctx *c = vctx;
  if (nthreads != c->want_n || tid < 0 || tid >= 64) {
    atomic_fetch_add(&c->bad_n, 1);
    return;
  }
  atomic_fetch_add(&c->calls[tid], 1);
}

static void check_run_once(rnnk_pool *p, int n, int runs) {
  count_ctx c;
  memset(&c, 0, sizeof c);
  c.want_n = n;
  for (int r = 0; r < runs; r++) rnnk_pool_run(p, count_fn, &c, false);
  cr_assert_eq(atomic_load(&c.bad_n), 0, "wrong nthreads or tid (n=%d)", n);
  for (int t = 0; t < n && t < 64; t++)
    cr_assert_eq(atomic_load(&c.calls[t]), runs, "tid %d ran %d times, want %d", t,
                 atomic_load(&c.calls[t]), runs);
}

Test(pool, create_destroy_repeated) {
  const int counts[5] = {0, 1, 2, 3, 7};
  for (int rep = 0; rep < 50; rep++)
    for (int k = 0; k < 5; k++)
      for (int q = 0; q < 3; q++) {
        rnnk_pool *p = make_pool(counts[k], pins[q]);
        int n = rnnk_pool_size(p);
        if (counts[k] > 0) cr_assert_eq(n, counts[k]);
        else cr_assert_geq(n, 1);
        bool pinned = rnnk_pool_pinned(p);
        cr_assert(pinned == true || pinned == false);
        if (pins[q] == RNNK_PIN_NONE) cr_assert_not(pinned);
        cr_assert_eq(rnnk_pool_cpu_of(p, 0), -1, "the caller is never pinned");
        cr_assert_eq(rnnk_pool_cpu_of(p, n), -1);
        if (pinned)
          for (int t = 1; t < n; t++) cr_assert_geq(rnnk_pool_cpu_of(p, t), 0);
        if (rep % 10 == 0) check_run_once(p, n, 3);
        rnnk_pool_destroy(p);
      }
  rnnk_pool_destroy(NULL);
}

Test(pool, run_once_per_tid) {
  const int counts[4] = {1, 2, 3, 7};
  for (int k = 0; k < 4; k++) {
    rnnk_pool *p = make_pool(counts[k], RNNK_PIN_COMPACT);
    check_run_once(p, counts[k], 500);
    rnnk_pool_destroy(p);
  }
}

Test(pool, run_without_pool) {
  count_ctx c;
  memset(&c, 0, sizeof c);
  c.want_n = 1;
  rnnk_pool_run(NULL, count_fn, &c, false);
  rnnk_pool_run(NULL, count_fn, &c, true);
  cr_assert_eq(atomic_load(&c.calls[0]), 2);
  cr_assert_eq(atomic_load(&c.bad_n), 0);
  rnnk_pool_barrier(NULL, 0); /* no-op */
  cr_assert_eq(rnnk_pool_size(NULL), 1);
  cr_assert_not(rnnk_pool_pinned(NULL));
  cr_assert_eq(rnnk_pool_cpu_of(NULL, 0), -1);
}

Test(pool, negative_threads) {
  rnnk_pool *p = (rnnk_pool *)0x1;
  cr_assert_eq(rnnk_pool_create(-1, RNNK_PIN_NONE, &p), RNNK_EINVAL);
  cr_assert_neq(rnnk_last_error()[0], '\0', "an error message is set");
  cr_assert_eq(p, (rnnk_pool *)0x1, "out untouched on failure");
  cr_assert_eq(rnnk_pool_create(2, (rnnk_pin)42, &p), RNNK_EINVAL);
  cr_assert_eq(rnnk_pool_create(2, RNNK_PIN_NONE, NULL), RNNK_EINVAL);
}

/* ---- barrier ---- */

enum { BARRIERS = 10000 };

typedef struct phase_ctx {
  rnnk_pool *pool;
  int phase[64]; /* plain ints: the barrier must order them (TSan checks) */
  atomic_int errors;
} phase_ctx;

static void phase_fn(void *vctx, int tid, int n) {
  phase_ctx *c = vctx;
  for (int k = 1; k <= BARRIERS; k++) {
    c->phase[tid] = k;
    rnnk_pool_barrier(c->pool, tid);
    for (int j = 0; j < n; j++)
      if (c->phase[j] != k) atomic_fetch_add(&c->errors, 1);
    rnnk_pool_barrier(c->pool, tid); /* nobody writes k+1 before all have read */
  }
}

static void check_barrier(int n) {
  rnnk_pool *p = make_pool(n, RNNK_PIN_COMPACT);
  phase_ctx c;
  memset(&c, 0, sizeof c);
  c.pool = p;
  rnnk_pool_run(p, phase_fn, &c, false);
  cr_assert_eq(atomic_load(&c.errors), 0, "n=%d: %d phase mismatches", n, atomic_load(&c.errors));
  for (int j = 0; j < n; j++) cr_assert_eq(c.phase[j], BARRIERS);
  /* The barrier state carries over to the next job. */
  memset(c.phase, 0, sizeof c.phase);
  rnnk_pool_run(p, phase_fn, &c, false);
  cr_assert_eq(atomic_load(&c.errors), 0);
  rnnk_pool_destroy(p);
}

Test(pool, barrier_3_threads, .timeout = 120) { check_barrier(3); }
Test(pool, barrier_7_threads, .timeout = 120) { check_barrier(7); }
Test(pool, barrier_2_threads, .timeout = 120) { check_barrier(2); }

/* ---- several callers on one pool ---- */

typedef struct caller_job {
  rnnk_pool *pool;
  int slots[64]; /* plain ints: the job mutex must order the callers */
  atomic_int errors;
} caller_job;

static void caller_fn(void *vctx, int tid, int n) {
  caller_job *j = vctx;
  j->slots[tid] += 1;
  rnnk_pool_barrier(j->pool, tid);
  int sum = 0;
  for (int t = 0; t < n; t++) sum += j->slots[t];
  rnnk_pool_barrier(j->pool, tid);
  if (tid == 0 && sum != n * j->slots[0]) atomic_fetch_add(&j->errors, 1);
}

typedef struct caller_arg {
  rnnk_pool *pool;
  int runs;
  caller_job job;
} caller_arg;

static void *caller_main(void *varg) {
  caller_arg *a = varg;
  a->job.pool = a->pool;
  for (int r = 0; r < a->runs; r++) rnnk_pool_run(a->pool, caller_fn, &a->job, r & 1);
  return NULL;
}

Test(pool, concurrent_callers, .timeout = 120) {
  enum { CALLERS = 4, RUNS = 300 };
  rnnk_pool *p = make_pool(3, RNNK_PIN_COMPACT);
  static caller_arg args[CALLERS];
  pthread_t th[CALLERS];
  memset(args, 0, sizeof args);
  for (int i = 0; i < CALLERS; i++) {
    args[i].pool = p;
    args[i].runs = RUNS;
    cr_assert_eq(pthread_create(&th[i], NULL, caller_main, &args[i]), 0);
  }
  for (int i = 0; i < CALLERS; i++) pthread_join(th[i], NULL);
  for (int i = 0; i < CALLERS; i++) {
    cr_assert_eq(atomic_load(&args[i].job.errors), 0);
    for (int t = 0; t < 3; t++) cr_assert_eq(args[i].job.slots[t], RUNS);
  }
  rnnk_pool_destroy(p);
}

/* A job that calls rnnk_pool_run on its own pool runs inline, no deadlock. */
typedef struct nest_ctx {
  rnnk_pool *pool;
  count_ctx inner;
} nest_ctx;

static void nest_fn(void *vctx, int tid, int n) {
  nest_ctx *c = vctx;
  (void)n;
  rnnk_pool_run(c->pool, count_fn, &c->inner, false);
  rnnk_pool_barrier(c->pool, tid);
}

Test(pool, nested_run_inline, .timeout = 60) {
  rnnk_pool *p = make_pool(3, RNNK_PIN_NONE);
  nest_ctx c;
  memset(&c, 0, sizeof c);
  c.pool = p;
  c.inner.want_n = 1;
  rnnk_pool_run(p, nest_fn, &c, false);
  cr_assert_eq(atomic_load(&c.inner.calls[0]), 3, "each of 3 threads ran it once inline");
  cr_assert_eq(atomic_load(&c.inner.bad_n), 0);
  rnnk_pool_destroy(p);
}

/* ---- flush-to-zero ---- */

typedef struct ftz_ctx {
  float out[64];
  float in_daz[64];
} ftz_ctx;

static volatile float tiny = 1e-38f, scale = 1e-3f, denorm = 1e-41f, one = 1.0f;

static void ftz_fn(void *vctx, int tid, int n) {
  ftz_ctx *c = vctx;
  (void)n;
  c->out[tid] = tiny * scale;   /* denormal result: FTZ flushes it */
  c->in_daz[tid] = denorm * one; /* denormal input: DAZ reads it as 0 */
}

static bool caller_flushes(void) {
  volatile float r = tiny * scale;
  return r == 0.0f;
}

/* Compare bits: in a caller running with DAZ, a denormal compares == 0. */
static uint32_t bits(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
}

static void check_ftz(rnnk_pool *p, int n, uint32_t ieee_out) {
  ftz_ctx c;
  for (int round = 0; round < 2; round++) {
    memset(&c, 0xff, sizeof c);
    rnnk_pool_run(p, ftz_fn, &c, true);
    for (int t = 0; t < n; t++) {
      cr_assert_eq(bits(c.out[t]), 0, "tid %d: ftz job kept a denormal", t);
      cr_assert_eq(bits(c.in_daz[t]), 0, "tid %d: ftz job kept a denormal input", t);
    }
    memset(&c, 0xff, sizeof c);
    rnnk_pool_run(p, ftz_fn, &c, false);
    for (int t = 0; t < n; t++) {
      cr_assert_eq(bits(c.out[t]), ieee_out, "tid %d: IEEE job flushed", t);
      cr_assert_eq(bits(c.in_daz[t]), bits(denorm), "tid %d: IEEE job flushed an input", t);
    }
  }
}

Test(pool, ftz_option) {
  cr_assert_not(caller_flushes(), "test starts in IEEE mode");
  volatile float r = tiny * scale;
  uint32_t ieee_out = bits(r);
  cr_assert_neq(ieee_out, 0);
  rnnk_pool *p = make_pool(3, RNNK_PIN_NONE);
  check_ftz(p, 3, ieee_out);
  cr_assert_not(caller_flushes(), "caller mode restored after ftz job");
  check_ftz(NULL, 1, ieee_out);
  cr_assert_not(caller_flushes());

  /* A caller that runs with FTZ itself gets IEEE jobs and keeps its FTZ. */
  rnnk_fpmode m = rnnk_fpmode_enter(true);
  cr_assert(caller_flushes());
  check_ftz(p, 3, ieee_out);
  cr_assert(caller_flushes(), "caller's own FTZ restored");
  rnnk_fpmode_leave(m);
  cr_assert_not(caller_flushes());
  rnnk_pool_destroy(p);
}

/* ---- idle pool sleeps ---- */

static double cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + 1e-6 * (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

Test(pool, idle_costs_no_cpu) {
  rnnk_pool *p = make_pool(3, RNNK_PIN_NONE);
  check_run_once(p, 3, 10);
  struct timespec ts = {0, 50 * 1000 * 1000};
  nanosleep(&ts, NULL); /* let the spin phase end */
  double t0 = cpu_seconds();
  ts.tv_nsec = 300 * 1000 * 1000;
  nanosleep(&ts, NULL);
  double used = cpu_seconds() - t0;
  cr_assert_lt(used, 0.05, "idle pool used %.3f s CPU in 0.3 s", used);
  rnnk_pool_destroy(p);
}

/* ---- topology report ---- */

Test(pool, topology_report) {
  char buf[8192];
  int k = rnnk_pool_topology_report(buf, sizeof buf);
  cr_assert_gt(k, 0);
  cr_assert_lt(k, (int)sizeof buf);
  cr_assert_eq((size_t)k, strlen(buf));
  cr_assert_not_null(strstr(buf, "worker 0") ? buf : (strstr(buf, "hwloc: not built") ? buf : NULL),
                     "report: %s", buf);
  cr_log_info("%s", buf);
  char small[16];
  int k2 = rnnk_pool_topology_report(small, sizeof small);
  cr_assert_eq(k2, k, "truncation still returns the full length");
  cr_assert_eq(strlen(small), sizeof small - 1);
  cr_assert_eq(rnnk_pool_topology_report(NULL, 0), k);
}

Test(pool, pin_current_thread) {
  cpu_set_t before;
  cr_assert_eq(sched_getaffinity(0, sizeof before, &before), 0);
  bool ok = rnnk_pin_current_thread(0);
  cr_assert(ok == true || ok == false);
  cr_assert_not(rnnk_pin_current_thread(-1));
  cr_assert_not(rnnk_pin_current_thread(1 << 20));
  sched_setaffinity(0, sizeof before, &before);
}

/* ---- restricted cpuset (like `taskset -c <last cpu>`) ---- */

typedef struct aff_ctx {
  cpu_set_t set[8];
} aff_ctx;

static void aff_fn(void *vctx, int tid, int n) {
  aff_ctx *c = vctx;
  (void)n;
  if (tid < 8) sched_getaffinity(0, sizeof c->set[tid], &c->set[tid]);
}

/* Runs in a forked child (single-threaded, so the process binding is ours). */
static int restricted_child(int cpu) {
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  if (sched_setaffinity(0, sizeof one, &one) != 0) return 10;
  const int counts[4] = {0, 1, 2, 3};
  for (int q = 0; q < 3; q++)
    for (int k = 0; k < 4; k++) {
      rnnk_pool *p = NULL;
      if (rnnk_pool_create(counts[k], pins[q], &p) != RNNK_OK) return 11;
      int n = rnnk_pool_size(p);
      if (counts[k] == 0 && n != 1) return 12; /* one allowed core */
      bool pinned = rnnk_pool_pinned(p);
      aff_ctx c;
      memset(&c, 0, sizeof c);
      rnnk_pool_run(p, aff_fn, &c, false);
      for (int t = 1; t < n; t++) {
        if (pinned && rnnk_pool_cpu_of(p, t) != 0) return 13; /* logical PU 0 == OS cpu */
        if (pinned && (CPU_COUNT(&c.set[t]) != 1 || !CPU_ISSET(cpu, &c.set[t]))) return 14;
      }
      if (pins[q] == RNNK_PIN_NONE && pinned) return 15;
      rnnk_pool_destroy(p);
    }
  char buf[4096];
  if (rnnk_pool_topology_report(buf, sizeof buf) <= 0) return 16;
  return 0;
}

Test(pool, restricted_cpuset, .timeout = 60) {
  cpu_set_t all;
  cr_assert_eq(sched_getaffinity(0, sizeof all, &all), 0);
  int last = -1;
  for (int c = 0; c < CPU_SETSIZE; c++)
    if (CPU_ISSET(c, &all)) last = c;
  cr_assert_geq(last, 0);
  pid_t pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) _exit(restricted_child(last));
  int status = 0;
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  cr_assert(WIFEXITED(status), "child crashed (status %d)", status);
  int code = WEXITSTATUS(status);
  cr_assert_eq(code, 0, "child failed check %d (cpu %d)", code, last);
}
