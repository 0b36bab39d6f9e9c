/* Accuracy and properties of rnnk's sigmoid and tanh (kernels/simd/activations.h)
 * against double precision, through the scalar reference kernel (every ISA
 * gives the same bits: tests/test_kernels.c). */
#include <criterion/criterion.h>
#include <math.h>

#include "kernels/f32-kernels.h"
#include "src/internal.h"
#include "tests/common.h"

TestSuite(activations, .fini = test_leak_check);

static float act1(int kind, float x) {
  const rnnk_act_param a = {kind, 0.2f, 0.5f};
  float y;
  rnnk_f32_act_ukernel__scalar(1, &x, &y, &a, 0.0f);
  return y;
}

static double ulps(float got, double want) {
  const float w = (float)fabs(want);
  const double ulp = w < 1.17549435e-38f ? 1.4e-45 : (double)(nextafterf(w, INFINITY) - w);
  return fabs((double)got - want) / ulp;
}

Test(activations, sigmoid_within_3_ulp) {
  double worst = 0, worst_x = 0;
  for (double x = -80; x <= 30; x += 3.7e-4) {
    const float xf = (float)x;
    const double want = 1.0 / (1.0 + exp(-(double)xf));
    const float got = act1(RNNK_K_SIGMOID, xf);
    if (want >= 1.2e-38) {
      const double e = ulps(got, want);
      if (e > worst) worst = e, worst_x = xf;
    } else {
      cr_assert(fabs(got - want) <= 1.2e-38, "sigmoid(%g) = %g, want %g", xf, got, want);
    }
    cr_assert(got >= 0.0f && got <= 1.0f);
  }
  cr_assert(worst <= 3.0, "sigmoid: %.2f ulp at x = %g", worst, worst_x);
}

Test(activations, tanh_within_2_5_ulp) {
  double worst = 0, worst_x = 0;
  for (double x = -12; x <= 12; x += 1.3e-4) {
    const float xf = (float)x;
    const float got = act1(RNNK_K_TANH, xf);
    const double e = ulps(got, tanh((double)xf));
    if (e > worst) worst = e, worst_x = xf;
    cr_assert(got >= -1.0f && got <= 1.0f);
  }
  for (double x = 1e-30; x < 1; x *= 1.001) {
    const double e = ulps(act1(RNNK_K_TANH, (float)x), tanh((double)(float)x));
    if (e > worst) worst = e, worst_x = x;
  }
  cr_assert(worst <= 2.5, "tanh: %.2f ulp at x = %g", worst, worst_x);
}

Test(activations, properties) {
  for (double x = -20; x <= 20; x += 0.01) {
    const float xf = (float)x;
    cr_assert_eq(act1(RNNK_K_TANH, -xf), -act1(RNNK_K_TANH, xf), "tanh is odd at %g", xf);
    cr_assert(fabsf(act1(RNNK_K_SIGMOID, -xf) - (1.0f - act1(RNNK_K_SIGMOID, xf))) <= 1.2e-7f,
              "sigmoid(-x) = 1 - sigmoid(x) at %g", xf);
  }
  cr_assert(isnan(act1(RNNK_K_SIGMOID, NAN)) && isnan(act1(RNNK_K_TANH, NAN)) && isnan(act1(RNNK_K_RELU, NAN)) &&
            isnan(act1(RNNK_K_HARD_SIGMOID, NAN)), "NaN propagates");
  cr_assert_eq(act1(RNNK_K_SIGMOID, INFINITY), 1.0f);
  cr_assert(act1(RNNK_K_SIGMOID, -INFINITY) <= 1.2e-38f);
  cr_assert_eq(act1(RNNK_K_TANH, INFINITY), 1.0f);
  cr_assert_eq(act1(RNNK_K_TANH, -INFINITY), -1.0f);
  cr_assert_eq(act1(RNNK_K_TANH, 0.0f), 0.0f);
  cr_assert(signbit(act1(RNNK_K_TANH, -0.0f)), "tanh(-0) = -0");
  cr_assert_eq(act1(RNNK_K_RELU, -3.0f), 0.0f);
  cr_assert_eq(act1(RNNK_K_HARD_SIGMOID, 0.0f), 0.5f);
  cr_assert_eq(act1(RNNK_K_HARD_SIGMOID, 10.0f), 1.0f);
  cr_assert_eq(act1(RNNK_K_IDENTITY, -7.25f), -7.25f);
}
