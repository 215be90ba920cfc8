// Optimiser kernels: one AdamW step in place (semantics: src/backend/backend.ts).
//
// Promise: PyTorch torch.optim.AdamW (single-tensor, non-amsgrad, non-capturable) step order:
//   p ← p·(1 − lr·wd);  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;
//   p ← p − (lr / (1−β1^step)) · m / (sqrt(v) / sqrt(1−β2^step) + eps),
// with the scalar factors computed in double and the per-element arithmetic in float, as PyTorch
// does for float32 parameters. Elementwise, so the result does not depend on the thread count.
#include <cmath>

#include "common.h"
#include "elementwise-args.h"
#include "elementwise-math.h"
#include "thread-pool.h"

namespace lethe {
namespace {

struct AdamScalars {
  float decay;     // 1 − lr·wd
  float beta1, oneMinusBeta1;
  float beta2, oneMinusBeta2;
  float stepSize;  // lr / (1 − β1^step)
  float bc2Sqrt;   // sqrt(1 − β2^step)
  float eps;
};

LETHE_VEC void adamwRun(float* p, const float* g, float* m, float* v, int64_t n, const AdamScalars* s) {
  const float decay = s->decay, b1 = s->beta1, c1 = s->oneMinusBeta1, b2 = s->beta2, c2 = s->oneMinusBeta2;
  const float stepSize = s->stepSize, bc2Sqrt = s->bc2Sqrt, eps = s->eps;
  for (int64_t i = 0; i < n; i++) {
    const float gi = g[i];
    const float mi = b1 * m[i] + c1 * gi;
    const float vi = b2 * v[i] + c2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    const float denom = std::sqrt(vi) / bc2Sqrt + eps;
    p[i] = p[i] * decay - stepSize * mi / denom;
  }
}

void Adamw(const Napi::CallbackInfo& info) {
  Args a(info, "adamw");
  F32Arg p = a.f32(0, "p");
  F32Arg g = a.f32(1, "g");
  F32Arg m = a.f32(2, "m");
  F32Arg v = a.f32(3, "v");
  double lr = a.number(4, "lr");
  double beta1 = a.number(5, "beta1");
  double beta2 = a.number(6, "beta2");
  double eps = a.number(7, "eps");
  double wd = a.number(8, "weightDecay");
  int64_t step = a.integer(9, "step", 1);
  a.need(g, p.length);
  a.need(m, p.length);
  a.need(v, p.length);
  if (!a.ok()) return;
  const double bc1 = 1.0 - std::pow(beta1, double(step));
  const double bc2 = 1.0 - std::pow(beta2, double(step));
  AdamScalars s;
  s.decay = float(1.0 - lr * wd);
  s.beta1 = float(beta1);
  s.oneMinusBeta1 = float(1.0 - beta1);
  s.beta2 = float(beta2);
  s.oneMinusBeta2 = float(1.0 - beta2);
  s.stepSize = float(lr / bc1);
  s.bc2Sqrt = float(std::sqrt(bc2));
  s.eps = float(eps);
  float* pp = p.data;
  const float* gp = g.data;
  float* mp = m.data;
  float* vp = v.data;
  const AdamScalars* sp = &s;
  parallelRange(int64_t(p.length), 16384,
                [&](int64_t b, int64_t e) { adamwRun(pp + b, gp + b, mp + b, vp + b, e - b, sp); });
}

}  // namespace

void InitOptim(Napi::Env env, Napi::Object exports) {
  exports.Set("adamw", Napi::Function::New(env, Adamw, "adamw"));
}

}  // namespace lethe
