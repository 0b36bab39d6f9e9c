/* libFuzzer target for the tune cache parser (tune/cache.c), built
 * standalone by fuzz/build.sh: cache.c plus the few library symbols it
 * needs, stubbed below.
 *
 * Properties checked on every input:
 * - the parser returns OK, EFORMAT or ESTALE and never crashes, leaks or
 *   reads out of bounds (ASan, UBSan with no recovery);
 * - the reason is NUL-terminated and non-empty on failure;
 * - on failure the outputs are untouched;
 * - on success, format() then parse() gives back the same entries, and
 *   formatting that again gives the same text (a fixed point).
 *
 * The expected header is fixed here so the seeds (fuzz/corpus/) can match
 * it and the fuzzer gets past the header into the entries. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch/cpu.h"
#include "tune/cache.h"

/* Stubs for the symbols cache.c takes from the rest of the library. */
const char rnnk_kernel_fingerprint[] = "fuzz-kernels";
void rnnk_set_error(const char *fmt, ...) { (void)fmt; }
rnnk_status rnnk_fail(rnnk_status s, const char *fmt, ...) {
  (void)fmt;
  return s;
}
void rnnk_cpu_identity(rnnk_cpu_id *id) {
  memset(id, 0, sizeof *id);
  snprintf(id->vendor, sizeof id->vendor, "GenuineIntel");
  id->family = 6;
  id->model = 143;
  id->stepping = 8;
}

static const rnnk_tune_header expect = {
    "0.1.0", "fuzz-kernels",
    "vendor=GenuineIntel family=6 model=143 stepping=8 isa=fma,avx2,avx512f,os_ymm,os_zmm "
    "l1d_kib=48 l2_kib=2048 l3_kib=107520"};

static int same(const rnnk_tune_entry *a, const rnnk_tune_entry *b) {
  const rnnk_tune_key *x = &a->key, *y = &b->key;
  const rnnk_tune_value *u = &a->val, *v = &b->val;
  return x->isa == y->isa && x->cell == y->cell && x->dtype == y->dtype && x->hidden == y->hidden &&
         x->input_bucket == y->input_bucket && x->batch_bucket == y->batch_bucket &&
         x->threads == y->threads && x->variant == y->variant && u->unit == v->unit &&
         u->batch_tile == v->batch_tile && u->k_block == v->k_block &&
         u->time_chunk == v->time_chunk && u->split == v->split && u->ms == v->ms &&
         u->ms_default == v->ms_default;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  rnnk_tune_entry *e = (rnnk_tune_entry *)1, *e2 = NULL;
  size_t n = 12345, n2 = 0;
  char why[512];
  memset(why, 'x', sizeof why);
  rnnk_status st =
      rnnk_tune_cache_parse((const char *)data, size, "fuzz", &expect, &e, &n, why, sizeof why);
  if (st != RNNK_OK) {
    if (st != RNNK_EFORMAT && st != RNNK_ESTALE) __builtin_trap();
    if (!memchr(why, '\0', sizeof why) || !why[0]) __builtin_trap();
    if (e != (rnnk_tune_entry *)1 || n != 12345) __builtin_trap();
    return 0;
  }
  char *text = NULL, *text2 = NULL;
  size_t len = 0, len2 = 0;
  if (rnnk_tune_cache_format(&expect, e, n, &text, &len) != RNNK_OK) __builtin_trap();
  if (rnnk_tune_cache_parse(text, len, "again", &expect, &e2, &n2, why, sizeof why) != RNNK_OK)
    __builtin_trap();
  if (n2 != n) __builtin_trap();
  for (size_t i = 0; i < n; i++)
    if (!same(&e[i], &e2[i])) __builtin_trap();
  if (rnnk_tune_cache_format(&expect, e2, n2, &text2, &len2) != RNNK_OK) __builtin_trap();
  if (len2 != len || memcmp(text, text2, len) != 0) __builtin_trap();
  free(text);
  free(text2);
  free(e);
  free(e2);
  return 0;
}
