// Placeholder: this concern's kernels are being written.
#include "common.h"

namespace lethe {
void InitGemm(Napi::Env, Napi::Object) {}
}  // namespace lethe
