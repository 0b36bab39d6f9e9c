/**
 * @file gbench.h
 * @brief C API over Google Benchmark 1.7.1 (bench/gbench-shim.cc).
 *
 * Bench-only: not part of librnnk. Lets benchmarks be written in C:
 *
 *   static void bm_dot(rnnk_bench_state *st, void *user) {
 *     long n = rnnk_bench_arg(st, 0);
 *     ...
 *     while (rnnk_bench_keep_running(st)) {
 *       float s = dot(x, y, n);
 *       rnnk_bench_escape(&s);
 *     }
 *     rnnk_bench_counter(st, "flops", 2.0 * n, RNNK_BENCH_PLAIN);
 *   }
 *   ...
 *   long args[] = {1024};
 *   rnnk_bench_register("dot/avx2", bm_dot, NULL, args, 1);  // "dot/avx2/1024"
 *   rnnk_bench_last_unit(RNNK_BENCH_US);
 *   return rnnk_bench_main(&argc, argv);
 *
 * Every Google Benchmark flag works (--benchmark_filter, --benchmark_format,
 * --benchmark_repetitions, --benchmark_min_time=0.05 (a plain double in
 * 1.7.1), --benchmark_out ...).
 *
 * Threading: registration, the rnnk_bench_last_* options, context and
 * callback setters, and rnnk_bench_main are for the main thread, before or
 * around rnnk_bench_main. The rnnk_bench_state functions are called from
 * inside a benchmark function, on the state it was given.
 *
 * No C++ exception ever leaves the shim.
 */
#ifndef RNNK_GBENCH_H
#define RNNK_GBENCH_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque: the running benchmark (wraps benchmark::State). */
typedef struct rnnk_bench_state rnnk_bench_state;

/** A benchmark body. `user` is the pointer given at registration. */
typedef void (*rnnk_bench_fn)(rnnk_bench_state *st, void *user);

/* ------------------------------------------------------------------ */
/* Registration                                                        */
/* ------------------------------------------------------------------ */

/**
 * Registers a benchmark. The reported name is `name/arg0/arg1/...`, as
 * Google Benchmark writes it (or `name/k0:arg0/...` with
 * rnnk_bench_last_arg_names). `name` is copied; `user` is not owned and must
 * stay valid until rnnk_bench_main returns. `nargs` may be 0 (args NULL).
 * The rnnk_bench_last_* calls below apply to the benchmark registered last.
 */
void rnnk_bench_register(const char *name, rnnk_bench_fn fn, void *user, const long *args,
                         int nargs);

/** Time unit of the console and JSON output (results are always ns in the callback). */
typedef enum rnnk_bench_unit {
  RNNK_BENCH_NS = 0,
  RNNK_BENCH_US,
  RNNK_BENCH_MS,
  RNNK_BENCH_S,
} rnnk_bench_unit;

void rnnk_bench_last_unit(rnnk_bench_unit unit);
/** Shorthand for rnnk_bench_last_unit(RNNK_BENCH_MS). */
void rnnk_bench_last_unit_ms(void);
/** Fixed iteration count (overrides min_time). n > 0. */
void rnnk_bench_last_iterations(long n);
/** Minimum measuring time in seconds (default 0.5, or --benchmark_min_time). */
void rnnk_bench_last_min_time(double seconds);
/** Repetitions for this benchmark (overrides --benchmark_repetitions). */
void rnnk_bench_last_repetitions(int n);
/** Time (and pick iteration counts) by wall clock instead of process CPU time. */
void rnnk_bench_last_real_time(void);
/** Names for the args: the name becomes `name/k0:arg0/k1:arg1`. Copied. */
void rnnk_bench_last_arg_names(const char *const *names, int n);

/** Adds key: value to the "context" of the JSON/console report (e.g.
 *  roofline numbers, commit). Copied. The shim itself adds `cpu_model`,
 *  `governor`, `turbo` and `shim_compiler` unless set here first. */
void rnnk_bench_add_context(const char *key, const char *value);

/* ------------------------------------------------------------------ */
/* Inside a benchmark                                                  */
/* ------------------------------------------------------------------ */

/** The timed loop: `while (rnnk_bench_keep_running(st)) { ... }`.
 *  Must be run until it returns false, unless rnnk_bench_skip was called. */
bool rnnk_bench_keep_running(rnnk_bench_state *st);
/** Argument i given at registration; 0 if i is out of range. */
long rnnk_bench_arg(rnnk_bench_state *st, int i);
/** Iterations run so far (after the loop: the total). */
long rnnk_bench_iterations(rnnk_bench_state *st);
/** Stop / restart the timer inside the loop (costly: ~µs; not for tiny bodies). */
void rnnk_bench_pause(rnnk_bench_state *st);
void rnnk_bench_resume(rnnk_bench_state *st);

/** Counter flags (may be or-ed). */
enum {
  RNNK_BENCH_PLAIN = 0,          /**< reported as given */
  RNNK_BENCH_RATE = 1 << 0,      /**< divided by the measured seconds (per second) */
  RNNK_BENCH_AVG_ITERS = 1 << 1, /**< divided by the iteration count (per iteration) */
};
/** Sets a user counter (JSON: a numeric field of the run; name copied). */
void rnnk_bench_counter(rnnk_bench_state *st, const char *name, double value, int flags);
/** Items / bytes processed over ALL iterations (shown as a rate per second). */
void rnnk_bench_set_items(rnnk_bench_state *st, long items);
void rnnk_bench_set_bytes(rnnk_bench_state *st, long bytes);
/** Marks the run as failed/skipped with a message (e.g. "CPU lacks avx512");
 *  then return without (or after) the loop. */
void rnnk_bench_skip(rnnk_bench_state *st, const char *msg);
/** A free-form label shown with the run (JSON "label"). Copied. */
void rnnk_bench_set_label(rnnk_bench_state *st, const char *label);

/** Keeps the compiler from discarding the computation that produced *p. */
static inline void rnnk_bench_escape(const void *p) {
#if defined(__GNUC__)
  __asm__ volatile("" : : "g"(p) : "memory");
#else
  (void)p;
#endif
}
/** Compiler barrier: memory written before this is considered read. */
static inline void rnnk_bench_clobber(void) {
#if defined(__GNUC__)
  __asm__ volatile("" : : : "memory");
#endif
}

/* ------------------------------------------------------------------ */
/* Running and results                                                 */
/* ------------------------------------------------------------------ */

/** One reported run: a repetition, or an aggregate over repetitions. All
 *  pointers are valid only during the callback. */
typedef struct rnnk_bench_result {
  const char *name;      /**< as reported, e.g. "dot/4096", "dot/4096_median",
                              "x/1/repeats:3" when repetitions are set per benchmark */
  const char *run_name;  /**< name without the aggregate suffix */
  const char *aggregate; /**< "" for a measured run, else "mean", "median", "stddev", "cv" */
  const char *label;     /**< "" if none */
  const char *error;     /**< NULL, or the rnnk_bench_skip message */
  long long iterations;
  int repetition_index;  /**< 0-based; -1 for aggregates */
  int repetitions;
  int threads;
  bool is_ratio;         /**< "cv": real_ns/cpu_ns hold a ratio, not a time */
  double real_ns;        /**< wall time per iteration, ns */
  double cpu_ns;         /**< CPU time per iteration, ns */
  int ncounters;
  const char *const *counter_names;
  const double *counter_values; /**< after the flags were applied, as in the JSON */
} rnnk_bench_result;

typedef void (*rnnk_bench_result_fn)(const rnnk_bench_result *r, void *user);

/** Calls cb for every run and aggregate, after the normal output of that
 *  run. NULL removes it. */
void rnnk_bench_set_result_callback(rnnk_bench_result_fn cb, void *user);
/** true: no console/--benchmark_format output (the callback and
 *  --benchmark_out file still get everything). Default false. */
void rnnk_bench_quiet(bool quiet);

/**
 * Initialize + RunSpecifiedBenchmarks + Shutdown. Removes the flags it
 * recognises from argc/argv.
 * @return 0 on success, 1 for an unrecognised argument, 2 on an internal
 *         error (a message goes to stderr).
 */
int rnnk_bench_main(int *argc, char **argv);

#ifdef __cplusplus
}
#endif

#endif /* RNNK_GBENCH_H */
