#!/usr/bin/env python3
"""Coefficients of P in expm1(r) = r + r^2 P(r), |r| <= ln2/2, used by
kernels/simd/activations.h: a degree-4 Chebyshev fit of (e^r - 1 - r) / r^2
(near-minimax), rounded to float, then the worst relative error of the
float pipeline (Horner with FMAs, as the kernels run it) against mpmath.

    python3 tools/fit_expm1.py      (Debian: python3-mpmath, python3-numpy)
"""
import mpmath as mp
import numpy as np

mp.mp.dps = 40
HALF_LN2 = mp.log(2) / 2 + mp.mpf("1e-4")  # a little beyond: n is rounded in float


def g(r):
    return (mp.expm1(r) - r) / r**2 if r != 0 else mp.mpf(1) / 2


def fma32(a, b, c):
    # one rounding, as a hardware FMA: the float product is exact in double,
    # and the sum is rounded to float from an exact-enough mpf sum
    return np.float32(mp.mpf(float(a)) * mp.mpf(float(b)) + mp.mpf(float(c)))


def main():
    poly, err = mp.chebyfit(g, [-HALF_LN2, HALF_LN2], 5, error=True)  # highest degree first
    coef = [np.float32(float(c)) for c in poly]
    print(f"fit error of P: {float(err):.3g}")
    for c in coef:
        print(f"  {float(c).hex()}f  /* {float(c):.10g} */")
    worst = 0.0
    for r in np.linspace(-float(HALF_LN2), float(HALF_LN2), 20001, dtype=np.float64):
        r = np.float32(r)
        if r == 0:
            continue
        p = coef[0]
        for c in coef[1:]:
            p = fma32(p, r, c)
        q = fma32(np.float32(r * r), p, r)
        want = mp.expm1(mp.mpf(float(r)))
        worst = max(worst, float(abs((mp.mpf(float(q)) - want) / want)))
    print(f"worst relative error of expm1(r) in float: {worst:.3g} ({worst / 2**-23:.2f} ulp of 2^-23)")


if __name__ == "__main__":
    main()
