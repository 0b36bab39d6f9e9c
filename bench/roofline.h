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

/** Read-bandwidth working sets measured: 16 KiB << i for i < RNNK_RL_LADDER. */
#define RNNK_RL_LADDER 12

typedef struct rnnk_roofline {
  /* peak f32 FMA throughput of one core, GFLOP/s (an FMA counts 2 flops);
     0 when the CPU (or OS) lacks the ISA */
  double fma_gflops_zmm, fma_gflops_ymm, fma_gflops_scalar;
  /* single-core read bandwidth, GB/s (1e9 bytes/s), of working sets of
     16 KiB << i (16 KiB ... 32 MiB), the widest loads the CPU has; the
     bound reads weights at the rate of the largest of these sizes they
     fill, since a cache may serve a set somewhat past its size (victim
     L3s) or far less than its reported size (a VM's share of the LLC) */
  double bw_ladder[RNNK_RL_LADDER];
  /* the same reads with 32-byte loads, what AVX2 kernels see (on the Xeon
     ~15% below 64-byte loads from L2); equal where 32 bytes is the widest */
  double bw_ladder_ymm[RNNK_RL_LADDER];
  /* the headline levels, taken from the ladder: L1 at half the L1 size,
     L2 at half the L2 size, L3 at 16 MiB; DRAM at 256 MiB */
  double bw_l1, bw_l2, bw_l3, bw_dram;
  double bw_l1_ymm, bw_l2_ymm, bw_l3_ymm;
  /* data cache sizes of cpu0 from sysfs (defaults when unreadable); the L3
     is reported as the OS says, even when it is implausible */
  size_t l1_bytes, l2_bytes, l3_bytes;
} rnnk_roofline;

/**
 * Measures the roofline of the core the caller runs on: about 5-8 s, or
 * about 1 s with quick != 0 (fewer, shorter repeats). Never fails: a
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
 *       steps * weight_bytes_per_step / read bandwidth of a working set of
 *       that size (the ladder's largest size <= it) while it fits L3
 *       (capped), else of DRAM).
 * The level named is where the weights fit by the cache sizes.
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

/* The floor of a whole RNN forward call: W_hh streamed once per step at
 * the rate of a working set of its size (or the recurrent flops at FMA peak, whichever
 * is slower), plus the input projection's flops at FMA peak. *which names
 * the level (or "fma") binding the recurrent part. */
double rnnk_roofline_floor_ms(const rnnk_roofline *r, double in_flops, double rec_flops, double rec_bytes_per_step,
                              int steps, const char **which);

/** Writes the roofline as "key value unit" lines (the format the anchors
 *  use): fma_zmm, fma_ymm, fma_scalar, bw_l1 ... l3_bytes, then the
 *  ladder as bw_16k ... bw_32768k (and _ymm). */
void rnnk_roofline_print(const rnnk_roofline *r, FILE *f);

#ifdef __cplusplus
}
#endif

#endif /* RNNK_ROOFLINE_H */
