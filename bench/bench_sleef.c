/* SLEEF's AVX-512 sigmoid and tanh, the comparison for rnnk's activation
 * kernels. Built with -mavx512f -mfma; called only when the CPU has AVX-512F. */
#include <immintrin.h>
#include <sleef.h>
#include <stddef.h>

/* n a multiple of 16 */
void rnnk_bench_sleef_sigmoid(size_t n, const float *x, float *y) {
  const __m512 one = _mm512_set1_ps(1.0f);
  for (size_t i = 0; i < n; i += 16) {
    __m512 e = Sleef_expf16_u10avx512f(_mm512_sub_ps(_mm512_setzero_ps(), _mm512_loadu_ps(x + i)));
    _mm512_storeu_ps(y + i, _mm512_div_ps(one, _mm512_add_ps(one, e)));
  }
}

void rnnk_bench_sleef_tanh(size_t n, const float *x, float *y) {
  for (size_t i = 0; i < n; i += 16) _mm512_storeu_ps(y + i, Sleef_tanhf16_u35avx512f(_mm512_loadu_ps(x + i)));
}
