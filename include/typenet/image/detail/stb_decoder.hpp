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

/// The bytes an uncompressed BMP needs: the pixel data offset (bfOffBits)
/// plus its rows, each padded to 4 bytes; 0 when the header is too short to
/// say or the file is RLE-compressed (stb refuses those itself).
inline std::uint64_t bmp_expected_size(std::span<const std::uint8_t> b, int width, int height) {
  const auto le = [&](std::size_t at, int n) {
    std::uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | b[at + static_cast<std::size_t>(i)];
    return v;
  };
  if (b.size() < 30) return 0;
  const std::uint64_t data_offset = le(10, 4), header_size = le(14, 4);
  const std::uint64_t bits = header_size == 12 ? le(24, 2) : le(28, 2);
  if (header_size != 12 && b.size() >= 34 && (le(30, 4) == 1 || le(30, 4) == 2)) return 0;
  const std::uint64_t row = (std::uint64_t(width) * bits + 31) / 32 * 4;
  return data_offset + row * std::uint64_t(height);
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
  // stb pads missing rows with zeros and reports success, after filling the
  // whole declared image: a 60-byte file must not cost that, so its rows
  // must be there before anything is decoded (stb reads no compressed BMP).
  const std::uint64_t needed = bmp_expected_size(bytes, width, height);
  if (bytes.size() < needed)
    throw decode_failure("truncated image: a BMP of " + std::to_string(width) + "x" +
                         std::to_string(height) + " needs " + std::to_string(needed) + " bytes");
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
