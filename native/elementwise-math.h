// Branch-free float math for the elementwise, reduce and optimiser kernels, written so that GCC
// vectorises loops that call it (no -ffast-math: NaN and infinities behave like IEEE/JS).
//
// LETHE_VEC marks a hot loop function: on x86-64 GCC builds it is compiled twice, for x86-64-v3
// (AVX2 + FMA) and for the baseline, and the loader picks the clone once per process (ifunc), so
// a given machine always runs the same code and results stay reproducible there. A lambda handed
// to the thread pool is a separate function, so it must call a LETHE_VEC function to benefit.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define LETHE_VEC __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define LETHE_VEC
#endif

#define LETHE_INLINE inline __attribute__((always_inline))

namespace lethe {
namespace ew {

LETHE_INLINE uint32_t floatBits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
LETHE_INLINE float bitsFloat(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// Range reduction for e^x: x = k·ln2 + r with |r| <= ln2/2 (ln2 split in two so that k·ln2_hi
// is exact for |k| < 2^9), and e^r = 1 + r + r²·Q(r), Q a degree-4 fit to (e^r − 1 − r)/r²
// (relative error 3e-9). x must be clamped to [-200, 200] (NaN passes); k is returned as an int.
LETHE_INLINE float expCore(float xc, int32_t& k) {
  const float shifter = 12582912.0f;  // 1.5·2^23: adding it rounds to an integer
  float kf = xc * 1.44269504088896341f + shifter;
  k = int32_t(floatBits(kf) - floatBits(shifter));
  kf -= shifter;
  float r = xc - kf * 0.693359375f;
  r = r - kf * -2.12194440e-4f;
  float q = 0.0013814190169796348f;
  q = q * r + 0.008368914015591145f;
  q = q * r + 0.04166840761899948f;
  q = q * r + 0.1666651964187622f;
  q = q * r + 0.4999999403953552f;
  return (q * (r * r) + r) + 1.0f;
}

// 2^k for k in [-126, 127] (garbage, never UB, outside).
LETHE_INLINE float pow2i(int32_t k) { return bitsFloat(uint32_t(k + 127) << 23); }

// e^x within 1 ulp of the correctly rounded result over all floats (checked on a 1-in-37 sweep
// of the bit patterns), subnormal results included; e^+inf = inf, e^-inf = 0, e^NaN = NaN.
// 2^k is applied as two normal-range factors so subnormal and overflowing results round once.
LETHE_INLINE float fastExp(float x) {
  // Clamp with comparisons (not fmin/fmax) so NaN passes through unchanged.
  float xc = x < -104.0f ? -104.0f : x;  // e^-104 rounds to 0
  xc = xc > 89.0f ? 89.0f : xc;          // e^89 overflows to inf
  int32_t k;
  float y = expCore(xc, k);
  int32_t k2 = k >> 1;
  return (y * pow2i(k - k2)) * pow2i(k2);
}

// m·e^x rounded as the product of m and the rounded e^x, but finite wherever the exact product
// is (e^x itself may overflow or underflow: a gradient dy·e^x with x above 88.7). 2^k goes on as
// four normal-range factors (|k| <= 289), all on the same side of 1 so that no intermediate
// overflows or underflows before the final product does.
LETHE_INLINE float fastExpMul(float x, float m) {
  // Beyond ±200, m·e^x rounds to 0 or ±inf for every finite nonzero m, as the clamped value does.
  float xc = x < -200.0f ? -200.0f : x;
  xc = xc > 200.0f ? 200.0f : xc;
  int32_t k;
  float y = expCore(xc, k);
  int32_t k4 = (k + ((k >> 31) & 3)) >> 2;  // k/4 rounded toward zero
  float s = pow2i(k4);
  float res = (((y * m) * pow2i(k - 3 * k4)) * s * s) * s;
  // Infinite x as the plain product would give it: m·inf (NaN for m = 0), m·0 (NaN for m = ±inf).
  const float inf = std::numeric_limits<float>::infinity();
  res = x == inf ? m * inf : res;
  return x == -inf ? m * 0.0f : res;
}

// The logistic function and its pieces from one e = e^-|x| (never overflows, so the tails keep
// their relative precision down to subnormals): with q = 1/(1 + e),
//   σ(x) = (x >= 0 ? 1 : e)·q,  1 − σ(x) = (x >= 0 ? e : 1)·q,  σ(x)(1 − σ(x)) = e·q².
// σ(-inf) = 0, σ(+inf) = 1, NaN gives NaN in every piece.
struct Logistic {
  float s, oneMinusS, slope;
};
LETHE_INLINE Logistic logistic(float x) {
  const float e = fastExp(-std::fabs(x));
  const float q = 1.0f / (1.0f + e);
  const bool pos = x >= 0.0f;
  return Logistic{(pos ? 1.0f : e) * q, (pos ? e : 1.0f) * q, e * q * q};
}

LETHE_INLINE float fastSigmoid(float x) {
  const float e = fastExp(-std::fabs(x));
  return (x >= 0.0f ? 1.0f : e) / (1.0f + e);
}

// tanh(x) within 1 ulp with FMA, 2 without (checked like fastExp): for |x| < 0.625, x + x³·P(x²) with P a degree-4 fit to
// (tanh x − x)/x³ (relative error 4e-9); beyond, (1 − e)/(1 + e)·sign(x) with e = e^-2|x| <= 0.29,
// which has no cancellation there. ±inf gives ±1, NaN gives NaN, −0 stays −0.
LETHE_INLINE float fastTanh(float x) {
  const float ax = std::fabs(x);
  const float x2 = x * x;
  float p = -0.005704986397176981f;
  p = p * x2 + 0.02063908614218235f;
  p = p * x2 - 0.05373971536755562f;
  p = p * x2 + 0.13331441581249237f;
  p = p * x2 - 0.3333328068256378f;
  const float small = ax + ax * (x2 * p);
  const float e = fastExp(-2.0f * ax);
  const float large = (1.0f - e) / (1.0f + e);
  return std::copysign(ax < 0.625f ? small : large, x);  // NaN takes `large`, which is NaN
}

// Pieces of the standard normal at x for GELU (erf form), vectorisable. With a = |x|/√2,
// erfc(a) = R(a)·e^(−a²), R a rational fit (degree 5/6, positive coefficients so Horner is
// stable; relative error 1e-10 in exact arithmetic, a few ulp in float). x²/2 is split into h + l
// with h exact (x cut to its 12 high bits, so every partial product is exact), so that
// e^(−x²/2) = e^−h·e^−l loses nothing to the rounding of a large exponent, and e^−h is applied by
// fastExpMul so tails round once, down to subnormals. Φ(x) = erfc(a)/2 for x < 0, 1 − erfc(a)/2
// otherwise; φ(x) = e^(−x²/2)/√(2π). |x| is clamped to 15 (Φ is 0 or 1 in float beyond);
// infinities are left to the callers.
struct NormalParts {
  float xc;  // x clamped to [−15, 15] (NaN passes)
  float h;   // exact high part of x²/2
  float el;  // e^−l, l the rest of x²/2
  float m;   // R(a)·e^−l, so that erfc(a) = m·e^−h
};
LETHE_INLINE NormalParts normalParts(float x) {
  float xc = x < -15.0f ? -15.0f : x;
  xc = xc > 15.0f ? 15.0f : xc;
  const float ax = std::fabs(xc);
  const float xh = bitsFloat(floatBits(ax) & 0xFFFFF000u);
  const float xl = ax - xh;
  const float h = (xh * xh) * 0.5f;
  const float l = (2.0f * xh * xl + xl * xl) * 0.5f;
  const float a = ax * 0.70710678118654752f;
  float n = 0.0101775751f;
  n = n * a + 0.0939144269f;
  n = n * a + 0.405784845f;
  n = n * a + 1.00628817f;
  n = n * a + 1.43870187f;
  n = n * a + 1.0f;
  float d = 0.0180393029f;
  d = d * a + 0.166458011f;
  d = d * a + 0.728275657f;
  d = d * a + 1.86655915f;
  d = d * a + 2.90292907f;
  d = d * a + 2.56708097f;
  d = d * a + 1.0f;
  const float el = fastExp(-l);
  return NormalParts{xc, h, el, (n / d) * el};
}

// gelu(x) = x·Φ(x), one e^−h for both signs: x < 0 gives e^−h·(x·m/2) (the product rounds once,
// even when subnormal), x >= 0 gives x·(1 − e^−h·m/2). gelu(+inf) = inf, gelu(−inf) = NaN
// (−inf·0, as the reference), NaN → NaN.
LETHE_INLINE float geluErf(float x) {
  const NormalParts q = normalParts(x);
  const bool neg = q.xc < 0.0f;
  const float v = fastExpMul(-q.h, (neg ? q.xc : 1.0f) * (0.5f * q.m));
  const float res = neg ? v : x * (1.0f - v);
  return x == -std::numeric_limits<float>::infinity() ? x * 0.0f : res;
}

// gelu'(x) = Φ(x) + x·φ(x) = e^−h·(x·e^−l/√(2π) ± m/2) (+ 1 for x >= 0); NaN at ±inf (∞·0, as
// the reference).
LETHE_INLINE float geluErfGrad(float x) {
  const NormalParts q = normalParts(x);
  const bool neg = q.xc < 0.0f;
  const float half = 0.5f * q.m;
  const float w = fastExpMul(-q.h, q.xc * 0.3989422804014327f * q.el + (neg ? half : -half));
  const float res = neg ? w : 1.0f + w;
  return std::fabs(x) == std::numeric_limits<float>::infinity() ? x * 0.0f : res;
}

// max with JS Math.max's NaN rule: NaN if either side is NaN.
LETHE_INLINE float maxNaN(float a, float b) {
  float r = a < b ? b : a;  // a when a is NaN
  return b != b ? b : r;
}

// Constants of the GELU variants.
constexpr float kSqrt2OverPi = 0.7978845608028654f;  // sqrt(2/pi)
constexpr float kGeluCubic = 0.044715f;

}  // namespace ew
}  // namespace lethe
