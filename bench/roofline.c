/* roofline.c - peak FMA throughput and read bandwidth of one core (bench-only).
 *
 * FMA peak: a loop of independent FMA chains (more chains than latency x
 * issue width: 16 zmm, 12 ymm/xmm, so every FMA port is busy), no loads.
 * The zmm and ymm kernels carry target attributes, so this file builds with
 * baseline flags and an ISA runs only if __builtin_cpu_supports says so
 * (which also checks that the OS saves the registers). The ymm and scalar
 * kernels keep 12 accumulators plus 2 constants within the 16 registers
 * AVX2 has, so nothing spills.
 *
 * Read bandwidth: sum a buffer with the widest vector loads the CPU has
 * (aligned, 16 or 8 independent add chains), many passes over the same
 * working set inside one call; the buffer is written before timing so the
 * pages exist. Working sets 16 KiB << i up to 32 MiB (the ladder), then
 * 256 MiB for DRAM. A ladder rather than one size per level: fixed sizes
 * picked for the Xeon (1 MiB for its 2 MiB L2, 16 MiB for L3) misread a
 * Zen 4 VM, whose 1 MiB L2 reads 117 GB/s at 512 KiB but 98 at 1 MiB, and
 * whose L3 share reads 88-98 GB/s at 4 MiB but 29-64 at 16 MiB: the LSTM
 * N=1 H=512 step (4 MiB of W_hh) ran at "125% of bound". With AVX-512 the
 * ladder is read once more with 32-byte loads: AVX2 kernels cannot stream
 * L2 as fast as zmm loads do (the Xeon: ~115 against ~135 GB/s), and their
 * bound should say so.
 *
 * Each number is the median of several repeats, each repeat sized to take
 * about 30 ms (8 ms when quick) after one calibration run, which also warms
 * the clock and the caches.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "roofline.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define RNNK_RL_X86 1
#else
#define RNNK_RL_X86 0
#endif

/* A bound can only trust the part of a shared last-level cache one core can
 * keep. This VM reports a 260 MB L3 (266240K) for 2 vCPUs: the host's LLC,
 * shared with every other tenant. Weights are therefore considered
 * L3-resident only up to 32 MiB (a generous per-core share on server parts,
 * and twice the 16 MiB working set that bw_l3 is measured on); above that
 * the DRAM bandwidth applies. */
#define RNNK_RL_L3_CAP ((size_t)32 << 20)

static volatile double rl_sink;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof(double), cmp_double);
  return (n & 1) ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* ------------------------------------------------------------------ */
/* FMA kernels: each returns a value that depends on every chain.      */
/* ------------------------------------------------------------------ */

#define RL_C12(T, init)                                                                    \
  T c0 = init(0.000f), c1 = init(0.001f), c2 = init(0.002f), c3 = init(0.003f),            \
    c4 = init(0.004f), c5 = init(0.005f), c6 = init(0.006f), c7 = init(0.007f),            \
    c8 = init(0.008f), c9 = init(0.009f), c10 = init(0.010f), c11 = init(0.011f)
#define RL_S12(F)                                                                          \
  c0 = F(c0, a, b); c1 = F(c1, a, b); c2 = F(c2, a, b); c3 = F(c3, a, b);                  \
  c4 = F(c4, a, b); c5 = F(c5, a, b); c6 = F(c6, a, b); c7 = F(c7, a, b);                  \
  c8 = F(c8, a, b); c9 = F(c9, a, b); c10 = F(c10, a, b); c11 = F(c11, a, b)
#define RL_SUM12(ADD)                                                                      \
  ADD(ADD(ADD(ADD(c0, c1), ADD(c2, c3)), ADD(ADD(c4, c5), ADD(c6, c7))),                   \
      ADD(ADD(c8, c9), ADD(c10, c11)))

#if RNNK_RL_X86
/* c = c*a + b converges to b/(1-a) = 1e-3: no overflow, no denormals. */
__attribute__((target("avx512f"))) static double fma_zmm(long iters) {
  RL_C12(__m512, _mm512_set1_ps);
  __m512 c12 = _mm512_set1_ps(0.012f), c13 = _mm512_set1_ps(0.013f);
  __m512 c14 = _mm512_set1_ps(0.014f), c15 = _mm512_set1_ps(0.015f);
  const __m512 a = _mm512_set1_ps(0.9999f), b = _mm512_set1_ps(1e-7f);
  for (long i = 0; i < iters; i++) {
    RL_S12(_mm512_fmadd_ps);
    c12 = _mm512_fmadd_ps(c12, a, b);
    c13 = _mm512_fmadd_ps(c13, a, b);
    c14 = _mm512_fmadd_ps(c14, a, b);
    c15 = _mm512_fmadd_ps(c15, a, b);
  }
  __m512 s = _mm512_add_ps(RL_SUM12(_mm512_add_ps),
                           _mm512_add_ps(_mm512_add_ps(c12, c13), _mm512_add_ps(c14, c15)));
  return _mm512_reduce_add_ps(s);
}
#define FMA_ZMM_PER_ITER (16.0 * 16 * 2)

__attribute__((target("avx2,fma"))) static double fma_ymm(long iters) {
  RL_C12(__m256, _mm256_set1_ps);
  const __m256 a = _mm256_set1_ps(0.9999f), b = _mm256_set1_ps(1e-7f);
  for (long i = 0; i < iters; i++) {
    RL_S12(_mm256_fmadd_ps);
  }
  __m256 s = RL_SUM12(_mm256_add_ps);
  float t[8];
  _mm256_storeu_ps(t, s);
  return (double)t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7];
}
#define FMA_YMM_PER_ITER (12.0 * 8 * 2)

/* Scalar FMA (vfmadd...ss). The empty asm keeps each chain a scalar
 * register, so no vectorizer can widen the 12 chains into one vector. */
#define RL_PIN12()                                                                         \
  __asm__ volatile("" : "+x"(c0), "+x"(c1), "+x"(c2), "+x"(c3), "+x"(c4), "+x"(c5));      \
  __asm__ volatile("" : "+x"(c6), "+x"(c7), "+x"(c8), "+x"(c9), "+x"(c10), "+x"(c11))
#define RL_ID(x) (x)
__attribute__((target("fma"))) static double fma_scalar_fma(long iters) {
  RL_C12(float, RL_ID);
  const float a = 0.9999f, b = 1e-7f;
  for (long i = 0; i < iters; i++) {
    RL_S12(__builtin_fmaf);
    RL_PIN12();
  }
#define RL_ADD(x, y) ((x) + (y))
  return RL_SUM12(RL_ADD);
#undef RL_ADD
}
#undef RL_ID
#endif

/* Without hardware FMA on x86: a multiply and an add (still 2 flops). On
 * other targets __builtin_fmaf is the FMA instruction (aarch64 always has it). */
static double fma_scalar_plain(long iters) {
#if RNNK_RL_X86
#define RL_F(c, a, b) ((c) * (a) + (b))
#else
#define RL_F(c, a, b) __builtin_fmaf((c), (a), (b))
#endif
#define RL_ID(x) (x)
  RL_C12(float, RL_ID);
  const float a = 0.9999f, b = 1e-7f;
  for (long i = 0; i < iters; i++) {
    RL_S12(RL_F);
#if defined(__GNUC__) && (RNNK_RL_X86 || defined(__aarch64__))
#if RNNK_RL_X86
#define RL_R "+x"
#else
#define RL_R "+w"
#endif
    /* keep each chain a scalar register (no SLP widening) */
    __asm__ volatile("" : RL_R(c0), RL_R(c1), RL_R(c2), RL_R(c3), RL_R(c4), RL_R(c5));
    __asm__ volatile("" : RL_R(c6), RL_R(c7), RL_R(c8), RL_R(c9), RL_R(c10), RL_R(c11));
#undef RL_R
#endif
  }
#define RL_ADD(x, y) ((x) + (y))
  return RL_SUM12(RL_ADD);
#undef RL_ADD
#undef RL_ID
#undef RL_F
}
#define FMA_SCALAR_PER_ITER (12.0 * 2)

typedef double (*fma_kernel_fn)(long iters);

typedef struct timing {
  int reps;        /* repeats the median is taken over */
  double target_s; /* length of one repeat */
} timing;

/* GFLOP/s: calibrate the iteration count, then the median of reps runs. */
static double measure_fma(fma_kernel_fn k, double flops_per_iter, const timing *tm) {
  long iters = 1 << 16;
  double t0 = now_s();
  rl_sink += k(iters);
  double t = now_s() - t0;
  if (t > 0) {
    double want = (double)iters * tm->target_s / t;
    iters = want > 1e12 ? (long)1e12 : want < 1024 ? 1024 : (long)want;
  }
  double v[16];
  for (int r = 0; r < tm->reps; r++) {
    t0 = now_s();
    rl_sink += k(iters);
    t = now_s() - t0;
    v[r] = t > 0 ? flops_per_iter * (double)iters / t * 1e-9 : 0;
  }
  return median(v, tm->reps);
}

/* ------------------------------------------------------------------ */
/* Read kernels: sum n floats (n a multiple of 256, p 64-byte aligned)  */
/* `passes` times.                                                      */
/* ------------------------------------------------------------------ */

#if RNNK_RL_X86
/* One flat loop over passes*n floats with a wrap-around pointer: nested
 * loops made clang 14 copy all 16 accumulators every iteration. */
__attribute__((target("avx512f"))) static double read_zmm(const float *p, size_t n,
                                                           long passes) {
  __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0,
         a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0, a12 = a0, a13 = a0, a14 = a0, a15 = a0;
  const float *q = p, *end = p + n;
  for (size_t blocks = n / 256 * (size_t)passes; blocks > 0; blocks--) {
    a0 = _mm512_add_ps(a0, _mm512_load_ps(q));
    a1 = _mm512_add_ps(a1, _mm512_load_ps(q + 16));
    a2 = _mm512_add_ps(a2, _mm512_load_ps(q + 32));
    a3 = _mm512_add_ps(a3, _mm512_load_ps(q + 48));
    a4 = _mm512_add_ps(a4, _mm512_load_ps(q + 64));
    a5 = _mm512_add_ps(a5, _mm512_load_ps(q + 80));
    a6 = _mm512_add_ps(a6, _mm512_load_ps(q + 96));
    a7 = _mm512_add_ps(a7, _mm512_load_ps(q + 112));
    a8 = _mm512_add_ps(a8, _mm512_load_ps(q + 128));
    a9 = _mm512_add_ps(a9, _mm512_load_ps(q + 144));
    a10 = _mm512_add_ps(a10, _mm512_load_ps(q + 160));
    a11 = _mm512_add_ps(a11, _mm512_load_ps(q + 176));
    a12 = _mm512_add_ps(a12, _mm512_load_ps(q + 192));
    a13 = _mm512_add_ps(a13, _mm512_load_ps(q + 208));
    a14 = _mm512_add_ps(a14, _mm512_load_ps(q + 224));
    a15 = _mm512_add_ps(a15, _mm512_load_ps(q + 240));
    q += 256;
    if (q == end) q = p;
  }
  a0 = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
                     _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
  a8 = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11)),
                     _mm512_add_ps(_mm512_add_ps(a12, a13), _mm512_add_ps(a14, a15)));
  return _mm512_reduce_add_ps(_mm512_add_ps(a0, a8));
}

__attribute__((target("avx"))) static double read_ymm(const float *p, size_t n, long passes) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0,
         a7 = a0;
  const float *q = p, *end = p + n;
  for (size_t blocks = n / 64 * (size_t)passes; blocks > 0; blocks--) {
    a0 = _mm256_add_ps(a0, _mm256_load_ps(q));
    a1 = _mm256_add_ps(a1, _mm256_load_ps(q + 8));
    a2 = _mm256_add_ps(a2, _mm256_load_ps(q + 16));
    a3 = _mm256_add_ps(a3, _mm256_load_ps(q + 24));
    a4 = _mm256_add_ps(a4, _mm256_load_ps(q + 32));
    a5 = _mm256_add_ps(a5, _mm256_load_ps(q + 40));
    a6 = _mm256_add_ps(a6, _mm256_load_ps(q + 48));
    a7 = _mm256_add_ps(a7, _mm256_load_ps(q + 56));
    q += 64;
    if (q == end) q = p;
  }
  __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                           _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
  float t[8];
  _mm256_storeu_ps(t, s);
  return (double)t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7];
}
#endif

/* 128-bit vectors (SSE2 on x86, NEON on aarch64) through GCC/Clang vector
 * extensions. */
typedef float rl_v4f __attribute__((vector_size(16)));

static double read_v4(const float *p, size_t n, long passes) {
  rl_v4f a0 = {0, 0, 0, 0}, a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
  const rl_v4f *q = (const rl_v4f *)(const void *)p;
  const rl_v4f *end = q + n / 4, *start = q;
  for (size_t blocks = n / 32 * (size_t)passes; blocks > 0; blocks--) {
    a0 += q[0];
    a1 += q[1];
    a2 += q[2];
    a3 += q[3];
    a4 += q[4];
    a5 += q[5];
    a6 += q[6];
    a7 += q[7];
    q += 8;
    if (q == end) q = start;
  }
  rl_v4f s = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7));
  return (double)s[0] + s[1] + s[2] + s[3];
}

typedef double (*read_kernel_fn)(const float *p, size_t n, long passes);

/* GB/s reading a working set of `bytes` (a multiple of 1 KiB); 0 if out of memory. */
static double measure_read(read_kernel_fn k, size_t bytes, const timing *tm) {
  size_t align = bytes >= ((size_t)4 << 20) ? ((size_t)2 << 20) : 4096; /* THP-friendly */
  float *buf = aligned_alloc(align, bytes);
  if (!buf) return 0;
  size_t n = bytes / sizeof(float);
  for (size_t i = 0; i < n; i++) buf[i] = 1.0f;

  long passes = 1;
  double t0 = now_s();
  rl_sink += k(buf, n, passes);
  double t = now_s() - t0;
  if (t > 0) {
    double want = tm->target_s / t;
    passes = want > 1e9 ? (long)1e9 : want < 1 ? 1 : (long)want;
  }
  double v[16];
  for (int r = 0; r < tm->reps; r++) {
    t0 = now_s();
    rl_sink += k(buf, n, passes);
    t = now_s() - t0;
    v[r] = t > 0 ? (double)bytes * (double)passes / t * 1e-9 : 0;
  }
  free(buf);
  return median(v, tm->reps);
}

/* ------------------------------------------------------------------ */
/* Cache sizes                                                          */
/* ------------------------------------------------------------------ */

static int read_sys(const char *dir, const char *file, char *out, size_t n) {
  char path[256];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  int ok = fgets(out, (int)n, f) != NULL;
  fclose(f);
  if (ok) out[strcspn(out, "\n")] = 0;
  return ok;
}

static void cache_sizes(rnnk_roofline *r) {
  r->l1_bytes = 0, r->l2_bytes = 0, r->l3_bytes = 0;
  for (int i = 0; i < 16; i++) {
    char dir[96], level[16], type[32], size[32];
    snprintf(dir, sizeof dir, "/sys/devices/system/cpu/cpu0/cache/index%d", i);
    if (!read_sys(dir, "level", level, sizeof level) || !read_sys(dir, "type", type, sizeof type) ||
        !read_sys(dir, "size", size, sizeof size))
      continue;
    if (strcmp(type, "Instruction") == 0) continue;
    char *end;
    unsigned long long v = strtoull(size, &end, 10);
    if (*end == 'K') v <<= 10;
    else if (*end == 'M') v <<= 20;
    else if (*end == 'G') v <<= 30;
    int lv = atoi(level);
    if (lv == 1) r->l1_bytes = (size_t)v;
    else if (lv == 2) r->l2_bytes = (size_t)v;
    else if (lv == 3) r->l3_bytes = (size_t)v;
  }
  /* defaults when sysfs says nothing: a small modern core */
  if (!r->l1_bytes) r->l1_bytes = (size_t)32 << 10;
  if (!r->l2_bytes) r->l2_bytes = (size_t)1 << 20;
  if (!r->l3_bytes) r->l3_bytes = (size_t)8 << 20;
}

/* ------------------------------------------------------------------ */
/* API                                                                  */
/* ------------------------------------------------------------------ */

static size_t ladder_bytes(int i) { return (size_t)16 << 10 << i; }

/* Index of the largest ladder size <= bytes (0 below 16 KiB). */
static int ladder_at(size_t bytes) {
  int i = 0;
  while (i + 1 < RNNK_RL_LADDER && ladder_bytes(i + 1) <= bytes) i++;
  return i;
}

void rnnk_roofline_measure(rnnk_roofline *r, int quick) {
  memset(r, 0, sizeof *r);
  cache_sizes(r);
  const timing tm = quick ? (timing){3, 0.008} : (timing){7, 0.030};

  read_kernel_fn rd = read_v4;
#if RNNK_RL_X86
  __builtin_cpu_init();
  int has_fma = __builtin_cpu_supports("fma");
  int has_avx2 = __builtin_cpu_supports("avx2") && has_fma;
  int has_avx512 = __builtin_cpu_supports("avx512f");
  r->fma_gflops_scalar = has_fma ? measure_fma(fma_scalar_fma, FMA_SCALAR_PER_ITER, &tm)
                                 : measure_fma(fma_scalar_plain, FMA_SCALAR_PER_ITER, &tm);
  if (has_avx2) r->fma_gflops_ymm = measure_fma(fma_ymm, FMA_YMM_PER_ITER, &tm);
  if (has_avx512) r->fma_gflops_zmm = measure_fma(fma_zmm, FMA_ZMM_PER_ITER, &tm);
  if (has_avx512) rd = read_zmm;
  else if (__builtin_cpu_supports("avx")) rd = read_ymm;
#else
  r->fma_gflops_scalar = measure_fma(fma_scalar_plain, FMA_SCALAR_PER_ITER, &tm);
#endif

  int ymm_too = 0;
#if RNNK_RL_X86
  ymm_too = has_avx512 && __builtin_cpu_supports("avx");
#endif
  for (int i = 0; i < RNNK_RL_LADDER; i++) {
    r->bw_ladder[i] = measure_read(rd, ladder_bytes(i), &tm);
#if RNNK_RL_X86
    r->bw_ladder_ymm[i] = ymm_too ? measure_read(read_ymm, ladder_bytes(i), &tm) : r->bw_ladder[i];
#else
    r->bw_ladder_ymm[i] = r->bw_ladder[i];
#endif
  }
  r->bw_dram = measure_read(rd, (size_t)256 << 20, &tm);
  const int i1 = ladder_at(r->l1_bytes / 2), i2 = ladder_at(r->l2_bytes / 2), i3 = ladder_at((size_t)16 << 20);
  r->bw_l1 = r->bw_ladder[i1], r->bw_l2 = r->bw_ladder[i2], r->bw_l3 = r->bw_ladder[i3];
  r->bw_l1_ymm = r->bw_ladder_ymm[i1], r->bw_l2_ymm = r->bw_ladder_ymm[i2], r->bw_l3_ymm = r->bw_ladder_ymm[i3];
}

void rnnk_roofline_for_width(const rnnk_roofline *r, int vector_bits, rnnk_roofline *out) {
  *out = *r;
  switch (vector_bits) {
  case 512: out->fma_gflops_ymm = 0, out->fma_gflops_scalar = 0; break;
  case 256:
    out->fma_gflops_zmm = 0, out->fma_gflops_scalar = 0;
    out->bw_l1 = r->bw_l1_ymm, out->bw_l2 = r->bw_l2_ymm, out->bw_l3 = r->bw_l3_ymm;
    memcpy(out->bw_ladder, r->bw_ladder_ymm, sizeof out->bw_ladder);
    break;
  case 32: out->fma_gflops_zmm = 0, out->fma_gflops_ymm = 0; break;
  default: break;
  }
}

size_t rnnk_roofline_l3_fit_bytes(const rnnk_roofline *r) {
  return r->l3_bytes < RNNK_RL_L3_CAP ? r->l3_bytes : RNNK_RL_L3_CAP;
}

double rnnk_roofline_bound_ms(const rnnk_roofline *r, double flops, double weight_bytes_per_step,
                              int steps, const char **which) {
  double peak = r->fma_gflops_zmm;
  if (r->fma_gflops_ymm > peak) peak = r->fma_gflops_ymm;
  if (r->fma_gflops_scalar > peak) peak = r->fma_gflops_scalar;
  double t_fma = peak > 0 && flops > 0 ? flops / (peak * 1e9) * 1e3 : 0;

  const char *level;
  double bw;
  double wb = weight_bytes_per_step;
  if (wb <= (double)r->l1_bytes) level = "L1", bw = r->bw_l1;
  else if (wb <= (double)r->l2_bytes) level = "L2", bw = r->bw_l2;
  else if (wb <= (double)rnnk_roofline_l3_fit_bytes(r)) level = "L3", bw = r->bw_l3;
  else level = "DRAM", bw = r->bw_dram;
  /* the level names where the weights live; the rate is that of their own
   * size where the ladder has it (a level's rate is the fallback) */
  const double bw_size = r->bw_ladder[ladder_at((size_t)wb)];
  if (wb <= (double)rnnk_roofline_l3_fit_bytes(r) && bw_size > 0) bw = bw_size;
  double t_mem = bw > 0 && wb > 0 && steps > 0 ? wb * (double)steps / (bw * 1e9) * 1e3 : 0;

  const char *w = "none";
  double t = 0;
  if (t_fma > 0 || t_mem > 0) {
    w = t_fma >= t_mem ? "fma" : level;
    t = t_fma >= t_mem ? t_fma : t_mem;
  }
  if (which) *which = w;
  return t;
}

double rnnk_roofline_floor_ms(const rnnk_roofline *r, double in_flops, double rec_flops, double rec_bytes_per_step,
                              int steps, const char **which) {
  /* The recurrent part is bound by streaming W_hh from its cache level each
   * step or by the FMA peak; the input projection (one GEMM over all steps,
   * reading W_ih once) by the FMA peak. */
  const char *rec = NULL;
  const double t_rec = rnnk_roofline_bound_ms(r, rec_flops, rec_bytes_per_step, steps, &rec);
  const double t_in = rnnk_roofline_bound_ms(r, in_flops, 0, steps, NULL);
  if (which) *which = rec;
  return t_rec + t_in;
}

void rnnk_roofline_print(const rnnk_roofline *r, FILE *f) {
  fprintf(f, "fma_zmm %.1f GFLOP/s\n", r->fma_gflops_zmm);
  fprintf(f, "fma_ymm %.1f GFLOP/s\n", r->fma_gflops_ymm);
  fprintf(f, "fma_scalar %.1f GFLOP/s\n", r->fma_gflops_scalar);
  const size_t l1 = ladder_bytes(ladder_at(r->l1_bytes / 2)) >> 10, l2 = ladder_bytes(ladder_at(r->l2_bytes / 2)) >> 10;
  fprintf(f, "bw_l1 %.1f GB/s (%zu KiB)\n", r->bw_l1, l1);
  fprintf(f, "bw_l2 %.1f GB/s (%zu KiB)\n", r->bw_l2, l2);
  fprintf(f, "bw_l3 %.1f GB/s (16 MiB)\n", r->bw_l3);
  fprintf(f, "bw_dram %.1f GB/s (256 MiB)\n", r->bw_dram);
  fprintf(f, "bw_l1_ymm %.1f GB/s (%zu KiB, 32-byte loads)\n", r->bw_l1_ymm, l1);
  fprintf(f, "bw_l2_ymm %.1f GB/s (%zu KiB, 32-byte loads)\n", r->bw_l2_ymm, l2);
  fprintf(f, "bw_l3_ymm %.1f GB/s (16 MiB, 32-byte loads)\n", r->bw_l3_ymm);
  fprintf(f, "l1_bytes %zu B\n", r->l1_bytes);
  fprintf(f, "l2_bytes %zu B\n", r->l2_bytes);
  fprintf(f, "l3_bytes %zu B (bound uses %zu)\n", r->l3_bytes, rnnk_roofline_l3_fit_bytes(r));
  for (int i = 0; i < RNNK_RL_LADDER; i++)
    fprintf(f, "bw_%zuk %.1f GB/s (ymm %.1f)\n", ladder_bytes(i) >> 10, r->bw_ladder[i], r->bw_ladder_ymm[i]);
}

#ifdef RNNK_ROOFLINE_MAIN
/* Stand-alone driver: `roofline [--quick]`. */
int main(int argc, char **argv) {
  int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
  rnnk_roofline r;
  double t0 = now_s();
  rnnk_roofline_measure(&r, quick);
  rnnk_roofline_print(&r, stdout);
  printf("measure_s %.2f s\n", now_s() - t0);
  return 0;
}
#endif
