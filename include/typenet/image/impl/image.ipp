// typenet/image/impl/image.ipp — the definitions of image/image.hpp that are not
// templates: included by that header in the header-only default, compiled
// once into typenet::vision_compiled (src/vision.cpp) under
// TYPENET_COMPILED_VISION.
#pragma once

#include <stb/stb_image_write.h>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <ios>
#include <iterator>
#include <new>
#include <string_view>
#include "typenet/image/detail/decoded_pixels.hpp"
#include "typenet/image/detail/gif_decoder.hpp"
#include "typenet/image/detail/jpeg_decoder.hpp"
#include "typenet/image/detail/png_decoder.hpp"
#include "typenet/image/detail/pnm_decoder.hpp"
#include "typenet/image/detail/stb_decoder.hpp"
#include "typenet/image/image.hpp"
#include "typenet/io/durable_file.hpp"

namespace typenet {

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

TYPENET_VISION_DECL image decode_image(std::span<const std::uint8_t> bytes,
                                       const read_options& options, const std::string& name) {
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

TYPENET_VISION_DECL image read_image(const std::filesystem::path& path,
                                     const read_options& options) {
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

TYPENET_VISION_DECL std::vector<std::uint8_t> encode_png(const image& img) {
  detail::check_encodable(img, "encode_png");
  const auto pixels = to_bytes(img);
  std::vector<std::uint8_t> out;
  if (!stbi_write_png_to_func(&detail::append_bytes, &out, img.width(), img.height(),
                              img.channels(), pixels.data(), img.width() * img.channels()))
    throw image_error("encode_png: stb_image_write failed for a " + describe(img) + " image");
  return out;
}

TYPENET_VISION_DECL std::vector<std::uint8_t> encode_jpeg(const image& img, int quality) {
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

TYPENET_VISION_DECL void write_png(const image& img, const std::filesystem::path& path) {
  detail::write_file(path, encode_png(img));
}

TYPENET_VISION_DECL void write_jpeg(const image& img, const std::filesystem::path& path,
                                    int quality) {
  detail::write_file(path, encode_jpeg(img, quality));
}

TYPENET_VISION_DECL void write_image(const image& img, const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  if (ext == ".png") return write_png(img, path);
  if (ext == ".jpg" || ext == ".jpeg") return write_jpeg(img, path);
  throw usage_error(path.string() + ": write_image writes .png, .jpg or .jpeg files");
}

}  // namespace typenet
