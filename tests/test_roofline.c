/* The roofline's bound (bench/roofline.c) on a made-up host: which read
 * rate and level a weight size gets. No measurement runs here. */
#include <criterion/criterion.h>
#include <math.h>

#include "roofline.h"

/* A host with a 32 KiB L1, 1 MiB L2 and 32 MiB L3 whose ladder reads
 * 1000 / (i + 1) GB/s at 16 KiB << i, DRAM 10 GB/s, no FMA peak. */
static rnnk_roofline made_up_host(void) {
  rnnk_roofline r = {.l1_bytes = 32 << 10, .l2_bytes = 1 << 20, .l3_bytes = 32 << 20, .bw_dram = 10};
  for (int i = 0; i < RNNK_RL_LADDER; i++) r.bw_ladder[i] = 1000.0 / (i + 1), r.bw_ladder_ymm[i] = 500.0 / (i + 1);
  r.bw_l1 = 1, r.bw_l2 = 1, r.bw_l3 = 1, r.bw_l1_ymm = 1, r.bw_l2_ymm = 1, r.bw_l3_ymm = 1;
  return r;
}

/* ms for `bytes` read once per step over 1000 steps at `gbs` GB/s */
static double ms_at(double bytes, double gbs) { return bytes * 1000 / (gbs * 1e9) * 1e3; }

Test(roofline, weights_read_at_the_rate_of_their_size_rounded_down) {
  const rnnk_roofline r = made_up_host();
  const char *which = NULL;
  /* 4 MiB = 16 KiB << 8: ladder entry 8 */
  double t = rnnk_roofline_bound_ms(&r, 0, 4 << 20, 1000, &which);
  cr_expect_float_eq(t, ms_at(4 << 20, 1000.0 / 9), 1e-9);
  cr_expect_str_eq(which, "L3");
  /* 768 KiB rounds down to 512 KiB (entry 5), and is in L2 */
  t = rnnk_roofline_bound_ms(&r, 0, 768 << 10, 1000, &which);
  cr_expect_float_eq(t, ms_at(768 << 10, 1000.0 / 6), 1e-9);
  cr_expect_str_eq(which, "L2");
  /* below the smallest size: entry 0 */
  t = rnnk_roofline_bound_ms(&r, 0, 4096, 1000, &which);
  cr_expect_float_eq(t, ms_at(4096, 1000.0), 1e-9);
  cr_expect_str_eq(which, "L1");
}

Test(roofline, past_the_l3_cap_weights_come_from_dram) {
  rnnk_roofline r = made_up_host();
  r.l3_bytes = (size_t)256 << 20; /* a VM reporting the host's LLC: capped */
  const char *which = NULL;
  const double wb = 48.0 * (1 << 20);
  const double t = rnnk_roofline_bound_ms(&r, 0, wb, 1000, &which);
  cr_expect_str_eq(which, "DRAM");
  cr_expect_float_eq(t, ms_at(wb, 10), 1e-9);
}

Test(roofline, avx2_rows_use_the_32_byte_load_ladder) {
  const rnnk_roofline r = made_up_host();
  rnnk_roofline y;
  rnnk_roofline_for_width(&r, 256, &y);
  const double t = rnnk_roofline_bound_ms(&y, 0, 2 << 20, 1000, NULL);
  cr_expect_float_eq(t, ms_at(2 << 20, 500.0 / 8), 1e-9);
}

Test(roofline, the_slower_of_fma_and_reads_binds) {
  rnnk_roofline r = made_up_host();
  r.fma_gflops_zmm = 100;
  const char *which = NULL;
  /* 1e9 flops at 100 GFLOP/s = 10 ms, far above 1000 reads of 16 KiB */
  const double t = rnnk_roofline_bound_ms(&r, 1e9, 16 << 10, 1000, &which);
  cr_expect_float_eq(t, 10.0, 1e-9);
  cr_expect_str_eq(which, "fma");
}
