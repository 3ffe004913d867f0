// typenet/image/detail/png_decoder.hpp — PNG decoding by libpng, safe on untrusted
// files.
//
// Private to image/image.hpp. libpng (Debian libpng16) is the reference PNG
// implementation, fuzzed upstream (OSS-Fuzz). What this adds around it:
//   - errors never exit or print: the error callback records libpng's
//     message and longjmps back to decode_png_protected, which holds no C++
//     object with a destructor across a libpng call; the caller destroys the
//     read structs either way. Warnings (an sRGB profile libpng dislikes, a
//     bad ancillary chunk, which libpng drops) are ignored, as PIL does;
//   - reads past the end of the file are an error ("truncated"), and so is a
//     missing IEND (png_read_end reads to it, checking the zlib stream ends);
//   - the size is checked against max_pixels after png_read_info, before any
//     image-sized allocation, and libpng's own allocations are bounded:
//     width and height each at most max_pixels (png_set_user_limits), an
//     ancillary chunk at most 8 MiB (png_set_chunk_malloc_max, also the bound
//     on decompressed zTXt / iCCP), at most 128 such chunks kept.
// Output follows stb_image (and PIL): palette files become RGB, or RGBA when
// they carry tRNS; gray and RGB with tRNS gain an alpha channel; 1, 2, 4-bit
// gray is scaled to 8 bits; 16-bit files keep 16 bits; interlaced files are
// de-interlaced; gAMA and other colour chunks are not applied.
#pragma once

#include <png.h>

#include <algorithm>
#include <bit>
#include <csetjmp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <span>
#include <string>

#include "typenet/image/detail/decoded_pixels.hpp"

namespace typenet::detail {

/// Everything decode_png_protected touches; it lives in decode_png's frame.
struct png_job {
  std::span<const std::uint8_t> bytes;
  std::size_t position = 0;
  png_structp png = nullptr;
  png_infop info = nullptr;
  char message[200] = {};
  bool too_large = false;
  png_uint_32 width = 0, height = 0;
  std::int64_t max_pixels = 0;
  decoded_pixels* out = nullptr;

  static void error(png_structp png, png_const_charp what) {
    auto& job = *static_cast<png_job*>(png_get_error_ptr(png));
    std::snprintf(job.message, sizeof job.message, "%s", what ? what : "unknown error");
    png_longjmp(png, 1);
  }
  static void warning(png_structp, png_const_charp) {}
  static void read(png_structp png, png_bytep out, std::size_t size) {
    auto& job = *static_cast<png_job*>(png_get_io_ptr(png));
    if (size > job.bytes.size() - job.position)
      png_error(png, "the file ends early (truncated image)");
    std::memcpy(out, job.bytes.data() + job.position, size);
    job.position += size;
  }
};

/// Runs libpng; false after a libpng error (job.message) or when the header's
/// size is over the limit (job.too_large). A bad_alloc from out->allocate
/// leaves normally; the caller frees libpng's structs either way.
inline bool decode_png_protected(png_job& job) {
  png_structp png = job.png;
  png_infop info = job.info;
  if (setjmp(png_jmpbuf(png))) return false;
  const auto limit = static_cast<png_uint_32>(std::min<std::int64_t>(job.max_pixels, 0x7fffffff));
  png_set_user_limits(png, limit, limit);
  png_set_chunk_cache_max(png, 128);
  png_set_chunk_malloc_max(png, png_alloc_size_t{8} << 20);
  png_set_read_fn(png, &job, &png_job::read);
  png_read_info(png, info);
  job.width = png_get_image_width(png, info);
  job.height = png_get_image_height(png, info);
  const std::int64_t w = job.width, h = job.height;
  if (w <= 0 || h <= 0 || w > job.max_pixels / h) {
    job.too_large = true;
    return false;
  }
  const int color_type = png_get_color_type(png, info);
  const int bit_depth = png_get_bit_depth(png, info);
  if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
  if (bit_depth == 16 && std::endian::native == std::endian::little) png_set_swap(png);
  const int passes = png_set_interlace_handling(png);
  png_read_update_info(png, info);

  const int channels = png_get_channels(png, info);
  const bool sixteen = png_get_bit_depth(png, info) == 16;
  const std::size_t row_size =
      static_cast<std::size_t>(job.width) * static_cast<std::size_t>(channels) * (sixteen ? 2 : 1);
  if (channels < 1 || channels > 4 || png_get_rowbytes(png, info) != row_size) {
    std::snprintf(job.message, sizeof job.message, "unexpected row layout after transformations");
    return false;
  }
  job.out->allocate(static_cast<int>(job.width), static_cast<int>(job.height), channels, sixteen);
  auto* samples =
      sixteen ? reinterpret_cast<std::uint8_t*>(job.out->samples16.get()) : job.out->samples8.get();
  // Rows are passed as png_read_row's first ("sparkle") argument: each pass
  // writes only its own pixels, so after the last pass every sample is set.
  for (int pass = 0; pass < passes; ++pass)
    for (png_uint_32 y = 0; y < job.height; ++y) png_read_row(png, samples + y * row_size, nullptr);
  png_read_end(png, nullptr);
  return true;
}

/// Decodes a PNG file's bytes; throws decode_failure with libpng's reason.
inline decoded_pixels decode_png(std::span<const std::uint8_t> bytes, std::int64_t max_pixels) {
  decoded_pixels out;
  png_job job;
  job.bytes = bytes;
  job.max_pixels = max_pixels;
  job.out = &out;
  job.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &job, &png_job::error, &png_job::warning);
  if (job.png == nullptr) throw decode_failure("libpng: cannot create a read struct");
  struct destroyer {
    png_job& job;
    ~destroyer() { png_destroy_read_struct(&job.png, job.info ? &job.info : nullptr, nullptr); }
  } destroy{job};
  job.info = png_create_info_struct(job.png);
  if (job.info == nullptr) throw decode_failure("libpng: cannot create an info struct");

  if (!decode_png_protected(job)) {
    if (job.too_large) check_pixel_limit(job.width, job.height, max_pixels);  // throws
    throw decode_failure(std::string("libpng: ") + job.message);
  }
  return out;
}

}  // namespace typenet::detail
