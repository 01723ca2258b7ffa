#include "args.h"

#include <cmath>
#include <iterator>

#include "errors.h"

namespace nsa::binding {
namespace {

std::string describe(Napi::Value v) {
  switch (v.Type()) {
    case napi_undefined: return "undefined";
    case napi_null: return "null";
    case napi_string: return "\"" + v.As<Napi::String>().Utf8Value() + "\"";
    case napi_number:
    case napi_boolean:
    case napi_bigint: return v.ToString().Utf8Value() + (v.IsBigInt() ? "n" : "");
    case napi_function: return "a function";
    default:
      if (v.IsArray()) return "an array";
      if (v.IsTypedArray()) {
        static const char* const kNames[] = {"an Int8Array",    "a Uint8Array",     "a Uint8ClampedArray",
                                             "an Int16Array",   "a Uint16Array",    "an Int32Array",
                                             "a Uint32Array",   "a Float32Array",   "a Float64Array",
                                             "a BigInt64Array", "a BigUint64Array"};
        auto a = v.As<Napi::TypedArray>();
        size_t type = size_t(a.TypedArrayType());
        return std::string(type < std::size(kNames) ? kNames[type] : "a typed array") + " of " +
               std::to_string(a.ElementLength()) + " elements";
      }
      return "an object";
  }
}

}  // namespace

void throw_invalid(Napi::Env env, const std::string& expected, const std::string& name, Napi::Value received) {
  throw_error(env, ErrorCode::InvalidArgument,
              "Expected " + expected + " for " + name + " but received " + describe(received));
}

int64_t int_arg(Napi::Value v, const std::string& name, int64_t min, int64_t max) {
  double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
  if (!(std::isfinite(d) && d == std::floor(d) && d >= double(min) && d <= double(max))) {
    std::string range = max == (int64_t(1) << 53) ? " >= " + std::to_string(min)
                                                   : " in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
    throw_invalid(v.Env(), "an integer" + range, name, v);
  }
  return int64_t(d);
}

bool bool_arg(Napi::Value v, const std::string& name) {
  if (!v.IsBoolean()) throw_invalid(v.Env(), "a boolean", name, v);
  return v.As<Napi::Boolean>().Value();
}

uint64_t bigint_arg(Napi::Value v, const std::string& name) {
  bool lossless = false;
  uint64_t value = v.IsBigInt() ? v.As<Napi::BigInt>().Uint64Value(&lossless) : 0;
  if (!lossless) throw_invalid(v.Env(), "a bigint in [0, 2^64)", name, v);
  return value;
}

Napi::Object object_arg(Napi::Value v, const std::string& name) {
  if (!v.IsObject()) throw_invalid(v.Env(), "an object", name, v);
  return v.As<Napi::Object>();
}

HostBytes host_bytes_arg(Napi::Value v, const std::string& name) {
  if (v.IsTypedArray()) {
    auto a = v.As<Napi::TypedArray>();
    return {static_cast<uint8_t*>(a.ArrayBuffer().Data()) + a.ByteOffset(), a.ByteLength()};
  }
  if (v.IsDataView()) {
    auto d = v.As<Napi::DataView>();
    return {static_cast<uint8_t*>(d.ArrayBuffer().Data()) + d.ByteOffset(), d.ByteLength()};
  }
  throw_invalid(v.Env(), "an ArrayBufferView", name, v);
}

}  // namespace nsa::binding
