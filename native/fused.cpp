// Placeholder: this concern's kernels are being written.
#include "common.h"

namespace lethe {
void InitFused(Napi::Env, Napi::Object) {}
}  // namespace lethe
