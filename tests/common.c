#include "tests/common.h"

#include <math.h>
#include <stdlib.h>

#include "src/internal.h"
#include "tune/cache.h"

float test_uniform(test_rng *r, float lo, float hi) {
  r->s = r->s * 6364136223846793005ull + 1442695040888963407ull;
  const float u = (float)(r->s >> 40) / (float)(1ull << 24);
  return lo + (hi - lo) * u;
}

void test_fill(test_rng *r, float *p, size_t n, float lo, float hi) {
  for (size_t i = 0; i < n; i++) p[i] = test_uniform(r, lo, hi);
}

bool test_match(float a, float b) {
  if (isnan(a) && isnan(b)) return true;
  return fabsf(a - b) <= 1e-5f * fmaxf(1.0f, fabsf(b));
}

int test_isas(rnnk_isa out[4]) {
  const rnnk_isa all[] = {RNNK_ISA_SCALAR, RNNK_ISA_AVX2, RNNK_ISA_AVX512, RNNK_ISA_NEON};
  int n = 0;
  for (int i = 0; i < 4; i++)
    if (rnnk_isa_supported(all[i])) out[n++] = all[i];
  return n;
}

bool test_force_plan(const rnnk_rnn *rnn, int N, int split, int time_chunk) {
  const int threads = rnn->pool ? rnnk_pool_size(rnn->pool) : 1;
  const rnnk_tune_key k = rnnk_tiles_key(rnn->isa, &rnn->cfg, N, threads);
  const rnnk_tune_value v = {.split = split, .time_chunk = time_chunk, .ms = 1, .ms_default = 1};
  if (rnnk_tune_cache_put(&k, &v) != RNNK_OK) return false;
  const rnnk_call_plan p = rnnk_plan(rnn, N);
  const bool splits = threads >= 2 && split != RNNK_SPLIT_NONE;
  return p.pool == (splits ? rnn->pool : NULL) && p.rows == (split == RNNK_SPLIT_ROWS && splits) &&
         p.time_chunk == time_chunk;
}

bool test_force_split(const rnnk_rnn *rnn, int N, bool rows) {
  return rnn->pool && test_force_plan(rnn, N, rows ? RNNK_SPLIT_ROWS : RNNK_SPLIT_UNITS, 0) &&
         rnnk_plan(rnn, N).pool == rnn->pool;
}

int test_scratch_cached(const rnnk_rnn *rnn) {
  int n = 0;
  for (int i = 0; i < rnn->scratch_slots; i++) n += atomic_load(&rnn->scratch_slot[i]) != NULL;
  return n;
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RNNK_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define RNNK_ASAN 1
#endif
#ifdef RNNK_ASAN
#include <sanitizer/lsan_interface.h>
void test_leak_check(void) {
  if (__lsan_do_recoverable_leak_check()) abort();
}
#else
void test_leak_check(void) {}
#endif
