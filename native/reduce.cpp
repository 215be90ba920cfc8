// Reductions and row-wise softmax kernels: reduce (sum / max over the middle axis), sumSquares,
// softmax, logSoftmax and their backward passes (semantics: src/backend/backend.ts).
//
// Promises: sums accumulate in double (fixed lanes, fixed combination order) and every output
// element is produced by one thread from a partition that depends only on the shapes, so results
// are bit-identical for any thread count; max propagates NaN; short arrays are RangeErrors.
// Softmax rows: NaN anywhere in a row, a row of all −inf or a row holding +inf gives NaN (as the
// js reference and PyTorch). exp is ew::fastExp (<= 1 ulp).
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "common.h"
#include "elementwise-args.h"
#include "elementwise-math.h"
#include "elementwise-rows.h"
#include "thread-pool.h"

namespace lethe {
namespace {

using namespace ew;

constexpr int64_t kGrain = 32768;    // elements per parallel chunk (memory-bound work)
constexpr int64_t kGrainExp = 8192;  // elements per parallel chunk (exp per element)
constexpr int64_t kColBlock = 1024;  // inner positions reduced together when inner > 1
constexpr int64_t kMaxPieces = 64;   // most pieces the reduced axis is split into

enum ReduceOp { kSum, kMax };

// ---------------------------------------------------------------------------------------------
// reduce

// Column reduction: acc[i] (op) x[j*stride + i] for j < n, i < w (acc holds the running value).
LETHE_VEC void sumCols(const float* x, int64_t n, int64_t stride, int64_t w, double* acc) {
  sumColsInto(x, n, stride, w, acc);
}

LETHE_VEC void maxCols(const float* x, int64_t n, int64_t stride, int64_t w, float* acc) {
  maxColsInto(x, n, stride, w, acc);
}

LETHE_VEC double sumRowV(const float* x, int64_t n) { return sumRowD(x, n); }
LETHE_VEC float maxRowV(const float* x, int64_t n) { return maxRow(x, n); }

// Many short rows (inner == 1, r < kShortRow): one call for a range of rows instead of one per
// row; each row summed in order of j (in double).
constexpr int64_t kShortRow = 32;

LETHE_VEC void reduceShortRows(int op, const float* x, int64_t r, int64_t o0, int64_t o1, float* out) {
  for (int64_t o = o0; o < o1; o++) {
    const float* row = x + o * r;
    if (op == kSum) {
      double s = 0;
      for (int64_t j = 0; j < r; j++) s += double(row[j]);
      out[o] = float(s);
    } else {
      float m = -std::numeric_limits<float>::infinity();
      for (int64_t j = 0; j < r; j++) m = maxNaN(m, row[j]);
      out[o] = m;
    }
  }
}

// A work unit of reduce: a row (inner == 1) or an (outer index, column block) pair; it owns the
// outputs [offset, offset + width).
struct ReducePlan {
  int op;
  const float* x;
  int64_t outer, r, inner;
  int64_t blocks;  // column blocks per outer index (1 when inner == 1)
  int64_t tasks() const { return outer * blocks; }
  int64_t offset(int64_t t) const { return inner == 1 ? t : (t / blocks) * inner + (t % blocks) * kColBlock; }
  int64_t width(int64_t t) const {
    if (inner == 1) return 1;
    int64_t i0 = (t % blocks) * kColBlock;
    return inner - i0 < kColBlock ? inner - i0 : kColBlock;
  }
};

// Reduces task t over j in [j0, j1) into dst[0 .. width) (max values stored as double).
void reduceTask(const ReducePlan& p, int64_t t, int64_t j0, int64_t j1, double* dst) {
  const int64_t n = j1 - j0;
  if (p.inner == 1) {
    const float* row = p.x + t * p.r + j0;
    dst[0] = p.op == kSum ? sumRowV(row, n) : double(maxRowV(row, n));
    return;
  }
  const int64_t o = t / p.blocks;
  const int64_t i0 = (t % p.blocks) * kColBlock;
  const int64_t w = p.width(t);
  const float* base = p.x + (o * p.r + j0) * p.inner + i0;
  if (p.op == kSum) {
    for (int64_t i = 0; i < w; i++) dst[i] = 0;
    sumCols(base, n, p.inner, w, dst);
  } else {
    float acc[kColBlock];
    for (int64_t i = 0; i < w; i++) acc[i] = -std::numeric_limits<float>::infinity();
    maxCols(base, n, p.inner, w, acc);
    for (int64_t i = 0; i < w; i++) dst[i] = double(acc[i]);
  }
}

void Reduce(const Napi::CallbackInfo& info) {
  Args a(info, "reduce");
  int op = int(a.integer(0, "op", 0, 1));
  F32Arg x = a.f32(1, "x");
  F32Arg out = a.f32(2, "out");
  int64_t outer = a.integer(3, "outer");
  int64_t r = a.integer(4, "r");
  int64_t inner = a.integer(5, "inner");
  int64_t outs = a.mul(outer, inner, "outer * inner");
  int64_t total = a.mul(outs, r, "outer * r * inner");
  a.need(x, uint64_t(total));
  a.need(out, uint64_t(outs));
  if (!a.ok() || outs == 0) return;
  float* o = out.data;
  if (r == 0) {
    float v = op == kSum ? 0.0f : -std::numeric_limits<float>::infinity();
    for (int64_t i = 0; i < outs; i++) o[i] = v;
    return;
  }
  if (inner == 1 && r < kShortRow) {
    const float* xp = x.data;
    parallelRange(outer, kGrain / r, [&](int64_t b, int64_t e) { reduceShortRows(op, xp, r, b, e, o); });
    return;
  }
  const ReducePlan p{op, x.data, outer, r, inner, inner == 1 ? 1 : (inner + kColBlock - 1) / kColBlock};
  const int64_t tasks = p.tasks();
  const int64_t width = inner < kColBlock ? inner : kColBlock;  // outputs per task (at most)

  // Few work units over a long axis: split the axis into pieces (their number depends only on
  // the shape), reduce the pieces in parallel, then combine them in order.
  if (tasks < 8 && r * width >= 2 * kGrain) {
    int64_t rb = (kGrain + tasks * width - 1) / (tasks * width);
    int64_t minRb = (r + kMaxPieces - 1) / kMaxPieces;
    if (rb < minRb) rb = minRb;
    const int64_t pieces = (r + rb - 1) / rb;
    std::vector<double> part(static_cast<size_t>(pieces * outs));
    double* pp = part.data();
    parallelRange(pieces, 1, [&](int64_t b, int64_t e) {
      for (int64_t k = b; k < e; k++) {
        int64_t j0 = k * rb, j1 = j0 + rb < r ? j0 + rb : r;
        for (int64_t t = 0; t < tasks; t++) reduceTask(p, t, j0, j1, pp + k * outs + p.offset(t));
      }
    });
    // Fold pieces 1.. into piece 0 in order (streaming through the buffer, not across it).
    for (int64_t k = 1; k < pieces; k++) {
      const double* src = pp + k * outs;
      if (op == kSum) {
        for (int64_t i = 0; i < outs; i++) pp[i] += src[i];
      } else {
        for (int64_t i = 0; i < outs; i++) pp[i] = double(maxNaN(float(pp[i]), float(src[i])));
      }
    }
    for (int64_t i = 0; i < outs; i++) o[i] = float(pp[i]);
    return;
  }

  const int64_t perTask = r * width;
  const int64_t grain = kGrain / perTask > 1 ? kGrain / perTask : 1;
  parallelRange(tasks, grain, [&](int64_t b, int64_t e) {
    double acc[kColBlock];
    for (int64_t t = b; t < e; t++) {
      reduceTask(p, t, 0, r, acc);
      const int64_t off = p.offset(t), w = p.width(t);
      for (int64_t i = 0; i < w; i++) o[off + i] = float(acc[i]);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// sumSquares

constexpr int64_t kSquaresBlock = 16384;  // fixed blocks: the result ignores the thread count

LETHE_VEC double sumSquaresV(const float* x, int64_t n) { return sumSquaresRowD(x, n); }

Napi::Value SumSquares(const Napi::CallbackInfo& info) {
  Args a(info, "sumSquares");
  F32Arg x = a.f32(0, "x");
  if (!a.ok()) return info.Env().Undefined();
  const int64_t n = int64_t(x.length);
  const int64_t blocks = (n + kSquaresBlock - 1) / kSquaresBlock;
  std::vector<double> part(static_cast<size_t>(blocks));
  const float* xp = x.data;
  double* pp = part.data();
  parallelRange(blocks, 2, [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; k++) {
      int64_t j0 = k * kSquaresBlock, j1 = j0 + kSquaresBlock < n ? j0 + kSquaresBlock : n;
      pp[k] = sumSquaresV(xp + j0, j1 - j0);
    }
  });
  double s = 0;
  for (int64_t k = 0; k < blocks; k++) s += pp[k];
  return Napi::Number::New(info.Env(), s);
}

// ---------------------------------------------------------------------------------------------
// softmax family (rows × cols, one row per work item)

LETHE_VEC void softmaxRows(const float* x, float* out, int64_t r0, int64_t r1, int64_t cols) {
  for (int64_t row = r0; row < r1; row++) {
    const float* xr = x + row * cols;
    float* yr = out + row * cols;
    const float m = maxRow(xr, cols);
    for (int64_t j = 0; j < cols; j++) yr[j] = fastExp(xr[j] - m);
    const float inv = float(1.0 / sumRowD(yr, cols));
    for (int64_t j = 0; j < cols; j++) yr[j] *= inv;
  }
}

LETHE_VEC void logSoftmaxRows(const float* x, float* out, int64_t r0, int64_t r1, int64_t cols) {
  for (int64_t row = r0; row < r1; row++) {
    const float* xr = x + row * cols;
    float* yr = out + row * cols;
    const float m = maxRow(xr, cols);
    // out holds e^(x − max) until the log-sum is known.
    for (int64_t j = 0; j < cols; j++) yr[j] = fastExp(xr[j] - m);
    const float logSum = float(std::log(sumRowD(yr, cols)));
    for (int64_t j = 0; j < cols; j++) yr[j] = (xr[j] - m) - logSum;
  }
}

LETHE_VEC void softmaxBackwardRows(const float* y, const float* dy, float* dx, int64_t r0, int64_t r1,
                                   int64_t cols) {
  for (int64_t row = r0; row < r1; row++) {
    const int64_t off = row * cols;
    const float dot = float(dotRowD(dy + off, y + off, cols));
    for (int64_t j = 0; j < cols; j++) dx[off + j] = y[off + j] * (dy[off + j] - dot);
  }
}

LETHE_VEC void logSoftmaxBackwardRows(const float* y, const float* dy, float* dx, int64_t r0, int64_t r1,
                                      int64_t cols) {
  for (int64_t row = r0; row < r1; row++) {
    const int64_t off = row * cols;
    const float s = float(sumRowD(dy + off, cols));
    for (int64_t j = 0; j < cols; j++) dx[off + j] = dy[off + j] - fastExp(y[off + j]) * s;
  }
}

using RowsFn = void (*)(const float*, float*, int64_t, int64_t, int64_t);
using RowsBackwardFn = void (*)(const float*, const float*, float*, int64_t, int64_t, int64_t);

int64_t rowGrain(int64_t cols) { return cols > 0 && kGrainExp / cols > 1 ? kGrainExp / cols : 1; }

void rowsForward(const Napi::CallbackInfo& info, const char* kernel, RowsFn fn) {
  Args a(info, kernel);
  F32Arg x = a.f32(0, "x");
  F32Arg out = a.f32(1, "out");
  int64_t rows = a.integer(2, "rows");
  int64_t cols = a.integer(3, "cols");
  int64_t n = a.mul(rows, cols, "rows * cols");
  a.need(x, uint64_t(n));
  a.need(out, uint64_t(n));
  if (!a.ok() || n == 0) return;
  const float* xp = x.data;
  float* op = out.data;
  parallelRange(rows, rowGrain(cols), [&](int64_t b, int64_t e) { fn(xp, op, b, e, cols); });
}

void rowsBackward(const Napi::CallbackInfo& info, const char* kernel, RowsBackwardFn fn) {
  Args a(info, kernel);
  F32Arg y = a.f32(0, "y");
  F32Arg dy = a.f32(1, "dy");
  F32Arg dx = a.f32(2, "dx");
  int64_t rows = a.integer(3, "rows");
  int64_t cols = a.integer(4, "cols");
  int64_t n = a.mul(rows, cols, "rows * cols");
  a.need(y, uint64_t(n));
  a.need(dy, uint64_t(n));
  a.need(dx, uint64_t(n));
  if (!a.ok() || n == 0) return;
  const float* yp = y.data;
  const float* dyp = dy.data;
  float* dxp = dx.data;
  parallelRange(rows, rowGrain(cols), [&](int64_t b, int64_t e) { fn(yp, dyp, dxp, b, e, cols); });
}

void Softmax(const Napi::CallbackInfo& info) { rowsForward(info, "softmax", softmaxRows); }
void LogSoftmax(const Napi::CallbackInfo& info) { rowsForward(info, "logSoftmax", logSoftmaxRows); }
void SoftmaxBackward(const Napi::CallbackInfo& info) { rowsBackward(info, "softmaxBackward", softmaxBackwardRows); }
void LogSoftmaxBackward(const Napi::CallbackInfo& info) {
  rowsBackward(info, "logSoftmaxBackward", logSoftmaxBackwardRows);
}

}  // namespace

void InitReduce(Napi::Env env, Napi::Object exports) {
  exports.Set("reduce", Napi::Function::New(env, Reduce, "reduce"));
  exports.Set("sumSquares", Napi::Function::New(env, SumSquares, "sumSquares"));
  exports.Set("softmax", Napi::Function::New(env, Softmax, "softmax"));
  exports.Set("softmaxBackward", Napi::Function::New(env, SoftmaxBackward, "softmaxBackward"));
  exports.Set("logSoftmax", Napi::Function::New(env, LogSoftmax, "logSoftmax"));
  exports.Set("logSoftmaxBackward", Napi::Function::New(env, LogSoftmaxBackward, "logSoftmaxBackward"));
}

}  // namespace lethe
