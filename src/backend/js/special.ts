/**
 * Special functions the reference kernels need and JavaScript lacks: erf, erfc and the standard
 * normal CDF. Promise: absolute error below 1e-13 for erf, relative error below 1e-12 for erfc
 * (checked in special.test.ts against tabulated values), so float32 results are exact to rounding.
 *
 * Method (own code; formulas from Abramowitz & Stegun 7.1.6 and 7.1.14):
 *  - |x| < 3: erf(x) = (2/√π)·e^{−x²}·Σ_n 2^n x^{2n+1} / (1·3·…·(2n+1)). All terms share a sign,
 *    so there is no cancellation, unlike the plain Taylor series.
 *  - |x| ≥ 3: erfc(x) = e^{−x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …))))), evaluated
 *    bottom-up with a fixed depth that is ample for x ≥ 3.
 */

const TWO_OVER_SQRT_PI = 1.1283791670955126;
const ONE_OVER_SQRT_PI = 0.5641895835477563;
const SWITCH = 3;
const CF_DEPTH = 120;

/** erf on |x| < SWITCH by the positive-term series. */
function erfSeries(x: number): number {
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
    if (Math.abs(term) < 1e-17 * Math.abs(sum)) break;
  }
  return TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
}

/** erfc for x ≥ SWITCH by the continued fraction. */
function erfcFraction(x: number): number {
  let f = x;
  for (let n = CF_DEPTH; n >= 1; n--) f = x + n / 2 / f;
  return (ONE_OVER_SQRT_PI * Math.exp(-x * x)) / f;
}

/** The error function. NaN in, NaN out. */
export function erf(x: number): number {
  if (Number.isNaN(x)) return x;
  if (x >= SWITCH) return 1 - erfcFraction(x);
  if (x <= -SWITCH) return erfcFraction(-x) - 1;
  return erfSeries(x);
}

/** The complementary error function 1 − erf(x), accurate in the right tail. */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return x;
  if (x >= SWITCH) return erfcFraction(x);
  if (x <= -SWITCH) return 2 - erfcFraction(-x);
  return 1 - erfSeries(x);
}

/** Standard normal CDF Φ(x) = erfc(−x/√2)/2, accurate in the left tail. */
export function normalCdf(x: number): number {
  return 0.5 * erfc(-x * Math.SQRT1_2);
}

/** Standard normal density φ(x). */
export function normalPdf(x: number): number {
  return 0.3989422804014327 * Math.exp(-0.5 * x * x);
}
