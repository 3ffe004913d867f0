// fuzz/fuzz_safetensors.cpp — libFuzzer target for typenet's safetensors reader.
//
// Feeds arbitrary bytes through io::read_safetensors (header length, JSON,
// offsets, dtypes, shapes) and reads every tensor that comes out. The only
// acceptable failure is typenet::format_error. Build and run: fuzz/README.md.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "typenet/io/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace io = typenet::io;
  auto buffer = std::make_shared<io::buffer_storage>();
  const auto* bytes = reinterpret_cast<const std::byte*>(data);
  buffer->data.assign(bytes, bytes + size);
  try {
    const auto c = io::read_safetensors(buffer, "fuzz");
    for (const auto& [name, record] : c.tensors) {
      std::vector<double> values(static_cast<std::size_t>(record.numel()));
      io::read_as(record, values.data());
    }
  } catch (const typenet::format_error&) {
  }
  return 0;
}
