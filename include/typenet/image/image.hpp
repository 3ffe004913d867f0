// typenet/image/image.hpp — an image in memory, and reading / writing image files.
//
//   auto photo = tn::read_image("cat.jpg", {.channels = 3});   // PNG, JPEG, BMP, TGA, GIF, ...
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
// Decoding uses stb_image and encoding stb_image_write, from Debian's
// compiled libstb (link `pkg-config --libs stb`; no typenet header defines
// STB_IMAGE_IMPLEMENTATION, DESIGN.md §4b). A missing, unreadable, corrupt or
// truncated file throws image_error (a format_error) naming the file, its
// detected format and stb's reason; stb decodes truncated BMP and TGA files
// without complaint, so reads that run past the end are caught here.
#pragma once

#include <stb/stb_image.h>
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
#include <span>
#include <string>
#include <string_view>
#include <vector>

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
  /// 0 keeps the file's channels; 1 to 4 converts as stb does (RGB to gray by
  /// (77 R + 150 G + 29 B) / 256, alpha dropped or set opaque). For skimage's
  /// gray, read 3 channels and call rgb_to_gray (image/color.hpp).
  int channels = 0;
  /// Larger images are refused before decoding (a corrupt header could ask
  /// for gigabytes).
  std::int64_t max_pixels = std::int64_t{1} << 28;
};

namespace detail {

/// The format by its signature, for messages. TGA has no signature (stb
/// tries it last); a plausible header byte pattern is taken for one.
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
  if (b.size() >= 18 && b[1] <= 1 &&
      (b[2] == 1 || b[2] == 2 || b[2] == 3 || b[2] == 9 || b[2] == 10 || b[2] == 11))
    return "TGA";
  return "unrecognized";
}

/// stb reads through these callbacks so that a decoder asking for bytes past
/// the end is noticed: stb substitutes zeros there and reports success for
/// truncated BMP and TGA files.
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

inline std::uint16_t le16(std::span<const std::uint8_t> b, std::size_t at) {
  return static_cast<std::uint16_t>(b[at] | (b[at + 1] << 8));
}

/// An uncompressed TGA (types 1, 2, 3) must hold all its pixels; stb's row
/// reads do not tell when the last row comes up short.
inline std::size_t tga_expected_size(std::span<const std::uint8_t> b) {
  if (b.size() < 18) return 18;
  const int type = b[2];
  if (type != 1 && type != 2 && type != 3) return 0;
  std::size_t size = 18 + b[0];
  if (b[1] == 1) size += std::size_t{le16(b, 5)} * ((b[7] + 7u) / 8u);
  size += std::size_t{le16(b, 12)} * le16(b, 14) * ((b[16] + 7u) / 8u);
  return size;
}

/// A binary PNM (P5, P6) must hold all its samples after the header (three
/// numbers, comments allowed, then one whitespace byte); stb reads short
/// data silently. Returns SIZE_MAX when the header itself is cut off.
inline std::size_t pnm_expected_size(std::span<const std::uint8_t> b) {
  std::size_t at = 2;
  std::size_t numbers[3] = {0, 0, 0};
  for (auto& number : numbers) {
    while (at < b.size() && (std::isspace(b[at]) || b[at] == '#')) {
      if (b[at] == '#')
        while (at < b.size() && b[at] != '\n' && b[at] != '\r') ++at;
      else
        ++at;
    }
    if (at >= b.size() || !std::isdigit(b[at])) return SIZE_MAX;
    while (at < b.size() && std::isdigit(b[at]) && number < (std::size_t{1} << 32))
      number = number * 10 + (b[at++] - '0');
  }
  const std::size_t samples = b[1] == '6' ? 3 : 1, depth = numbers[2] > 255 ? 2 : 1;
  return at + 1 + numbers[0] * numbers[1] * samples * depth;
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
  if (bytes.size() > static_cast<std::size_t>(INT_MAX)) throw fail("file too large for stb_image");

  int width = 0, height = 0, stored = 0;
  {
    detail::stb_source probe{bytes};
    if (!stbi_info_from_callbacks(&detail::stb_source::callbacks, &probe, &width, &height, &stored))
      throw fail(std::string("not a decodable image: stb_image: ") +
                 (stbi_failure_reason() ? stbi_failure_reason() : "no reason given"));
  }
  if (std::int64_t{width} * height > options.max_pixels)
    throw fail("image of " + std::to_string(width) + "x" + std::to_string(height) +
               " pixels exceeds read_options::max_pixels = " + std::to_string(options.max_pixels));

  bool sixteen = false;
  {
    detail::stb_source probe{bytes};
    sixteen = stbi_is_16_bit_from_callbacks(&detail::stb_source::callbacks, &probe) != 0;
  }

  detail::stb_source source{bytes};
  const int wanted = options.channels;
  int channels = 0;
  std::unique_ptr<void, void (*)(void*)> pixels(nullptr, &stbi_image_free);
  if (sixteen)
    pixels.reset(stbi_load_16_from_callbacks(&detail::stb_source::callbacks, &source, &width,
                                             &height, &channels, wanted));
  else
    pixels.reset(stbi_load_from_callbacks(&detail::stb_source::callbacks, &source, &width, &height,
                                          &channels, wanted));
  if (!pixels) {
    const char* why = stbi_failure_reason();
    const std::string reason = why && *why ? why : "no reason given";
    throw fail("corrupt or truncated image: stb_image: " + reason);
  }
  if (source.ran_past_end)
    throw fail("truncated image: the decoder needed more than the file's bytes");
  if (format == "TGA" && bytes.size() < detail::tga_expected_size(bytes))
    throw fail("truncated image: an uncompressed TGA of " + std::to_string(width) + "x" +
               std::to_string(height) + " needs " +
               std::to_string(detail::tga_expected_size(bytes)) + " bytes");

  if (format == "PNM" && bytes.size() < detail::pnm_expected_size(bytes))
    throw fail("truncated image: a binary PNM of " + std::to_string(width) + "x" +
               std::to_string(height) + " needs more bytes");

  image img(width, height, wanted ? wanted : channels);
  const auto n = static_cast<std::size_t>(img.size());
  if (sixteen) {
    const auto* p = static_cast<const std::uint16_t*>(pixels.get());
    std::transform(p, p + n, img.data(), [](std::uint16_t v) { return v / 65535.0f; });
  } else {
    const auto* p = static_cast<const std::uint8_t*>(pixels.get());
    std::transform(p, p + n, img.data(), [](std::uint8_t v) { return v / 255.0f; });
  }
  return img;
}

/// Reads and decodes an image file (PNG, JPEG, BMP, TGA, GIF's first frame, PSD, PNM, HDR).
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

inline void write_file(const std::filesystem::path& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw image_error(path.string() + ": cannot open for writing: " + std::strerror(errno));
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) throw image_error(path.string() + ": write failed");
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
