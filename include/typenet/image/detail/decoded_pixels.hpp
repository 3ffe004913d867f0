// typenet/image/detail/decoded_pixels.hpp — what every image decoder hands back,
// and the size check each one makes before it allocates anything.
//
// Private to image/image.hpp. A decoder (jpeg_decoder.hpp, png_decoder.hpp,
// gif_decoder.hpp, stb_decoder.hpp) reads the header, calls
// check_pixel_limit, then fills a decoded_pixels: 8- or 16-bit samples,
// interleaved, in the channels the file stores. It reports a bad file by
// throwing decode_failure with the reason only; decode_image adds the file's
// name, format and size. The sample buffer is allocated without being
// written (make_unique_for_overwrite), so a file that declares a large image
// and then runs out of data costs only the rows it really decoded.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

namespace typenet::detail {

/// A decoder's reason for refusing a file (no file name: decode_image adds it).
struct decode_failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Interleaved samples of a decoded image, row by row.
struct decoded_pixels {
  int width = 0;
  int height = 0;
  int channels = 0;  ///< 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA
  bool sixteen = false;
  std::unique_ptr<std::uint8_t[]> samples8;    ///< when !sixteen
  std::unique_ptr<std::uint16_t[]> samples16;  ///< when sixteen, host byte order

  std::size_t sample_count() const noexcept {
    return static_cast<std::size_t>(width) * static_cast<std::size_t>(height) *
           static_cast<std::size_t>(channels);
  }
  /// Allocates (without writing) room for width x height x channels samples.
  void allocate(int w, int h, int c, bool is_sixteen) {
    width = w;
    height = h;
    channels = c;
    sixteen = is_sixteen;
    if (sixteen)
      samples16 = std::make_unique_for_overwrite<std::uint16_t[]>(sample_count());
    else
      samples8 = std::make_unique_for_overwrite<std::uint8_t[]>(sample_count());
  }
};

/// Refuses a header's size before anything is allocated: zero sizes, and more
/// than `max_pixels` pixels (read_options::max_pixels).
inline void check_pixel_limit(std::int64_t width, std::int64_t height, std::int64_t max_pixels) {
  const auto size = std::to_string(width) + "x" + std::to_string(height);
  if (width <= 0 || height <= 0) throw decode_failure("the header declares an image of " + size);
  if (width > max_pixels / height)
    throw decode_failure(
        "the header declares an image of " + size + " = " + std::to_string(width * height) +
        " pixels, more than the limit read_options::max_pixels = " + std::to_string(max_pixels) +
        "; raise read_options::max_pixels to read it if the file is trusted");
}

}  // namespace typenet::detail
