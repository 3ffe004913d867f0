// libFuzzer target for typenet's image decoding (include/typenet/image/image.hpp):
// JPEG by libjpeg-turbo, PNG by libpng, GIF by giflib, BMP and PNM by
// stb_image, and the refusal of every other format.
//
// Each input goes to typenet::decode_image with max_pixels lowered to 2^18
// (512 x 512) so that a mutated header cannot make one run slow, and with the
// channels asked for taken from the input's last byte (0 to 4), so that every
// conversion is reached. typenet::format_error is the expected outcome for a
// bad input; any other exception, crash, sanitizer report, leak,
// out-of-memory or timeout is a bug.
//
// stb_image's implementation is compiled into this target (Debian's libstb
// is not instrumented, so ASan would not see its reads and writes); it is the
// same version as libstb's, from the same header. Build with -DFUZZ_PREFIX=BM
// (or P5, P6) to put that signature in front of every input and fuzz one of
// stb's readers alone; see docs/images.md.
//
//   clang++-14 -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined \
//       -fno-sanitize-recover=all -Iinclude fuzz/fuzz_image.cpp -ljpeg -lpng -lgif -lz -lm \
//       -o build/fuzz/fuzz_image
#include "typenet/image/image.hpp"

// stb_image's implementation, after its declarations (image.hpp included them).
#define STB_IMAGE_IMPLEMENTATION
#include <stb/stb_image.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#define FUZZ_STRINGIFY2(x) #x
#define FUZZ_STRINGIFY(x) FUZZ_STRINGIFY2(x)

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::span<const std::uint8_t> bytes(data, size);
#ifdef FUZZ_PREFIX
  static constexpr std::string_view prefix = FUZZ_STRINGIFY(FUZZ_PREFIX);
  std::vector<std::uint8_t> prefixed(prefix.begin(), prefix.end());
  prefixed.insert(prefixed.end(), data, data + size);
  bytes = prefixed;
#endif
  typenet::read_options options;
  options.max_pixels = std::int64_t{1} << 18;
  options.channels = size > 0 ? data[size - 1] % 5 : 0;
  try {
    const auto img = typenet::decode_image(bytes, options, "fuzz");
    // Every value read from a file is in [0, 1].
    for (const float v : img.values())
      if (!(v >= 0.0f && v <= 1.0f)) __builtin_trap();
  } catch (const typenet::format_error&) {
  }
  return 0;
}
