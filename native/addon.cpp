// Entry point of the lethe native addon: every concern adds its kernels to `exports`.
#include "common.h"

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  lethe::InitThreadPool(env, exports);
  lethe::InitGemm(env, exports);
  lethe::InitElementwise(env, exports);
  lethe::InitReduce(env, exports);
  lethe::InitFused(env, exports);
  lethe::InitAttention(env, exports);
  lethe::InitOptim(env, exports);
  lethe::InitPool(env, exports);
  return exports;
}

NODE_API_MODULE(lethe_native, Init)
