// Elementwise and data-movement kernels: unary (+ backward), affine, broadcasting binary and
// where, copyStrided, gather and scatterAdd (semantics: src/backend/backend.ts).
//
// Promises: every array is checked against the elements the dims say will be touched before any
// kernel runs (a short array is a RangeError naming it); results do not depend on the thread
// count (each output element is computed by exactly one thread in a fixed order; scatterAdd adds
// repeated rows in ascending source order); NaN propagates as in the js reference (no fast-math).
// exp, tanh and the normal CDF are vectorised (ew::fastExp <= 1 ulp, ew::fastTanh <= 2 ulp,
// gelu_erf <= ~8 ulp); log comes from <cmath>.
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "common.h"
#include "elementwise-args.h"
#include "elementwise-math.h"
#include "elementwise-strided.h"
#include "thread-pool.h"

namespace lethe {
namespace {

using namespace ew;

// Elements per parallel chunk: cheap ops move memory, costly ones (exp, libm calls) compute.
constexpr int64_t kGrainCheap = 32768;
constexpr int64_t kGrainExp = 8192;
constexpr int64_t kGrainLibm = 2048;

// ---------------------------------------------------------------------------------------------
// unary

enum Unary { kNeg, kExp, kLog, kSqrt, kTanh, kRelu, kSigmoid, kGeluTanh, kGeluErf, kSilu, kAbs, kUnaryCount };

int64_t unaryGrain(int op) {
  switch (op) {
    case kNeg: case kRelu: case kAbs: case kSqrt: return kGrainCheap;
    case kExp: case kTanh: case kSigmoid: case kGeluTanh: case kGeluErf: case kSilu: return kGrainExp;
    default: return kGrainLibm;
  }
}

// sigmoid(2·sqrt(2/pi)·(x + 0.044715x³)) = (1 + tanh(·))/2, so gelu_tanh(x) = x·that.
LETHE_INLINE float geluTanhGate(float x) {
  float inner = kSqrt2OverPi * (x + kGeluCubic * x * x * x);
  return fastSigmoid(2.0f * inner);
}

template <int OP>
LETHE_INLINE float unaryF(float x) {
  if constexpr (OP == kNeg) return -x;
  if constexpr (OP == kExp) return fastExp(x);
  if constexpr (OP == kLog) return std::log(x);
  if constexpr (OP == kSqrt) return std::sqrt(x);
  if constexpr (OP == kTanh) return fastTanh(x);
  if constexpr (OP == kRelu) return x > 0.0f ? x : (x != x ? x : 0.0f);  // relu(NaN) = NaN
  if constexpr (OP == kSigmoid) return fastSigmoid(x);
  if constexpr (OP == kGeluTanh) return x * geluTanhGate(x);
  if constexpr (OP == kGeluErf) return geluErf(x);
  if constexpr (OP == kSilu) return x * fastSigmoid(x);
  if constexpr (OP == kAbs) return std::fabs(x);
  return x;
}

// f'(x), NaN whenever x is NaN (as the reference: relu'(NaN) = abs'(NaN) = NaN).
template <int OP>
LETHE_INLINE float unaryD(float x) {
  if constexpr (OP == kNeg) return -1.0f;
  if constexpr (OP == kExp) return fastExp(x);  // (dy·e^x is taken by unaryBackwardRun)
  if constexpr (OP == kLog) return 1.0f / x;  // (dy/x is taken by unaryBackwardRun)
  if constexpr (OP == kSqrt) return 0.5f / std::sqrt(x);
  if constexpr (OP == kTanh) return 4.0f * logistic(2.0f * x).slope;  // 1 − tanh² = 4σ(2x)(1 − σ(2x))
  if constexpr (OP == kRelu) return x > 0.0f ? 1.0f : (x != x ? x : 0.0f);
  if constexpr (OP == kSigmoid) return logistic(x).slope;
  if constexpr (OP == kGeluTanh) {
    // d/dx x·σ(2u), u = sqrt(2/pi)(x + 0.044715x³): σ(2u) + x·2σ'(2u)·u'.
    Logistic l = logistic(2.0f * kSqrt2OverPi * (x + kGeluCubic * x * x * x));
    float dInner = kSqrt2OverPi * (1.0f + 3.0f * kGeluCubic * x * x);
    return l.s + 2.0f * x * l.slope * dInner;
  }
  if constexpr (OP == kGeluErf) return geluErfGrad(x);
  if constexpr (OP == kSilu) {
    Logistic l = logistic(x);
    return l.s * (1.0f + x * l.oneMinusS);
  }
  if constexpr (OP == kAbs) return x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : x * 0.0f);  // sign; 0·NaN = NaN
  return 0.0f;
}

template <int OP>
LETHE_VEC void unaryRun(const float* x, float* out, int64_t n) {
  for (int64_t i = 0; i < n; i++) out[i] = unaryF<OP>(x[i]);
}

template <int OP>
LETHE_VEC void unaryBackwardRun(const float* x, const float* dy, float* dx, int64_t n) {
  if constexpr (OP == kExp) {
    for (int64_t i = 0; i < n; i++) dx[i] = fastExpMul(x[i], dy[i]);  // finite where e^x overflows
  } else if constexpr (OP == kLog) {
    for (int64_t i = 0; i < n; i++) dx[i] = dy[i] / x[i];  // 1/x overflows for subnormal x
  } else {
    for (int64_t i = 0; i < n; i++) dx[i] = dy[i] * unaryD<OP>(x[i]);
  }
}

template <int OP>
void unaryOp(const float* x, float* out, int64_t n) {
  parallelRange(n, unaryGrain(OP), [&](int64_t b, int64_t e) { unaryRun<OP>(x + b, out + b, e - b); });
}

template <int OP>
void unaryBackwardOp(const float* x, const float* dy, float* dx, int64_t n) {
  parallelRange(n, unaryGrain(OP),
                [&](int64_t b, int64_t e) { unaryBackwardRun<OP>(x + b, dy + b, dx + b, e - b); });
}

// Expands `CASE(code)` for every unary op code.
#define LETHE_UNARY_CASES(CASE)                                                                     \
  CASE(0) CASE(1) CASE(2) CASE(3) CASE(4) CASE(5) CASE(6) CASE(7) CASE(8) CASE(9) CASE(10)

void Unary_(const Napi::CallbackInfo& info) {
  Args a(info, "unary");
  int op = int(a.integer(0, "op", 0, kUnaryCount - 1));
  F32Arg x = a.f32(1, "x");
  F32Arg out = a.f32(2, "out");
  a.need(x, out.length);
  if (!a.ok()) return;
  int64_t n = int64_t(out.length);
  switch (op) {
#define CASE(k) \
  case k: unaryOp<k>(x.data, out.data, n); break;
    LETHE_UNARY_CASES(CASE)
#undef CASE
  }
}

void UnaryBackward(const Napi::CallbackInfo& info) {
  Args a(info, "unaryBackward");
  int op = int(a.integer(0, "op", 0, kUnaryCount - 1));
  F32Arg x = a.f32(1, "x");
  F32Arg dy = a.f32(2, "dy");
  F32Arg dx = a.f32(3, "dx");
  a.need(x, dx.length);
  a.need(dy, dx.length);
  if (!a.ok()) return;
  int64_t n = int64_t(dx.length);
  switch (op) {
#define CASE(k) \
  case k: unaryBackwardOp<k>(x.data, dy.data, dx.data, n); break;
    LETHE_UNARY_CASES(CASE)
#undef CASE
  }
}

// ---------------------------------------------------------------------------------------------
// affine

LETHE_VEC void affineRun(const float* x, float* out, int64_t n, float scale, float shift) {
  for (int64_t i = 0; i < n; i++) out[i] = x[i] * scale + shift;
}

void Affine(const Napi::CallbackInfo& info) {
  Args a(info, "affine");
  F32Arg x = a.f32(0, "x");
  F32Arg out = a.f32(1, "out");
  float scale = float(a.number(2, "scale"));
  float shift = float(a.number(3, "shift"));
  a.need(x, out.length);
  if (!a.ok()) return;
  const float* xp = x.data;
  float* op = out.data;
  parallelRange(int64_t(out.length), kGrainCheap,
                [&](int64_t b, int64_t e) { affineRun(xp + b, op + b, e - b, scale, shift); });
}

// ---------------------------------------------------------------------------------------------
// Shape / stride arguments shared by binary, where and copyStrided.

// Reads `shape` and the N stride arrays (same length as shape), checks dims >= 0 and returns the
// element count (0 on error or for an empty shape).
template <int N>
int64_t readShape(Args& a, const I32Arg& shape, const I32Arg (&strides)[N]) {
  if (!a.ok()) return 0;
  for (int j = 0; j < N; j++) {
    if (strides[j].length != shape.length) {
      a.rangeError(std::string(strides[j].name) + " has " + std::to_string(strides[j].length) +
                   " entries but shape has " + std::to_string(shape.length));
      return 0;
    }
  }
  int64_t total = 1;
  for (size_t d = 0; d < shape.length; d++) {
    if (shape.data[d] < 0) {
      a.rangeError("shape[" + std::to_string(d) + "] is negative (" + std::to_string(shape.data[d]) + ")");
      return 0;
    }
    total = a.mul(total, shape.data[d], "the shape's element count");
  }
  return total;
}

// Every element `arr` is read or written at must lie inside it.
template <typename T>
void needExtent(Args& a, const ArrayArg<T>& arr, int64_t base, const I32Arg& shape, const I32Arg& strides) {
  if (!a.ok()) return;
  Extent e = stridedExtent(base, shape.data, strides.data, int64_t(shape.length));
  if (e.lo < 0) {
    a.rangeError(std::string(arr.name) + ": the offset and " + strides.name + " reach below element 0");
  } else if (e.hi >= __int128(arr.length)) {
    a.rangeError(std::string(arr.name) + " has " + std::to_string(arr.length) + " elements but the shape and " +
                 strides.name + " reach element " + std::to_string(int64_t(e.hi)));
  }
}

// Contiguous row-major strides of `shape` (the output's); the caller has checked that the
// element count fits in int32 (typed arrays are shorter than 2^32 bytes anyway).
void contiguousStrides(const I32Arg& shape, int32_t* out) {
  int64_t s = 1;
  for (size_t d = shape.length; d-- > 0;) {
    out[d] = int32_t(s);
    s *= shape.data[d] > 0 ? shape.data[d] : 1;
  }
}

void needInt32Count(Args& a, int64_t total) {
  if (total > INT32_MAX) a.rangeError("more than 2^31 - 1 output elements are not supported");
}

// Innermost-stride class of a coalesced plan operand: 0 broadcast, 1 contiguous, 2 general.
template <int N>
int strideMode(const StridedPlan<N>& p, int j) {
  int64_t s = p.stride[j][p.nd - 1];
  return s == 0 ? 0 : (s == 1 ? 1 : 2);
}

// ---------------------------------------------------------------------------------------------
// binary

enum Binary { kAdd, kSub, kMul, kDiv, kMaximum, kPow, kEq, kGt, kBinaryCount };

template <int OP>
LETHE_INLINE float binaryF(float a, float b) {
  if constexpr (OP == kAdd) return a + b;
  if constexpr (OP == kSub) return a - b;
  if constexpr (OP == kMul) return a * b;
  if constexpr (OP == kDiv) return a / b;
  if constexpr (OP == kMaximum) return maxNaN(a, b);
  // C pow is the contract's (pow(1, NaN) = 1, pow(-1, ±inf) = 1); double then one rounding.
  if constexpr (OP == kPow) return float(std::pow(double(a), double(b)));
  if constexpr (OP == kEq) return a == b ? 1.0f : 0.0f;
  if constexpr (OP == kGt) return a > b ? 1.0f : 0.0f;
  return 0.0f;
}

// One run of n outputs; AM/BM are the operands' stride classes (0 broadcast, 1 unit, 2 general).
template <int OP, int AM, int BM>
LETHE_INLINE void binaryRunInline(const float* a, int64_t as, const float* b, int64_t bs, float* o, int64_t n) {
  if constexpr (AM == 0 && BM == 0) {
    float v = binaryF<OP>(a[0], b[0]);
    for (int64_t i = 0; i < n; i++) o[i] = v;
  } else if constexpr (AM == 0) {
    const float av = a[0];
    if constexpr (BM == 1)
      for (int64_t i = 0; i < n; i++) o[i] = binaryF<OP>(av, b[i]);
    else
      for (int64_t i = 0; i < n; i++) o[i] = binaryF<OP>(av, b[i * bs]);
  } else if constexpr (BM == 0) {
    const float bv = b[0];
    if constexpr (OP == kPow) {
      // Common exponents without the libm call; each is exactly what pow gives.
      if (bv == 2.0f) {
        for (int64_t i = 0; i < n; i++) {
          float av = AM == 1 ? a[i] : a[i * as];
          o[i] = av * av;
        }
        return;
      }
      if (bv == 1.0f) {
        for (int64_t i = 0; i < n; i++) o[i] = AM == 1 ? a[i] : a[i * as];
        return;
      }
    }
    if constexpr (AM == 1)
      for (int64_t i = 0; i < n; i++) o[i] = binaryF<OP>(a[i], bv);
    else
      for (int64_t i = 0; i < n; i++) o[i] = binaryF<OP>(a[i * as], bv);
  } else {
    for (int64_t i = 0; i < n; i++) {
      float av = AM == 1 ? a[i] : a[i * as];
      float bv = BM == 1 ? b[i] : b[i * bs];
      o[i] = binaryF<OP>(av, bv);
    }
  }
}

// Operand order in the plan: 0 = out, 1 = a, 2 = b.
template <int OP, int AM, int BM>
LETHE_VEC void binaryChunk(const StridedPlan<3>* p, const float* a, const float* b, float* out, int64_t begin,
                           int64_t end) {
  const int64_t base[3] = {0, 0, 0};
  const int64_t as = p->stride[1][p->nd - 1], bs = p->stride[2][p->nd - 1];
  walkStrided<3>(*p, base, begin, end, [&](const int64_t* off, int64_t n) {
    binaryRunInline<OP, AM, BM>(a + off[1], as, b + off[2], bs, out + off[0], n);
  });
}

template <int OP, int AM, int BM>
void binaryRun(const StridedPlan<3>& p, const float* a, const float* b, float* out) {
  int64_t grain = OP == kPow ? kGrainLibm : kGrainCheap;
  parallelRange(p.total, grain, [&](int64_t begin, int64_t end) {
    binaryChunk<OP, AM, BM>(&p, a, b, out, begin, end);
  });
}

template <int OP>
void binaryDispatch(const StridedPlan<3>& p, const float* a, const float* b, float* out) {
  switch (strideMode(p, 1) * 3 + strideMode(p, 2)) {
    case 0: binaryRun<OP, 0, 0>(p, a, b, out); break;
    case 1: binaryRun<OP, 0, 1>(p, a, b, out); break;
    case 2: binaryRun<OP, 0, 2>(p, a, b, out); break;
    case 3: binaryRun<OP, 1, 0>(p, a, b, out); break;
    case 4: binaryRun<OP, 1, 1>(p, a, b, out); break;
    case 5: binaryRun<OP, 1, 2>(p, a, b, out); break;
    case 6: binaryRun<OP, 2, 0>(p, a, b, out); break;
    case 7: binaryRun<OP, 2, 1>(p, a, b, out); break;
    default: binaryRun<OP, 2, 2>(p, a, b, out); break;
  }
}

void Binary_(const Napi::CallbackInfo& info) {
  Args a(info, "binary");
  int op = int(a.integer(0, "op", 0, kBinaryCount - 1));
  F32Arg x = a.f32(1, "a");
  F32Arg y = a.f32(2, "b");
  F32Arg out = a.f32(3, "out");
  I32Arg shape = a.i32(4, "shape");
  I32Arg strides[2] = {a.i32(5, "aStrides"), a.i32(6, "bStrides")};
  int64_t total = readShape<2>(a, shape, strides);
  needInt32Count(a, total);
  a.need(out, uint64_t(total));
  if (total > 0) {
    needExtent(a, x, 0, shape, strides[0]);
    needExtent(a, y, 0, shape, strides[1]);
  }
  if (!a.ok() || total == 0) return;
  std::vector<int32_t> outStrides(shape.length + 1);
  contiguousStrides(shape, outStrides.data());
  const int32_t* st[3] = {outStrides.data(), strides[0].data, strides[1].data};
  StridedPlan<3> plan;
  buildStridedPlan<3>(plan, shape.data, st, int64_t(shape.length), total);
  switch (op) {
    case kAdd: binaryDispatch<kAdd>(plan, x.data, y.data, out.data); break;
    case kSub: binaryDispatch<kSub>(plan, x.data, y.data, out.data); break;
    case kMul: binaryDispatch<kMul>(plan, x.data, y.data, out.data); break;
    case kDiv: binaryDispatch<kDiv>(plan, x.data, y.data, out.data); break;
    case kMaximum: binaryDispatch<kMaximum>(plan, x.data, y.data, out.data); break;
    case kPow: binaryDispatch<kPow>(plan, x.data, y.data, out.data); break;
    case kEq: binaryDispatch<kEq>(plan, x.data, y.data, out.data); break;
    default: binaryDispatch<kGt>(plan, x.data, y.data, out.data); break;
  }
}

// ---------------------------------------------------------------------------------------------
// where

// Operand order in the plan: 0 = out, 1 = cond, 2 = a, 3 = b. UNIT: every inner stride is 1.
template <bool UNIT>
LETHE_VEC void whereChunk(const StridedPlan<4>* p, const float* c, const float* a, const float* b, float* out,
                          int64_t begin, int64_t end) {
  const int64_t base[4] = {0, 0, 0, 0};
  const int last = p->nd - 1;
  const int64_t cs = p->stride[1][last], as = p->stride[2][last], bs = p->stride[3][last];
  walkStrided<4>(*p, base, begin, end, [&](const int64_t* off, int64_t n) {
    const float* cp = c + off[1];
    const float* ap = a + off[2];
    const float* bp = b + off[3];
    float* op = out + off[0];
    if constexpr (UNIT) {
      for (int64_t i = 0; i < n; i++) op[i] = cp[i] != 0.0f ? ap[i] : bp[i];
    } else {
      for (int64_t i = 0; i < n; i++) op[i] = cp[i * cs] != 0.0f ? ap[i * as] : bp[i * bs];
    }
  });
}

void Where(const Napi::CallbackInfo& info) {
  Args a(info, "where");
  F32Arg c = a.f32(0, "cond");
  F32Arg x = a.f32(1, "a");
  F32Arg y = a.f32(2, "b");
  F32Arg out = a.f32(3, "out");
  I32Arg shape = a.i32(4, "shape");
  I32Arg strides[3] = {a.i32(5, "condStrides"), a.i32(6, "aStrides"), a.i32(7, "bStrides")};
  int64_t total = readShape<3>(a, shape, strides);
  needInt32Count(a, total);
  a.need(out, uint64_t(total));
  if (total > 0) {
    needExtent(a, c, 0, shape, strides[0]);
    needExtent(a, x, 0, shape, strides[1]);
    needExtent(a, y, 0, shape, strides[2]);
  }
  if (!a.ok() || total == 0) return;
  std::vector<int32_t> outStrides(shape.length + 1);
  contiguousStrides(shape, outStrides.data());
  const int32_t* st[4] = {outStrides.data(), strides[0].data, strides[1].data, strides[2].data};
  StridedPlan<4> plan;
  buildStridedPlan<4>(plan, shape.data, st, int64_t(shape.length), total);
  bool unit = strideMode(plan, 1) == 1 && strideMode(plan, 2) == 1 && strideMode(plan, 3) == 1;
  const StridedPlan<4>* pp = &plan;
  parallelRange(total, kGrainCheap, [&](int64_t begin, int64_t end) {
    if (unit) whereChunk<true>(pp, c.data, x.data, y.data, out.data, begin, end);
    else whereChunk<false>(pp, c.data, x.data, y.data, out.data, begin, end);
  });
}

// ---------------------------------------------------------------------------------------------
// copyStrided

// Operand order in the plan: 0 = dst, 1 = src.
template <bool ACC>
LETHE_VEC void copyChunk(const StridedPlan<2>* p, const float* src, float* dst, int64_t srcOff, int64_t dstOff,
                         int64_t begin, int64_t end) {
  const int64_t base[2] = {dstOff, srcOff};
  const int last = p->nd - 1;
  const int64_t ds = p->stride[0][last], ss = p->stride[1][last];
  walkStrided<2>(*p, base, begin, end, [&](const int64_t* off, int64_t n) {
    float* d = dst + off[0];
    const float* s = src + off[1];
    if (ds == 1 && ss == 1) {
      if constexpr (ACC) {
        for (int64_t i = 0; i < n; i++) d[i] += s[i];
      } else {
        std::memcpy(d, s, size_t(n) * sizeof(float));
      }
    } else if (ds == 1 && ss == 0) {
      const float v = s[0];
      if constexpr (ACC) {
        for (int64_t i = 0; i < n; i++) d[i] += v;
      } else {
        for (int64_t i = 0; i < n; i++) d[i] = v;
      }
    } else if (ds == 1) {
      if constexpr (ACC) {
        for (int64_t i = 0; i < n; i++) d[i] += s[i * ss];
      } else {
        for (int64_t i = 0; i < n; i++) d[i] = s[i * ss];
      }
    } else {
      if constexpr (ACC) {
        for (int64_t i = 0; i < n; i++) d[i * ds] += s[i * ss];
      } else {
        for (int64_t i = 0; i < n; i++) d[i * ds] = s[i * ss];
      }
    }
  });
}

// A 2-d transpose-like copy (innermost dim contiguous in dst, the next one contiguous in src):
// walks tiles so that both sides stay in cache. Handles plan dims (outer..., R, C) where
// dst strides are (..., ds0, 1) and src strides (..., 1, ss1).
constexpr int64_t kTile = 64;  // 16 KiB buffer; measured best of 32..256 on a 2048² transpose

template <bool ACC>
LETHE_VEC void transposeTiles(const StridedPlan<2>* p, const float* src, float* dst, int64_t srcOff,
                              int64_t dstOff, int64_t tBegin, int64_t tEnd) {
  const int nd = p->nd;
  const int64_t R = p->shape[nd - 2], C = p->shape[nd - 1];
  const int64_t ds0 = p->stride[0][nd - 2], ss1 = p->stride[1][nd - 1];
  const int64_t tilesR = (R + kTile - 1) / kTile, tilesC = (C + kTile - 1) / kTile;
  // The tile goes through a small buffer: src rows are read contiguously into it, dst rows are
  // written contiguously from it, so each cache line of either side is touched once per tile
  // (a direct strided walk thrashes L1 when the row pitch is a power of two).
  float buf[kTile][kTile];
  for (int64_t t = tBegin; t < tEnd; t++) {
    int64_t outer = t / (tilesR * tilesC);
    int64_t tr = (t / tilesC) % tilesR, tc = t % tilesC;
    // Offsets of the outer index `outer` (dims 0 .. nd-3).
    int64_t dOff = dstOff, sOff = srcOff, rem = outer;
    for (int d = nd - 3; d >= 0; d--) {
      int64_t i = rem % p->shape[d];
      rem /= p->shape[d];
      dOff += i * p->stride[0][d];
      sOff += i * p->stride[1][d];
    }
    const int64_t r0 = tr * kTile, rn = r0 + kTile < R ? kTile : R - r0;
    const int64_t c0 = tc * kTile, cn = c0 + kTile < C ? kTile : C - c0;
    // dst(r, c) = src at sOff + r + c·ss1: src "row" c is contiguous over r.
    for (int64_t c = 0; c < cn; c++) {
      const float* s = src + sOff + (c0 + c) * ss1 + r0;
      for (int64_t r = 0; r < rn; r++) buf[c][r] = s[r];
    }
    for (int64_t r = 0; r < rn; r++) {
      float* d = dst + dOff + (r0 + r) * ds0 + c0;
      for (int64_t c = 0; c < cn; c++) {
        if constexpr (ACC) d[c] += buf[c][r];
        else d[c] = buf[c][r];
      }
    }
  }
}

void CopyStrided(const Napi::CallbackInfo& info) {
  Args a(info, "copyStrided");
  F32Arg src = a.f32(0, "src");
  int64_t srcOff = a.integer(1, "srcOffset");
  I32Arg srcStrides = a.i32(2, "srcStrides");
  F32Arg dst = a.f32(3, "dst");
  int64_t dstOff = a.integer(4, "dstOffset");
  I32Arg dstStrides = a.i32(5, "dstStrides");
  I32Arg shape = a.i32(6, "shape");
  bool acc = a.boolean(7);
  I32Arg strides[2] = {dstStrides, srcStrides};
  int64_t total = readShape<2>(a, shape, strides);
  if (total > 0) {
    needExtent(a, src, srcOff, shape, srcStrides);
    needExtent(a, dst, dstOff, shape, dstStrides);
  }
  if (!a.ok() || total == 0) return;
  const int32_t* st[2] = {dstStrides.data, srcStrides.data};
  StridedPlan<2> plan;
  buildStridedPlan<2>(plan, shape.data, st, int64_t(shape.length), total);
  const StridedPlan<2>* pp = &plan;
  const float* s = src.data;
  float* d = dst.data;

  // A dst stride of 0 on a real dim writes one element many times: keep the serial order.
  bool serial = false;
  for (int k = 0; k < plan.nd; k++)
    if (plan.shape[k] > 1 && plan.stride[0][k] == 0) serial = true;

  const int nd = plan.nd;
  bool transpose = !serial && nd >= 2 && plan.stride[0][nd - 1] == 1 && plan.stride[1][nd - 1] != 1 &&
                   plan.stride[1][nd - 2] == 1 && plan.shape[nd - 1] >= 8 && plan.shape[nd - 2] >= 8;
  if (transpose) {
    int64_t R = plan.shape[nd - 2], C = plan.shape[nd - 1];
    int64_t tiles = (total / (R * C)) * ((R + kTile - 1) / kTile) * ((C + kTile - 1) / kTile);
    parallelRange(tiles, kGrainCheap / (kTile * kTile), [&](int64_t b, int64_t e) {
      if (acc) transposeTiles<true>(pp, s, d, srcOff, dstOff, b, e);
      else transposeTiles<false>(pp, s, d, srcOff, dstOff, b, e);
    });
    return;
  }
  auto chunk = [&](int64_t b, int64_t e) {
    if (acc) copyChunk<true>(pp, s, d, srcOff, dstOff, b, e);
    else copyChunk<false>(pp, s, d, srcOff, dstOff, b, e);
  };
  if (serial) chunk(0, total);
  else parallelRange(total, kGrainCheap, chunk);
}

// ---------------------------------------------------------------------------------------------
// gather / scatterAdd

// Checks idx[i] in [0, rows) for all i; RangeError naming the first bad one.
bool checkIndices(Args& a, const I32Arg& idx, int64_t rows, const char* what) {
  if (!a.ok()) return false;
  for (size_t i = 0; i < idx.length; i++) {
    int32_t v = idx.data[i];
    if (v < 0 || int64_t(v) >= rows) {
      a.rangeError(std::string(idx.name) + "[" + std::to_string(i) + "] = " + std::to_string(v) + " is outside the " +
                   std::to_string(rows) + " rows of " + what);
      return false;
    }
  }
  return true;
}

void Gather(const Napi::CallbackInfo& info) {
  Args a(info, "gather");
  F32Arg table = a.f32(0, "table");
  I32Arg idx = a.i32(1, "idx");
  F32Arg out = a.f32(2, "out");
  int64_t cols = a.integer(3, "cols");
  int64_t n = int64_t(idx.length);
  a.need(out, uint64_t(a.mul(n, cols, "idx.length * cols")));
  if (!a.ok() || cols == 0 || n == 0) return;
  if (!checkIndices(a, idx, int64_t(table.length) / cols, "table")) return;
  const float* t = table.data;
  const int32_t* ix = idx.data;
  float* o = out.data;
  int64_t grain = kGrainCheap / cols > 1 ? kGrainCheap / cols : 1;
  parallelRange(n, grain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; i++)
      std::memcpy(o + i * cols, t + int64_t(ix[i]) * cols, size_t(cols) * sizeof(float));
  });
}

// Column slice [c0, c1) of every row, rows in ascending source order.
LETHE_VEC void scatterCols(const float* src, const int32_t* idx, float* dst, int64_t n, int64_t cols, int64_t c0,
                           int64_t c1) {
  for (int64_t i = 0; i < n; i++) {
    float* d = dst + int64_t(idx[i]) * cols;
    const float* s = src + i * cols;
    for (int64_t c = c0; c < c1; c++) d[c] += s[c];
  }
}

// Only destination rows in [r0, r1), in ascending source order.
LETHE_VEC void scatterRows(const float* src, const int32_t* idx, float* dst, int64_t n, int64_t cols, int64_t r0,
                           int64_t r1) {
  for (int64_t i = 0; i < n; i++) {
    int64_t r = idx[i];
    if (r < r0 || r >= r1) continue;
    float* d = dst + r * cols;
    const float* s = src + i * cols;
    for (int64_t c = 0; c < cols; c++) d[c] += s[c];
  }
}

void ScatterAdd(const Napi::CallbackInfo& info) {
  Args a(info, "scatterAdd");
  F32Arg src = a.f32(0, "src");
  I32Arg idx = a.i32(1, "idx");
  F32Arg dst = a.f32(2, "dst");
  int64_t cols = a.integer(3, "cols");
  int64_t n = int64_t(idx.length);
  a.need(src, uint64_t(a.mul(n, cols, "idx.length * cols")));
  if (!a.ok() || cols == 0 || n == 0) return;
  int64_t rows = int64_t(dst.length) / cols;
  if (!checkIndices(a, idx, rows, "dst")) return;
  const float* s = src.data;
  const int32_t* ix = idx.data;
  float* d = dst.data;
  // Each thread owns disjoint dst elements and adds in source order, so the result is the same
  // for any thread count: wide rows split by columns, narrow ones by destination row ranges.
  if (n * cols < kGrainCheap) {
    scatterCols(s, ix, d, n, cols, 0, cols);
  } else if (cols >= 256) {
    parallelRange(cols, 128, [&](int64_t c0, int64_t c1) { scatterCols(s, ix, d, n, cols, c0, c1); });
  } else {
    parallelRange(rows, 1, [&](int64_t r0, int64_t r1) { scatterRows(s, ix, d, n, cols, r0, r1); });
  }
}

}  // namespace

void InitElementwise(Napi::Env env, Napi::Object exports) {
  exports.Set("unary", Napi::Function::New(env, Unary_, "unary"));
  exports.Set("unaryBackward", Napi::Function::New(env, UnaryBackward, "unaryBackward"));
  exports.Set("affine", Napi::Function::New(env, Affine, "affine"));
  exports.Set("binary", Napi::Function::New(env, Binary_, "binary"));
  exports.Set("where", Napi::Function::New(env, Where, "where"));
  exports.Set("copyStrided", Napi::Function::New(env, CopyStrided, "copyStrided"));
  exports.Set("gather", Napi::Function::New(env, Gather, "gather"));
  exports.Set("scatterAdd", Napi::Function::New(env, ScatterAdd, "scatterAdd"));
}

}  // namespace lethe
