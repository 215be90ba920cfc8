// Fused row kernels: cross-entropy (forward and backward) over large vocabularies, LayerNorm,
// RMSNorm and rotary embedding. Semantics are exactly the Backend contract (src/backend/backend.ts)
// and match the js reference (src/backend/js/loss.ts, norm.ts, rope.ts) within float rounding.
//
// Promises:
// - Rows are independent and split over the pool; every row is computed the same way whatever the
//   split, so outputs are bit-identical for any thread count. dw/db of the norm backward passes
//   are summed per fixed chunk of rows (chunking depends only on `rows`) into double partials,
//   then the partials are added in chunk order: also independent of the thread count.
// - Statistics (norm means/variances, the cross-entropy log-sum-exp) are accumulated in double.
// - NaN propagates as in the reference: a NaN logit makes its row's lse and loss NaN, etc.
// - Arrays are length-checked before anything runs; out-of-range targets are a RangeError.
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

// ---------------------------------------------------------------------------------------------
// Cross-entropy row kernels.

// log Σ_j e^{x_j}: -inf for an empty row or one that is all -inf; NaN if any x is NaN or +inf.
double lseRowGeneric(const float* x, int64_t n) {
  float m = kNegInf;
  bool nan = false;
  for (int64_t j = 0; j < n; j++) {
    if (x[j] > m) m = x[j];
    if (x[j] != x[j]) nan = true;
  }
  if (nan) return NAN;
  if (m == kNegInf) return -INFINITY;
  double s = 0;
  for (int64_t j = 0; j < n; j++) s += std::exp(double(x[j]) - double(m));
  return double(m) + std::log(s);
}

void ceGradRowGeneric(const float* x, int64_t n, float lse, float g, float* out) {
  for (int64_t j = 0; j < n; j++) out[j] = g * std::exp(x[j] - lse);
}

LETHE_AVX512_BEGIN

// One pass over memory: the row is walked in L1-sized blocks; each block is read once for its
// max and once (from L1) for Σ e^{x − M}, M the running max. When the max grows the running sum
// (kept in double) is rescaled once per block rather than per element. NaN lanes are skipped by
// the max (vmaxps returns its second operand) but reach the sum through e^{NaN} = NaN.
double lseRowAvx512(const float* x, int64_t n) {
  constexpr int64_t kBlock = 2048;
  const __m512 ninf = _mm512_set1_ps(kNegInf);
  double total = 0;
  float M = kNegInf;
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t e = b + kBlock < n ? b + kBlock : n;
    __m512 m0 = ninf, m1 = ninf, m2 = ninf, m3 = ninf;
    int64_t j = b;
    for (; j + 64 <= e; j += 64) {
      m0 = _mm512_max_ps(_mm512_loadu_ps(x + j), m0);
      m1 = _mm512_max_ps(_mm512_loadu_ps(x + j + 16), m1);
      m2 = _mm512_max_ps(_mm512_loadu_ps(x + j + 32), m2);
      m3 = _mm512_max_ps(_mm512_loadu_ps(x + j + 48), m3);
    }
    for (; j < e; j += 16) m0 = _mm512_max_ps(_mm512_mask_loadu_ps(ninf, avx::tailMask(e - j), x + j), m0);
    const float bm = avx::hmax(_mm512_max_ps(_mm512_max_ps(m0, m1), _mm512_max_ps(m2, m3)));
    if (bm > M) {
      // The sum so far was taken relative to M (or to 0 while M was -inf, when it is 0 or NaN).
      if (M != kNegInf) total *= std::exp(double(M) - double(bm));
      M = bm;
    }
    const __m512 sh = _mm512_set1_ps(M == kNegInf ? 0.0f : M);
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps(), s2 = _mm512_setzero_ps(),
           s3 = _mm512_setzero_ps();
    j = b;
    for (; j + 64 <= e; j += 64) {
      s0 = _mm512_add_ps(s0, avx::exp512(_mm512_sub_ps(_mm512_loadu_ps(x + j), sh)));
      s1 = _mm512_add_ps(s1, avx::exp512(_mm512_sub_ps(_mm512_loadu_ps(x + j + 16), sh)));
      s2 = _mm512_add_ps(s2, avx::exp512(_mm512_sub_ps(_mm512_loadu_ps(x + j + 32), sh)));
      s3 = _mm512_add_ps(s3, avx::exp512(_mm512_sub_ps(_mm512_loadu_ps(x + j + 48), sh)));
    }
    for (; j < e; j += 16) {
      const __m512 v = _mm512_mask_loadu_ps(ninf, avx::tailMask(e - j), x + j);
      s0 = _mm512_add_ps(s0, avx::exp512(_mm512_sub_ps(v, sh)));
    }
    total += avx::hsumD(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
  }
  if (std::isnan(total)) return NAN;
  if (M == kNegInf) return -INFINITY;
  return double(M) + std::log(total);
}

void ceGradRowAvx512(const float* x, int64_t n, float lse, float g, float* out) {
  const __m512 l = _mm512_set1_ps(lse), gv = _mm512_set1_ps(g);
  int64_t j = 0;
  for (; j + 16 <= n; j += 16)
    _mm512_storeu_ps(out + j, _mm512_mul_ps(gv, avx::exp512(_mm512_sub_ps(_mm512_loadu_ps(x + j), l))));
  if (j < n) {
    const __mmask16 k = avx::tailMask(n - j);
    _mm512_mask_storeu_ps(out + j, k, _mm512_mul_ps(gv, avx::exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, x + j), l))));
  }
}

LETHE_AVX512_END

// Rows per parallel chunk so that a chunk holds at least ~16K elements.
int64_t rowGrain(int64_t cols) { return cols >= 16384 ? 1 : 16384 / (cols > 0 ? cols : 1); }

// Validates targets: each is ignoreIndex or in [0, cols). Returns false with a RangeError pending.
bool checkTargets(ArgReader& a, const int32_t* t, int64_t rows, int64_t cols, int64_t ignore) {
  for (int64_t r = 0; r < rows; r++) {
    const int64_t v = t[r];
    if (v != ignore && (v < 0 || v >= cols)) {
      a.rangeError("targets[" + std::to_string(r) + "] = " + std::to_string(v) + " is outside [0, " +
                   std::to_string(cols) + ") and is not ignoreIndex (" + std::to_string(ignore) + ")");
      return false;
    }
  }
  return true;
}

Napi::Value CrossEntropy(const Napi::CallbackInfo& info) {
  ArgReader a(info, "crossEntropy", 7);
  const int64_t rows = a.dim(4, "rows"), cols = a.dim(5, "cols"), ignore = a.integer(6, "ignoreIndex");
  const float* logits = a.f32(0, "logits", satMul(rows, cols));
  const int32_t* targets = a.i32(1, "targets", rows);
  float* losses = a.f32(2, "losses", rows);
  float* lse = a.f32(3, "lse", rows);
  if (!a.ok() || !checkTargets(a, targets, rows, cols, ignore)) return info.Env().Undefined();
  const bool avx = fusedUseAvx512();
  parallelRange(rows, rowGrain(cols), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      const float* x = logits + r * cols;
      const double l = avx ? lseRowAvx512(x, cols) : lseRowGeneric(x, cols);
      lse[r] = float(l);
      const int64_t t = targets[r];
      losses[r] = t == ignore ? 0.0f : float(l - double(x[t]));
    }
  });
  return info.Env().Undefined();
}

Napi::Value CrossEntropyBackward(const Napi::CallbackInfo& info) {
  ArgReader a(info, "crossEntropyBackward", 8);
  const int64_t rows = a.dim(5, "rows"), cols = a.dim(6, "cols"), ignore = a.integer(7, "ignoreIndex");
  const uint64_t n = satMul(rows, cols);
  const float* logits = a.f32(0, "logits", n);
  const int32_t* targets = a.i32(1, "targets", rows);
  const float* lse = a.f32(2, "lse", rows);
  const float* dLoss = a.f32(3, "dLoss", rows);
  float* dLogits = a.f32(4, "dLogits", n);
  if (!a.ok() || !checkTargets(a, targets, rows, cols, ignore)) return info.Env().Undefined();
  const bool avx = fusedUseAvx512();
  parallelRange(rows, rowGrain(cols), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      const float* x = logits + r * cols;
      float* out = dLogits + r * cols;
      const int64_t t = targets[r];
      if (t == ignore) {
        std::fill(out, out + cols, 0.0f);
        continue;
      }
      const float g = dLoss[r], l = lse[r];
      if (avx) ceGradRowAvx512(x, cols, l, g, out);
      else ceGradRowGeneric(x, cols, l, g, out);
      out[t] = float(double(g) * (std::exp(double(x[t]) - double(l)) - 1.0));
    }
  });
  return info.Env().Undefined();
}

// ---------------------------------------------------------------------------------------------
// LayerNorm / RMSNorm. All arithmetic in double, like the reference: the portable rows below keep
// 8 independent partial sums per statistic, the AVX-512 rows 16 (two 8-double vectors); both
// combine them in a fixed order.

constexpr int kLanes = 8;

inline double combine(const double* acc) {
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

void layerNormRowsGeneric(const float* x, const float* w, const float* b, float* out, float* mean, float* rstd,
                   int64_t r0, int64_t r1, int64_t cols, double eps) {
  for (int64_t r = r0; r < r1; r++) {
    const float* xr = x + r * cols;
    float* o = out + r * cols;
    double acc[kLanes] = {};
    int64_t j = 0;
    for (; j + kLanes <= cols; j += kLanes)
      for (int l = 0; l < kLanes; l++) acc[l] += double(xr[j + l]);
    double s = combine(acc);
    for (; j < cols; j++) s += double(xr[j]);
    const double mu = s / double(cols);
    double vacc[kLanes] = {};
    j = 0;
    for (; j + kLanes <= cols; j += kLanes)
      for (int l = 0; l < kLanes; l++) {
        const double dl = double(xr[j + l]) - mu;
        vacc[l] += dl * dl;
      }
    double v = combine(vacc);
    for (; j < cols; j++) {
      const double dl = double(xr[j]) - mu;
      v += dl * dl;
    }
    const double rs = 1.0 / std::sqrt(v / double(cols) + eps);
    mean[r] = float(mu);
    rstd[r] = float(rs);
    if (b != nullptr) {
      for (j = 0; j < cols; j++) o[j] = float((double(xr[j]) - mu) * rs * double(w[j]) + double(b[j]));
    } else {
      for (j = 0; j < cols; j++) o[j] = float((double(xr[j]) - mu) * rs * double(w[j]));
    }
  }
}

// dx for rows [r0, r1) and this chunk's dw/db partial sums (db may be null).
void layerNormBackwardRowsGeneric(const float* dy, const float* x, const float* w, const float* mean, const float* rstd,
                           float* dx, double* dw, double* db, int64_t r0, int64_t r1, int64_t cols) {
  for (int64_t r = r0; r < r1; r++) {
    const float* xr = x + r * cols;
    const float* gr = dy + r * cols;
    float* o = dx + r * cols;
    const double mu = mean[r], rs = rstd[r];
    double ga[kLanes] = {}, gxa[kLanes] = {};
    int64_t j = 0;
    for (; j + kLanes <= cols; j += kLanes)
      for (int l = 0; l < kLanes; l++) {
        const double xhat = (double(xr[j + l]) - mu) * rs;
        const double g = double(gr[j + l]) * double(w[j + l]);
        ga[l] += g;
        gxa[l] += g * xhat;
      }
    double gs = combine(ga), gxs = combine(gxa);
    for (; j < cols; j++) {
      const double xhat = (double(xr[j]) - mu) * rs;
      const double g = double(gr[j]) * double(w[j]);
      gs += g;
      gxs += g * xhat;
    }
    const double gm = gs / double(cols), gxm = gxs / double(cols);
    for (j = 0; j < cols; j++) {
      const double xhat = (double(xr[j]) - mu) * rs;
      o[j] = float(rs * (double(gr[j]) * double(w[j]) - gm - xhat * gxm));
      dw[j] += double(gr[j]) * xhat;
    }
    if (db != nullptr)
      for (j = 0; j < cols; j++) db[j] += double(gr[j]);
  }
}

void rmsNormRowsGeneric(const float* x, const float* w, float* out, float* rstd, int64_t r0, int64_t r1, int64_t cols,
                 double eps) {
  for (int64_t r = r0; r < r1; r++) {
    const float* xr = x + r * cols;
    float* o = out + r * cols;
    double acc[kLanes] = {};
    int64_t j = 0;
    for (; j + kLanes <= cols; j += kLanes)
      for (int l = 0; l < kLanes; l++) acc[l] += double(xr[j + l]) * double(xr[j + l]);
    double ss = combine(acc);
    for (; j < cols; j++) ss += double(xr[j]) * double(xr[j]);
    const double rs = 1.0 / std::sqrt(ss / double(cols) + eps);
    rstd[r] = float(rs);
    for (j = 0; j < cols; j++) o[j] = float(double(xr[j]) * rs * double(w[j]));
  }
}

void rmsNormBackwardRowsGeneric(const float* dy, const float* x, const float* w, const float* rstd, float* dx, double* dw,
                         int64_t r0, int64_t r1, int64_t cols) {
  for (int64_t r = r0; r < r1; r++) {
    const float* xr = x + r * cols;
    const float* gr = dy + r * cols;
    float* o = dx + r * cols;
    const double rs = rstd[r];
    double gxa[kLanes] = {};
    int64_t j = 0;
    for (; j + kLanes <= cols; j += kLanes)
      for (int l = 0; l < kLanes; l++)
        gxa[l] += double(gr[j + l]) * double(w[j + l]) * (double(xr[j + l]) * rs);
    double gxs = combine(gxa);
    for (; j < cols; j++) gxs += double(gr[j]) * double(w[j]) * (double(xr[j]) * rs);
    const double gxm = gxs / double(cols);
    for (j = 0; j < cols; j++) {
      const double xhat = double(xr[j]) * rs;
      o[j] = float(rs * (double(gr[j]) * double(w[j]) - xhat * gxm));
      dw[j] += double(gr[j]) * xhat;
    }
  }
}

LETHE_AVX512_BEGIN

// 16 floats (lanes outside k read as 0) widened to two 8-double vectors.
static inline void load16d(const float* p, __mmask16 k, __m512d& lo, __m512d& hi) {
  const __m512 v = _mm512_maskz_loadu_ps(k, p);
  lo = _mm512_cvtps_pd(_mm512_castps512_ps256(v));
  hi = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
}

static inline void store16d(float* p, __mmask16 k, __m512d lo, __m512d hi) {
  const __m512 v = _mm512_insertf32x8(_mm512_castps256_ps512(_mm512_cvtpd_ps(lo)), _mm512_cvtpd_ps(hi), 1);
  _mm512_mask_storeu_ps(p, k, v);
}

static inline __mmask8 loMask(__mmask16 k) { return __mmask8(k & 0xFF); }
static inline __mmask8 hiMask(__mmask16 k) { return __mmask8(k >> 8); }
static inline double sum2(__m512d a, __m512d b) { return _mm512_reduce_add_pd(_mm512_add_pd(a, b)); }

void layerNormRowsAvx512(const float* x, const float* w, const float* b, float* out, float* mean, float* rstd,
                         int64_t r0, int64_t r1, int64_t cols, double eps) {
  for (int64_t r = r0; r < r1; r++) {
    const float* xr = x + r * cols;
    float* o = out + r * cols;
    __m512d s0 = _mm512_setzero_pd(), s1 = _mm512_setzero_pd();
    for (int64_t j = 0; j < cols; j += 16) {
      __m512d lo, hi;
      load16d(xr + j, avx::tailMask(cols - j), lo, hi);
      s0 = _mm512_add_pd(s0, lo);
      s1 = _mm512_add_pd(s1, hi);
    }
    const double mu = sum2(s0, s1) / double(cols);
    const __m512d muv = _mm512_set1_pd(mu);
    s0 = _mm512_setzero_pd();
    s1 = _mm512_setzero_pd();
    for (int64_t j = 0; j < cols; j += 16) {
      const __mmask16 k = avx::tailMask(cols - j);
      __m512d lo, hi;
      load16d(xr + j, k, lo, hi);
      lo = _mm512_sub_pd(lo, muv);
      hi = _mm512_sub_pd(hi, muv);
      s0 = _mm512_mask3_fmadd_pd(lo, lo, s0, loMask(k));
      s1 = _mm512_mask3_fmadd_pd(hi, hi, s1, hiMask(k));
    }
    const double rs = 1.0 / std::sqrt(sum2(s0, s1) / double(cols) + eps);
    mean[r] = float(mu);
    rstd[r] = float(rs);
    const __m512d rsv = _mm512_set1_pd(rs);
    for (int64_t j = 0; j < cols; j += 16) {
      const __mmask16 k = avx::tailMask(cols - j);
      __m512d xl, xh, wl, wh;
      load16d(xr + j, k, xl, xh);
      load16d(w + j, k, wl, wh);
      xl = _mm512_mul_pd(_mm512_mul_pd(_mm512_sub_pd(xl, muv), rsv), wl);
      xh = _mm512_mul_pd(_mm512_mul_pd(_mm512_sub_pd(xh, muv), rsv), wh);
      if (b != nullptr) {
        __m512d bl, bh;
        load16d(b + j, k, bl, bh);
        xl = _mm512_add_pd(xl, bl);
        xh = _mm512_add_pd(xh, bh);
      }
      store16d(o + j, k, xl, xh);
    }
  }
}

void layerNormBackwardRowsAvx512(const float* dy, const float* x, const float* w, const float* mean,
                                 const float* rstd, float* dx, double* dw, double* db, int64_t r0, int64_t r1,
                                 int64_t cols) {
  for (int64_t r = r0; r < r1; r++) {
    const float* xr = x + r * cols;
    const float* gr = dy + r * cols;
    float* o = dx + r * cols;
    const __m512d muv = _mm512_set1_pd(mean[r]), rsv = _mm512_set1_pd(rstd[r]);
    __m512d g0 = _mm512_setzero_pd(), g1 = _mm512_setzero_pd(), gx0 = _mm512_setzero_pd(),
            gx1 = _mm512_setzero_pd();
    for (int64_t j = 0; j < cols; j += 16) {
      const __mmask16 k = avx::tailMask(cols - j);
      __m512d xl, xh, dl, dh, wl, wh;
      load16d(xr + j, k, xl, xh);
      load16d(gr + j, k, dl, dh);
      load16d(w + j, k, wl, wh);
      const __m512d hl = _mm512_mul_pd(_mm512_sub_pd(xl, muv), rsv), hh = _mm512_mul_pd(_mm512_sub_pd(xh, muv), rsv);
      const __m512d gl = _mm512_mul_pd(dl, wl), gh = _mm512_mul_pd(dh, wh);  // 0 outside k
      g0 = _mm512_add_pd(g0, gl);
      g1 = _mm512_add_pd(g1, gh);
      gx0 = _mm512_fmadd_pd(gl, hl, gx0);
      gx1 = _mm512_fmadd_pd(gh, hh, gx1);
    }
    const __m512d gm = _mm512_set1_pd(sum2(g0, g1) / double(cols));
    const __m512d gxm = _mm512_set1_pd(sum2(gx0, gx1) / double(cols));
    for (int64_t j = 0; j < cols; j += 16) {
      const __mmask16 k = avx::tailMask(cols - j);
      const __mmask8 kl = loMask(k), kh = hiMask(k);
      __m512d xl, xh, dl, dh, wl, wh;
      load16d(xr + j, k, xl, xh);
      load16d(gr + j, k, dl, dh);
      load16d(w + j, k, wl, wh);
      const __m512d hl = _mm512_mul_pd(_mm512_sub_pd(xl, muv), rsv), hh = _mm512_mul_pd(_mm512_sub_pd(xh, muv), rsv);
      const __m512d ol = _mm512_mul_pd(rsv, _mm512_fnmadd_pd(hl, gxm, _mm512_sub_pd(_mm512_mul_pd(dl, wl), gm)));
      const __m512d oh = _mm512_mul_pd(rsv, _mm512_fnmadd_pd(hh, gxm, _mm512_sub_pd(_mm512_mul_pd(dh, wh), gm)));
      store16d(o + j, k, ol, oh);
      _mm512_mask_storeu_pd(dw + j, kl, _mm512_fmadd_pd(dl, hl, _mm512_maskz_loadu_pd(kl, dw + j)));
      _mm512_mask_storeu_pd(dw + j + 8, kh, _mm512_fmadd_pd(dh, hh, _mm512_maskz_loadu_pd(kh, dw + j + 8)));
      if (db != nullptr) {
        _mm512_mask_storeu_pd(db + j, kl, _mm512_add_pd(dl, _mm512_maskz_loadu_pd(kl, db + j)));
        _mm512_mask_storeu_pd(db + j + 8, kh, _mm512_add_pd(dh, _mm512_maskz_loadu_pd(kh, db + j + 8)));
      }
    }
  }
}

void rmsNormRowsAvx512(const float* x, const float* w, float* out, float* rstd, int64_t r0, int64_t r1,
                       int64_t cols, double eps) {
  for (int64_t r = r0; r < r1; r++) {
    const float* xr = x + r * cols;
    float* o = out + r * cols;
    __m512d s0 = _mm512_setzero_pd(), s1 = _mm512_setzero_pd();
    for (int64_t j = 0; j < cols; j += 16) {
      __m512d lo, hi;
      load16d(xr + j, avx::tailMask(cols - j), lo, hi);
      s0 = _mm512_fmadd_pd(lo, lo, s0);
      s1 = _mm512_fmadd_pd(hi, hi, s1);
    }
    const double rs = 1.0 / std::sqrt(sum2(s0, s1) / double(cols) + eps);
    rstd[r] = float(rs);
    const __m512d rsv = _mm512_set1_pd(rs);
    for (int64_t j = 0; j < cols; j += 16) {
      const __mmask16 k = avx::tailMask(cols - j);
      __m512d xl, xh, wl, wh;
      load16d(xr + j, k, xl, xh);
      load16d(w + j, k, wl, wh);
      store16d(o + j, k, _mm512_mul_pd(_mm512_mul_pd(xl, rsv), wl), _mm512_mul_pd(_mm512_mul_pd(xh, rsv), wh));
    }
  }
}

void rmsNormBackwardRowsAvx512(const float* dy, const float* x, const float* w, const float* rstd, float* dx,
                               double* dw, int64_t r0, int64_t r1, int64_t cols) {
  for (int64_t r = r0; r < r1; r++) {
    const float* xr = x + r * cols;
    const float* gr = dy + r * cols;
    float* o = dx + r * cols;
    const __m512d rsv = _mm512_set1_pd(rstd[r]);
    __m512d gx0 = _mm512_setzero_pd(), gx1 = _mm512_setzero_pd();
    for (int64_t j = 0; j < cols; j += 16) {
      const __mmask16 k = avx::tailMask(cols - j);
      __m512d xl, xh, dl, dh, wl, wh;
      load16d(xr + j, k, xl, xh);
      load16d(gr + j, k, dl, dh);
      load16d(w + j, k, wl, wh);
      gx0 = _mm512_fmadd_pd(_mm512_mul_pd(dl, wl), _mm512_mul_pd(xl, rsv), gx0);
      gx1 = _mm512_fmadd_pd(_mm512_mul_pd(dh, wh), _mm512_mul_pd(xh, rsv), gx1);
    }
    const __m512d gxm = _mm512_set1_pd(sum2(gx0, gx1) / double(cols));
    for (int64_t j = 0; j < cols; j += 16) {
      const __mmask16 k = avx::tailMask(cols - j);
      const __mmask8 kl = loMask(k), kh = hiMask(k);
      __m512d xl, xh, dl, dh, wl, wh;
      load16d(xr + j, k, xl, xh);
      load16d(gr + j, k, dl, dh);
      load16d(w + j, k, wl, wh);
      const __m512d hl = _mm512_mul_pd(xl, rsv), hh = _mm512_mul_pd(xh, rsv);
      const __m512d ol = _mm512_mul_pd(rsv, _mm512_fnmadd_pd(hl, gxm, _mm512_mul_pd(dl, wl)));
      const __m512d oh = _mm512_mul_pd(rsv, _mm512_fnmadd_pd(hh, gxm, _mm512_mul_pd(dh, wh)));
      store16d(o + j, k, ol, oh);
      _mm512_mask_storeu_pd(dw + j, kl, _mm512_fmadd_pd(dl, hl, _mm512_maskz_loadu_pd(kl, dw + j)));
      _mm512_mask_storeu_pd(dw + j + 8, kh, _mm512_fmadd_pd(dh, hh, _mm512_maskz_loadu_pd(kh, dw + j + 8)));
    }
  }
}

LETHE_AVX512_END

// Per-ISA entry points for the norm rows.
void layerNormRows(const float* x, const float* w, const float* b, float* out, float* mean, float* rstd, int64_t r0,
                   int64_t r1, int64_t cols, double eps) {
  if (fusedUseAvx512()) layerNormRowsAvx512(x, w, b, out, mean, rstd, r0, r1, cols, eps);
  else layerNormRowsGeneric(x, w, b, out, mean, rstd, r0, r1, cols, eps);
}
void layerNormBackwardRows(const float* dy, const float* x, const float* w, const float* mean, const float* rstd,
                           float* dx, double* dw, double* db, int64_t r0, int64_t r1, int64_t cols) {
  if (fusedUseAvx512()) layerNormBackwardRowsAvx512(dy, x, w, mean, rstd, dx, dw, db, r0, r1, cols);
  else layerNormBackwardRowsGeneric(dy, x, w, mean, rstd, dx, dw, db, r0, r1, cols);
}
void rmsNormRows(const float* x, const float* w, float* out, float* rstd, int64_t r0, int64_t r1, int64_t cols,
                 double eps) {
  if (fusedUseAvx512()) rmsNormRowsAvx512(x, w, out, rstd, r0, r1, cols, eps);
  else rmsNormRowsGeneric(x, w, out, rstd, r0, r1, cols, eps);
}
void rmsNormBackwardRows(const float* dy, const float* x, const float* w, const float* rstd, float* dx, double* dw,
                         int64_t r0, int64_t r1, int64_t cols) {
  if (fusedUseAvx512()) rmsNormBackwardRowsAvx512(dy, x, w, rstd, dx, dw, r0, r1, cols);
  else rmsNormBackwardRowsGeneric(dy, x, w, rstd, dx, dw, r0, r1, cols);
}

// Adds the chunk partials in chunk order: out[j] = Σ_c part[c*cols + j], for j in [j0, j1).
LETHE_FUSED_CLONES
void sumPartials(const double* part, int64_t chunks, int64_t cols, float* out, int64_t j0, int64_t j1) {
  for (int64_t j = j0; j < j1; j++) {
    double s = 0;
    for (int64_t c = 0; c < chunks; c++) s += part[c * cols + j];
    out[j] = float(s);
  }
}

// Fixed row chunking for the dw/db reductions: depends on `rows` only (not on the thread count).
struct Chunking {
  int64_t size, count;
  explicit Chunking(int64_t rows) {
    size = (rows + 31) / 32;
    if (size < 8) size = 8;
    count = rows == 0 ? 0 : (rows + size - 1) / size;
  }
};

// Runs rowsFn(r0, r1, dwPart, dbPart) per chunk, then reduces the partials into dw (and db).
template <class F>
void normBackwardDriver(int64_t rows, int64_t cols, float* dw, float* db, F rowsFn) {
  const Chunking ch(rows);
  std::vector<double> dwPart(size_t(ch.count * cols), 0.0);
  std::vector<double> dbPart(db != nullptr ? size_t(ch.count * cols) : 0, 0.0);
  parallelTasks(ch.count, [&](int64_t c) {
    const int64_t r0 = c * ch.size, r1 = r0 + ch.size < rows ? r0 + ch.size : rows;
    rowsFn(r0, r1, dwPart.data() + c * cols, db != nullptr ? dbPart.data() + c * cols : nullptr);
  });
  parallelRange(cols, 1024, [&](int64_t j0, int64_t j1) {
    sumPartials(dwPart.data(), ch.count, cols, dw, j0, j1);
    if (db != nullptr) sumPartials(dbPart.data(), ch.count, cols, db, j0, j1);
  });
}

int64_t normGrain(int64_t cols) { return cols >= 4096 ? 1 : 4096 / (cols > 0 ? cols : 1); }

Napi::Value LayerNorm(const Napi::CallbackInfo& info) {
  ArgReader a(info, "layerNorm", 9);
  const int64_t rows = a.dim(6, "rows"), cols = a.dim(7, "cols");
  const double eps = a.number(8, "eps");
  const uint64_t n = satMul(rows, cols);
  const float* x = a.f32(0, "x", n);
  const float* w = a.f32(1, "w", cols);
  const float* b = a.f32(2, "b", cols, true);
  float* out = a.f32(3, "out", n);
  float* mean = a.f32(4, "mean", rows);
  float* rstd = a.f32(5, "rstd", rows);
  if (!a.ok()) return info.Env().Undefined();
  parallelRange(rows, normGrain(cols), [&](int64_t r0, int64_t r1) {
    layerNormRows(x, w, b, out, mean, rstd, r0, r1, cols, eps);
  });
  return info.Env().Undefined();
}

Napi::Value LayerNormBackward(const Napi::CallbackInfo& info) {
  ArgReader a(info, "layerNormBackward", 10);
  const int64_t rows = a.dim(8, "rows"), cols = a.dim(9, "cols");
  const uint64_t n = satMul(rows, cols);
  const float* dy = a.f32(0, "dy", n);
  const float* x = a.f32(1, "x", n);
  const float* w = a.f32(2, "w", cols);
  const float* mean = a.f32(3, "mean", rows);
  const float* rstd = a.f32(4, "rstd", rows);
  float* dx = a.f32(5, "dx", n);
  float* dw = a.f32(6, "dw", cols);
  float* db = a.f32(7, "db", cols, true);
  if (!a.ok()) return info.Env().Undefined();
  normBackwardDriver(rows, cols, dw, db, [&](int64_t r0, int64_t r1, double* dwp, double* dbp) {
    layerNormBackwardRows(dy, x, w, mean, rstd, dx, dwp, dbp, r0, r1, cols);
  });
  return info.Env().Undefined();
}

Napi::Value RmsNorm(const Napi::CallbackInfo& info) {
  ArgReader a(info, "rmsNorm", 7);
  const int64_t rows = a.dim(4, "rows"), cols = a.dim(5, "cols");
  const double eps = a.number(6, "eps");
  const uint64_t n = satMul(rows, cols);
  const float* x = a.f32(0, "x", n);
  const float* w = a.f32(1, "w", cols);
  float* out = a.f32(2, "out", n);
  float* rstd = a.f32(3, "rstd", rows);
  if (!a.ok()) return info.Env().Undefined();
  parallelRange(rows, normGrain(cols), [&](int64_t r0, int64_t r1) {
    rmsNormRows(x, w, out, rstd, r0, r1, cols, eps);
  });
  return info.Env().Undefined();
}

Napi::Value RmsNormBackward(const Napi::CallbackInfo& info) {
  ArgReader a(info, "rmsNormBackward", 8);
  const int64_t rows = a.dim(6, "rows"), cols = a.dim(7, "cols");
  const uint64_t n = satMul(rows, cols);
  const float* dy = a.f32(0, "dy", n);
  const float* x = a.f32(1, "x", n);
  const float* w = a.f32(2, "w", cols);
  const float* rstd = a.f32(3, "rstd", rows);
  float* dx = a.f32(4, "dx", n);
  float* dw = a.f32(5, "dw", cols);
  if (!a.ok()) return info.Env().Undefined();
  normBackwardDriver(rows, cols, dw, nullptr, [&](int64_t r0, int64_t r1, double* dwp, double*) {
    rmsNormBackwardRows(dy, x, w, rstd, dx, dwp, r0, r1, cols);
  });
  return info.Env().Undefined();
}

// ---------------------------------------------------------------------------------------------
// Rotary embedding (rotate-half). Pairs are processed in small blocks read completely before any
// is written, so out may be x. Products are formed in double (exact for float inputs) and each
// result rounded once, which is what the js reference computes.

LETHE_FUSED_CLONES
void ropeRows(const float* x, float* out, const float* cosT, const float* sinT, int64_t r0, int64_t r1, int64_t T,
              int64_t d, bool inverse) {
  constexpr int kB = 16;
  const int64_t h = d / 2;
  const double sign = inverse ? -1.0 : 1.0;
  for (int64_t r = r0; r < r1; r++) {
    const float* xr = x + r * d;
    float* o = out + r * d;
    const float* c = cosT + (r % T) * h;
    const float* s = sinT + (r % T) * h;
    for (int64_t i0 = 0; i0 < h; i0 += kB) {
      const int64_t nb = h - i0 < kB ? h - i0 : kB;
      double a1[kB], a2[kB];
      if (nb == kB) {
        for (int l = 0; l < kB; l++) {
          const double x1 = xr[i0 + l], x2 = xr[i0 + l + h], cc = c[i0 + l], ss = sign * s[i0 + l];
          a1[l] = x1 * cc - x2 * ss;
          a2[l] = x2 * cc + x1 * ss;
        }
        for (int l = 0; l < kB; l++) {
          o[i0 + l] = float(a1[l]);
          o[i0 + l + h] = float(a2[l]);
        }
      } else {
        for (int64_t l = 0; l < nb; l++) {
          const double x1 = xr[i0 + l], x2 = xr[i0 + l + h], cc = c[i0 + l], ss = sign * s[i0 + l];
          a1[l] = x1 * cc - x2 * ss;
          a2[l] = x2 * cc + x1 * ss;
        }
        for (int64_t l = 0; l < nb; l++) {
          o[i0 + l] = float(a1[l]);
          o[i0 + l + h] = float(a2[l]);
        }
      }
    }
  }
}

Napi::Value Rope(const Napi::CallbackInfo& info) {
  ArgReader a(info, "rope", 8);
  const int64_t rows = a.dim(4, "rows"), T = a.dim(5, "T"), d = a.dim(6, "d");
  const bool inverse = a.boolean(7);
  if (a.ok() && d % 2 != 0) a.rangeError("d must be even, got " + std::to_string(d));
  if (a.ok() && rows > 0 && T < 1) a.rangeError("T must be >= 1 when rows > 0");
  const uint64_t n = satMul(rows, d);
  // Positions actually read: r % T for r < rows.
  const uint64_t tab = satMul(uint64_t(rows < T ? rows : T), uint64_t(d / 2));
  const float* x = a.f32(0, "x", n);
  float* out = a.f32(1, "out", n);
  const float* cosT = a.f32(2, "cos", tab);
  const float* sinT = a.f32(3, "sin", tab);
  if (!a.ok()) return info.Env().Undefined();
  parallelRange(rows, normGrain(d), [&](int64_t r0, int64_t r1) {
    ropeRows(x, out, cosT, sinT, r0, r1, T, d, inverse);
  });
  return info.Env().Undefined();
}

// Which implementation the fused and attention kernels run on this machine: "avx512" or "generic".
Napi::Value FusedKernel(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), fusedUseAvx512() ? "avx512" : "generic");
}

}  // namespace

void InitFused(Napi::Env env, Napi::Object exports) {
  exports.Set("fusedKernel", Napi::Function::New(env, FusedKernel, "fusedKernel"));
  exports.Set("crossEntropy", Napi::Function::New(env, CrossEntropy, "crossEntropy"));
  exports.Set("crossEntropyBackward", Napi::Function::New(env, CrossEntropyBackward, "crossEntropyBackward"));
  exports.Set("layerNorm", Napi::Function::New(env, LayerNorm, "layerNorm"));
  exports.Set("layerNormBackward", Napi::Function::New(env, LayerNormBackward, "layerNormBackward"));
  exports.Set("rmsNorm", Napi::Function::New(env, RmsNorm, "rmsNorm"));
  exports.Set("rmsNormBackward", Napi::Function::New(env, RmsNormBackward, "rmsNormBackward"));
  exports.Set("rope", Napi::Function::New(env, Rope, "rope"));
}

}  // namespace lethe
