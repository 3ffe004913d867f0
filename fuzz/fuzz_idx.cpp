// fuzz/fuzz_idx.cpp — libFuzzer target for typenet's IDX reader (MNIST's format).
//
// Feeds arbitrary bytes, plain or gzip'd, through data::read_idx_bytes (the
// in-memory entry point of read_idx): header, bounded inflation, values. The
// only acceptable failure is typenet::data::data_error: any other exception,
// crash, sanitizer report, leak, timeout or an allocation beyond the bound is
// a bug. Seeds: fuzz/corpus/idx.
#include <cstddef>
#include <cstdint>
#include <span>

#include "typenet/data/idx.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace td = typenet::data;
  const std::span bytes(data, size);
  try {
    // A bound that keeps every run small; the reader must honour it.
    const auto a = td::read_idx_bytes(bytes, "fuzz", {.max_values = std::size_t{1} << 22});
    std::size_t count = 1;
    for (const auto d : a.dims) count *= d;
    if (a.values.size() != count) __builtin_trap();  // values must match the header
  } catch (const td::data_error&) {
  }
  return 0;
}
