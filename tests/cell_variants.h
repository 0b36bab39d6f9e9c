/* Cell parameter variants the kernel tests exercise (shared by the Criterion
 * suite tests/test_kernels.c and the plain qemu driver tests/neon_driver.c). */
#ifndef RNNK_TESTS_CELL_VARIANTS_H
#define RNNK_TESTS_CELL_VARIANTS_H
#include "kernels/ukernels.h"

enum { CELL_VARIANTS = 5 };

/* 0: defaults; 1: clip; 2: input_forget with hard_sigmoid gates;
 * 3: relu / identity; 4: sigmoid / hard_sigmoid. */
static inline rnnk_cell_param cell_variant(int v) {
  rnnk_cell_param cp = {.f = {RNNK_K_SIGMOID, 0.2f, 0.5f}, .g = {RNNK_K_TANH, 0, 0}, .h = {RNNK_K_TANH, 0, 0}};
  switch (v) {
  case 1: cp.clip = 0.7f; break;
  case 2: cp.input_forget = true, cp.f.kind = RNNK_K_HARD_SIGMOID, cp.f.alpha = 0.3f, cp.f.beta = 0.4f; break;
  case 3: cp.g.kind = RNNK_K_RELU, cp.h.kind = RNNK_K_IDENTITY; break;
  case 4: cp.g.kind = RNNK_K_SIGMOID, cp.h.kind = RNNK_K_HARD_SIGMOID, cp.h.alpha = 0.2f, cp.h.beta = 0.5f; break;
  default: break;
  }
  return cp;
}
#endif
