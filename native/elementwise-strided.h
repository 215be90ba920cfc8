// N-d strided iteration shared by binary, where and copyStrided.
//
// A StridedPlan describes N operands walked over one index space (shape) with per-operand element
// strides. Building it drops size-1 dims and merges neighbouring dims that every operand walks
// contiguously (stride[d] == stride[d+1]·shape[d+1]); the result usually has one or two dims, so
// the innermost loop is long and the kernels can pick a specialised inner loop by the innermost
// strides (0 = broadcast scalar, 1 = contiguous, anything else = general).
//
// walkStrided visits a flat range [begin, end) of the (row-major) index space as runs along the
// innermost dim, so the thread pool can hand each thread a contiguous slice of the output.
#pragma once
#include <cstdint>

#include "elementwise-math.h"

namespace lethe {
namespace ew {

// Every dim of size >= 2 at least doubles the element count, and counts stay below 2^53.
constexpr int kMaxStridedDims = 64;

template <int N>
struct StridedPlan {
  int nd = 1;
  int64_t total = 0;
  int64_t shape[kMaxStridedDims];
  int64_t stride[N][kMaxStridedDims];
};

// Lowest and highest element offset an operand reaches, base included (only meaningful when the
// shape holds at least one element). __int128 so that no stride combination can overflow.
struct Extent {
  __int128 lo, hi;
};

inline Extent stridedExtent(int64_t base, const int32_t* shape, const int32_t* strides, int64_t nd) {
  Extent e{base, base};
  for (int64_t d = 0; d < nd; d++) {
    __int128 span = __int128(shape[d] - 1) * strides[d];
    if (shape[d] <= 0) continue;
    if (span > 0) e.hi += span;
    else e.lo += span;
  }
  return e;
}

// Builds the coalesced plan. shape/strides have nd entries each (already validated: dims >= 0,
// nd small enough that the product is a valid count).
template <int N>
void buildStridedPlan(StridedPlan<N>& p, const int32_t* shape, const int32_t* const strides[N], int64_t nd,
                      int64_t total) {
  p.total = total;
  int k = 0;
  for (int64_t d = 0; d < nd; d++) {
    if (shape[d] == 1) continue;
    if (k > 0) {
      // Can dim d merge into the previous kept dim (k-1) as its inner part?
      bool merge = true;
      for (int j = 0; j < N; j++)
        if (p.stride[j][k - 1] != int64_t(strides[j][d]) * shape[d]) merge = false;
      if (merge) {
        p.shape[k - 1] *= shape[d];
        for (int j = 0; j < N; j++) p.stride[j][k - 1] = strides[j][d];
        continue;
      }
    }
    p.shape[k] = shape[d];
    for (int j = 0; j < N; j++) p.stride[j][k] = strides[j][d];
    k++;
  }
  if (k == 0) {
    p.shape[0] = 1;
    for (int j = 0; j < N; j++) p.stride[j][0] = 0;
    k = 1;
  }
  p.nd = k;
}

// Calls run(off, count) for consecutive runs along the innermost dim covering flat indices
// [begin, end); off[j] is operand j's element offset (base included) at the start of the run.
template <int N, typename Run>
LETHE_INLINE void walkStrided(const StridedPlan<N>& p, const int64_t base[N], int64_t begin, int64_t end,
                              Run&& run) {
  if (begin >= end) return;
  const int nd = p.nd;
  const int last = nd - 1;
  int64_t idx[kMaxStridedDims];
  int64_t off[N];
  for (int j = 0; j < N; j++) off[j] = base[j];
  int64_t rem = begin;
  for (int d = last; d >= 0; d--) {
    idx[d] = rem % p.shape[d];
    rem /= p.shape[d];
    for (int j = 0; j < N; j++) off[j] += idx[d] * p.stride[j][d];
  }
  int64_t pos = begin;
  while (pos < end) {
    int64_t count = p.shape[last] - idx[last];
    if (count > end - pos) count = end - pos;
    run(static_cast<const int64_t*>(off), count);
    pos += count;
    if (pos >= end) break;
    // The run ended at the end of the innermost dim: carry into the outer dims.
    for (int j = 0; j < N; j++) off[j] += (count - p.shape[last]) * p.stride[j][last];
    idx[last] = 0;
    for (int d = last - 1; d >= 0; d--) {
      idx[d]++;
      for (int j = 0; j < N; j++) off[j] += p.stride[j][d];
      if (idx[d] < p.shape[d]) break;
      for (int j = 0; j < N; j++) off[j] -= p.shape[d] * p.stride[j][d];
      idx[d] = 0;
    }
  }
}

}  // namespace ew
}  // namespace lethe
