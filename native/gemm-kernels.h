// GEMM micro-kernels and ISA-specific packing helpers (internal to gemm.cpp).
//
// A micro-kernel computes one MR×NR tile of C from packed panels: Ap holds kc steps of MR values
// (op(A) column slices), Bp holds kc steps of NR values (op(B) row slices) ldb floats apart (NR
// for a packed panel; a row-major op(B) may also be read in place). Each C element is an
// FMA chain over p = 0..kc-1 in order, then written (add=false) or added to C (add=true), so the
// arithmetic for an element never depends on where its tile sits or which thread runs it.
// The set is picked once per process from the CPU's features; the binary runs on any x86-64
// (and builds on other architectures, where only the portable kernel exists).
#pragma once
#include <cstdint>

namespace lethe {
namespace gemmk {

using MicroKernel = void (*)(int64_t kc, const float* Ap, const float* Bp, int64_t ldb, float* C, int64_t ldc,
                             bool add);

// dst[p*w + c] = src[c*ld + p] for c < rows, p < kc; dst[p*w + c] = 0 for rows <= c < w.
using PackTransposed = void (*)(const float* src, int64_t ld, int64_t rows, int64_t kc, int w, float* dst);

// A whole block, rows of it contiguous in memory: for c < rows (any count), p < kc,
// panel(c / w)[p*w + c % w] = src[p*ld + c], where panel(q) = dst + q*kc*w; the last panel is
// zero-padded to w columns. Reads each source row segment once, front to back.
using PackRows = void (*)(const float* src, int64_t ld, int64_t rows, int64_t kc, int w, float* dst);

struct MicroKernelSet {
  const char* name;  // "avx512", "avx2" or "generic"
  int mr, nr;        // register tile
  int64_t mc, kc, nc;  // cache blocking: A block mc×kc, B block kc×nc
  MicroKernel kernel;
  PackTransposed packTransposed;
  PackRows packRows;
};

// The set for this CPU. LETHE_GEMM_KERNEL=avx2|generic (read once) forces a slower set, so that
// every path can be tested on one machine; a set the CPU cannot run is never chosen.
const MicroKernelSet& microKernels();

}  // namespace gemmk
}  // namespace lethe
