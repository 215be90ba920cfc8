// SIMD support for the fused and attention kernels (native/fused.cpp, native/attention.cpp).
//
// The addon is built for baseline x86-64, so AVX-512 code lives in functions compiled with a
// target attribute (the LETHE_AVX512 region below) and is chosen once per process by
// fusedUseAvx512(): the CPU must have AVX-512 F/VL/DQ/BW and LETHE_FUSED_ISA must not be
// "generic" (that setting forces the portable fallback, for testing it). A machine therefore
// always runs the same code, and results are reproducible run to run.
//
// Nothing here uses fast-math semantics: exp512 maps NaN to NaN, -inf to 0 and +inf to inf, and
// max512 keeps NaN visible through an explicit unordered compare where callers need it.
#pragma once
#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>

// Simple row loops written with per-lane accumulator arrays (so no reassociation is needed to
// vectorise them) are compiled twice: for x86-64-v4 (AVX-512) and for the baseline.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define LETHE_FUSED_CLONES __attribute__((target_clones("arch=x86-64-v4", "default")))
#else
#define LETHE_FUSED_CLONES
#endif

// Bracket AVX-512 code with LETHE_AVX512_BEGIN / LETHE_AVX512_END.
// (GCC 12 warns falsely about _mm512_undefined_* inside the intrinsics headers, and about the
// vector ABI of static helpers that never cross a non-AVX-512 boundary; both are silenced here.)
#define LETHE_AVX512_BEGIN                                                                       \
  _Pragma("GCC push_options")                                                                    \
  _Pragma("GCC target(\"avx512f,avx512vl,avx512dq,avx512bw,avx2,fma,bmi,bmi2\")")                \
  _Pragma("GCC diagnostic push") _Pragma("GCC diagnostic ignored \"-Wmaybe-uninitialized\"")    \
  _Pragma("GCC diagnostic ignored \"-Wpsabi\"") _Pragma("GCC diagnostic ignored \"-Wuninitialized\"")
#define LETHE_AVX512_END _Pragma("GCC diagnostic pop") _Pragma("GCC pop_options")

namespace lethe {

inline bool fusedUseAvx512() {
  static const bool use = [] {
    const char* env = std::getenv("LETHE_FUSED_ISA");
    if (env != nullptr && std::strcmp(env, "generic") == 0) return false;
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("fma");
  }();
  return use;
}

constexpr float kNegInf = -__builtin_inff();

LETHE_AVX512_BEGIN

namespace avx {

// Mask selecting the first n (0..16) lanes.
static inline __mmask16 tailMask(int64_t n) {
  return n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1u);
}

// e^x, about 1 ulp: x = n·ln2 + r with |r| <= ln2/2 (ln2 split so n·ln2_hi is exact), e^r by its
// Taylor series to degree 7 (truncation error < 6e-9 relative), then scalef by 2^n, which also
// rounds subnormal results and overflows to inf correctly. The clamp keeps n finite for ±inf
// and, with x as the second operand of min/max, lets NaN through.
static inline __m512 exp512(__m512 x) {
  x = _mm512_min_ps(_mm512_set1_ps(160.0f), x);
  x = _mm512_max_ps(_mm512_set1_ps(-160.0f), x);
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145751953125f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.42860682030941723e-6f), r);
  __m512 p = _mm512_set1_ps(1.0f / 5040.0f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(p, n);
}

// Sum of the 16 lanes in double, in a fixed order.
static inline double hsumD(__m512 v) {
  const __m512d lo = _mm512_cvtps_pd(_mm512_castps512_ps256(v));
  const __m512d hi = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
  return _mm512_reduce_add_pd(_mm512_add_pd(lo, hi));
}

// Largest lane, ignoring NaN lanes (callers detect NaN separately); -inf if all are -inf/NaN.
static inline float hmax(__m512 v) { return _mm512_reduce_max_ps(v); }

}  // namespace avx

LETHE_AVX512_END

}  // namespace lethe
