// typenet/image/detail/pnm_decoder.hpp — binary PGM (P5) and PPM (P6) decoding,
// written here.
//
// Private to image/image.hpp. Fuzzing stb_image's PNM reader for typenet
// found signed integer overflow in its header parser on a long run of
// digits (stb_image.h line 7487, UBSan), and Debian's libnetpbm ends the
// process on errors, so this small reader replaces both; it is fuzzed with
// the rest (fuzz/fuzz_image.cpp). The header is "P5" or "P6", then width,
// height and maxval as decimal numbers separated by whitespace or comments
// ('#' to the end of the line), then one whitespace byte and the samples:
// one byte each when maxval < 256, else two, most significant first.
//
// Output: 1 channel (P5) or 3 (P6); 8 bits when maxval < 256, else 16.
// Samples are scaled from 0..maxval to the full 8- or 16-bit range, rounded
// (as PIL does; a sample above maxval counts as maxval), so maxval 255 and
// 65535 files decode exactly as stb_image decoded them. Short sample data is
// "truncated"; the size is checked against max_pixels before allocating.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "typenet/image/detail/decoded_pixels.hpp"

namespace typenet::detail {

/// Decodes a binary PNM file's bytes (P5 or P6); throws decode_failure.
inline decoded_pixels decode_pnm(std::span<const std::uint8_t> b, std::int64_t max_pixels) {
  if (b.size() < 2 || b[0] != 'P' || (b[1] != '5' && b[1] != '6'))
    throw decode_failure("PNM: not a binary PGM (P5) or PPM (P6) file");
  const auto space = [](std::uint8_t c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
  };
  std::size_t at = 2;
  std::int64_t numbers[3] = {0, 0, 0};
  const char* names[3] = {"width", "height", "maxval"};
  for (int i = 0; i < 3; ++i) {
    while (at < b.size() && (space(b[at]) || b[at] == '#')) {
      if (b[at] == '#')
        while (at < b.size() && b[at] != '\n' && b[at] != '\r') ++at;
      else
        ++at;
    }
    if (at >= b.size()) throw decode_failure("PNM: the header is cut off (truncated image)");
    if (b[at] < '0' || b[at] > '9')
      throw decode_failure(std::string("PNM: the header's ") + names[i] + " is not a number");
    for (; at < b.size() && b[at] >= '0' && b[at] <= '9'; ++at) {
      numbers[i] = numbers[i] * 10 + (b[at] - '0');
      if (numbers[i] > 0x7fffffff)
        throw decode_failure(std::string("PNM: the header's ") + names[i] + " is too large");
    }
  }
  if (at >= b.size() || !space(b[at]))
    throw decode_failure("PNM: no whitespace byte after the header (truncated image?)");
  ++at;
  const std::int64_t width = numbers[0], height = numbers[1], maxval = numbers[2];
  if (maxval < 1 || maxval > 65535)
    throw decode_failure("PNM: maxval " + std::to_string(maxval) + " is not 1 to 65535");
  check_pixel_limit(width, height, max_pixels);
  const int channels = b[1] == '6' ? 3 : 1;
  const bool sixteen = maxval > 255;
  const std::size_t samples = static_cast<std::size_t>(width) * static_cast<std::size_t>(height) *
                              static_cast<std::size_t>(channels);
  const std::size_t needed = samples * (sixteen ? 2 : 1);
  if (b.size() - at < needed)
    throw decode_failure("truncated image: a binary PNM of " + std::to_string(width) + "x" +
                         std::to_string(height) + " needs " + std::to_string(needed) +
                         " bytes of samples, the file has " + std::to_string(b.size() - at));

  decoded_pixels out;
  out.allocate(static_cast<int>(width), static_cast<int>(height), channels, sixteen);
  const std::uint8_t* p = b.data() + at;
  const auto m = static_cast<std::uint32_t>(maxval);
  if (sixteen) {
    for (std::size_t i = 0; i < samples; ++i, p += 2) {
      const std::uint32_t v = std::min<std::uint32_t>((p[0] << 8) | p[1], m);
      out.samples16[i] = static_cast<std::uint16_t>((v * 65535u + m / 2) / m);
    }
  } else {
    for (std::size_t i = 0; i < samples; ++i) {
      const std::uint32_t v = std::min<std::uint32_t>(p[i], m);
      out.samples8[i] = static_cast<std::uint8_t>((v * 255u + m / 2) / m);
    }
  }
  return out;
}

}  // namespace typenet::detail
