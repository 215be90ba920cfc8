// Argument checking for the fused and attention glue. Every array is checked against the number of
// elements its kernel will touch before any kernel runs, so a short array (or a wrong type, or a
// dimension that is negative, fractional or absurd) becomes a JS TypeError/RangeError naming the
// argument instead of an out-of-bounds access. After the first failure every later getter is a
// no-op, so glue code reads all arguments and then checks `ok()` once.
#pragma once
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <string>

#include "common.h"

namespace lethe {

// a·b saturating at UINT64_MAX: a product too large to index is "longer than any array".
inline uint64_t satMul(uint64_t a, uint64_t b) {
  uint64_t r;
  return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

class ArgReader {
 public:
  ArgReader(const Napi::CallbackInfo& info, const char* op, size_t argc) : info_(info), op_(op) {
    if (info.Length() < argc)
      typeError("expects " + std::to_string(argc) + " arguments, got " + std::to_string(info.Length()));
  }

  bool ok() const { return ok_; }

  // Whether argument i is null or undefined (an absent optional array).
  bool isNull(size_t i) const { return info_[i].IsNull() || info_[i].IsUndefined(); }

  // A non-negative integer dimension (at most 2^53).
  int64_t dim(size_t i, const char* name) {
    double v = number(i, name);
    if (!ok_) return 0;
    if (!(v >= 0 && v <= 9007199254740992.0 && std::floor(v) == v)) {
      rangeError(std::string(name) + " must be a non-negative integer, got " + fmt(v));
      return 0;
    }
    return static_cast<int64_t>(v);
  }

  // A dimension that must be >= 1.
  int64_t positive(size_t i, const char* name) {
    int64_t v = dim(i, name);
    if (ok_ && v < 1) rangeError(std::string(name) + " must be >= 1, got " + std::to_string(v));
    return v;
  }

  // Any integer that fits an int32 compare (e.g. an ignore index such as -100).
  int64_t integer(size_t i, const char* name) {
    double v = number(i, name);
    if (!ok_) return 0;
    if (!(std::fabs(v) <= 9007199254740992.0 && std::floor(v) == v)) {
      rangeError(std::string(name) + " must be an integer, got " + fmt(v));
      return 0;
    }
    return static_cast<int64_t>(v);
  }

  double number(size_t i, const char* name) {
    if (!ok_) return 0;
    if (!info_[i].IsNumber()) {
      typeError(std::string(name) + " (argument " + std::to_string(i) + ") must be a number");
      return 0;
    }
    return info_[i].As<Napi::Number>().DoubleValue();
  }

  bool boolean(size_t i) {
    if (!ok_) return false;
    return info_[i].ToBoolean().Value();
  }

  // A Float32Array with at least `need` elements; with nullable, null/undefined gives nullptr.
  float* f32(size_t i, const char* name, uint64_t need, bool nullable = false) {
    if (!ok_) return nullptr;
    Napi::Value v = info_[i];
    if (nullable && (v.IsNull() || v.IsUndefined())) return nullptr;
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
      typeError(std::string(name) + " (argument " + std::to_string(i) + ") must be a Float32Array" +
                (nullable ? " or null" : ""));
      return nullptr;
    }
    Napi::Float32Array a = v.As<Napi::Float32Array>();
    if (a.ElementLength() < need) {
      tooShort(name, a.ElementLength(), need);
      return nullptr;
    }
    return a.Data();
  }

  int32_t* i32(size_t i, const char* name, uint64_t need) {
    if (!ok_) return nullptr;
    Napi::Value v = info_[i];
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
      typeError(std::string(name) + " (argument " + std::to_string(i) + ") must be an Int32Array");
      return nullptr;
    }
    Napi::Int32Array a = v.As<Napi::Int32Array>();
    if (a.ElementLength() < need) {
      tooShort(name, a.ElementLength(), need);
      return nullptr;
    }
    return a.Data();
  }

  void rangeError(const std::string& msg) {
    if (!ok_) return;
    ok_ = false;
    Napi::RangeError::New(info_.Env(), std::string(op_) + ": " + msg).ThrowAsJavaScriptException();
  }

  void typeError(const std::string& msg) {
    if (!ok_) return;
    ok_ = false;
    Napi::TypeError::New(info_.Env(), std::string(op_) + ": " + msg).ThrowAsJavaScriptException();
  }

 private:
  void tooShort(const char* name, size_t have, uint64_t need) {
    rangeError(std::string(name) + " is too short: length " + std::to_string(have) + ", needs " +
               (need == UINT64_MAX ? std::string("more than 2^64") : std::to_string(need)));
  }

  static std::string fmt(double v) {
    char buf[32];
    snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
  }

  const Napi::CallbackInfo& info_;
  const char* op_;
  bool ok_ = true;
};

}  // namespace lethe
