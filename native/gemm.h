// Internal C++ API of the GEMM (for other kernels such as attention). Row-major throughout.
#pragma once
#include <cstdint>

namespace lethe {

// C (m×n, leading dim ldc) = op(A)·op(B), or C += op(A)·op(B) when accumulate.
// op(A) is m×k: A is m×k (lda) or, when transA, k×m (lda). op(B) is k×n: B is k×n (ldb) or,
// when transB, n×k (ldb). parallel=false runs on the calling thread only (for use inside
// parallelTasks); parallel=true may use the whole pool.
void sgemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k, const float* A, int64_t lda,
           const float* B, int64_t ldb, float* C, int64_t ldc, bool accumulate, bool parallel);

// Name of the micro-kernel chosen for this CPU: "avx512", "avx2" or "generic".
const char* gemmKernelName();

}  // namespace lethe
