// typenet/image/detail/stb_decoder.hpp — BMP decoding by stb_image, the one format
// typenet still leaves to it.
//
// Private to image/image.hpp. stb_image comes from Debian's compiled libstb
// (DESIGN.md §4b: no typenet header defines STB_IMAGE_IMPLEMENTATION). Its
// BMP reader was fuzzed for typenet under ASan and UBSan, instrumented
// (fuzz/fuzz_image.cpp built with -DFUZZ_PREFIX=BM, docs/images.md), without
// a finding; its other readers are not used on files (image.hpp refuses TGA,
// PSD, HDR and PIC, and decodes PNG, JPEG, GIF and PNM otherwise). Only
// files starting with "BM" come here, so stb's format probing stops at its
// BMP reader. stbi_info reads the header for the max_pixels check before
// anything is decoded. stb fills missing data with zeros and reports success
// for truncated BMP files, so reads past the end are errors here.
#pragma once

#include <stb/stb_image.h>

#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>

#include "typenet/image/detail/decoded_pixels.hpp"

namespace typenet::detail {

/// stb reads through these callbacks so that a decoder asking for bytes past
/// the end is noticed.
struct stb_source {
  std::span<const std::uint8_t> bytes;
  std::size_t position = 0;
  bool ran_past_end = false;

  static int read(void* user, char* out, int size) {
    auto& s = *static_cast<stb_source*>(user);
    const std::size_t n =
        std::min(static_cast<std::size_t>(size > 0 ? size : 0), s.bytes.size() - s.position);
    if (n == 0 && size > 0) s.ran_past_end = true;
    if (n > 0) std::memcpy(out, s.bytes.data() + s.position, n);
    s.position += n;
    return static_cast<int>(n);
  }
  static void skip(void* user, int n) {
    auto& s = *static_cast<stb_source*>(user);
    if (n < 0) {
      s.position -= std::min(s.position, static_cast<std::size_t>(-static_cast<long long>(n)));
    } else if (static_cast<std::size_t>(n) > s.bytes.size() - s.position) {
      s.ran_past_end = true;
      s.position = s.bytes.size();
    } else {
      s.position += static_cast<std::size_t>(n);
    }
  }
  static int eof(void* user) {
    const auto& s = *static_cast<stb_source*>(user);
    return s.position >= s.bytes.size() ? 1 : 0;
  }
  static constexpr stbi_io_callbacks callbacks{&read, &skip, &eof};
};

inline std::string stb_reason() {
  const char* why = stbi_failure_reason();
  return std::string("stb_image: ") + (why && *why ? why : "no reason given");
}

/// Decodes a BMP file's bytes with stb_image; throws decode_failure.
inline decoded_pixels decode_bmp(std::span<const std::uint8_t> bytes, std::int64_t max_pixels) {
  if (bytes.size() > static_cast<std::size_t>(INT_MAX))
    throw decode_failure("file too large for stb_image");
  int width = 0, height = 0, stored = 0;
  {
    stb_source probe{bytes};
    if (!stbi_info_from_callbacks(&stb_source::callbacks, &probe, &width, &height, &stored))
      throw decode_failure("not a decodable image: " + stb_reason());
  }
  check_pixel_limit(width, height, max_pixels);
  bool sixteen = false;
  {
    stb_source probe{bytes};
    sixteen = stbi_is_16_bit_from_callbacks(&stb_source::callbacks, &probe) != 0;
  }

  stb_source source{bytes};
  int channels = 0;
  std::unique_ptr<void, void (*)(void*)> pixels(nullptr, &stbi_image_free);
  if (sixteen)
    pixels.reset(stbi_load_16_from_callbacks(&stb_source::callbacks, &source, &width, &height,
                                             &channels, 0));
  else
    pixels.reset(
        stbi_load_from_callbacks(&stb_source::callbacks, &source, &width, &height, &channels, 0));
  if (!pixels) throw decode_failure("corrupt or truncated image: " + stb_reason());
  if (source.ran_past_end)
    throw decode_failure("truncated image: the decoder needed more than the file's bytes");
  if (channels < 1 || channels > 4) throw decode_failure("stb_image: unexpected result layout");

  decoded_pixels out;
  out.allocate(width, height, channels, sixteen);
  if (sixteen)
    std::memcpy(out.samples16.get(), pixels.get(), out.sample_count() * 2);
  else
    std::memcpy(out.samples8.get(), pixels.get(), out.sample_count());
  return out;
}

}  // namespace typenet::detail
