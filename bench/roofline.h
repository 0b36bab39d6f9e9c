/**
 * @file roofline.h
 * @brief Roofline of this host, measured on one core (bench-only, not librnnk).
 *
 * Peak f32 FMA throughput per core for zmm, ymm and scalar, and read
 * bandwidth from L1, L2, L3 and DRAM working sets; each the median of
 * several repeats. Used by the benchmark binary and the `rnnk` CLI to put a
 * "% of bound" next to every measurement.
 *
 * Measures on the calling thread: pin it first (hwloc) for stable numbers.
 * Not thread-safe with other heavy work on the same core, obviously.
 */
#ifndef RNNK_ROOFLINE_H
#define RNNK_ROOFLINE_H

#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rnnk_roofline {
  /* peak f32 FMA throughput of one core, GFLOP/s (an FMA counts 2 flops);
     0 when the CPU (or OS) lacks the ISA */
  double fma_gflops_zmm, fma_gflops_ymm, fma_gflops_scalar;
  /* single-core read bandwidth, GB/s (1e9 bytes/s), for working sets of
     16 KiB (L1), 1 MiB (L2), 16 MiB (L3) and 256 MiB (DRAM) */
  double bw_l1, bw_l2, bw_l3, bw_dram;
  /* the same L1, L2 and L3 reads with 32-byte loads, what AVX2 kernels
     see (on this Xeon ~15% below 64-byte loads from L2); equal to the
     above where 32 bytes is the widest load */
  double bw_l1_ymm, bw_l2_ymm, bw_l3_ymm;
  /* data cache sizes of cpu0 from sysfs (defaults when unreadable); the L3
     is reported as the OS says, even when it is implausible */
  size_t l1_bytes, l2_bytes, l3_bytes;
} rnnk_roofline;

/**
 * Measures the roofline of the core the caller runs on: about 2-4 s, or
 * about 0.5 s with quick != 0 (fewer, shorter repeats). Never fails: a
 * number it cannot measure is 0.
 */
void rnnk_roofline_measure(rnnk_roofline *r, int quick);

/**
 * The roofline of kernels that use vectors of `vector_bits` only: 512 keeps
 * the zmm FMA peak, 256 the ymm peak and the 32-byte-load bandwidths, 32
 * the scalar peak; any other width (NEON, or a library such as oneDNN that
 * picks its own) returns r unchanged. So an AVX2 kernel's "% of bound" is
 * measured against what ymm can do on this core, not against zmm.
 */
void rnnk_roofline_for_width(const rnnk_roofline *r, int vector_bits, rnnk_roofline *out);

/** L3 size the bound treats weights as fitting in: min(l3_bytes, 32 MiB).
 *  See roofline.c for why. */
size_t rnnk_roofline_l3_fit_bytes(const rnnk_roofline *r);

/**
 * Lower bound on the time of an RNN run, in ms:
 *   max(flops / best FMA peak,
 *       steps * weight_bytes_per_step / read bandwidth of the level where
 *       weight_bytes_per_step fits (L1, L2, L3 capped, else DRAM)).
 * @param flops total flops of the run
 * @param weight_bytes_per_step weight bytes read once per time step
 * @param steps number of time steps
 * @param which if not NULL, gets the binding bound: "fma", "L1", "L2",
 *        "L3", "DRAM", or "none" when nothing was measured (returns 0).
 * Single-core numbers: for a run on k cores, divide flops and the bytes
 * each core reads by k yourself.
 */
double rnnk_roofline_bound_ms(const rnnk_roofline *r, double flops, double weight_bytes_per_step,
                              int steps, const char **which);

/* The floor of a whole RNN forward call: W_hh streamed once per step from
 * the cache level it fits in (or the recurrent flops at FMA peak, whichever
 * is slower), plus the input projection's flops at FMA peak. *which names
 * the level (or "fma") binding the recurrent part. */
double rnnk_roofline_floor_ms(const rnnk_roofline *r, double in_flops, double rec_flops, double rec_bytes_per_step,
                              int steps, const char **which);

/** Writes the roofline as "key value unit" lines (the format the anchors
 *  use): fma_zmm, fma_ymm, fma_scalar, bw_l1 ... l3_bytes. */
void rnnk_roofline_print(const rnnk_roofline *r, FILE *f);

#ifdef __cplusplus
}
#endif

#endif /* RNNK_ROOFLINE_H */
