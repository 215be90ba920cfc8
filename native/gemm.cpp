// Placeholder naive GEMM (the blocked, vectorised, threaded GEMM replaces it).
#include "gemm.h"
#include "common.h"

namespace lethe {
void sgemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k, const float* A, int64_t lda,
           const float* B, int64_t ldb, float* C, int64_t ldc, bool accumulate, bool) {
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < n; j++) {
      float s = 0;
      for (int64_t p = 0; p < k; p++)
        s += (transA ? A[p * lda + i] : A[i * lda + p]) * (transB ? B[j * ldb + p] : B[p * ldb + j]);
      C[i * ldc + j] = accumulate ? C[i * ldc + j] + s : s;
    }
}
const char* gemmKernelName() { return "generic"; }
void InitGemm(Napi::Env, Napi::Object) {}
}  // namespace lethe
