// Shared helpers for the addon's N-API glue: argument extraction with clear type errors.
// Kernels themselves take raw pointers and sizes; only the glue touches napi values.
#pragma once
#include <napi.h>
#include <cstdint>

namespace lethe {

inline float* f32(const Napi::CallbackInfo& info, size_t i) {
  Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    Napi::TypeError::New(info.Env(), "argument " + std::to_string(i) + " must be a Float32Array")
        .ThrowAsJavaScriptException();
    return nullptr;
  }
  return v.As<Napi::Float32Array>().Data();
}

// A Float32Array or null (optional inputs such as a bias or a mask).
inline float* f32OrNull(const Napi::CallbackInfo& info, size_t i) {
  if (info[i].IsNull() || info[i].IsUndefined()) return nullptr;
  return f32(info, i);
}

inline size_t f32Len(const Napi::CallbackInfo& info, size_t i) {
  return info[i].As<Napi::Float32Array>().ElementLength();
}

inline int32_t* i32(const Napi::CallbackInfo& info, size_t i) {
  Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    Napi::TypeError::New(info.Env(), "argument " + std::to_string(i) + " must be an Int32Array")
        .ThrowAsJavaScriptException();
    return nullptr;
  }
  return v.As<Napi::Int32Array>().Data();
}

inline size_t i32Len(const Napi::CallbackInfo& info, size_t i) {
  return info[i].As<Napi::Int32Array>().ElementLength();
}

inline int64_t num(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Int64Value(); }
inline double dbl(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().DoubleValue(); }
inline bool flag(const Napi::CallbackInfo& info, size_t i) { return info[i].ToBoolean().Value(); }

// Each concern registers its exports here (defined in its own .cpp).
void InitThreadPool(Napi::Env env, Napi::Object exports);
void InitGemm(Napi::Env env, Napi::Object exports);
void InitElementwise(Napi::Env env, Napi::Object exports);
void InitReduce(Napi::Env env, Napi::Object exports);
void InitFused(Napi::Env env, Napi::Object exports);
void InitAttention(Napi::Env env, Napi::Object exports);
void InitOptim(Napi::Env env, Napi::Object exports);
void InitPool(Napi::Env env, Napi::Object exports);

}  // namespace lethe
