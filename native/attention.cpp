// Fused scaled dot-product attention, forward and backward, for `groups` independent heads with
// optional causal masking, an additive mask shared by `maskGroup` consecutive groups and grouped-
// query attention (`kvGroup` query groups per kv group). Semantics are exactly the Backend
// contract (src/backend/backend.ts) and the js reference (src/backend/js/attention.ts).
//
// Formulation (flash-style, nothing of size tq×tk is ever held for more than one block per thread):
// - forward: per (group, block of ≤64 query rows), S = Q·Kᵀ for the visible key range, softmax
//   per row (max, then Σe^{s−max}), O = P·V / Σ, lse = max + log Σ.
// - backward: per kv group (all query groups that share it, so dk/dv are owned by one task and
//   summed in a fixed order), per block of 64 keys × 64 queries: P = e^{S−lse} recomputed,
//   dP = dO·Vᵀ, dS = P⊙(dP − D)·scale with D = rowsum(dO⊙O), dV += Pᵀ·dO, dK += dSᵀ·Q,
//   dQ += dS·K. When there are few kv groups the key range is also split into fixed parts whose
//   dq partials are added in order afterwards.
// The block products run on a register-blocked AVX-512 tile kernel (6 rows × 64 columns held in
// 24 zmm accumulators), with a portable fallback on CPUs without AVX-512.
//
// Promises: every output element is computed by the same sequence of operations whatever the
// thread count (task shapes depend on the problem only), so results are bit-identical for any
// thread count and run to run. Fully masked rows give out 0, lse −∞ and zero gradients; NaN in a
// visible score makes the row's out and lse NaN. NaN sitting only at positions the reference skips
// (keys hidden by causality inside a diagonal block, dout rows of fully masked queries) may still
// reach neighbouring outputs through a 0·NaN product in the block products.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "common.h"
#include "fused-args.h"
#include "fused-simd.h"
#include "thread-pool.h"

namespace lethe {
namespace {

// C (M×N, ldc) = A·B, or C += A·B when acc. A(r, p) = A[r·ars + p·acs] (so both A and Aᵀ can be
// read in place); B is K×N row-major with leading dimension ldb. Every C element is one sequential
// fused sum over p, so its value does not depend on how C is tiled.
using TileGemm = void (*)(int64_t M, int64_t N, int64_t K, const float* A, int64_t ars, int64_t acs, const float* B,
                          int64_t ldb, float* C, int64_t ldc, bool acc);

// Row operations on one score row of n visible entries.
struct Kernels {
  TileGemm gemm;
  // s = s·scale + mask (mask may be null); returns the max, ignoring NaN (-inf if none).
  float (*scaleMaskMax)(float* s, const float* mask, int64_t n, float scale);
  // s = e^{s − shift}; returns Σ s in double (NaN if any is NaN).
  double (*expSum)(float* s, int64_t n, float shift);
  // s = e^{s·scale + mask − lse}.
  void (*prob)(float* s, const float* mask, int64_t n, float scale, float lse);
  // dp = p ⊙ (dp − D) · scale.
  void (*dscore)(float* dp, const float* p, int64_t n, float D, float scale);
  // Σ a⊙b in double.
  double (*dot)(const float* a, const float* b, int64_t n);
  // Kᵀ for keys [j0, j0+nk): dst[p·ld + j] = src[(j0+j)·d + p], columns nk..ld zero.
  void (*packT)(const float* src, int64_t j0, int64_t nk, int64_t d, float* dst, int64_t ld);
};

// ---------------------------------------------------------------------------------------------
// Portable fallback.

void gemmGeneric(int64_t M, int64_t N, int64_t K, const float* A, int64_t ars, int64_t acs, const float* B,
                 int64_t ldb, float* C, int64_t ldc, bool acc) {
  for (int64_t r = 0; r < M; r++) {
    float* c = C + r * ldc;
    if (!acc) std::fill(c, c + N, 0.0f);
    for (int64_t p = 0; p < K; p++) {
      const float a = A[r * ars + p * acs];
      const float* b = B + p * ldb;
      for (int64_t j = 0; j < N; j++) c[j] += a * b[j];
    }
  }
}

float scaleMaskMaxGeneric(float* s, const float* mask, int64_t n, float scale) {
  float m = kNegInf;
  for (int64_t j = 0; j < n; j++) {
    const float v = s[j] * scale + (mask != nullptr ? mask[j] : 0.0f);
    s[j] = v;
    if (v > m) m = v;
  }
  return m;
}

double expSumGeneric(float* s, int64_t n, float shift) {
  double sum = 0;
  for (int64_t j = 0; j < n; j++) {
    s[j] = std::exp(s[j] - shift);
    sum += s[j];
  }
  return sum;
}

void probGeneric(float* s, const float* mask, int64_t n, float scale, float lse) {
  for (int64_t j = 0; j < n; j++) s[j] = std::exp(s[j] * scale + (mask != nullptr ? mask[j] : 0.0f) - lse);
}

void dscoreGeneric(float* dp, const float* p, int64_t n, float D, float scale) {
  for (int64_t j = 0; j < n; j++) dp[j] = p[j] * (dp[j] - D) * scale;
}

double dotGeneric(const float* a, const float* b, int64_t n) {
  double s = 0;
  for (int64_t j = 0; j < n; j++) s += double(a[j]) * double(b[j]);
  return s;
}

void packTGeneric(const float* src, int64_t j0, int64_t nk, int64_t d, float* dst, int64_t ld) {
  for (int64_t p = 0; p < d; p++) {
    float* row = dst + p * ld;
    for (int64_t j = 0; j < nk; j++) row[j] = src[(j0 + j) * d + p];
    std::fill(row + nk, row + ld, 0.0f);
  }
}

const Kernels kGeneric = {gemmGeneric,   scaleMaskMaxGeneric, expSumGeneric, probGeneric,
                          dscoreGeneric, dotGeneric,          packTGeneric};

// ---------------------------------------------------------------------------------------------
// AVX-512.

LETHE_AVX512_BEGIN

// MR rows × NV 16-wide column vectors of C; the last vector is limited by `last`.
template <int MR, int NV>
void tileAvx512(int64_t K, const float* A, int64_t ars, int64_t acs, const float* B, int64_t ldb, float* C,
                int64_t ldc, __mmask16 last, bool acc) {
  __m512 c[MR][NV];
#pragma GCC unroll 8
  for (int r = 0; r < MR; r++)
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) c[r][v] = _mm512_setzero_ps();
  const float* a = A;
  const float* b = B;
  for (int64_t p = 0; p < K; p++, a += acs, b += ldb) {
    __m512 bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++)
      bv[v] = v + 1 < NV ? _mm512_loadu_ps(b + 16 * v) : _mm512_maskz_loadu_ps(last, b + 16 * v);
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++) {
      const __m512 av = _mm512_set1_ps(a[r * ars]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++) c[r][v] = _mm512_fmadd_ps(av, bv[v], c[r][v]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < MR; r++)
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) {
      float* dst = C + r * ldc + 16 * v;
      const __mmask16 k = v + 1 < NV ? __mmask16(0xFFFF) : last;
      __m512 x = c[r][v];
      if (acc) x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(k, dst));
      _mm512_mask_storeu_ps(dst, k, x);
    }
}

using TileFn = void (*)(int64_t, const float*, int64_t, int64_t, const float*, int64_t, float*, int64_t, __mmask16,
                        bool);

constexpr int kMR = 6;
constexpr int kNV = 4;

template <int MR>
struct TileRow {
  static constexpr TileFn fns[kNV] = {tileAvx512<MR, 1>, tileAvx512<MR, 2>, tileAvx512<MR, 3>, tileAvx512<MR, 4>};
};

const TileFn* const kTiles[kMR] = {TileRow<1>::fns, TileRow<2>::fns, TileRow<3>::fns,
                                   TileRow<4>::fns, TileRow<5>::fns, TileRow<6>::fns};

void gemmAvx512(int64_t M, int64_t N, int64_t K, const float* A, int64_t ars, int64_t acs, const float* B,
                int64_t ldb, float* C, int64_t ldc, bool acc) {
  for (int64_t j0 = 0; j0 < N; j0 += 16 * kNV) {
    const int64_t nrem = std::min<int64_t>(16 * kNV, N - j0);
    const int64_t nv = (nrem + 15) / 16;
    const __mmask16 last = avx::tailMask(nrem - 16 * (nv - 1));
    for (int64_t i0 = 0; i0 < M; i0 += kMR) {
      const int64_t mr = std::min<int64_t>(kMR, M - i0);
      kTiles[mr - 1][nv - 1](K, A + i0 * ars, ars, acs, B + j0, ldb, C + i0 * ldc + j0, ldc, last, acc);
    }
  }
}

float scaleMaskMaxAvx512(float* s, const float* mask, int64_t n, float scale) {
  const __m512 sc = _mm512_set1_ps(scale);
  __m512 m = _mm512_set1_ps(kNegInf);
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 k = avx::tailMask(n - j);
    const __m512 add = mask != nullptr ? _mm512_maskz_loadu_ps(k, mask + j) : _mm512_setzero_ps();
    const __m512 v = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(k, s + j), sc, add);
    _mm512_mask_storeu_ps(s + j, k, v);
    m = _mm512_mask_max_ps(m, k, v, m);  // a NaN v leaves m unchanged
  }
  return avx::hmax(m);
}

double expSumAvx512(float* s, int64_t n, float shift) {
  const __m512 sh = _mm512_set1_ps(shift);
  __m512 acc = _mm512_setzero_ps();
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 k = avx::tailMask(n - j);
    const __m512 e = avx::exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, s + j), sh));
    _mm512_mask_storeu_ps(s + j, k, e);
    acc = _mm512_mask_add_ps(acc, k, acc, e);
  }
  return avx::hsumD(acc);
}

void probAvx512(float* s, const float* mask, int64_t n, float scale, float lse) {
  const __m512 sc = _mm512_set1_ps(scale), l = _mm512_set1_ps(lse);
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 k = avx::tailMask(n - j);
    const __m512 add = mask != nullptr ? _mm512_maskz_loadu_ps(k, mask + j) : _mm512_setzero_ps();
    const __m512 v = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(k, s + j), sc, add);
    _mm512_mask_storeu_ps(s + j, k, avx::exp512(_mm512_sub_ps(v, l)));
  }
}

void dscoreAvx512(float* dp, const float* p, int64_t n, float D, float scale) {
  const __m512 dv = _mm512_set1_ps(D), sc = _mm512_set1_ps(scale);
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 k = avx::tailMask(n - j);
    const __m512 x = _mm512_sub_ps(_mm512_maskz_loadu_ps(k, dp + j), dv);
    _mm512_mask_storeu_ps(dp + j, k, _mm512_mul_ps(_mm512_mul_ps(_mm512_maskz_loadu_ps(k, p + j), x), sc));
  }
}

double dotAvx512(const float* a, const float* b, int64_t n) {
  __m512 acc = _mm512_setzero_ps();
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 k = avx::tailMask(n - j);
    acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(k, a + j), _mm512_maskz_loadu_ps(k, b + j), acc);
  }
  return avx::hsumD(acc);
}

// 16×16 blocks transposed in registers (interleave 32-bit, then 64-bit pairs, then 128-bit lanes
// twice); ragged edges element by element.
void packTAvx512(const float* src, int64_t j0, int64_t nk, int64_t d, float* dst, int64_t ld) {
  const int64_t jFull = nk & ~int64_t(15), pFull = d & ~int64_t(15);
  for (int64_t jb = 0; jb < jFull; jb += 16) {
    const float* s0 = src + (j0 + jb) * d;
    for (int64_t pb = 0; pb < pFull; pb += 16) {
      __m512 a[16], b[16], c[16];
      for (int i = 0; i < 16; i++) a[i] = _mm512_loadu_ps(s0 + i * d + pb);
      for (int i = 0; i < 8; i++) {
        b[2 * i] = _mm512_unpacklo_ps(a[2 * i], a[2 * i + 1]);
        b[2 * i + 1] = _mm512_unpackhi_ps(a[2 * i], a[2 * i + 1]);
      }
      for (int g = 0; g < 4; g++) {  // rows 4g..4g+3: c[4g+k] lane L = column 4L+k of those rows
        const __m512 lo0 = b[4 * g], hi0 = b[4 * g + 1], lo1 = b[4 * g + 2], hi1 = b[4 * g + 3];
        c[4 * g + 0] = _mm512_shuffle_ps(lo0, lo1, 0x44);
        c[4 * g + 1] = _mm512_shuffle_ps(lo0, lo1, 0xEE);
        c[4 * g + 2] = _mm512_shuffle_ps(hi0, hi1, 0x44);
        c[4 * g + 3] = _mm512_shuffle_ps(hi0, hi1, 0xEE);
      }
      for (int k = 0; k < 4; k++) {
        const __m512 e0 = _mm512_shuffle_f32x4(c[k], c[4 + k], 0x88);
        const __m512 e1 = _mm512_shuffle_f32x4(c[k], c[4 + k], 0xDD);
        const __m512 f0 = _mm512_shuffle_f32x4(c[8 + k], c[12 + k], 0x88);
        const __m512 f1 = _mm512_shuffle_f32x4(c[8 + k], c[12 + k], 0xDD);
        _mm512_storeu_ps(dst + (pb + k) * ld + jb, _mm512_shuffle_f32x4(e0, f0, 0x88));
        _mm512_storeu_ps(dst + (pb + 4 + k) * ld + jb, _mm512_shuffle_f32x4(e1, f1, 0x88));
        _mm512_storeu_ps(dst + (pb + 8 + k) * ld + jb, _mm512_shuffle_f32x4(e0, f0, 0xDD));
        _mm512_storeu_ps(dst + (pb + 12 + k) * ld + jb, _mm512_shuffle_f32x4(e1, f1, 0xDD));
      }
    }
    for (int64_t p = pFull; p < d; p++)
      for (int64_t j = jb; j < jb + 16; j++) dst[p * ld + j] = src[(j0 + j) * d + p];
  }
  for (int64_t p = 0; p < d; p++) {
    float* row = dst + p * ld;
    for (int64_t j = jFull; j < nk; j++) row[j] = src[(j0 + j) * d + p];
    std::fill(row + nk, row + ld, 0.0f);
  }
}

LETHE_AVX512_END

const Kernels kAvx512 = {gemmAvx512,   scaleMaskMaxAvx512, expSumAvx512, probAvx512,
                         dscoreAvx512, dotAvx512,          packTAvx512};

const Kernels& kernels() { return fusedUseAvx512() ? kAvx512 : kGeneric; }

// ---------------------------------------------------------------------------------------------
// Drivers.

struct Problem {
  const float *q, *k, *v, *mask, *out, *dout;
  float *o, *lse, *dq, *dk, *dv;
  int64_t groups, tq, tk, d, maskGroup, kvGroup, kvGroups;
  float scale;
  bool causal;

  // One past the last key query i may see (the js reference's visibleKeys).
  int64_t visible(int64_t i) const {
    if (!causal) return tk;
    return std::max<int64_t>(0, std::min<int64_t>(tk, i + (tk - tq) + 1));
  }
  const float* maskBlock(int64_t g) const { return mask == nullptr ? nullptr : mask + (g / maskGroup) * tq * tk; }
};

inline int64_t round16(int64_t n) { return (n + 15) & ~int64_t(15); }

// Grow-only per-thread scratch.
float* scratch(std::vector<float>& buf, size_t n) {
  if (buf.size() < n) buf.resize(n);
  return buf.data();
}

constexpr int64_t kFwdRowsMax = 64;
constexpr int64_t kTileRows = 6;  // rows per tile of the causal diagonal (the tile kernel's height)
constexpr int64_t kBwdRows = 64;
constexpr int64_t kBwdKeys = 64;

// Rows per forward block: at most 64, fewer for long key ranges so the score block stays ~128 KiB.
int64_t forwardBlockRows(int64_t ldk) {
  return std::max<int64_t>(1, std::min<int64_t>(kFwdRowsMax, 32768 / std::max<int64_t>(ldk, 1)));
}

// Forward for query group g, query blocks [b0, b1) of `rows` rows each.
void forwardTask(const Kernels& kn, const Problem& P, int64_t g, int64_t b0, int64_t b1, int64_t rows) {
  thread_local std::vector<float> ktBuf, sBuf;
  const int64_t d = P.d, tk = P.tk;
  const int64_t ldk = round16(tk);
  const int64_t iEnd = std::min(P.tq, b1 * rows);
  const int64_t keys = P.visible(iEnd - 1);  // the last row sees the most keys
  const float* Q = P.q + g * P.tq * d;
  const float* K = P.k + (g / P.kvGroup) * tk * d;
  const float* V = P.v + (g / P.kvGroup) * tk * d;
  const float* M = P.maskBlock(g);
  float* O = P.o + g * P.tq * d;
  float* L = P.lse + g * P.tq;
  float* Kt = scratch(ktBuf, size_t(d * ldk));
  float* S = scratch(sBuf, size_t(rows * ldk));
  kn.packT(K, 0, keys, d, Kt, ldk);
  float inv[kFwdRowsMax];
  const int64_t tileRows = P.causal ? kTileRows : rows;
  for (int64_t bi = b0; bi < b1; bi++) {
    const int64_t i0 = bi * rows, i1 = std::min(P.tq, i0 + rows), nr = i1 - i0;
    const int64_t jmax = P.visible(i1 - 1);
    if (jmax == 0) {
      std::fill(O + i0 * d, O + i1 * d, 0.0f);
      std::fill(L + i0, L + i1, kNegInf);
      continue;
    }
    // Causal: each tile of rows computes only the keys its last row can see.
    for (int64_t ra = 0; ra < nr; ra += tileRows) {
      const int64_t rb = std::min(nr, ra + tileRows);
      kn.gemm(rb - ra, P.visible(i0 + rb - 1), d, Q + (i0 + ra) * d, d, 1, Kt, ldk, S + ra * ldk, ldk, false);
    }
    for (int64_t r = 0; r < nr; r++) {
      const int64_t i = i0 + r, jr = P.visible(i);
      float* s = S + r * ldk;
      float m = kNegInf;
      double sum = 0;
      if (jr > 0) {
        m = kn.scaleMaskMax(s, M != nullptr ? M + i * tk : nullptr, jr, P.scale);
        sum = kn.expSum(s, jr, m == kNegInf ? 0.0f : m);
      }
      std::fill(s + jr, s + jmax, 0.0f);
      if (std::isnan(sum)) {
        L[i] = NAN;
        inv[r] = NAN;
      } else if (m == kNegInf) {  // no visible key, or all visible scores -inf
        L[i] = kNegInf;
        inv[r] = 0.0f;
      } else {
        L[i] = float(double(m) + std::log(sum));
        inv[r] = float(1.0 / sum);
      }
    }
    for (int64_t ra = 0; ra < nr; ra += tileRows) {
      const int64_t rb = std::min(nr, ra + tileRows);
      kn.gemm(rb - ra, d, P.visible(i0 + rb - 1), S + ra * ldk, ldk, 1, V, d, O + (i0 + ra) * d, d, false);
    }
    for (int64_t r = 0; r < nr; r++) {
      float* o = O + (i0 + r) * d;
      if (inv[r] == 0.0f) std::fill(o, o + d, 0.0f);  // fully masked: 0 even if v holds NaN
      else
        for (int64_t c = 0; c < d; c++) o[c] *= inv[r];
    }
  }
}

void runForward(const Problem& P) {
  if (P.groups == 0 || P.tq == 0) return;
  const Kernels& kn = kernels();
  const int64_t rows = forwardBlockRows(round16(P.tk));
  const int64_t blocks = (P.tq + rows - 1) / rows;
  // Whole groups per task when there are enough of them (packs Kᵀ once per group); otherwise one
  // task per query block, ordered so that cheap and costly causal blocks alternate across threads.
  // Outputs are the same either way: each row is computed identically in any task.
  if (P.groups >= 4 * int64_t(threadCount()) || blocks == 1) {
    parallelTasks(P.groups, [&](int64_t g) { forwardTask(kn, P, g, 0, blocks, rows); });
  } else {
    parallelTasks(P.groups * blocks, [&](int64_t t) {
      const int64_t g = t / blocks, b = (t % blocks + g) % blocks;
      forwardTask(kn, P, g, b, b + 1, rows);
    });
  }
}

// Backward for kv group h and keys [ka, kb); dq (or its partial for this key range) for the
// group's queries is written to dqDst.
void backwardTask(const Kernels& kn, const Problem& P, int64_t h, int64_t ka, int64_t kb, float* dqDst) {
  thread_local std::vector<float> ktBuf, vtBuf, sBuf, dpBuf, dBuf;
  const int64_t d = P.d, tq = P.tq, tk = P.tk;
  const int64_t gBegin = h * P.kvGroup, gEnd = std::min(P.groups, gBegin + P.kvGroup);
  const float* K = P.k + h * tk * d;
  const float* V = P.v + h * tk * d;
  float* dK = P.dk + h * tk * d;
  float* dV = P.dv + h * tk * d;
  std::fill(dK + ka * d, dK + kb * d, 0.0f);
  std::fill(dV + ka * d, dV + kb * d, 0.0f);
  std::fill(dqDst + gBegin * tq * d, dqDst + gEnd * tq * d, 0.0f);
  // D_i = dout_i · out_i for every query of the kv group.
  float* D = scratch(dBuf, size_t((gEnd - gBegin) * tq));
  for (int64_t g = gBegin; g < gEnd; g++)
    for (int64_t i = 0; i < tq; i++) {
      const int64_t row = g * tq + i;
      D[(g - gBegin) * tq + i] = float(kn.dot(P.dout + row * d, P.out + row * d, d));
    }
  const int64_t ldk = kBwdKeys;
  float* Kt = scratch(ktBuf, size_t(d * ldk));
  float* Vt = scratch(vtBuf, size_t(d * ldk));
  float* S = scratch(sBuf, size_t(kBwdRows * ldk));
  float* dP = scratch(dpBuf, size_t(kBwdRows * ldk));
  for (int64_t j0 = ka; j0 < kb; j0 += kBwdKeys) {
    const int64_t j1 = std::min(kb, j0 + kBwdKeys), nk = j1 - j0;
    kn.packT(K, j0, nk, d, Kt, ldk);
    kn.packT(V, j0, nk, d, Vt, ldk);
    for (int64_t g = gBegin; g < gEnd; g++) {
      const float* Q = P.q + g * tq * d;
      const float* dO = P.dout + g * tq * d;
      const float* L = P.lse + g * tq;
      const float* M = P.maskBlock(g);
      const float* Dg = D + (g - gBegin) * tq;
      float* dQ = dqDst + g * tq * d;
      for (int64_t i0 = 0; i0 < tq; i0 += kBwdRows) {
        const int64_t i1 = std::min(tq, i0 + kBwdRows), nr = i1 - i0;
        if (P.visible(i1 - 1) <= j0) continue;  // no query of this block sees these keys
        // On a causal diagonal block every product is limited tile by tile to the (query, key)
        // pairs that are visible, which skips the hidden half and the 0·x terms it would add.
        const bool diag = P.causal && P.visible(i0) - j0 < nk;
        const int64_t tileRows = diag ? kTileRows : nr;
        auto cols = [&](int64_t rb) { return std::max<int64_t>(0, std::min<int64_t>(nk, P.visible(i0 + rb - 1) - j0)); };
        for (int64_t ra = 0; ra < nr; ra += tileRows) {
          const int64_t rb = std::min(nr, ra + tileRows), nc = cols(rb);
          kn.gemm(rb - ra, nc, d, Q + (i0 + ra) * d, d, 1, Kt, ldk, S + ra * ldk, ldk, false);
          kn.gemm(rb - ra, nc, d, dO + (i0 + ra) * d, d, 1, Vt, ldk, dP + ra * ldk, ldk, false);
        }
        for (int64_t r = 0; r < nr; r++) {
          const int64_t i = i0 + r;
          const int64_t jr = std::max<int64_t>(0, std::min<int64_t>(nk, P.visible(i) - j0));
          float* s = S + r * ldk;
          float* dp = dP + r * ldk;
          const float l = L[i];
          if (l == kNegInf || jr == 0) {  // fully masked row, or no visible key in this block
            std::fill(s, s + nk, 0.0f);
            std::fill(dp, dp + nk, 0.0f);
            continue;
          }
          kn.prob(s, M != nullptr ? M + i * tk + j0 : nullptr, jr, P.scale, l);
          kn.dscore(dp, s, jr, Dg[i], P.scale);
          std::fill(s + jr, s + nk, 0.0f);
          std::fill(dp + jr, dp + nk, 0.0f);
        }
        const int64_t keyTile = diag ? kTileRows : nk;
        for (int64_t ja = 0; ja < nk; ja += keyTile) {
          const int64_t jb = std::min(nk, ja + keyTile);
          // The first query of the block that sees key j0 + ja (the tile's smallest key).
          const int64_t p0 = diag ? std::max<int64_t>(0, j0 + ja - (tk - tq) - i0) : 0;
          if (p0 >= nr) break;
          kn.gemm(jb - ja, d, nr - p0, S + p0 * ldk + ja, 1, ldk, dO + (i0 + p0) * d, d, dV + (j0 + ja) * d, d, true);
          kn.gemm(jb - ja, d, nr - p0, dP + p0 * ldk + ja, 1, ldk, Q + (i0 + p0) * d, d, dK + (j0 + ja) * d, d, true);
        }
        for (int64_t ra = 0; ra < nr; ra += tileRows) {
          const int64_t rb = std::min(nr, ra + tileRows);
          kn.gemm(rb - ra, d, cols(rb), dP + ra * ldk, ldk, 1, K + j0 * d, d, dQ + (i0 + ra) * d, d, true);
        }
      }
    }
  }
}

void runBackward(const Problem& P) {
  if (P.kvGroups == 0) return;
  const Kernels& kn = kernels();
  const int64_t keyBlocks = (P.tk + kBwdKeys - 1) / kBwdKeys;
  // With few kv groups, split each one's keys into parts so both cores have work; the split
  // depends on the shapes only, so the result does not depend on the thread count.
  int64_t parts = 1;
  if (P.kvGroups < 8 && keyBlocks > 1) parts = std::min(keyBlocks, (8 + P.kvGroups - 1) / P.kvGroups);
  const int64_t n = P.groups * P.tq * P.d;
  std::vector<float> partial(parts > 1 ? size_t(parts * n) : 0);
  parallelTasks(P.kvGroups * parts, [&](int64_t t) {
    const int64_t h = t / parts, part = t % parts;
    const int64_t ka = std::min(P.tk, (part * keyBlocks / parts) * kBwdKeys);
    const int64_t kb = std::min(P.tk, ((part + 1) * keyBlocks / parts) * kBwdKeys);
    backwardTask(kn, P, h, ka, kb, parts > 1 ? partial.data() + part * n : P.dq);
  });
  if (parts > 1) {
    parallelRange(n, 4096, [&](int64_t e0, int64_t e1) {
      for (int64_t e = e0; e < e1; e++) {
        float s = partial[size_t(e)];
        for (int64_t part = 1; part < parts; part++) s += partial[size_t(part * n + e)];
        P.dq[e] = s;
      }
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Glue.

// Reads the arguments shared by both entry points (dims at `dimAt`..) and checks q/k/v/mask.
bool readCommon(ArgReader& a, Problem& P, size_t dimAt) {
  P.groups = a.dim(dimAt, "groups");
  P.tq = a.dim(dimAt + 1, "tq");
  P.tk = a.dim(dimAt + 2, "tk");
  P.d = a.dim(dimAt + 3, "d");
  P.scale = float(a.number(dimAt + 4, "scale"));
  P.causal = a.boolean(dimAt + 5);
  // maskGroup only matters (and must be >= 1) when there is a mask.
  const bool hasMask = !a.isNull(3);
  P.maskGroup = hasMask ? a.positive(dimAt + 6, "maskGroup") : 1;
  P.kvGroup = a.positive(dimAt + 7, "kvGroup");
  if (!a.ok()) return false;
  P.kvGroups = P.groups == 0 ? 0 : (P.groups - 1) / P.kvGroup + 1;
  const int64_t maskBlocks = P.groups == 0 ? 0 : (P.groups - 1) / P.maskGroup + 1;
  const uint64_t qn = satMul(satMul(P.groups, P.tq), P.d);
  const uint64_t kn = satMul(satMul(P.kvGroups, P.tk), P.d);
  P.q = a.f32(0, "q", qn);
  P.k = a.f32(1, "k", kn);
  P.v = a.f32(2, "v", kn);
  P.mask = a.f32(3, "mask", satMul(satMul(maskBlocks, P.tq), P.tk), true);
  return a.ok();
}

Napi::Value Attention(const Napi::CallbackInfo& info) {
  ArgReader a(info, "attention", 14);
  Problem P{};
  if (!readCommon(a, P, 6)) return info.Env().Undefined();
  P.o = a.f32(4, "out", satMul(satMul(P.groups, P.tq), P.d));
  P.lse = a.f32(5, "lse", satMul(P.groups, P.tq));
  if (!a.ok()) return info.Env().Undefined();
  runForward(P);
  return info.Env().Undefined();
}

Napi::Value AttentionBackward(const Napi::CallbackInfo& info) {
  ArgReader a(info, "attentionBackward", 18);
  Problem P{};
  if (!readCommon(a, P, 10)) return info.Env().Undefined();
  const uint64_t qn = satMul(satMul(P.groups, P.tq), P.d);
  const uint64_t kn = satMul(satMul(P.kvGroups, P.tk), P.d);
  P.out = a.f32(4, "out", qn);
  P.lse = a.f32(5, "lse", satMul(P.groups, P.tq));
  P.dout = a.f32(6, "dout", qn);
  P.dq = a.f32(7, "dq", qn);
  P.dk = a.f32(8, "dk", kn);
  P.dv = a.f32(9, "dv", kn);
  if (!a.ok()) return info.Env().Undefined();
  runBackward(P);
  return info.Env().Undefined();
}

}  // namespace

void InitAttention(Napi::Env env, Napi::Object exports) {
  exports.Set("attention", Napi::Function::New(env, Attention, "attention"));
  exports.Set("attentionBackward", Napi::Function::New(env, AttentionBackward, "attentionBackward"));
}

}  // namespace lethe
