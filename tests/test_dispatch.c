/* Dispatch tests: CPU features, usable ISAs, the RNNK_ISA cap, the report.
 *
 * RNNK_ISA is read once per process, so the cap is tested by running the
 * helper tests/isa_probe (path in $RNNK_ISA_PROBE, else next to this
 * binary) with the variable set. The in-process tests hold under any
 * RNNK_ISA the suite itself runs with. */
#include <criterion/criterion.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dispatch/cpu.h"
#include "rnnk.h"

#define AVX512_BITS                                                                                \
  ((uint64_t)(RNNK_CPU_AVX512F | RNNK_CPU_AVX512BW | RNNK_CPU_AVX512DQ | RNNK_CPU_AVX512VL |       \
              RNNK_CPU_AVX512BF16 | RNNK_CPU_AVX512FP16))
#define VEX_BITS ((uint64_t)(RNNK_CPU_FMA | RNNK_CPU_AVX2 | RNNK_CPU_AVXVNNI))

/* ------------------------------------------------------------------ */
/* Features                                                            */
/* ------------------------------------------------------------------ */

Test(features, consistent) {
  uint64_t f = rnnk_cpu_features();
  cr_assert_eq(f, rnnk_cpu_features(), "detection must be stable");
  if (f & AVX512_BITS)
    cr_assert(f & RNNK_CPU_OS_ZMM, "AVX-512 bits without OS ZMM state: 0x%llx",
              (unsigned long long)f);
  if (f & VEX_BITS)
    cr_assert(f & RNNK_CPU_OS_YMM, "AVX2/FMA without OS YMM state: 0x%llx", (unsigned long long)f);
  if (f & RNNK_CPU_OS_ZMM) cr_assert(f & RNNK_CPU_OS_YMM, "ZMM state implies YMM state");
  if (f & RNNK_CPU_NEON_DOT) cr_assert(f & RNNK_CPU_NEON, "dot product implies NEON");
#if defined(__x86_64__)
  cr_assert_eq(f & (RNNK_CPU_NEON | RNNK_CPU_NEON_DOT), 0, "NEON bits on x86-64");
#else
  cr_assert_eq(f & (AVX512_BITS | VEX_BITS | RNNK_CPU_OS_YMM | RNNK_CPU_OS_ZMM), 0,
               "x86 bits on another architecture");
#endif
#if defined(__aarch64__)
  cr_assert(f & RNNK_CPU_NEON, "Advanced SIMD is baseline on aarch64");
#endif
}

#if defined(__x86_64__) && defined(__GNUC__)
/* libgcc / compiler-rt also check XCR0, so they must agree with us. */
static void check_builtin(uint64_t f, uint64_t bit, int builtin, const char *name) {
  cr_expect_eq((f & bit) != 0, builtin != 0, "%s: rnnk says %d, __builtin_cpu_supports says %d",
               name, (f & bit) != 0, builtin != 0);
}

Test(features, matches_builtin_cpu_supports) {
  __builtin_cpu_init();
  uint64_t f = rnnk_cpu_features();
  check_builtin(f, RNNK_CPU_AVX2, __builtin_cpu_supports("avx2"), "avx2");
  check_builtin(f, RNNK_CPU_FMA, __builtin_cpu_supports("fma"), "fma");
  check_builtin(f, RNNK_CPU_AVX512F, __builtin_cpu_supports("avx512f"), "avx512f");
  check_builtin(f, RNNK_CPU_AVX512BW, __builtin_cpu_supports("avx512bw"), "avx512bw");
  check_builtin(f, RNNK_CPU_AVX512DQ, __builtin_cpu_supports("avx512dq"), "avx512dq");
  check_builtin(f, RNNK_CPU_AVX512VL, __builtin_cpu_supports("avx512vl"), "avx512vl");
  check_builtin(f, RNNK_CPU_AVX512BF16, __builtin_cpu_supports("avx512bf16"), "avx512bf16");
#if !defined(__clang__)
  /* clang 14 rejects these names (TOOLCHAIN.md). */
  check_builtin(f, RNNK_CPU_AVX512FP16, __builtin_cpu_supports("avx512fp16"), "avx512fp16");
  check_builtin(f, RNNK_CPU_AVXVNNI, __builtin_cpu_supports("avxvnni"), "avxvnni");
#endif
}
#endif

/* ------------------------------------------------------------------ */
/* ISAs                                                                */
/* ------------------------------------------------------------------ */

Test(isa, names) {
  cr_assert_str_eq(rnnk_isa_name(RNNK_ISA_AUTO), "auto");
  cr_assert_str_eq(rnnk_isa_name(RNNK_ISA_SCALAR), "scalar");
  cr_assert_str_eq(rnnk_isa_name(RNNK_ISA_AVX2), "avx2");
  cr_assert_str_eq(rnnk_isa_name(RNNK_ISA_AVX512), "avx512");
  cr_assert_str_eq(rnnk_isa_name(RNNK_ISA_NEON), "neon");
  cr_assert_not_null(rnnk_isa_name((rnnk_isa)99));
  cr_assert_not_null(rnnk_isa_name((rnnk_isa)-1));
}

Test(isa, supported) {
  cr_assert(rnnk_isa_supported(RNNK_ISA_SCALAR));
  cr_assert(rnnk_isa_supported(RNNK_ISA_AUTO));
  cr_assert_not(rnnk_isa_supported((rnnk_isa)99));
  cr_assert_not(rnnk_isa_supported((rnnk_isa)-1));
  uint64_t f = rnnk_cpu_features();
  if (rnnk_isa_supported(RNNK_ISA_AVX2))
    cr_assert((f & (RNNK_CPU_AVX2 | RNNK_CPU_FMA | RNNK_CPU_OS_YMM)) ==
              (RNNK_CPU_AVX2 | RNNK_CPU_FMA | RNNK_CPU_OS_YMM));
  if (rnnk_isa_supported(RNNK_ISA_AVX512))
    cr_assert((f & (RNNK_CPU_AVX512F | RNNK_CPU_AVX512BW | RNNK_CPU_AVX512DQ | RNNK_CPU_AVX512VL |
                    RNNK_CPU_FMA | RNNK_CPU_OS_ZMM)) ==
              (RNNK_CPU_AVX512F | RNNK_CPU_AVX512BW | RNNK_CPU_AVX512DQ | RNNK_CPU_AVX512VL |
               RNNK_CPU_FMA | RNNK_CPU_OS_ZMM));
  if (rnnk_isa_supported(RNNK_ISA_NEON)) cr_assert(f & RNNK_CPU_NEON);
#if defined(__x86_64__)
  cr_assert_not(rnnk_isa_supported(RNNK_ISA_NEON));
#else
  cr_assert_not(rnnk_isa_supported(RNNK_ISA_AVX2));
  cr_assert_not(rnnk_isa_supported(RNNK_ISA_AVX512));
#endif
}

Test(isa, mask_matches_supported) {
  unsigned mask = rnnk_isa_mask();
  cr_assert(mask & (1u << RNNK_ISA_SCALAR));
  cr_assert_not(mask & (1u << RNNK_ISA_AUTO));
  for (int i = RNNK_ISA_SCALAR; i <= RNNK_ISA_NEON; i++)
    cr_assert_eq((mask >> i) & 1, rnnk_isa_supported((rnnk_isa)i), "isa %s",
                 rnnk_isa_name((rnnk_isa)i));
}

Test(isa, active_is_supported) {
  rnnk_isa a = rnnk_active_isa();
  cr_assert_neq(a, RNNK_ISA_AUTO);
  cr_assert(rnnk_isa_supported(a), "active ISA %s not supported", rnnk_isa_name(a));
  cr_assert_eq(a, rnnk_active_isa());
}

/* The rule, restated: best usable ISA whose level is at most the cap's. */
static rnnk_isa best_at_most(unsigned mask, int level) {
  static const rnnk_isa order[] = {RNNK_ISA_AVX512, RNNK_ISA_AVX2, RNNK_ISA_NEON, RNNK_ISA_SCALAR};
  for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
    if ((mask >> order[i] & 1) && rnnk_isa_level(order[i]) <= level) return order[i];
  return RNNK_ISA_SCALAR;
}

static bool isa_native(rnnk_isa isa) {
#if defined(__x86_64__)
  return isa == RNNK_ISA_SCALAR || isa == RNNK_ISA_AVX2 || isa == RNNK_ISA_AVX512;
#elif defined(__aarch64__)
  return isa == RNNK_ISA_SCALAR || isa == RNNK_ISA_NEON;
#else
  return isa == RNNK_ISA_SCALAR;
#endif
}

/* Expected active ISA for RNNK_ISA=cap (NULL: unset). */
static rnnk_isa expected_active(const char *cap) {
  unsigned mask = rnnk_isa_mask();
  rnnk_isa best = best_at_most(mask, 2);
  if (!cap) return best;
  char word[32];
  size_t w = 0;
  while (*cap == ' ' || *cap == '\t')
    cap++;
  for (; *cap && w + 1 < sizeof word; cap++)
    word[w++] = (char)tolower((unsigned char)*cap);
  while (w > 0 && (word[w - 1] == ' ' || word[w - 1] == '\t'))
    w--;
  word[w] = '\0';
  cap = word;
  for (int i = RNNK_ISA_SCALAR; i <= RNNK_ISA_NEON; i++) {
    if (strcmp(cap, rnnk_isa_name((rnnk_isa)i)) != 0) continue;
    if (!isa_native((rnnk_isa)i)) return best;
    return best_at_most(mask, rnnk_isa_level((rnnk_isa)i));
  }
  return best;
}

Test(isa, active_matches_environment) {
  /* Whatever RNNK_ISA this suite runs under (CI runs it once per cap). */
  const char *cap = getenv("RNNK_ISA");
  rnnk_isa want = expected_active(cap);
  cr_assert_eq(rnnk_active_isa(), want, "RNNK_ISA=%s: active %s, expected %s",
               cap ? cap : "(unset)", rnnk_isa_name(rnnk_active_isa()), rnnk_isa_name(want));
  cr_assert(rnnk_isa_level(rnnk_active_isa()) <= rnnk_isa_level(best_at_most(rnnk_isa_mask(), 2)),
            "a cap may only lower");
}

static void *active_thread(void *arg) {
  (void)arg;
  return (void *)(uintptr_t)rnnk_active_isa();
}

Test(isa, first_use_from_many_threads) {
  /* Each Criterion test is a fresh process, so detection happens here, raced. */
  pthread_t t[8];
  for (int i = 0; i < 8; i++)
    cr_assert_eq(pthread_create(&t[i], NULL, active_thread, NULL), 0);
  uintptr_t first = 0;
  for (int i = 0; i < 8; i++) {
    void *r;
    pthread_join(t[i], &r);
    if (i == 0) first = (uintptr_t)r;
    cr_assert_eq((uintptr_t)r, first);
  }
  cr_assert_eq(first, (uintptr_t)rnnk_active_isa());
}

/* ------------------------------------------------------------------ */
/* Identity                                                            */
/* ------------------------------------------------------------------ */

Test(identity, filled_and_stable) {
  rnnk_cpu_id a, b;
  memset(&a, 0x5a, sizeof a);
  memset(&b, 0xa5, sizeof b);
  rnnk_cpu_identity(&a);
  rnnk_cpu_identity(&b);
  rnnk_cpu_identity(NULL); /* tolerated */
  cr_assert_eq(a.features, rnnk_cpu_features());
  cr_assert(memchr(a.vendor, '\0', sizeof a.vendor) != NULL);
  cr_assert(memchr(a.model_name, '\0', sizeof a.model_name) != NULL);
  cr_assert_str_eq(a.vendor, b.vendor);
  cr_assert_str_eq(a.model_name, b.model_name);
  cr_assert_eq(a.family, b.family);
  cr_assert_eq(a.model, b.model);
  cr_assert_eq(a.stepping, b.stepping);
  cr_assert_eq(a.l1d_kib, b.l1d_kib);
  cr_assert_eq(a.l2_kib, b.l2_kib);
  cr_assert_eq(a.l3_kib, b.l3_kib);
#if defined(__x86_64__)
  cr_assert_eq(strlen(a.vendor), 12, "x86 vendor id is 12 chars: '%s'", a.vendor);
  cr_assert_gt(a.family, 0);
  cr_assert_gt(strlen(a.model_name), 0);
#endif
  if (a.l1d_kib) cr_assert(a.l1d_kib >= 4 && a.l1d_kib <= 1024, "L1d %u KiB", a.l1d_kib);
  if (a.l2_kib && a.l1d_kib) cr_assert_geq(a.l2_kib, a.l1d_kib);
}

/* ------------------------------------------------------------------ */
/* Report                                                              */
/* ------------------------------------------------------------------ */

Test(report, names_chosen_isa) {
  char buf[8192];
  cr_assert_eq(rnnk_isa_report(buf, sizeof buf), RNNK_OK);
  cr_assert_lt(strlen(buf), sizeof buf - 1, "report truncated in 8 KiB:\n%s", buf);
  char want[64];
  snprintf(want, sizeof want, "chosen ISA: %s", rnnk_isa_name(rnnk_active_isa()));
  cr_assert(strstr(buf, want), "no '%s' in:\n%s", want, buf);
  cr_assert(strstr(buf, "RNNK_ISA"), "%s", buf);
  cr_assert(strstr(buf, "compiled in:"), "%s", buf);
  cr_assert(strstr(buf, "xcr0"), "%s", buf);
  cr_assert(strstr(buf, "cpu: "), "%s", buf);
}

Test(report, bad_arguments) {
  char buf[16] = "unchanged";
  cr_assert_eq(rnnk_isa_report(NULL, 100), RNNK_EINVAL);
  cr_assert(strstr(rnnk_last_error(), "buf"), "message: '%s'", rnnk_last_error());
  cr_assert_eq(rnnk_isa_report(buf, 0), RNNK_EINVAL);
  cr_assert_str_eq(buf, "unchanged");
  cr_assert(strstr(rnnk_last_error(), "len"), "message: '%s'", rnnk_last_error());
}

Test(report, truncates_safely) {
  char full[8192];
  cr_assert_eq(rnnk_isa_report(full, sizeof full), RNNK_OK);
  size_t n = strlen(full);
  char buf[8192 + 16];
  for (size_t len = 1; len <= n + 2; len++) {
    memset(buf, 0x7e, sizeof buf);
    cr_assert_eq(rnnk_isa_report(buf, len), RNNK_OK);
    size_t want = len - 1 < n ? len - 1 : n;
    cr_assert_eq(strlen(buf), want, "len %zu", len);
    cr_assert_eq(memcmp(buf, full, want), 0, "len %zu: not a prefix", len);
    for (size_t i = len; i < len + 16; i++)
      cr_assert_eq(buf[i], 0x7e, "len %zu: wrote byte %zu", len, i);
  }
}

/* ------------------------------------------------------------------ */
/* The RNNK_ISA cap, through the probe                                 */
/* ------------------------------------------------------------------ */

static const char *probe_path(void) {
  static char path[PATH_MAX];
  const char *env = getenv("RNNK_ISA_PROBE");
  if (env && *env) return env;
  ssize_t n = readlink("/proc/self/exe", path, sizeof path - 16);
  if (n <= 0) return "isa_probe";
  path[n] = '\0';
  char *slash = strrchr(path, '/');
  strcpy(slash ? slash + 1 : path, "isa_probe");
  return path;
}

/* Run the probe with RNNK_ISA=cap (NULL: unset); its stdout into out. */
static void run_probe(const char *cap, const char *arg, char *out, size_t len) {
  const char *probe = probe_path();
  cr_assert_eq(access(probe, X_OK), 0,
               "probe '%s' not found: build tests/isa_probe and set RNNK_ISA_PROBE", probe);
  int fd[2];
  cr_assert_eq(pipe(fd), 0);
  pid_t pid = fork();
  cr_assert_neq(pid, -1);
  if (pid == 0) {
    dup2(fd[1], 1);
    close(fd[0]);
    close(fd[1]);
    if (cap)
      setenv("RNNK_ISA", cap, 1);
    else
      unsetenv("RNNK_ISA");
    execl(probe, probe, arg, (char *)NULL);
    _exit(127);
  }
  close(fd[1]);
  size_t n = 0;
  for (;;) {
    ssize_t r = read(fd[0], out + n, len - 1 - n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    n += (size_t)r;
    if (n + 1 >= len) break;
  }
  out[n] = '\0';
  close(fd[0]);
  int st = 0;
  cr_assert_eq(waitpid(pid, &st, 0), pid);
  cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "probe RNNK_ISA=%s %s: status 0x%x",
            cap ? cap : "(unset)", arg ? arg : "", st);
}

/* Check the active ISA and that the report says `says` for RNNK_ISA=cap. */
static void check_cap(const char *cap, rnnk_isa want, const char *says) {
  char got[64], report[8192];
  run_probe(cap, NULL, got, sizeof got);
  char *nl = strchr(got, '\n');
  if (nl) *nl = '\0';
  cr_assert_str_eq(got, rnnk_isa_name(want), "RNNK_ISA=%s: got %s, expected %s",
                   cap ? cap : "(unset)", got, rnnk_isa_name(want));
  run_probe(cap, "report", report, sizeof report);
  char chosen[64];
  snprintf(chosen, sizeof chosen, "chosen ISA: %s", rnnk_isa_name(want));
  cr_assert(strstr(report, chosen), "RNNK_ISA=%s: no '%s' in report:\n%s", cap ? cap : "(unset)",
            chosen, report);
  if (says)
    cr_assert(strstr(report, says), "RNNK_ISA=%s: no '%s' in report:\n%s", cap ? cap : "(unset)",
              says, report);
}

Test(cap, unset_is_best) { check_cap(NULL, expected_active(NULL), "RNNK_ISA: unset"); }

Test(cap, scalar) { check_cap("scalar", RNNK_ISA_SCALAR, ": honoured"); }

Test(cap, auto_is_no_cap) { check_cap("auto", expected_active(NULL), "no cap"); }

Test(cap, avx2) {
  rnnk_isa want = expected_active("avx2");
#if defined(__x86_64__)
  bool above = rnnk_isa_level(best_at_most(rnnk_isa_mask(), 2)) < 1;
  check_cap("avx2", want, above ? "ignored: above" : ": honoured");
  if (rnnk_isa_supported(RNNK_ISA_AVX2)) cr_assert_eq(want, RNNK_ISA_AVX2);
#else
  check_cap("avx2", want, "not an ISA of this architecture");
#endif
}

Test(cap, avx512) {
  rnnk_isa want = expected_active("avx512");
#if defined(__x86_64__)
  bool above = !rnnk_isa_supported(RNNK_ISA_AVX512);
  check_cap("avx512", want, above ? "ignored: above" : ": honoured");
#else
  check_cap("avx512", want, "not an ISA of this architecture");
#endif
}

Test(cap, neon) {
  rnnk_isa want = expected_active("neon");
#if defined(__aarch64__)
  check_cap("neon", want, rnnk_isa_supported(RNNK_ISA_NEON) ? ": honoured" : "ignored: above");
#else
  check_cap("neon", want, "not an ISA of this architecture");
#endif
}

Test(cap, case_and_blanks) { check_cap(" Scalar ", RNNK_ISA_SCALAR, ": honoured"); }

Test(cap, unknown_ignored) {
  check_cap("bogus", expected_active(NULL), "unknown value");
  check_cap("avx2x", expected_active(NULL), "unknown value");
  check_cap("scalar avx2", expected_active(NULL), "unknown value");
}
