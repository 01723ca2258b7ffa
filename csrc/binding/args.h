// Reading JS arguments into C++ values. The TypeScript layer validates first; these checks keep a
// wrong value from ever reaching a backend, with the same message shape as lib/errors.ts:
// "Expected <what> for <argument> but received <value>" (ERR_NSA_TOPK_INVALID_ARGUMENT).
#pragma once
#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>

namespace nsa::binding {

[[noreturn]] void throw_invalid(Napi::Env env, const std::string& expected, const std::string& name,
                                Napi::Value received);

// An integer number in [min, max].
int64_t int_arg(Napi::Value v, const std::string& name, int64_t min = 0,
                int64_t max = (int64_t(1) << 53));
bool bool_arg(Napi::Value v, const std::string& name);
uint64_t bigint_arg(Napi::Value v, const std::string& name);
Napi::Object object_arg(Napi::Value v, const std::string& name);

// Bytes of any ArrayBufferView (typed array, DataView or Buffer).
struct HostBytes {
  void* data;
  size_t bytes;
};
HostBytes host_bytes_arg(Napi::Value v, const std::string& name);

}  // namespace nsa::binding
