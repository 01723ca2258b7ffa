#include "host_call.h"

#include <exception>
#include <stdexcept>
#include <vector>

#include "../cpu/topk_cpu.h"
#include "args.h"
#include "async_work.h"
#include "errors.h"

namespace nsa::binding {
namespace {

// A typed array field of the call: its element type must be `type` and it must hold at least
// `min_length` elements; `type_name` names the type with its article. Absent optional fields are nullptr.
void* array_field(HostCall& call, Napi::Object obj, const char* field, napi_typedarray_type type,
                  const char* type_name, int64_t min_length, bool required) {
  Napi::Value v = obj.Get(field);
  std::string name = std::string("call.") + field;
  if (!required && v.IsUndefined()) return nullptr;
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type) {
    throw_invalid(v.Env(), type_name, name, v);
  }
  auto a = v.As<Napi::TypedArray>();
  if (int64_t(a.ElementLength()) < min_length) {
    throw_invalid(v.Env(), std::string(type_name) + " of at least " + std::to_string(min_length) +
                               " elements", name, v);
  }
  call.keep.push_back(Napi::Persistent(a.As<Napi::Object>()));
  return static_cast<uint8_t*>(a.ArrayBuffer().Data()) + a.ByteOffset();
}

}  // namespace

HostCall unpack_call(Napi::Value value) {
  Napi::Object obj = object_arg(value, "call");
  HostCall call;
  call.cfg = unpack_config(obj.Get("config"), "call.config");
  const TopKConfig& cfg = call.cfg;
  TopKArgs& a = call.args;
  a.rows = int_arg(obj.Get("rows"), "call.rows", 1, INT32_MAX);
  a.stride = int_arg(obj.Get("stride"), "call.stride", 1, INT32_MAX);
  call.threads = int(int_arg(obj.Get("threads"), "call.threads", 0, 4096));
  Napi::Value baseline = obj.Get("baseline");
  call.baseline = !baseline.IsUndefined() && bool_arg(baseline, "call.baseline");

  const bool f32 = cfg.dtype == DType::F32;
  const napi_typedarray_type score_type = f32 ? napi_float32_array : napi_uint16_array;
  const char* score_name = f32 ? "a Float32Array" : "a Uint16Array";
  const int64_t rows = a.rows;
  auto i32 = [&](const char* field, int64_t min_length, bool required) {
    return static_cast<int32_t*>(array_field(call, obj, field, napi_int32_array, "an Int32Array", min_length, required));
  };
  a.scores = array_field(call, obj, "scores", score_type, score_name, rows * a.stride, true);
  a.lengths = i32("lengths", rows, false);
  a.row_starts = i32("rowStarts", rows, false);
  a.out_indices = i32("outIndices", rows * cfg.k, true);
  if (cfg.write_values) a.out_values = array_field(call, obj, "outValues", score_type, score_name, rows * cfg.k, true);
  if (cfg.transform == Transform::Ragged) a.offsets = i32("offsets", rows, true);
  if (cfg.transform == Transform::PageTable) {
    a.page_table_stride = int_arg(obj.Get("pageTableStride"), "call.pageTableStride", 1);
    a.page_table = i32("pageTable", a.page_table_stride, true);
    a.page_table_rows = int64_t(obj.Get("pageTable").As<Napi::TypedArray>().ElementLength()) / a.page_table_stride;
    a.row_to_batch = i32("rowToBatch", rows, false);
    a.page_table_starts = i32("pageTableStarts", rows, false);
  }
  return call;
}

namespace {

// Runs the CPU backend; returns the error to report (code + message), or false when it succeeded.
bool run_call(const HostCall& call, ErrorCode* code, std::string* message) {
  try {
    if (call.baseline) {
      cpu::run_topk_nth_element(call.cfg, call.args, call.threads);
    } else {
      cpu::run_topk(call.cfg, call.args, call.threads);
    }
    return false;
  } catch (const std::invalid_argument& e) {
    *code = ErrorCode::InvalidArgument;
    *message = e.what();
  } catch (const std::exception& e) {
    // Out of memory or no thread could be started: no better code exists in the table.
    *code = ErrorCode::InvalidArgument;
    *message = std::string("the CPU backend failed: ") + e.what();
  }
  return true;
}

class CpuTopkWorker : public PromiseWorker {
 public:
  CpuTopkWorker(Napi::Env env, HostCall call) : PromiseWorker(env, "nsa-topk:cpuTopk"), call_(std::move(call)) {}

  void Execute() override {
    ErrorCode code;
    std::string message;
    if (run_call(call_, &code, &message)) fail(code, message);
  }

 private:
  HostCall call_;
};

}  // namespace

TopKConfig unpack_config(Napi::Value v, const std::string& name) {
  Napi::Object o = object_arg(v, name);
  auto field = [&](const char* f) { return o.Get(f); };
  auto fname = [&](const char* f) { return name + "." + f; };
  TopKConfig c;
  c.k = int32_t(int_arg(field("k"), fname("k"), 1, INT32_MAX));
  c.dtype = DType(int_arg(field("dtype"), fname("dtype"), 0, 2));
  c.tie_break = TieBreak(int_arg(field("tieBreak"), fname("tieBreak"), 0, 2));
  c.deterministic = bool_arg(field("deterministic"), fname("deterministic"));
  c.sorted = bool_arg(field("sorted"), fname("sorted"));
  c.transform = Transform(int_arg(field("transform"), fname("transform"), 0, 2));
  c.page_size = int32_t(int_arg(field("pageSize"), fname("pageSize"), 1, INT32_MAX));
  c.write_values = bool_arg(field("writeValues"), fname("writeValues"));
  c.graph_safe = bool_arg(field("graphSafe"), fname("graphSafe"));
  c.pdl = bool_arg(field("pdl"), fname("pdl"));
  c.max_rows = int_arg(field("maxRows"), fname("maxRows"), 0);
  c.max_len = int_arg(field("maxLen"), fname("maxLen"), 0, INT32_MAX);
  return c;
}

Napi::Value CpuTopk(const Napi::CallbackInfo& info) {
  HostCall call = unpack_call(info[0]);
  ErrorCode code;
  std::string message;
  if (run_call(call, &code, &message)) throw_error(info.Env(), code, message);
  return info.Env().Undefined();
}

Napi::Value CpuTopkAsync(const Napi::CallbackInfo& info) {
  return start_promise(info.Env(), [&] { return new CpuTopkWorker(info.Env(), unpack_call(info[0])); });
}

}  // namespace nsa::binding
