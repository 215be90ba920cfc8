// The GEMM behind gemm.h and the `matmul` / `gemmKernel` exports (no BLAS).
//
// BLIS-style: for each NC-wide column block and KC-deep slice, op(B) is packed into NR-wide
// panels and op(A), MC rows at a time, into MR-tall panels; transposes and strides are absorbed
// by the packing, so NN, NT, TN and TT run the same micro-kernel on the same layout. Buffers are
// per thread, 64-byte aligned, allocated once and grown only when a larger block is needed.
//
// Shapes that would waste the register tile: with m < MR a row-major op(B) is read in place
// (no packing, each element is used once); with n < NR/2 the transposed product C^T =
// op(B)^T·op(A)^T is computed instead, its tiles stored transposed.
//
// Determinism: every C element is computed as (FMA chain over each KC slice, in order) added to
// C slice after slice, with KC slices fixed by k alone. Threads split only the M and N (and
// batch) dimensions, never K, and no path changes that arithmetic, so results are bit-identical
// run to run, for any thread count, and a row (column) of C does not depend on m (n): a batch of
// one gives the same bits as the same row inside a larger batch. Zero blocks are never skipped,
// so NaN/Inf in A or B reach C.
#include "gemm.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>

#include "common.h"
#include "gemm-kernels.h"
#include "thread-pool.h"

namespace lethe {
namespace {

using gemmk::MicroKernelSet;
using gemmk::microKernels;

// Below this many multiply-adds (~30 µs on one core) a GEMM is not worth waking a parked worker
// for: on the KVM dev machines that takes ~15-25 µs (see thread-pool.cpp).
constexpr double kParallelMinMacs = 3.0e6;

// op(A) rows [0, mc) × [0, kc) into ceil(mc/MR) panels of kc×MR; rows past mc are zero.
// A points at op(A)[0][0]: A[i*lda + p] when !transA, A[p*lda + i] when transA.
void packA(const MicroKernelSet& K, bool transA, const float* A, int64_t lda, int64_t mc, int64_t kc, float* Ap) {
  const int mr = K.mr;
  if (transA) {
    K.packRows(A, lda, mc, kc, mr, Ap);
    return;
  }
  for (int64_t i0 = 0; i0 < mc; i0 += mr, Ap += kc * mr)
    K.packTransposed(A + i0 * lda, lda, std::min<int64_t>(mr, mc - i0), kc, mr, Ap);
}

// op(B) [0, kc) × columns [0, nc) into ceil(nc/NR) panels of kc×NR; columns past nc are zero.
// B points at op(B)[0][0]: B[p*ldb + j] when !transB, B[j*ldb + p] when transB.
void packB(const MicroKernelSet& K, bool transB, const float* B, int64_t ldb, int64_t kc, int64_t nc, float* Bp) {
  const int nr = K.nr;
  if (!transB) {
    K.packRows(B, ldb, nc, kc, nr, Bp);
    return;
  }
  for (int64_t j0 = 0; j0 < nc; j0 += nr, Bp += kc * nr)
    K.packTransposed(B + j0 * ldb, ldb, std::min<int64_t>(nr, nc - j0), kc, nr, Bp);
}

// Per-thread packing buffers, reused across calls (grown, never shrunk).
struct PackBuffers {
  float* a = nullptr;
  float* b = nullptr;
  size_t aCap = 0, bCap = 0;
  PackBuffers() = default;
  PackBuffers(const PackBuffers&) = delete;
  PackBuffers& operator=(const PackBuffers&) = delete;
  ~PackBuffers() {
    std::free(a);
    std::free(b);
  }
  static bool grow(float*& p, size_t& cap, size_t floats) {
    if (floats <= cap) return true;
    std::free(p);
    const size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
    p = static_cast<float*>(std::aligned_alloc(64, bytes));
    cap = p ? floats : 0;
    return p != nullptr;
  }
};
thread_local PackBuffers tPack;

// One product C = op(A)·op(B) (or +=). With transC the product's element (i, j) lives at
// C[j*ldc + i]: a problem with a narrow op(B) is solved as its transpose, C^T = op(B)^T·op(A)^T,
// whose wide side fills the register tile (the products and their order are unchanged).
struct Problem {
  bool transA, transB;
  int64_t m, n, k;
  const float* A;
  int64_t lda;
  const float* B;
  int64_t ldb;
  float* C;
  int64_t ldc;
  bool accumulate, transC;

  // The sub-problem of rows [i0, i1) and columns [j0, j1).
  Problem block(int64_t i0, int64_t i1, int64_t j0, int64_t j1) const {
    Problem q = *this;
    q.m = i1 - i0;
    q.n = j1 - j0;
    q.A = transA ? A + i0 : A + i0 * lda;
    q.B = transB ? B + j0 * ldb : B + j0;
    q.C = transC ? C + j0 * ldc + i0 : C + i0 * ldc + j0;
    return q;
  }
};

// Unblocked reference used only if the packing buffers cannot be allocated.
void gemmNaive(const Problem& P) {
  for (int64_t i = 0; i < P.m; i++)
    for (int64_t j = 0; j < P.n; j++) {
      float s = 0.0f;
      for (int64_t p = 0; p < P.k; p++)
        s += (P.transA ? P.A[p * P.lda + i] : P.A[i * P.lda + p]) *
             (P.transB ? P.B[j * P.ldb + p] : P.B[p * P.ldb + j]);
      float& c = P.transC ? P.C[j * P.ldc + i] : P.C[i * P.ldc + j];
      c = P.accumulate ? c + s : s;
    }
}

// The whole product on the calling thread (m, n, k >= 1).
void gemmSerial(const Problem& P) {
  const MicroKernelSet& K = microKernels();
  const int mr = K.mr, nr = K.nr;
  const int64_t m = P.m, n = P.n, k = P.k, lda = P.lda, ldb = P.ldb, ldc = P.ldc;
  const int64_t kcMax = std::min(K.kc, k);
  const int64_t mcMax = std::min(K.mc, (m + mr - 1) / mr * mr);
  const int64_t ncMax = std::min(K.nc, (n + nr - 1) / nr * nr);
  if (!PackBuffers::grow(tPack.a, tPack.aCap, static_cast<size_t>(mcMax * kcMax)) ||
      !PackBuffers::grow(tPack.b, tPack.bCap, static_cast<size_t>(ncMax * kcMax))) {
    gemmNaive(P);
    return;
  }
  float* const Ap = tPack.a;
  float* const Bp = tPack.b;
  alignas(64) float edge[16 * 64];  // one MR×NR tile for partial tiles (MR*NR <= 1024)
  // Fewer rows than one register tile: each B element is used once, so a row-major op(B) is
  // read in place instead of packed (full NR panels only; same arithmetic as the packed path).
  const bool directB = m < mr && !P.transB;

  for (int64_t jc = 0; jc < n; jc += K.nc) {
    const int64_t nc = std::min(K.nc, n - jc);
    for (int64_t pc = 0; pc < k; pc += K.kc) {
      const int64_t kc = std::min(K.kc, k - pc);
      const bool add = P.accumulate || pc > 0;
      const float* bBlock = P.transB ? P.B + jc * ldb + pc : P.B + pc * ldb + jc;
      const int64_t ncPacked = directB ? nc % nr : nc;  // directB packs only the last partial panel
      packB(K, P.transB, bBlock + (nc - ncPacked), ldb, kc, ncPacked, Bp);
      for (int64_t ic = 0; ic < m; ic += K.mc) {
        const int64_t mc = std::min(K.mc, m - ic);
        packA(K, P.transA, P.transA ? P.A + pc * lda + ic : P.A + ic * lda + pc, lda, mc, kc, Ap);
        // One A micro-panel stays in L1 while the B panels stream from L2.
        for (int64_t ir = 0; ir < mc; ir += mr) {
          const int64_t rows = std::min<int64_t>(mr, mc - ir);
          const float* ap = Ap + ir * kc;
          for (int64_t jr = 0; jr < nc; jr += nr) {
            const int64_t cols = std::min<int64_t>(nr, nc - jr);
            const bool inPlace = directB && cols == nr;
            const float* bp = inPlace ? bBlock + jr : Bp + (jr - (nc - ncPacked)) * kc;
            const int64_t bStep = inPlace ? ldb : nr;
            const int64_t i0 = ic + ir, j0 = jc + jr;
            if (!P.transC && rows == mr && cols == nr) {
              K.kernel(kc, ap, bp, bStep, P.C + i0 * ldc + j0, ldc, add);
              continue;
            }
            K.kernel(kc, ap, bp, bStep, edge, nr, false);
            for (int64_t i = 0; i < rows; i++) {
              const float* ei = edge + i * nr;
              if (P.transC) {
                float* c = P.C + j0 * ldc + i0 + i;
                for (int64_t j = 0; j < cols; j++) c[j * ldc] = add ? c[j * ldc] + ei[j] : ei[j];
                continue;
              }
              float* ci = P.C + (i0 + i) * ldc + j0;
              if (add)
                for (int64_t j = 0; j < cols; j++) ci[j] += ei[j];
              else
                std::memcpy(ci, ei, sizeof(float) * cols);
            }
          }
        }
      }
    }
  }
}

struct Grid {
  int64_t tm = 1, tn = 1;
};

// Split the MR/NR panels of C into tm×tn contiguous blocks (tm*tn <= T) minimising the largest
// block; ties go to fewer blocks, then to splitting N (each thread then packs only its B part).
Grid chooseGrid(int64_t m, int64_t n, int T, const MicroKernelSet& K) {
  const int64_t mPanels = (m + K.mr - 1) / K.mr, nPanels = (n + K.nr - 1) / K.nr;
  Grid best;
  int64_t bestCost = mPanels * K.mr * nPanels * K.nr;
  for (int64_t tm = 1; tm <= T && tm <= mPanels; tm++) {
    for (int64_t tn = 1; tm * tn <= T && tn <= nPanels; tn++) {
      const int64_t cost = (mPanels + tm - 1) / tm * K.mr * ((nPanels + tn - 1) / tn) * K.nr;
      const int64_t blocks = tm * tn, bestBlocks = best.tm * best.tn;
      if (cost < bestCost || (cost == bestCost && (blocks < bestBlocks || (blocks == bestBlocks && tn > best.tn)))) {
        best = {tm, tn};
        bestCost = cost;
      }
    }
  }
  return best;
}

}  // namespace

void sgemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k, const float* A, int64_t lda,
           const float* B, int64_t ldb, float* C, int64_t ldc, bool accumulate, bool parallel) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (!accumulate)
      for (int64_t i = 0; i < m; i++) std::memset(C + i * ldc, 0, sizeof(float) * n);
    return;
  }
  const MicroKernelSet& K = microKernels();
  Problem P{transA, transB, m, n, k, A, lda, B, ldb, C, ldc, accumulate, false};
  // A narrow op(B) would waste most of each NR-wide tile: solve C^T = op(B)^T·op(A)^T instead.
  if (2 * n < K.nr && m > n) P = {!transB, !transA, n, m, k, B, ldb, A, lda, C, ldc, accumulate, true};

  const int T = parallel ? threadCount() : 1;
  if (T > 1 && static_cast<double>(m) * n * k >= kParallelMinMacs) {
    const Grid g = chooseGrid(P.m, P.n, T, K);
    if (g.tm * g.tn > 1) {
      const int64_t mPanels = (P.m + K.mr - 1) / K.mr, nPanels = (P.n + K.nr - 1) / K.nr;
      parallelTasks(g.tm * g.tn, [&](int64_t t) {
        const int64_t bi = t / g.tn, bj = t % g.tn;
        const int64_t i0 = mPanels * bi / g.tm * K.mr, i1 = std::min(P.m, mPanels * (bi + 1) / g.tm * K.mr);
        const int64_t j0 = nPanels * bj / g.tn * K.nr, j1 = std::min(P.n, nPanels * (bj + 1) / g.tn * K.nr);
        if (i1 > i0 && j1 > j0) gemmSerial(P.block(i0, i1, j0, j1));
      });
      return;
    }
  }
  gemmSerial(P);
}

const char* gemmKernelName() { return microKernels().name; }

// ---------------------------------------------------------------------------------------------
// N-API glue

namespace {

bool fail(Napi::Env env, bool range, const std::string& msg) {
  if (range)
    Napi::RangeError::New(env, "matmul: " + msg).ThrowAsJavaScriptException();
  else
    Napi::TypeError::New(env, "matmul: " + msg).ThrowAsJavaScriptException();
  return false;
}

// A non-negative integer argument (at most 2^53 - 1).
bool dimArg(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t& out) {
  if (!info[i].IsNumber()) return fail(info.Env(), false, std::string(name) + " must be a number");
  const double v = info[i].As<Napi::Number>().DoubleValue();
  if (!(v >= 0 && v <= 9007199254740991.0) || v != static_cast<double>(static_cast<int64_t>(v)))
    return fail(info.Env(), true, std::string(name) + " must be a non-negative integer, got " +
                                      info[i].ToString().Utf8Value());
  out = static_cast<int64_t>(v);
  return true;
}

// The array must hold (batch-1)*stride + rows*cols elements.
bool extentOk(const Napi::CallbackInfo& info, const char* name, size_t have, int64_t batch, int64_t stride,
              int64_t rows, int64_t cols) {
  int64_t need = 0, last = 0;
  const bool overflow = __builtin_mul_overflow(rows, cols, &need) ||
                        __builtin_mul_overflow(batch - 1, stride, &last) || __builtin_add_overflow(need, last, &need);
  if (overflow || static_cast<uint64_t>(need) > have) {
    return fail(info.Env(), true,
                std::string(name) + " is too short: the dims and stride need " +
                    (overflow ? std::string("more than 2^63") : std::to_string(need)) + " elements, it has " +
                    std::to_string(have));
  }
  return true;
}

Napi::Value Matmul(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 13) {
    fail(env, false, "expected 13 arguments (a, b, c, batch, m, n, k, transA, transB, strideA, strideB, strideC, "
                     "accumulate), got " + std::to_string(info.Length()));
    return env.Undefined();
  }
  // (an empty array may have a null data pointer, so a pending exception is the error signal)
  const float* a = f32(info, 0);
  if (env.IsExceptionPending()) return env.Undefined();
  const float* b = f32(info, 1);
  if (env.IsExceptionPending()) return env.Undefined();
  float* c = f32(info, 2);
  if (env.IsExceptionPending()) return env.Undefined();
  int64_t batch, m, n, k, strideA, strideB, strideC;
  if (!dimArg(info, 3, "batch", batch) || !dimArg(info, 4, "m", m) || !dimArg(info, 5, "n", n) ||
      !dimArg(info, 6, "k", k) || !dimArg(info, 9, "strideA", strideA) || !dimArg(info, 10, "strideB", strideB) ||
      !dimArg(info, 11, "strideC", strideC))
    return env.Undefined();
  const bool transA = flag(info, 7), transB = flag(info, 8), accumulate = flag(info, 12);
  if (batch == 0 || m == 0 || n == 0) return env.Undefined();  // nothing is read or written
  if (!extentOk(info, "c", f32Len(info, 2), batch, strideC, m, n)) return env.Undefined();
  if (k > 0 && (!extentOk(info, "a", f32Len(info, 0), batch, strideA, m, k) ||
                !extentOk(info, "b", f32Len(info, 1), batch, strideB, k, n)))
    return env.Undefined();

  const int64_t lda = transA ? m : k, ldb = transB ? k : n, ldc = n;
  auto one = [&](int64_t i, bool parallel) {
    const float* ai = k > 0 ? a + i * strideA : a;  // with k = 0, a and b may be empty
    const float* bi = k > 0 ? b + i * strideB : b;
    sgemm(transA, transB, m, n, k, ai, lda, bi, ldb, c + i * strideC, ldc, accumulate, parallel);
  };
  const int T = threadCount();
  const double macs = static_cast<double>(m) * n * k;
  // Items of C that overlap (strideC < m*n, e.g. 0 to sum over the batch) run in batch order.
  const bool disjoint = strideC >= m * n;
  if (batch == 1 || T == 1 || !disjoint || macs * batch < kParallelMinMacs) {
    for (int64_t i = 0; i < batch; i++) one(i, true);
    return env.Undefined();
  }
  // Many small products (attention heads): whole items per thread, contiguous ranges. Large
  // items whose count does not divide evenly are better split inside each product.
  if (batch % T == 0 || batch >= 4 * T || macs < 128.0 * 128.0 * 128.0) {
    parallelRange(batch, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; i++) one(i, false);
    });
    return env.Undefined();
  }
  for (int64_t i = 0; i < batch; i++) one(i, true);
  return env.Undefined();
}

Napi::Value GemmKernel(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), gemmKernelName()); }

}  // namespace

void InitGemm(Napi::Env env, Napi::Object exports) {
  exports.Set("matmul", Napi::Function::New(env, Matmul, "matmul"));
  exports.Set("gemmKernel", Napi::Function::New(env, GemmKernel, "gemmKernel"));
}

}  // namespace lethe
