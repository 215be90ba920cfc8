// GEMM micro-kernels (AVX-512 6×64, AVX2+FMA 6×16, portable 4×8) and the transposing pack,
// selected at run time. Functions for an ISA are compiled with a target attribute, not with
// -march, so the addon still loads on CPUs without that ISA; they are only ever called after
// __builtin_cpu_supports said yes. See gemm-kernels.h for the tile contract.
#include "gemm-kernels.h"

#include <cstdlib>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace lethe {
namespace gemmk {
namespace {

void packTransposedScalar(const float* src, int64_t ld, int64_t rows, int64_t kc, int w, float* dst) {
  for (int64_t c = 0; c < rows; c++) {
    const float* s = src + c * ld;
    for (int64_t p = 0; p < kc; p++) dst[p * w + c] = s[p];
  }
  for (int64_t c = rows; c < w; c++)
    for (int64_t p = 0; p < kc; p++) dst[p * w + c] = 0.0f;
}

void packRowsScalar(const float* src, int64_t ld, int64_t rows, int64_t kc, int w, float* dst) {
  const int64_t full = rows / w * w, panelSize = kc * w;
  for (int64_t p = 0; p < kc; p++) {
    const float* s = src + p * ld;
    int64_t c0 = 0;
    for (; c0 < full; c0 += w) std::memcpy(dst + c0 * kc + p * w, s + c0, sizeof(float) * w);
    if (c0 < rows) {
      float* d = dst + (c0 / w) * panelSize + p * w;
      std::memcpy(d, s + c0, sizeof(float) * (rows - c0));
      std::memset(d + (rows - c0), 0, sizeof(float) * (w - (rows - c0)));
    }
  }
}

// Portable fallback: a 4×8 tile (8 four-wide accumulators, which fit the 16 registers of
// baseline x86-64 without spilling); the compiler vectorises the j loops.
void kernelGeneric4x8(int64_t kc, const float* A, const float* B, int64_t ldb, float* C, int64_t ldc, bool add) {
  float acc[4][8] = {};
  for (int64_t p = 0; p < kc; p++) {
    for (int i = 0; i < 4; i++) {
      const float a = A[i];
      for (int j = 0; j < 8; j++) acc[i][j] += a * B[j];
    }
    A += 4;
    B += ldb;
  }
  for (int i = 0; i < 4; i++) {
    float* c = C + i * ldc;
    if (add)
      for (int j = 0; j < 8; j++) c[j] += acc[i][j];
    else
      for (int j = 0; j < 8; j++) c[j] = acc[i][j];
  }
}

#if defined(__x86_64__)

// ---- AVX-512: 6 rows × 64 columns = 24 zmm accumulators, 4 B loads + 6 broadcasts per step.

#define LK512_DECL(i) __m512 c##i##0 = _mm512_setzero_ps(), c##i##1 = c##i##0, c##i##2 = c##i##0, c##i##3 = c##i##0;
#define LK512_ROW(i)                            \
  {                                             \
    const __m512 a = _mm512_set1_ps(A[i]);      \
    c##i##0 = _mm512_fmadd_ps(a, b0, c##i##0);  \
    c##i##1 = _mm512_fmadd_ps(a, b1, c##i##1);  \
    c##i##2 = _mm512_fmadd_ps(a, b2, c##i##2);  \
    c##i##3 = _mm512_fmadd_ps(a, b3, c##i##3);  \
  }
#define LK512_STORE(i)                                          \
  {                                                             \
    float* r = C + (i) * ldc;                                   \
    if (add) {                                                  \
      c##i##0 = _mm512_add_ps(_mm512_loadu_ps(r), c##i##0);     \
      c##i##1 = _mm512_add_ps(_mm512_loadu_ps(r + 16), c##i##1); \
      c##i##2 = _mm512_add_ps(_mm512_loadu_ps(r + 32), c##i##2); \
      c##i##3 = _mm512_add_ps(_mm512_loadu_ps(r + 48), c##i##3); \
    }                                                           \
    _mm512_storeu_ps(r, c##i##0);                               \
    _mm512_storeu_ps(r + 16, c##i##1);                          \
    _mm512_storeu_ps(r + 32, c##i##2);                          \
    _mm512_storeu_ps(r + 48, c##i##3);                          \
  }

__attribute__((target("avx512f,fma"))) void kernelAvx512_6x64(int64_t kc, const float* A, const float* B,
                                                               int64_t ldb, float* C, int64_t ldc, bool add) {
  LK512_DECL(0) LK512_DECL(1) LK512_DECL(2) LK512_DECL(3) LK512_DECL(4) LK512_DECL(5)
  for (int i = 0; i < 6; i++) {
    _mm_prefetch(reinterpret_cast<const char*>(C + i * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(C + i * ldc + 63), _MM_HINT_T0);
  }
  for (int64_t p = 0; p < kc; p++) {
    const __m512 b0 = _mm512_loadu_ps(B);
    const __m512 b1 = _mm512_loadu_ps(B + 16);
    const __m512 b2 = _mm512_loadu_ps(B + 32);
    const __m512 b3 = _mm512_loadu_ps(B + 48);
    LK512_ROW(0) LK512_ROW(1) LK512_ROW(2) LK512_ROW(3) LK512_ROW(4) LK512_ROW(5)
    A += 6;
    B += ldb;
  }
  LK512_STORE(0) LK512_STORE(1) LK512_STORE(2) LK512_STORE(3) LK512_STORE(4) LK512_STORE(5)
}

// ---- AVX2+FMA: 6 rows × 16 columns = 12 ymm accumulators.

#define LK256_DECL(i) __m256 c##i##0 = _mm256_setzero_ps(), c##i##1 = c##i##0;
#define LK256_ROW(i)                              \
  {                                               \
    const __m256 a = _mm256_broadcast_ss(A + (i)); \
    c##i##0 = _mm256_fmadd_ps(a, b0, c##i##0);    \
    c##i##1 = _mm256_fmadd_ps(a, b1, c##i##1);    \
  }
#define LK256_STORE(i)                                         \
  {                                                            \
    float* r = C + (i) * ldc;                                  \
    if (add) {                                                 \
      c##i##0 = _mm256_add_ps(_mm256_loadu_ps(r), c##i##0);    \
      c##i##1 = _mm256_add_ps(_mm256_loadu_ps(r + 8), c##i##1); \
    }                                                          \
    _mm256_storeu_ps(r, c##i##0);                              \
    _mm256_storeu_ps(r + 8, c##i##1);                          \
  }

__attribute__((target("avx2,fma"))) void kernelAvx2_6x16(int64_t kc, const float* A, const float* B, int64_t ldb,
                                                          float* C, int64_t ldc, bool add) {
  LK256_DECL(0) LK256_DECL(1) LK256_DECL(2) LK256_DECL(3) LK256_DECL(4) LK256_DECL(5)
  for (int64_t p = 0; p < kc; p++) {
    const __m256 b0 = _mm256_loadu_ps(B);
    const __m256 b1 = _mm256_loadu_ps(B + 8);
    LK256_ROW(0) LK256_ROW(1) LK256_ROW(2) LK256_ROW(3) LK256_ROW(4) LK256_ROW(5)
    A += 6;
    B += ldb;
  }
  LK256_STORE(0) LK256_STORE(1) LK256_STORE(2) LK256_STORE(3) LK256_STORE(4) LK256_STORE(5)
}

// 8×8 transpose of r0..r7 (AVX): on return r_q holds element q of every input row.
#define LK_TRANSPOSE8(r0, r1, r2, r3, r4, r5, r6, r7)                                      \
  {                                                                                        \
    const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);         \
    const __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);         \
    const __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);         \
    const __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);         \
    const __m256 u0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));                  \
    const __m256 u1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));                  \
    const __m256 u2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));                  \
    const __m256 u3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));                  \
    const __m256 u4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0));                  \
    const __m256 u5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));                  \
    const __m256 u6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0));                  \
    const __m256 u7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));                  \
    r0 = _mm256_permute2f128_ps(u0, u4, 0x20);                                             \
    r1 = _mm256_permute2f128_ps(u1, u5, 0x20);                                             \
    r2 = _mm256_permute2f128_ps(u2, u6, 0x20);                                             \
    r3 = _mm256_permute2f128_ps(u3, u7, 0x20);                                             \
    r4 = _mm256_permute2f128_ps(u0, u4, 0x31);                                             \
    r5 = _mm256_permute2f128_ps(u1, u5, 0x31);                                             \
    r6 = _mm256_permute2f128_ps(u2, u6, 0x31);                                             \
    r7 = _mm256_permute2f128_ps(u3, u7, 0x31);                                             \
  }

// Transposing pack in 8×8 blocks (AVX): 8 source rows of 8 contiguous floats become 8 packed
// steps. Blocks of 8 rows serve w = NR (a multiple of 8: op(B) = B^T, the NT form); a full
// 6-row panel (w = MR = 6: op(A) = A, the NN/NT forms) is transposed with two zero rows and
// stored with 6-lane masks so nothing outside the panel is written.
__attribute__((target("avx2"))) void packTransposedAvx(const float* src, int64_t ld, int64_t rows, int64_t kc,
                                                        int w, float* dst) {
  const int64_t kc8 = kc / 8 * 8;
  if (w == 6 && rows == 6) {
    const __m256i mask6 = _mm256_setr_epi32(-1, -1, -1, -1, -1, -1, 0, 0);
    for (int64_t p0 = 0; p0 < kc8; p0 += 8) {
      __m256 r0 = _mm256_loadu_ps(src + 0 * ld + p0), r1 = _mm256_loadu_ps(src + 1 * ld + p0);
      __m256 r2 = _mm256_loadu_ps(src + 2 * ld + p0), r3 = _mm256_loadu_ps(src + 3 * ld + p0);
      __m256 r4 = _mm256_loadu_ps(src + 4 * ld + p0), r5 = _mm256_loadu_ps(src + 5 * ld + p0);
      __m256 r6 = _mm256_setzero_ps(), r7 = r6;
      LK_TRANSPOSE8(r0, r1, r2, r3, r4, r5, r6, r7)
      float* d = dst + p0 * 6;
      _mm256_storeu_ps(d + 0 * 6, r0);  // each full store is overwritten past lane 6 by the next
      _mm256_storeu_ps(d + 1 * 6, r1);
      _mm256_storeu_ps(d + 2 * 6, r2);
      _mm256_storeu_ps(d + 3 * 6, r3);
      _mm256_storeu_ps(d + 4 * 6, r4);
      _mm256_storeu_ps(d + 5 * 6, r5);
      _mm256_storeu_ps(d + 6 * 6, r6);
      _mm256_maskstore_ps(d + 7 * 6, mask6, r7);
    }
    for (int64_t p = kc8; p < kc; p++)
      for (int64_t c = 0; c < 6; c++) dst[p * 6 + c] = src[c * ld + p];
    return;
  }
  const int64_t rows8 = w % 8 == 0 ? rows / 8 * 8 : 0;
  for (int64_t c0 = 0; c0 < rows8; c0 += 8) {
    const float* s = src + c0 * ld;
    for (int64_t p0 = 0; p0 < kc8; p0 += 8) {
      __m256 r0 = _mm256_loadu_ps(s + 0 * ld + p0), r1 = _mm256_loadu_ps(s + 1 * ld + p0);
      __m256 r2 = _mm256_loadu_ps(s + 2 * ld + p0), r3 = _mm256_loadu_ps(s + 3 * ld + p0);
      __m256 r4 = _mm256_loadu_ps(s + 4 * ld + p0), r5 = _mm256_loadu_ps(s + 5 * ld + p0);
      __m256 r6 = _mm256_loadu_ps(s + 6 * ld + p0), r7 = _mm256_loadu_ps(s + 7 * ld + p0);
      LK_TRANSPOSE8(r0, r1, r2, r3, r4, r5, r6, r7)
      float* d = dst + p0 * w + c0;
      _mm256_storeu_ps(d + 0 * w, r0);
      _mm256_storeu_ps(d + 1 * w, r1);
      _mm256_storeu_ps(d + 2 * w, r2);
      _mm256_storeu_ps(d + 3 * w, r3);
      _mm256_storeu_ps(d + 4 * w, r4);
      _mm256_storeu_ps(d + 5 * w, r5);
      _mm256_storeu_ps(d + 6 * w, r6);
      _mm256_storeu_ps(d + 7 * w, r7);
    }
    for (int64_t c = c0; c < c0 + 8; c++)
      for (int64_t p = kc8; p < kc; p++) dst[p * w + c] = src[c * ld + p];
  }
  for (int64_t c = rows8; c < rows; c++) {
    const float* s = src + c * ld;
    for (int64_t p = 0; p < kc; p++) dst[p * w + c] = s[p];
  }
  if (rows < w)
    for (int64_t p = 0; p < kc; p++) std::memset(dst + p * w + rows, 0, sizeof(float) * (w - rows));
}

// packRows (AVX). w = 6 (op(A) = A^T, the TN/TT forms): step by step over the source rows, one
// 8-lane load and store per panel; the two extra lanes stored are overwritten by the next step,
// and the two extra lanes loaded lie in this source row or the next one, which exists for every
// step but the last, so the last step uses 6-lane masks (nothing outside the block is touched).
// w a multiple of 8 (op(B) = B, the NN/TN forms): panel by panel, 8-lane copies.
__attribute__((target("avx2"))) void packRowsAvx(const float* src, int64_t ld, int64_t rows, int64_t kc, int w,
                                                  float* dst) {
  if (kc < 1) return;
  if (w % 8 == 0) {
    for (int64_t c0 = 0; c0 + w <= rows; c0 += w, dst += kc * w)
      for (int64_t p = 0; p < kc; p++) {
        const float* s = src + p * ld + c0;
        float* d = dst + p * w;
        for (int j = 0; j < w; j += 8) _mm256_storeu_ps(d + j, _mm256_loadu_ps(s + j));
      }
    const int64_t done = rows / w * w;
    if (done < rows) packRowsScalar(src + done, ld, rows - done, kc, w, dst);
    return;
  }
  if (w != 6 || rows < 6) {
    packRowsScalar(src, ld, rows, kc, w, dst);
    return;
  }
  const __m256i mask6 = _mm256_setr_epi32(-1, -1, -1, -1, -1, -1, 0, 0);
  const int64_t full = rows / 6 * 6;
  for (int64_t p = 0; p + 1 < kc; p++) {
    const float* s = src + p * ld;
    float* d = dst + p * 6;
    for (int64_t c0 = 0; c0 < full; c0 += 6) _mm256_storeu_ps(d + c0 * kc, _mm256_loadu_ps(s + c0));
  }
  {
    const float* s = src + (kc - 1) * ld;
    float* d = dst + (kc - 1) * 6;
    for (int64_t c0 = 0; c0 < full; c0 += 6) _mm256_maskstore_ps(d + c0 * kc, mask6, _mm256_maskload_ps(s + c0, mask6));
  }
  if (full < rows) packRowsScalar(src + full, ld, rows - full, kc, w, dst + full * kc);
}

#endif  // __x86_64__

MicroKernelSet choose() {
  const char* env = std::getenv("LETHE_GEMM_KERNEL");
  const bool noAvx512 = env && (std::strcmp(env, "avx2") == 0 || std::strcmp(env, "generic") == 0);
  const bool noAvx2 = env && std::strcmp(env, "generic") == 0;
  (void)noAvx512;
  (void)noAvx2;
#if defined(__x86_64__)
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (!noAvx512 && avx2 && __builtin_cpu_supports("avx512f"))
    return {"avx512", 6, 64, 120, 256, 768, kernelAvx512_6x64, packTransposedAvx, packRowsAvx};
  if (!noAvx2 && avx2)
    return {"avx2", 6, 16, 120, 256, 768, kernelAvx2_6x16, packTransposedAvx, packRowsAvx};
#endif
  return {"generic", 4, 8, 128, 256, 512, kernelGeneric4x8, packTransposedScalar, packRowsScalar};
}

}  // namespace

const MicroKernelSet& microKernels() {
  static const MicroKernelSet set = choose();
  return set;
}

}  // namespace gemmk
}  // namespace lethe
