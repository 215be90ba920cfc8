// Argument checking for the elementwise, reduce and optimiser glue. Every kernel entry point reads
// its arguments through an Args object, which names the kernel and the argument in each error:
// a wrong type throws a JS TypeError, an array shorter than the dims require (or a bad dim) a
// RangeError. After the first error every further read is a no-op and `ok` stays false, so the
// glue reads everything, checks `ok` once and returns before any kernel touches memory.
#pragma once
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <string>

namespace lethe {

// A typed array argument: its data, its element count and its name for messages.
template <typename T>
struct ArrayArg {
  T* data = nullptr;
  size_t length = 0;
  const char* name = "";
};
using F32Arg = ArrayArg<float>;
using I32Arg = ArrayArg<int32_t>;

// Largest dim or element count accepted: 2^53 keeps every count exact as a JS number.
constexpr int64_t kMaxCount = int64_t(1) << 53;

class Args {
 public:
  Args(const Napi::CallbackInfo& info, const char* kernel) : info_(info), kernel_(kernel) {}

  bool ok() const { return ok_; }

  F32Arg f32(size_t i, const char* name) {
    F32Arg a;
    a.name = name;
    if (!ok_) return a;
    Napi::Value v = info_[i];
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
      typeError(std::string(name) + " (argument " + std::to_string(i) + ") must be a Float32Array");
      return a;
    }
    Napi::Float32Array arr = v.As<Napi::Float32Array>();
    a.data = arr.Data();
    a.length = arr.ElementLength();
    return a;
  }

  I32Arg i32(size_t i, const char* name) {
    I32Arg a;
    a.name = name;
    if (!ok_) return a;
    Napi::Value v = info_[i];
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
      typeError(std::string(name) + " (argument " + std::to_string(i) + ") must be an Int32Array");
      return a;
    }
    Napi::Int32Array arr = v.As<Napi::Int32Array>();
    a.data = arr.Data();
    a.length = arr.ElementLength();
    return a;
  }

  double number(size_t i, const char* name) {
    if (!ok_) return 0;
    Napi::Value v = info_[i];
    if (!v.IsNumber()) {
      typeError(std::string(name) + " (argument " + std::to_string(i) + ") must be a number");
      return 0;
    }
    return v.As<Napi::Number>().DoubleValue();
  }

  // An integer in [lo, hi] (a dim, an offset, an op code).
  int64_t integer(size_t i, const char* name, int64_t lo = 0, int64_t hi = kMaxCount) {
    double d = number(i, name);
    if (!ok_) return 0;
    if (!(d == std::floor(d)) || d < double(lo) || d > double(hi)) {
      rangeError(std::string(name) + " must be an integer in [" + std::to_string(lo) + ", " +
                 std::to_string(hi) + "], got " + Napi::Number::New(info_.Env(), d).ToString().Utf8Value());
      return 0;
    }
    return int64_t(d);
  }

  bool boolean(size_t i) {
    if (!ok_) return false;
    return info_[i].ToBoolean().Value();
  }

  // The array must hold at least `want` elements.
  template <typename T>
  void need(const ArrayArg<T>& a, uint64_t want) {
    if (!ok_ || a.length >= want) return;
    rangeError(std::string(a.name) + " has " + std::to_string(a.length) + " elements, fewer than the " +
               std::to_string(want) + " the dims require");
  }

  // a * b, or a RangeError (naming `what`) when the product exceeds kMaxCount.
  int64_t mul(int64_t a, int64_t b, const char* what) {
    if (!ok_) return 0;
    int64_t r;
    if (__builtin_mul_overflow(a, b, &r) || r > kMaxCount) {
      rangeError(std::string(what) + " is too large");
      return 0;
    }
    return r;
  }

  void rangeError(const std::string& msg) {
    if (!ok_) return;
    ok_ = false;
    Napi::RangeError::New(info_.Env(), std::string(kernel_) + ": " + msg).ThrowAsJavaScriptException();
  }

  void typeError(const std::string& msg) {
    if (!ok_) return;
    ok_ = false;
    Napi::TypeError::New(info_.Env(), std::string(kernel_) + ": " + msg).ThrowAsJavaScriptException();
  }

 private:
  const Napi::CallbackInfo& info_;
  const char* kernel_;
  bool ok_ = true;
};

}  // namespace lethe
