// Row primitives shared by the reduce, softmax and optimiser kernels: contiguous max, sums in
// double and dot products in double. Each is always inlined so that it is compiled for the
// instruction set of the LETHE_VEC function that calls it.
//
// Sums use a fixed number of lanes (kLanes partial sums, combined in a fixed order at the end),
// so a row's result depends only on its data: not on the thread count, nor on whether the loop
// was vectorised (float→double conversion, and float·float in double, are exact).
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "elementwise-math.h"

namespace lethe {
namespace ew {

constexpr int kLanes = 16;

LETHE_INLINE double combineLanes(const double* acc) {
  double s8[8];
  for (int l = 0; l < 8; l++) s8[l] = acc[l] + acc[l + 8];
  double s4[4];
  for (int l = 0; l < 4; l++) s4[l] = s8[l] + s8[l + 4];
  return (s4[0] + s4[2]) + (s4[1] + s4[3]);
}

// Σ x[j] for j < n, in double.
LETHE_INLINE double sumRowD(const float* x, int64_t n) {
  double acc[kLanes] = {};
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes)
    for (int l = 0; l < kLanes; l++) acc[l] += double(x[j + l]);
  for (int l = 0; j + l < n; l++) acc[l] += double(x[j + l]);
  return combineLanes(acc);
}

// Σ x[j]² for j < n, in double.
LETHE_INLINE double sumSquaresRowD(const float* x, int64_t n) {
  double acc[kLanes] = {};
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes)
    for (int l = 0; l < kLanes; l++) acc[l] += double(x[j + l]) * double(x[j + l]);
  for (int l = 0; j + l < n; l++) acc[l] += double(x[j + l]) * double(x[j + l]);
  return combineLanes(acc);
}

// Σ a[j]·b[j] for j < n, in double.
LETHE_INLINE double dotRowD(const float* a, const float* b, int64_t n) {
  double acc[kLanes] = {};
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes)
    for (int l = 0; l < kLanes; l++) acc[l] += double(a[j + l]) * double(b[j + l]);
  for (int l = 0; j + l < n; l++) acc[l] += double(a[j + l]) * double(b[j + l]);
  return combineLanes(acc);
}

// GCC vector extensions: 8 floats. Generic (each target lowers them to its own registers: one
// ymm for x86-64-v3, two xmm for the baseline), so the NaN-aware max below vectorises reliably
// where the auto-vectoriser gives up on its selects.
// (Only used inside always-inline functions, so GCC's -Wpsabi note about passing 32-byte
// vectors without AVX does not apply; it is reported at the end of the translation unit, hence
// silenced for the including file rather than pushed and popped.)
#pragma GCC diagnostic ignored "-Wpsabi"
typedef float VF8 __attribute__((vector_size(32)));
typedef int32_t VI8 __attribute__((vector_size(32)));

LETHE_INLINE VF8 loadVF8(const float* p) {
  VF8 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
LETHE_INLINE void storeVF8(float* p, const VF8& v) { std::memcpy(p, &v, sizeof v); }
LETHE_INLINE VF8 splatVF8(float f) { return VF8{f, f, f, f, f, f, f, f}; }

// Lane-wise max with the NaN rule of maxNaN (a NaN on either side wins).
LETHE_INLINE VF8 maxNaN8(const VF8& acc, const VF8& v) {
  VI8 take = (acc < v) | (v != v);
  return take ? v : acc;
}

// max x[j] for j < n: -inf when n = 0, NaN if any element is NaN.
LETHE_INLINE float maxRow(const float* x, int64_t n) {
  const float ninf = -std::numeric_limits<float>::infinity();
  VF8 a0 = splatVF8(ninf), a1 = a0, a2 = a0, a3 = a0;
  int64_t j = 0;
  for (; j + 32 <= n; j += 32) {
    a0 = maxNaN8(a0, loadVF8(x + j));
    a1 = maxNaN8(a1, loadVF8(x + j + 8));
    a2 = maxNaN8(a2, loadVF8(x + j + 16));
    a3 = maxNaN8(a3, loadVF8(x + j + 24));
  }
  for (; j + 8 <= n; j += 8) a0 = maxNaN8(a0, loadVF8(x + j));
  a0 = maxNaN8(maxNaN8(a0, a1), maxNaN8(a2, a3));
  float m = ninf;
  for (int l = 0; l < 8; l++) m = maxNaN(m, a0[l]);
  for (; j < n; j++) m = maxNaN(m, x[j]);
  return m;
}

// acc[i] = maxNaN(acc[i], x[j·stride + i]) for j < n, i < w: rows streamed in order (acc stays
// in L1; streaming beats holding columns in registers across a strided walk).
LETHE_INLINE void maxColsInto(const float* x, int64_t n, int64_t stride, int64_t w, float* acc) {
  for (int64_t j = 0; j < n; j++) {
    const float* row = x + j * stride;
    int64_t i = 0;
    for (; i + 8 <= w; i += 8) storeVF8(acc + i, maxNaN8(loadVF8(acc + i), loadVF8(row + i)));
    for (; i < w; i++) acc[i] = maxNaN(acc[i], row[i]);
  }
}

// acc[i] += x[j·stride + i] (in double) for j < n, i < w: rows streamed in order (acc stays in L1).
LETHE_INLINE void sumColsInto(const float* x, int64_t n, int64_t stride, int64_t w, double* acc) {
  for (int64_t j = 0; j < n; j++) {
    const float* row = x + j * stride;
    for (int64_t i = 0; i < w; i++) acc[i] += double(row[i]);
  }
}

}  // namespace ew
}  // namespace lethe
