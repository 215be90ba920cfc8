// Placeholder: this concern's kernels are being written.
#include "common.h"

namespace lethe {
void InitReduce(Napi::Env, Napi::Object) {}
}  // namespace lethe
