// Placeholder serial implementation of thread-pool.h (the real pool replaces it).
#include "thread-pool.h"
#include "common.h"

namespace lethe {
static int gThreads = 1;
int threadCount() { return gThreads; }
void setThreadCount(int n) { gThreads = n < 1 ? 1 : n; }
void parallelTasks(int64_t tasks, const std::function<void(int64_t)>& fn) {
  for (int64_t t = 0; t < tasks; t++) fn(t);
}
void parallelRange(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  (void)grain;
  if (n > 0) fn(0, n);
}
void InitThreadPool(Napi::Env, Napi::Object) {}
}  // namespace lethe
