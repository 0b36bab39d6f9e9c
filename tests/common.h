/* Helpers shared by the test suites. */
#ifndef RNNK_TESTS_COMMON_H
#define RNNK_TESTS_COMMON_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rnnk.h"

/* Deterministic uniform floats in [lo, hi). */
typedef struct test_rng { uint64_t s; } test_rng;
float test_uniform(test_rng *r, float lo, float hi);
void test_fill(test_rng *r, float *p, size_t n, float lo, float hi);
/* |a - b| <= 1e-5 * max(1, |b|), SPEC.md's "match" (NaN matches NaN). */
bool test_match(float a, float b);
/* ISAs this host can run, scalar first; returns the count. */
int test_isas(rnnk_isa out[4]);
/* Make calls of N rows on rnn split over the pool attached to it, by rows
 * or by hidden units (a tune cache entry that says so: the default rules
 * keep networks as small as the tests' on one thread). Returns whether the
 * call plan now splits that way: false without a pool of 2 threads or more. */
bool test_force_split(const rnnk_rnn *rnn, int N, bool rows);
/* The same with any split (RNNK_SPLIT_*) and time chunk (0 = auto): returns
 * whether the call plan for N rows is now exactly that. */
bool test_force_plan(const rnnk_rnn *rnn, int N, int split, int time_chunk);

/* How many forward scratch blocks rnn holds cached between calls. */
int test_scratch_cached(const rnnk_rnn *rnn);
/* Suite hook: abort the worker if LeakSanitizer finds a leak (Criterion
 * would otherwise pass a leaking test; TOOLCHAIN.md item 8). */
void test_leak_check(void);
#endif
