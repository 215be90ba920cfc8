// The buffer pool: Float32Arrays backed by reused memory, so that a training step does not pay for
// fresh pages (mmap, a page fault and the kernel's zeroing per 4 KB) on every op output.
//
// Promises:
// - `empty(n)` returns a Float32Array of n elements whose contents are unspecified (the caller
//   overwrites every element); `zeros(n)` returns one filled with +0.
// - Blocks are 64-byte aligned (page aligned from 256 KB up). No transparent huge pages: on the
//   dev machines they slowed the GEMM by a third (physically contiguous 2 MB pages make the
//   power-of-two row strides of the models collide in the caches).
// - A block is handed out again only after V8 has freed the ArrayBuffer that held it: the
//   BackingStore's deleter is the one way back into the pool, so a buffer still referenced from
//   JS can never be reused. The deleter may run on a V8 background thread; the pool is guarded
//   by a mutex and never destroyed (deleters may run during teardown).
// - V8 accounts every such ArrayBuffer's byte length as external memory, so allocation pressure
//   drives garbage collection exactly as for `new Float32Array(n)`.
// - At most `limit` bytes sit unused in the cache (default: a quarter of physical memory,
//   LETHE_POOL_MB overrides, 0 disables caching); beyond it the least recently returned blocks
//   are freed back to the system. A block is also freed once kMaxAge further allocations have
//   passed without reusing it, so a workload whose sizes drift (generation with a growing KV
//   cache) does not keep stale sizes: a training loop reuses every block once per step.
// Raw V8 is used instead of napi_create_external_arraybuffer because Node may defer that API's
// finalizers to the event loop, which a synchronous training loop never reaches.
#include <sys/mman.h>
#include <unistd.h>
#include <v8.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <list>
#include <map>
#include <mutex>

#include "common.h"
#include "thread-pool.h"

namespace lethe {
namespace {

constexpr size_t kAlign = 64;
constexpr size_t kPage = 4096;
// From this capacity up blocks are mapped directly (returned to the system when evicted).
constexpr size_t kMapMin = size_t(256) << 10;
// A cached block serves a request up to this fraction (1/kSlack) larger than the request.
constexpr size_t kSlack = 8;
// A cached block unused for this many allocations is freed.
constexpr uint64_t kMaxAge = 8192;
// Zero-filling splits across the thread pool from this many bytes.
constexpr int64_t kParallelZero = int64_t(1) << 20;

struct Block {
  void* data;
  size_t cap;
  uint64_t returned;  // allocation clock when it came back
};

struct Pool {
  std::mutex mu;
  std::list<Block> lru;  // cached blocks, most recently returned first
  std::multimap<size_t, std::list<Block>::iterator> bySize;
  size_t cached = 0;  // bytes in lru
  size_t live = 0;    // bytes handed out and not yet returned
  size_t limit = 0;
  uint64_t clock = 0;  // allocations so far
  uint64_t hits = 0, misses = 0, evictions = 0;
};

size_t defaultLimit() {
  if (const char* env = std::getenv("LETHE_POOL_MB")) {
    char* end = nullptr;
    unsigned long long mb = std::strtoull(env, &end, 10);
    if (end != env && *end == '\0') return size_t(mb) << 20;
  }
  long pages = sysconf(_SC_PHYS_PAGES);
  long size = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || size <= 0) return size_t(1) << 30;
  return size_t(pages) * size_t(size) / 4;
}

Pool& pool() {
  static Pool* p = [] {
    Pool* q = new Pool();
    q->limit = defaultLimit();
    return q;
  }();
  return *p;
}

size_t roundUp(size_t v, size_t to) { return (v + to - 1) / to * to; }

// Capacity for a request: page multiples (so a slightly smaller request can reuse a block).
size_t capacityFor(size_t bytes) { return roundUp(bytes, kPage); }

// New memory from the system. Mapped blocks arrive zeroed (`zeroed` is set for them).
void* systemAlloc(size_t cap, bool* zeroed) {
  *zeroed = false;
  if (cap < kMapMin) {
    void* p = nullptr;
    return posix_memalign(&p, kAlign, cap) == 0 ? p : nullptr;
  }
  void* p = mmap(nullptr, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  *zeroed = true;
  return p;
}

void systemFree(void* p, size_t cap) {
  if (cap < kMapMin) std::free(p);
  else munmap(p, cap);
}

// Removes the least recently returned block from the cache (lock held, cache not empty).
Block popOldest(Pool& p) {
  Block b = p.lru.back();
  const auto last = std::prev(p.lru.end());
  auto range = p.bySize.equal_range(b.cap);
  for (auto it = range.first; it != range.second; ++it) {
    if (it->second == last) {
      p.bySize.erase(it);
      break;
    }
  }
  p.lru.pop_back();
  p.cached -= b.cap;
  p.evictions++;
  return b;
}

// Called by V8 (any thread) when an ArrayBuffer's backing store dies: back into the cache.
void returnBlock(void* data, size_t /*length*/, void* deleterData) {
  const size_t cap = reinterpret_cast<uintptr_t>(deleterData);
  Pool& p = pool();
  Block evict[16];
  int nEvict = 0;
  bool freeNow = false;
  {
    std::lock_guard<std::mutex> lock(p.mu);
    p.live -= cap;
    if (cap > p.limit) {
      freeNow = true;
    } else {
      p.lru.push_front({data, cap, p.clock});
      p.bySize.emplace(cap, p.lru.begin());
      p.cached += cap;
      // Evict the least recently returned blocks (freed outside the lock, a few at a time).
      while (p.cached > p.limit && nEvict < 16) evict[nEvict++] = popOldest(p);
    }
  }
  if (freeNow) systemFree(data, cap);
  for (int i = 0; i < nEvict; i++) systemFree(evict[i].data, evict[i].cap);
}

// A block of at least `bytes` (capacity in *cap); *zeroed when its memory is known to be zero.
void* takeBlock(size_t bytes, size_t* cap, bool* zeroed) {
  Pool& p = pool();
  const size_t want = capacityFor(bytes);
  Block stale[4];
  int nStale = 0;
  void* found = nullptr;
  {
    std::lock_guard<std::mutex> lock(p.mu);
    p.clock++;
    while (nStale < 4 && !p.lru.empty() && p.lru.back().returned + kMaxAge < p.clock) stale[nStale++] = popOldest(p);
    auto it = p.bySize.lower_bound(want);
    if (it != p.bySize.end() && it->first <= want + want / kSlack) {
      Block b = *it->second;
      p.lru.erase(it->second);
      p.bySize.erase(it);
      p.cached -= b.cap;
      p.live += b.cap;
      p.hits++;
      *cap = b.cap;
      *zeroed = false;
      found = b.data;
    } else {
      p.misses++;
    }
  }
  for (int i = 0; i < nStale; i++) systemFree(stale[i].data, stale[i].cap);
  if (found) return found;
  void* data = systemAlloc(want, zeroed);
  if (!data) return nullptr;
  std::lock_guard<std::mutex> lock(p.mu);
  p.live += want;
  *cap = want;
  return data;
}

void zeroFill(void* data, size_t bytes) {
  if (int64_t(bytes) < kParallelZero) {
    std::memset(data, 0, bytes);
    return;
  }
  char* base = static_cast<char*>(data);
  // Chunks of whole cache lines; the boundaries only affect speed, never the result.
  const int64_t lines = int64_t(roundUp(bytes, kAlign) / kAlign);
  parallelRange(lines, kParallelZero / int64_t(kAlign), [&](int64_t b, int64_t e) {
    const size_t from = size_t(b) * kAlign;
    const size_t to = std::min(bytes, size_t(e) * kAlign);
    if (to > from) std::memset(base + from, 0, to - from);
  });
}

// napi_value is V8's Local<Value> handle under another name (Node's N-API passes it through
// unchanged); this hands a V8 value created here back to node-addon-api.
napi_value toNapi(v8::Local<v8::Value> v) {
  static_assert(sizeof(v8::Local<v8::Value>) == sizeof(napi_value), "napi_value is a V8 handle");
  napi_value out;
  std::memcpy(&out, &v, sizeof out);
  return out;
}

Napi::Value Make(const Napi::CallbackInfo& info, bool zero, const char* name) {
  Napi::Env env = info.Env();
  const double d = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : -1;
  // V8's largest typed array length on 64-bit hosts is 2^32 elements (Node 20).
  if (!(d >= 0 && d <= 4294967296.0 && d == double(int64_t(d)))) {
    Napi::RangeError::New(env, std::string(name) + "(n): n must be an integer in [0, 2^32]")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const size_t n = size_t(d);
  const size_t bytes = n * sizeof(float);
  if (n == 0) return Napi::Float32Array::New(env, 0);
  size_t cap = 0;
  bool zeroed = false;
  void* data = takeBlock(bytes, &cap, &zeroed);
  if (!data) {
    Napi::RangeError::New(env, std::string(name) + ": out of memory allocating " + std::to_string(bytes) +
                                   " bytes")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (zero && !zeroed) zeroFill(data, bytes);
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  std::shared_ptr<v8::BackingStore> store =
      v8::ArrayBuffer::NewBackingStore(data, bytes, returnBlock, reinterpret_cast<void*>(uintptr_t(cap)));
  v8::Local<v8::ArrayBuffer> buffer = v8::ArrayBuffer::New(isolate, std::move(store));
  v8::Local<v8::Float32Array> array = v8::Float32Array::New(buffer, 0, n);
  return Napi::Value(env, toNapi(array));
}

Napi::Value Empty(const Napi::CallbackInfo& info) { return Make(info, false, "empty"); }
Napi::Value Zeros(const Napi::CallbackInfo& info) { return Make(info, true, "zeros"); }

// { live, cached, limit, hits, misses, evictions } (bytes and counts) for tests and profiles.
Napi::Value Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Pool& p = pool();
  std::lock_guard<std::mutex> lock(p.mu);
  Napi::Object o = Napi::Object::New(env);
  o.Set("live", double(p.live));
  o.Set("cached", double(p.cached));
  o.Set("limit", double(p.limit));
  o.Set("hits", double(p.hits));
  o.Set("misses", double(p.misses));
  o.Set("evictions", double(p.evictions));
  return o;
}

// poolLimit(bytes): set the cache limit (freeing what is over it); returns the previous limit.
Napi::Value Limit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const double d = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : -1;
  if (!(d >= 0 && d <= 9007199254740992.0)) {
    Napi::RangeError::New(env, "poolLimit(bytes): bytes must be a number >= 0").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Pool& p = pool();
  std::list<Block> freed;
  size_t prev;
  {
    std::lock_guard<std::mutex> lock(p.mu);
    prev = p.limit;
    p.limit = size_t(d);
    while (p.cached > p.limit) freed.push_back(popOldest(p));
  }
  for (const Block& b : freed) systemFree(b.data, b.cap);
  return Napi::Number::New(env, double(prev));
}

}  // namespace

void InitPool(Napi::Env env, Napi::Object exports) {
  exports.Set("empty", Napi::Function::New(env, Empty, "empty"));
  exports.Set("zeros", Napi::Function::New(env, Zeros, "zeros"));
  exports.Set("poolStats", Napi::Function::New(env, Stats, "poolStats"));
  exports.Set("poolLimit", Napi::Function::New(env, Limit, "poolLimit"));
}

}  // namespace lethe
