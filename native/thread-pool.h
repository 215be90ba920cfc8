// One process-wide pool of worker threads shared by every kernel. Workers sleep on a condition
// variable between jobs (no spinning), the calling thread takes part in every job, and work is
// split into a fixed number of contiguous chunks that depends only on the thread count, so
// results are deterministic for a given LETHE_THREADS.
#pragma once
#include <cstdint>
#include <functional>

namespace lethe {

// Current number of threads (>= 1), including the calling thread.
int threadCount();
// Resize the pool to n threads in total (n >= 1). Not to be called while a job runs.
void setThreadCount(int n);

// Runs fn(task) for every task in [0, tasks) across the pool and returns when all are done.
// Task t is always run by thread (t % threadCount()), so any per-thread state is deterministic.
// Nested calls (fn calling parallelTasks) run serially on the calling thread.
void parallelTasks(int64_t tasks, const std::function<void(int64_t task)>& fn);

// Splits [0, n) into at most threadCount() contiguous chunks of at least `grain` items and runs
// fn(begin, end) on each; small n runs inline on the calling thread. Chunk boundaries depend
// only on (n, grain, threadCount()).
void parallelRange(int64_t n, int64_t grain, const std::function<void(int64_t begin, int64_t end)>& fn);

}  // namespace lethe
