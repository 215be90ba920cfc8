// The process-wide thread pool behind thread-pool.h.
//
// Promises (see the header): T threads in total including the caller; task t always runs on
// thread t % T (thread 0 is the caller); workers block on their own condition variable between
// jobs, so an idle pool costs no CPU; nested calls, and calls made while another JS thread owns
// the pool, run serially on the calling thread. Only the workers that have a task are woken.
// The caller may poll the completion counter for up to 100 µs before it sleeps (it has finished
// its own share by then, so this is the tail of a job in progress; polling is bounded).
// The addon is built with -fno-exceptions: tasks must not throw.
//
// Latency: a job reaches a parked worker in ~3-5 µs on bare metal, but ~15-25 µs on the KVM dev
// machines, where a parked worker's idle vCPU must be woken by the host. Kernels should only
// go parallel for work well above that (the GEMM waits for ~3M multiply-adds). For experiments,
// LETHE_POOL_SPIN_US=N (read once, default 0, at most 1000) lets a worker poll for N µs after a
// job before it parks: back-to-back kernels then find it awake, at the cost of that much CPU.
#include "thread-pool.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "common.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define LETHE_CPU_RELAX() _mm_pause()
#else
#define LETHE_CPU_RELAX() std::this_thread::yield()
#endif

namespace lethe {
namespace {

constexpr int kMaxThreads = 256;
// Bounded poll of the caller for the last worker before it sleeps. The caller has done its own
// share, so the rest is due within about one wake-up latency; sleeping instead would add a
// second wake-up (~15-25 µs in a VM) to every job.
constexpr auto kCallerPoll = std::chrono::microseconds(100);

struct Worker {
  std::mutex mu;
  std::condition_variable cv;
  std::atomic<uint64_t> posted{0};  // generation of the last job posted to this worker
  bool stop = false;
  std::thread thread;
};

struct Pool {
  std::mutex dispatch;  // held by the one caller whose job the pool is running
  std::atomic<int> threads{0};  // total including the caller
  std::vector<std::unique_ptr<Worker>> workers;  // workers[w-1] is thread w

  // The current job; written by the caller before posting, read by workers after their
  // worker mutex is taken (the mutex orders the accesses).
  const std::function<void(int64_t)>* fn = nullptr;
  int64_t tasks = 0;
  std::atomic<int> remaining{0};
  std::mutex doneMu;
  std::condition_variable doneCv;
};

int defaultThreads();
void resize(Pool& p, int n);

// Started on first use with hardware_concurrency() threads. Never destroyed: workers may still
// be parked when the process exits, and a static destructor joining them would race with
// addon teardown.
Pool& pool() {
  static Pool* p = [] {
    Pool* q = new Pool();
    resize(*q, defaultThreads());
    return q;
  }();
  return *p;
}

thread_local bool tInJob = false;

void runShare(Pool& p, int self, int total) {
  const std::function<void(int64_t)>& fn = *p.fn;
  for (int64_t t = self; t < p.tasks; t += total) fn(t);
}

int spinMicros() {
  const char* env = std::getenv("LETHE_POOL_SPIN_US");
  const long v = env ? std::strtol(env, nullptr, 10) : 0;
  return v < 0 ? 0 : v > 1000 ? 1000 : static_cast<int>(v);
}

void workerLoop(Pool& p, Worker& w, int self) {
  tInJob = true;  // anything a task calls runs inline on this worker
  static const int spinUs = spinMicros();
  uint64_t seen = 0;
  for (;;) {
    if (spinUs > 0) {
      const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(spinUs);
      for (int i = 1; w.posted.load(std::memory_order_acquire) == seen; i++) {
        LETHE_CPU_RELAX();
        if (i % 32 == 0 && std::chrono::steady_clock::now() > until) break;
      }
    }
    int total;
    {
      std::unique_lock<std::mutex> lk(w.mu);
      w.cv.wait(lk, [&] { return w.stop || w.posted.load(std::memory_order_relaxed) != seen; });
      if (w.stop) return;
      seen = w.posted.load(std::memory_order_relaxed);
      total = p.threads.load(std::memory_order_relaxed);
    }
    runShare(p, self, total);
    if (p.remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard<std::mutex> lk(p.doneMu);
      p.doneCv.notify_one();
    }
  }
}

void stopWorkers(Pool& p) {
  for (auto& w : p.workers) {
    {
      std::lock_guard<std::mutex> lk(w->mu);
      w->stop = true;
    }
    w->cv.notify_one();
  }
  for (auto& w : p.workers) w->thread.join();
  p.workers.clear();
}

// Caller holds p.dispatch.
void resize(Pool& p, int n) {
  if (n == p.threads.load()) return;
  stopWorkers(p);
  p.threads.store(n);
  for (int i = 1; i < n; i++) {
    p.workers.push_back(std::make_unique<Worker>());
    Worker* w = p.workers.back().get();
    w->thread = std::thread([&p, w, i] { workerLoop(p, *w, i); });
  }
}

int defaultThreads() {
  unsigned hc = std::thread::hardware_concurrency();
  if (hc < 1) return 1;
  return hc > static_cast<unsigned>(kMaxThreads) ? kMaxThreads : static_cast<int>(hc);
}

}  // namespace

int threadCount() { return pool().threads.load(std::memory_order_relaxed); }

void setThreadCount(int n) {
  if (n < 1) n = 1;
  if (n > kMaxThreads) n = kMaxThreads;
  if (tInJob) return;  // cannot resize from inside a job
  Pool& p = pool();
  std::lock_guard<std::mutex> lk(p.dispatch);
  resize(p, n);
}

void parallelTasks(int64_t tasks, const std::function<void(int64_t)>& fn) {
  if (tasks <= 0) return;
  Pool& p = pool();
  std::unique_lock<std::mutex> owner(p.dispatch, std::defer_lock);
  if (tasks == 1 || tInJob || !owner.try_lock()) {
    for (int64_t t = 0; t < tasks; t++) fn(t);
    return;
  }
  const int total = p.threads.load(std::memory_order_relaxed);
  const int used = tasks < total ? static_cast<int>(tasks) : total;
  if (used == 1) {
    owner.unlock();
    for (int64_t t = 0; t < tasks; t++) fn(t);
    return;
  }

  p.fn = &fn;
  p.tasks = tasks;
  p.remaining.store(used - 1, std::memory_order_release);
  for (int i = 1; i < used; i++) {
    Worker& w = *p.workers[i - 1];
    {
      std::lock_guard<std::mutex> lk(w.mu);
      w.posted.fetch_add(1, std::memory_order_release);
    }
    w.cv.notify_one();
  }

  tInJob = true;
  runShare(p, 0, total);
  tInJob = false;

  if (p.remaining.load(std::memory_order_acquire) != 0) {
    const auto until = std::chrono::steady_clock::now() + kCallerPoll;
    for (int i = 1; p.remaining.load(std::memory_order_acquire) != 0; i++) {
      LETHE_CPU_RELAX();
      if (i % 32 == 0 && std::chrono::steady_clock::now() > until) break;
    }
  }
  if (p.remaining.load(std::memory_order_acquire) != 0) {
    std::unique_lock<std::mutex> lk(p.doneMu);
    p.doneCv.wait(lk, [&] { return p.remaining.load(std::memory_order_acquire) == 0; });
  }
  p.fn = nullptr;
}

void parallelRange(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  if (grain < 1) grain = 1;
  int64_t chunks = n / grain;
  const int64_t total = tInJob ? 1 : threadCount();
  if (chunks > total) chunks = total;
  if (chunks <= 1) {
    fn(0, n);
    return;
  }
  parallelTasks(chunks, [&](int64_t t) { fn(n * t / chunks, n * (t + 1) / chunks); });
}

static Napi::Value GetThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), threadCount());
}

static Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    Napi::TypeError::New(env, "setThreads(n): n must be an integer >= 1").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const double n = info[0].As<Napi::Number>().DoubleValue();
  if (!(n >= 1 && n <= kMaxThreads) || n != static_cast<double>(static_cast<int>(n))) {
    Napi::TypeError::New(env, "setThreads(n): n must be an integer in [1, " + std::to_string(kMaxThreads) +
                                  "], got " + info[0].ToString().Utf8Value())
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  setThreadCount(static_cast<int>(n));
  return env.Undefined();
}

void InitThreadPool(Napi::Env env, Napi::Object exports) {
  exports.Set("getThreads", Napi::Function::New(env, GetThreads, "getThreads"));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads, "setThreads"));
}

}  // namespace lethe
