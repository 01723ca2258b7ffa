// The plain C++ description of one top-k call, shared by the CPU backend, the CUDA backends and
// the N-API layer. The binding unpacks the JS options into these structs before any work starts,
// so no worker thread or kernel launcher ever touches a JS value.
#pragma once
#include <cstddef>
#include <cstdint>

namespace nsa {

enum class DType : int32_t { F32 = 0, F16 = 1, BF16 = 2 };
enum class TieBreak : int32_t { None = 0, Small = 1, Large = 2 };
enum class Transform : int32_t { None = 0, Ragged = 1, PageTable = 2 };
enum class Backend : int32_t { Cpu = 0, Radix = 1, Sort = 2 };

inline size_t dtype_size(DType d) { return d == DType::F32 ? 4 : 2; }

// What stays fixed for the life of an op (and so for a captured graph).
struct TopKConfig {
  int32_t k = 1;
  DType dtype = DType::F32;
  TieBreak tie_break = TieBreak::None;
  bool deterministic = false;
  bool sorted = false;
  Transform transform = Transform::None;
  int32_t page_size = 1;
  bool write_values = false;
  bool graph_safe = false;
  // CUDA: launch a call's first kernel with programmatic stream serialization (PDL), so it may
  // start while the previous kernel on the stream finishes; ignored by the CPU backend.
  bool pdl = false;
  int64_t max_rows = 0;  // capacity the workspace is sized for (CUDA); 0 on the CPU
  int64_t max_len = 0;   // longest window the op promises to see (CUDA path sizing)
};

// One call's operands. Pointers are host pointers for the CPU backend and device pointers for
// the CUDA backends. Optional arrays are nullptr when absent.
struct TopKArgs {
  const void* scores = nullptr;         // [rows, stride] of dtype
  int64_t rows = 0;
  int64_t stride = 0;
  const int32_t* lengths = nullptr;     // [rows]; default stride - rowStart
  const int32_t* row_starts = nullptr;  // [rows]; default 0
  // ragged: out = offsets[r] + j
  const int32_t* offsets = nullptr;     // [rows]
  // page-table: b = row_to_batch[r] (default r), p = j + page_table_starts[r] (default 0)
  const int32_t* page_table = nullptr;  // [batches, page_table_stride]
  int64_t page_table_stride = 0;
  int64_t page_table_rows = 0;          // batches; used to clamp b
  const int32_t* row_to_batch = nullptr;
  const int32_t* page_table_starts = nullptr;
  int32_t* out_indices = nullptr;       // [rows, k]
  void* out_values = nullptr;           // [rows, k] of dtype, when config.write_values
};

}  // namespace nsa
