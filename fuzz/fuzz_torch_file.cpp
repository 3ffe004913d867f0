// fuzz/fuzz_torch_file.cpp — libFuzzer target for typenet's torch.save reader.
//
// Feeds arbitrary bytes through io::read_torch_bytes (zip container, legacy
// stream, restricted unpickler) and reads every tensor that comes out. The only
// acceptable failure is typenet::format_error: any other exception, crash,
// sanitizer report, leak or timeout is a bug. Build and run: fuzz/README.md.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "typenet/io/torch_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace io = typenet::io;
  const std::span bytes(reinterpret_cast<const std::byte*>(data), size);
  // Without CRC checks, mutated zip archives get past the checksum into the
  // pickle and the tensors; with them, the checksum path runs too.
  for (const bool verify : {false, true}) {
    io::torch_read_options options;
    options.state_dict_key = io::torch_read_options::automatic;
    options.verify_checksums = verify;
    try {
      const auto c = io::read_torch_bytes(bytes, "fuzz", options);
      for (const auto& [name, record] : c.tensors) {
        // A record lies inside its storage; reading it proves that. Stride-0
        // tensors may be huge and valid, so only small ones are read in full.
        if (record.numel() > (std::int64_t{1} << 16)) continue;
        std::vector<double> values(static_cast<std::size_t>(record.numel()));
        io::read_as(record, values.data());
      }
    } catch (const typenet::format_error&) {
    }
  }
  return 0;
}
