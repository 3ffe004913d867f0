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

#include <stb/stb_image_write.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <ios>
#include <iterator>
#include <memory>
#include <new>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "typenet/core/errors.hpp"
#include "typenet/image/detail/decoded_pixels.hpp"
#include "typenet/image/detail/gif_decoder.hpp"
#include "typenet/image/detail/jpeg_decoder.hpp"
#include "typenet/image/detail/png_decoder.hpp"
#include "typenet/image/detail/pnm_decoder.hpp"
#include "typenet/image/detail/stb_decoder.hpp"
#include "typenet/io/durable_file.hpp"
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

namespace detail {

/// The format by its signature. TGA has no signature: a plausible header
/// (image type, colour-map flag and pixel depth that agree) is taken for one.
inline std::string image_format_name(std::span<const std::uint8_t> b) {
  const auto starts = [&](std::string_view sig) {
    return b.size() >= sig.size() && std::memcmp(b.data(), sig.data(), sig.size()) == 0;
  };
  if (starts("\x89PNG")) return "PNG";
  if (starts("\xFF\xD8")) return "JPEG";
  if (starts("BM")) return "BMP";
  if (starts("GIF8")) return "GIF";
  if (starts("8BPS")) return "PSD";
  if (starts("#?RADIANCE") || starts("#?RGBE")) return "HDR";
  if (starts("\x53\x80\xF6\x34")) return "PIC";
  if (starts("P5") || starts("P6")) return "PNM";
  if (b.size() >= 18) {
    const int type = b[2], mapped = b[1], depth = b[16];
    const bool color_mapped = type == 1 || type == 9;
    const bool known = color_mapped || type == 2 || type == 3 || type == 10 || type == 11;
    if (known && mapped == (color_mapped ? 1 : 0) &&
        (depth == 8 || depth == 15 || depth == 16 || depth == 24 || depth == 32))
      return "TGA";
  }
  return "unrecognized";
}

/// Decoded samples as an image of `wanted` channels (0: as decoded),
/// converted as stb_image's stbi__convert_format does.
template <class Sample>
image to_image(const Sample* p, int width, int height, int stored, int wanted) {
  constexpr Sample opaque = Sample(~Sample{0});
  constexpr float full = opaque;  // u / 255.0f (or / 65535.0f), as before: exact for 8 bits
  const int channels = wanted ? wanted : stored;
  image img(width, height, channels);
  float* out = img.data();
  const std::size_t pixels = static_cast<std::size_t>(width) * static_cast<std::size_t>(height);
  if (channels == stored) {
    std::transform(p, p + pixels * stored, out, [](Sample v) { return v / full; });
    return img;
  }
  const bool color = stored >= 3, alpha = stored == 2 || stored == 4;
  for (std::size_t i = 0; i < pixels; ++i, p += stored, out += channels) {
    const Sample r = p[0], g = color ? p[1] : p[0], b = color ? p[2] : p[0];
    const Sample a = alpha ? p[stored - 1] : opaque;
    const Sample gray = color ? static_cast<Sample>((r * 77 + g * 150 + 29 * b) >> 8) : r;
    if (channels <= 2) {
      out[0] = gray / full;
      if (channels == 2) out[1] = a / full;
    } else {
      out[0] = r / full;
      out[1] = g / full;
      out[2] = b / full;
      if (channels == 4) out[3] = a / full;
    }
  }
  return img;
}

}  // namespace detail

/// Decodes an image file held in memory; `name` appears in error messages.
inline image decode_image(std::span<const std::uint8_t> bytes, const read_options& options = {},
                          const std::string& name = "<memory>") {
  const std::string format = detail::image_format_name(bytes);
  const auto fail = [&](const std::string& what) -> image_error {
    return image_error(name + " (" + format + ", " + std::to_string(bytes.size()) +
                       " bytes): " + what);
  };
  if (options.channels < 0 || options.channels > 4)
    throw usage_error("read_image: channels must be 0 (as in the file) or 1 to 4, not " +
                      std::to_string(options.channels));
  if (bytes.empty()) throw fail("empty file");
  if (format == "TGA" || format == "PSD" || format == "HDR" || format == "PIC") {
    std::string ext = format;
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    throw fail(format +
               " is not decoded: its only decoder here, stb_image, is not safe on untrusted "
               "input; convert the file to PNG first (for example `convert in." +
               ext + " out.png`)");
  }
  if (format == "unrecognized")
    throw fail(
        "not a decodable image: unrecognized format (typenet reads PNG, JPEG, GIF, BMP and "
        "binary PNM: P5, P6)");
  detail::decoded_pixels pixels;
  try {
    if (format == "JPEG")
      pixels = detail::decode_jpeg(bytes, options.max_pixels);
    else if (format == "PNG")
      pixels = detail::decode_png(bytes, options.max_pixels);
    else if (format == "GIF")
      pixels = detail::decode_gif(bytes, options.max_pixels);
    else if (format == "PNM")
      pixels = detail::decode_pnm(bytes, options.max_pixels);
    else
      pixels = detail::decode_bmp(bytes, options.max_pixels);
  } catch (const detail::decode_failure& e) {
    throw fail(e.what());
  } catch (const std::bad_alloc&) {
    throw fail("not enough memory to decode the image");
  }
  try {  // the float image is 4x the samples: it can fail where decoding did not
    if (pixels.sixteen)
      return detail::to_image(pixels.samples16.get(), pixels.width, pixels.height, pixels.channels,
                              options.channels);
    return detail::to_image(pixels.samples8.get(), pixels.width, pixels.height, pixels.channels,
                            options.channels);
  } catch (const std::bad_alloc&) {
    throw fail("not enough memory for the decoded image");
  }
}

/// Reads and decodes an image file (PNG, JPEG, GIF's first frame, BMP, binary PNM).
inline image read_image(const std::filesystem::path& path, const read_options& options = {}) {
  std::error_code dir_ec;
  if (std::filesystem::is_directory(path, dir_ec))
    throw image_error(path.string() + ": cannot read an image from a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int e = errno;
    std::error_code ec;
    const bool exists = std::filesystem::exists(path, ec);
    throw image_error(path.string() + ": cannot open image file: " +
                      (exists ? std::string(std::strerror(e)) : "no such file"));
  }
  std::vector<std::uint8_t> bytes;
  try {
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  } catch (const std::ios_base::failure& e) {  // libstdc++ throws on some read errors
    throw image_error(path.string() + ": read error: " + e.what());
  } catch (const std::bad_alloc&) {
    throw image_error(path.string() + ": not enough memory to read the file");
  }
  if (in.bad()) throw image_error(path.string() + ": read error");
  return decode_image(bytes, options, path.string());
}

// ---- writing ---------------------------------------------------------------------------

namespace detail {

inline void append_bytes(void* context, void* data, int size) {
  auto& out = *static_cast<std::vector<std::uint8_t>*>(context);
  const auto* p = static_cast<const std::uint8_t*>(data);
  out.insert(out.end(), p, p + size);
}

inline void check_encodable(const image& img, const char* what) {
  if (img.empty())
    throw usage_error(std::string(what) + ": cannot encode an empty image (" + describe(img) + ")");
  if (img.size() > INT_MAX)
    throw usage_error(std::string(what) + ": image " + describe(img) + " too large for stb");
}

/// Written like weights (io/durable_file.hpp): never half a file, and the
/// system's reason when the write fails.
inline void write_file(const std::filesystem::path& path, const std::vector<std::uint8_t>& bytes) {
  const std::span<const std::byte> parts[] = {std::as_bytes(std::span(bytes))};
  try {
    io::write_file_durably(path, parts);
  } catch (const file_error& e) {
    throw image_error(e.what());
  }
}

}  // namespace detail

/// The image as a PNG file's bytes (8 bits per value, lossless for 8-bit content).
inline std::vector<std::uint8_t> encode_png(const image& img) {
  detail::check_encodable(img, "encode_png");
  const auto pixels = to_bytes(img);
  std::vector<std::uint8_t> out;
  if (!stbi_write_png_to_func(&detail::append_bytes, &out, img.width(), img.height(),
                              img.channels(), pixels.data(), img.width() * img.channels()))
    throw image_error("encode_png: stb_image_write failed for a " + describe(img) + " image");
  return out;
}

/// The image as a baseline JPEG file's bytes; quality 1 to 100 (alpha is dropped).
inline std::vector<std::uint8_t> encode_jpeg(const image& img, int quality = 95) {
  detail::check_encodable(img, "encode_jpeg");
  if (quality < 1 || quality > 100)
    throw usage_error("encode_jpeg: quality must be 1 to 100, not " + std::to_string(quality));
  const auto pixels = to_bytes(img);
  std::vector<std::uint8_t> out;
  if (!stbi_write_jpg_to_func(&detail::append_bytes, &out, img.width(), img.height(),
                              img.channels(), pixels.data(), quality))
    throw image_error("encode_jpeg: stb_image_write failed for a " + describe(img) + " image");
  return out;
}

inline void write_png(const image& img, const std::filesystem::path& path) {
  detail::write_file(path, encode_png(img));
}

inline void write_jpeg(const image& img, const std::filesystem::path& path, int quality = 95) {
  detail::write_file(path, encode_jpeg(img, quality));
}

/// PNG or JPEG by the extension (.png, .jpg, .jpeg; any case).
inline void write_image(const image& img, const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  if (ext == ".png") return write_png(img, path);
  if (ext == ".jpg" || ext == ".jpeg") return write_jpeg(img, path);
  throw usage_error(path.string() + ": write_image writes .png, .jpg or .jpeg files");
}

}  // namespace typenet
