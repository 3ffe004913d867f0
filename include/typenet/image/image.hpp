// typenet/image/image.hpp — an image in memory, and reading / writing image files.
//
//   auto photo = tn::read_image("cat.jpg", {.channels = 3});   // PNG, JPEG, GIF, BMP, PNM
//   photo(y, x, c);                                            // float in [0, 1]
//   tn::write_png(photo, "cat.png");                           // lossless; write_jpeg(.., quality)
//
// `image` stores width x height x channels (1 gray, 2 gray+alpha or two
// planes such as LAB's ab, 3 RGB, 4 RGBA) as interleaved float32, row by row,
// like a numpy HWC array. Float, not 8-bit, because every step after
// decoding (resize, normalization, LAB, conversion to a Tensor) is float
// arithmetic whose results (fractions, negative ab, normalized values) an
// 8-bit store would round or clip after each step; 8-bit files round-trip
// exactly through it (u / 255 and back, rounded). Values read from files are
// in [0, 1]; 16-bit PNGs keep their 16 bits.
//
// Decoding is meant to be safe on untrusted files (docs/images.md): JPEG by
// libjpeg-turbo, PNG by libpng, GIF by giflib, binary PNM by a reader here,
// BMP by stb_image (Debian's compiled libstb; no typenet header defines
// STB_IMAGE_IMPLEMENTATION, DESIGN.md §4b); TGA, PSD, HDR and PIC are refused
// because stb_image, the only decoder at hand for them, is not safe on
// hostile input. Every decoder checks the header's size against
// read_options::max_pixels before allocating anything image-sized. A
// missing, unreadable, corrupt, truncated, refused or too large file throws
// image_error (a format_error) naming the file, its detected format and the
// reason. Encoding uses stb_image_write.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "typenet/config.hpp"
#include "typenet/core/errors.hpp"
#include "typenet/io/errors.hpp"

namespace typenet {

/// An image file cannot be read, decoded or written. Derives from
/// format_error so one handler covers malformed weight and image files.
struct image_error : format_error {
  using format_error::format_error;
};

class image {
 public:
  image() = default;
  /// A width x height image of `channels` (1 to 4) channels, every value `value`.
  image(int width, int height, int channels, float value = 0.0f) {
    if (width < 0 || height < 0 || channels < 1 || channels > 4)
      throw shape_error("image: invalid size " + std::to_string(width) + "x" +
                        std::to_string(height) + "x" + std::to_string(channels) +
                        " (width and height >= 0, 1 to 4 channels)");
    width_ = width;
    height_ = height;
    channels_ = channels;
    values_.assign(static_cast<std::size_t>(width) * static_cast<std::size_t>(height) *
                       static_cast<std::size_t>(channels),
                   value);
  }

  int width() const noexcept { return width_; }
  int height() const noexcept { return height_; }
  int channels() const noexcept { return channels_; }
  bool empty() const noexcept { return values_.empty(); }
  /// Number of values: width * height * channels.
  std::int64_t size() const noexcept { return static_cast<std::int64_t>(values_.size()); }

  float* data() noexcept { return values_.data(); }
  const float* data() const noexcept { return values_.data(); }
  std::span<float> values() noexcept { return values_; }
  std::span<const float> values() const noexcept { return values_; }

  /// Row `y`, column `x`, channel `c` (numpy's img[y, x, c]).
  float& operator()(int y, int x, int c = 0) noexcept { return values_[index(y, x, c)]; }
  float operator()(int y, int x, int c = 0) const noexcept { return values_[index(y, x, c)]; }

  bool operator==(const image&) const = default;

 private:
  std::size_t index(int y, int x, int c) const noexcept {
    return (static_cast<std::size_t>(y) * static_cast<std::size_t>(width_) +
            static_cast<std::size_t>(x)) *
               static_cast<std::size_t>(channels_) +
           static_cast<std::size_t>(c);
  }

  int width_ = 0;
  int height_ = 0;
  int channels_ = 0;
  std::vector<float> values_;
};

/// "640x480x3", for messages.
inline std::string describe(const image& img) {
  return std::to_string(img.width()) + "x" + std::to_string(img.height()) + "x" +
         std::to_string(img.channels());
}

/// An image from interleaved 8-bit values (CIFAR, MNIST, raw buffers): v / 255.
inline image from_bytes(std::span<const std::uint8_t> bytes, int width, int height, int channels) {
  image img(width, height, channels);
  if (bytes.size() != static_cast<std::size_t>(img.size()))
    throw shape_error("from_bytes: " + std::to_string(bytes.size()) + " bytes for a " +
                      describe(img) + " image, which needs " + std::to_string(img.size()));
  std::transform(bytes.begin(), bytes.end(), img.data(),
                 [](std::uint8_t v) { return static_cast<float>(v) / 255.0f; });
  return img;
}

/// A value in [0, 1] as 8 bits: clamped, rounded to nearest; NaN becomes 0.
inline std::uint8_t to_byte(float v) noexcept {
  const float clamped = v > 0.0f ? (v < 1.0f ? v : 1.0f) : 0.0f;  // NaN fails `v > 0`
  return static_cast<std::uint8_t>(clamped * 255.0f + 0.5f);
}

/// The image as interleaved 8-bit values (to_byte of each value).
inline std::vector<std::uint8_t> to_bytes(const image& img) {
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(img.size()));
  std::transform(img.data(), img.data() + img.size(), bytes.begin(), to_byte);
  return bytes;
}

// ---- reading ---------------------------------------------------------------------------

struct read_options {
  /// 0 keeps the file's channels; 1 to 4 converts as stb_image does (RGB to
  /// gray by (77 R + 150 G + 29 B) / 256 rounded down, alpha dropped or set
  /// opaque). For skimage's gray, read 3 channels and call rgb_to_gray
  /// (image/color.hpp).
  int channels = 0;
  /// Larger images (width x height) are refused after the header is read and
  /// before anything is decoded or allocated. The default, 89,478,485, is
  /// Pillow's MAX_IMAGE_PIXELS (the size at which PIL warns of a
  /// decompression bomb; it refuses twice that): about 9459 x 9459, a 1 GiB
  /// 3-channel float image. A crafted file that declares more than it holds
  /// fails as soon as its data runs out, having touched memory only for the
  /// rows it really decoded. Raise it for trusted larger images.
  std::int64_t max_pixels = 89'478'485;
};

/// Decodes an image file held in memory; `name` appears in error messages.
TYPENET_VISION_DECL image decode_image(std::span<const std::uint8_t> bytes,
                                       const read_options& options = {},
                                       const std::string& name = "<memory>");

/// Reads and decodes an image file (PNG, JPEG, GIF's first frame, BMP, binary PNM).
TYPENET_VISION_DECL image read_image(const std::filesystem::path& path,
                                     const read_options& options = {});

// ---- writing ---------------------------------------------------------------------------

/// The image as a PNG file's bytes (8 bits per value, lossless for 8-bit content).
TYPENET_VISION_DECL std::vector<std::uint8_t> encode_png(const image& img);

/// The image as a baseline JPEG file's bytes; quality 1 to 100 (alpha is dropped).
TYPENET_VISION_DECL std::vector<std::uint8_t> encode_jpeg(const image& img, int quality = 95);

TYPENET_VISION_DECL void write_png(const image& img, const std::filesystem::path& path);

TYPENET_VISION_DECL void write_jpeg(const image& img, const std::filesystem::path& path,
                                    int quality = 95);

/// PNG or JPEG by the extension (.png, .jpg, .jpeg; any case).
TYPENET_VISION_DECL void write_image(const image& img, const std::filesystem::path& path);

}  // namespace typenet

#if !defined(TYPENET_COMPILED_VISION)
#include "typenet/image/impl/image.ipp"
#endif
