// typenet/image/detail/jpeg_decoder.hpp — JPEG decoding by libjpeg-turbo, safe on
// untrusted files.
//
// Private to image/image.hpp. libjpeg-turbo (Debian libjpeg62-turbo) is the
// decoder Pillow uses, so pixels match PIL's (same integer IDCT, same fancy
// chroma upsampling); it is fuzzed upstream (OSS-Fuzz), unlike stb_image,
// whose JPEG reader writes past a Huffman table on a crafted DHT segment.
// What this adds around it:
//   - errors never exit: error_exit longjmps back to decode_jpeg_protected,
//     which holds no C++ object with a destructor (only pointers into a
//     jpeg_job owned by the caller), and the caller destroys the decompressor;
//   - warnings of cut or corrupt entropy-coded data are errors (premature
//     end, hit marker, bad Huffman or arithmetic code, resync): they would
//     otherwise decode to silent grey; warnings about metadata or stream
//     structure that PIL accepts (stray bytes, JFIF revision, Adobe
//     transform, progression order) are not;
//   - the size is checked against max_pixels after jpeg_read_header, before
//     jpeg_start_decompress allocates anything image-sized;
//   - at most max_scans scans (a progressive file of thousands of tiny scans
//     costs minutes, as djpeg's -maxscan guards against), and libjpeg's
//     whole-image buffers (progressive coefficients) are capped through
//     mem->max_memory_to_use.
// Output: 1 channel for grayscale files, 3 (RGB) otherwise; CMYK and YCCK
// files become RGB as stb_image made them (each of C, M, Y times K / 255).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>  // jpeglib.h uses FILE and size_t without including their headers
// clang-format off
#include <jpeglib.h>
#include <jerror.h>
// clang-format on

#include <climits>
#include <csetjmp>
#include <span>
#include <string>

#include "typenet/image/detail/decoded_pixels.hpp"

namespace typenet::detail {

/// Scans a JPEG may have; libjpeg-turbo 3's TurboJPEG uses the same limit.
inline constexpr int jpeg_max_scans = 500;

/// Everything decode_jpeg_protected touches; it lives in decode_jpeg's frame,
/// outside the setjmp / longjmp span.
struct jpeg_job {
  jpeg_decompress_struct info{};
  jpeg_error_mgr errors{};
  jpeg_progress_mgr progress{};
  std::jmp_buf jump{};
  char message[JMSG_LENGTH_MAX] = {};
  bool created = false;
  bool too_large = false;
  std::int64_t max_pixels = 0;
  decoded_pixels* out = nullptr;

  static jpeg_job& of(j_common_ptr cinfo) { return *static_cast<jpeg_job*>(cinfo->client_data); }
  static void error_exit(j_common_ptr cinfo) {
    auto& job = of(cinfo);
    (*cinfo->err->format_message)(cinfo, job.message);
    std::longjmp(job.jump, 1);
  }
  static void emit_message(j_common_ptr cinfo, int level) {
    // Warnings that the entropy-coded data is cut or corrupt are errors: the
    // decoder would fill the rest with grey. The others (stray bytes between
    // markers, an unknown JFIF revision or Adobe transform) concern metadata
    // that cameras and editors get wrong and PIL accepts.
    if (level >= 0) return;
    switch (cinfo->err->msg_code) {
      case JWRN_JPEG_EOF:
      case JWRN_HIT_MARKER:
      case JWRN_HUFF_BAD_CODE:
      case JWRN_ARITH_BAD_CODE:
      case JWRN_MUST_RESYNC:
        error_exit(cinfo);  // longjmps
        return;
      default:
        return;
    }
  }
  static void output_message(j_common_ptr) {}  // nothing goes to stderr
  static void progress_monitor(j_common_ptr cinfo) {
    if (cinfo->is_decompressor &&
        reinterpret_cast<j_decompress_ptr>(cinfo)->input_scan_number > jpeg_max_scans) {
      std::snprintf(of(cinfo).message, JMSG_LENGTH_MAX, "more than %d scans", jpeg_max_scans);
      std::longjmp(of(cinfo).jump, 1);
    }
  }
};

/// stb_image's CMYK to RGB: x * k / 255, rounded.
inline std::uint8_t jpeg_blinn(unsigned x, unsigned k) noexcept {
  const unsigned t = x * k + 128;
  return static_cast<std::uint8_t>((t + (t >> 8)) >> 8);
}

/// Runs libjpeg; returns false after a libjpeg error (message in job.message)
/// or when the header's size is over the limit (job.too_large). No object with
/// a non-trivial destructor lives in this frame across a libjpeg call; a
/// bad_alloc from out->allocate leaves normally, and the caller destroys the
/// decompressor either way.
inline bool decode_jpeg_protected(jpeg_job& job, const std::uint8_t* data, std::size_t size) {
  j_decompress_ptr cinfo = &job.info;
  if (setjmp(job.jump)) return false;
  jpeg_create_decompress(cinfo);
  job.created = true;
  cinfo->client_data = &job;
  cinfo->progress = &job.progress;
  // Whole-image buffers: progressive coefficients take 2 bytes per sample,
  // 4 components at most, for the largest image allowed.
  // (Saturated: max_pixels may be INT64_MAX for "trusted, no limit".)
  constexpr long base = 64L << 20;
  cinfo->mem->max_memory_to_use = job.max_pixels > (LONG_MAX - base) / 8
                                      ? LONG_MAX
                                      : static_cast<long>(job.max_pixels) * 8 + base;
  jpeg_mem_src(cinfo, data, static_cast<unsigned long>(size));
  jpeg_read_header(cinfo, TRUE);
  const std::int64_t w = cinfo->image_width, h = cinfo->image_height;
  if (w <= 0 || h <= 0 || w > job.max_pixels / h) {
    job.too_large = true;
    return false;
  }
  const bool cmyk = cinfo->jpeg_color_space == JCS_CMYK || cinfo->jpeg_color_space == JCS_YCCK;
  cinfo->out_color_space = cinfo->num_components == 1 ? JCS_GRAYSCALE : (cmyk ? JCS_CMYK : JCS_RGB);
  jpeg_start_decompress(cinfo);
  const int channels = cinfo->out_color_space == JCS_GRAYSCALE ? 1 : 3;
  if (cinfo->output_components != (cmyk ? 4 : channels)) {
    std::snprintf(job.message, JMSG_LENGTH_MAX, "unexpected number of output components (%d)",
                  cinfo->output_components);
    return false;
  }
  JSAMPARRAY cmyk_row = cmyk ? (*cinfo->mem->alloc_sarray)(reinterpret_cast<j_common_ptr>(cinfo),
                                                           JPOOL_IMAGE, cinfo->output_width * 4, 1)
                             : nullptr;
  job.out->allocate(static_cast<int>(cinfo->output_width), static_cast<int>(cinfo->output_height),
                    channels, false);
  std::uint8_t* samples = job.out->samples8.get();
  const std::size_t row_size = std::size_t{cinfo->output_width} * channels;
  while (cinfo->output_scanline < cinfo->output_height) {
    std::uint8_t* row = samples + cinfo->output_scanline * row_size;
    JSAMPROW target = cmyk ? cmyk_row[0] : row;
    if (jpeg_read_scanlines(cinfo, &target, 1) != 1) {
      std::snprintf(job.message, JMSG_LENGTH_MAX, "no scanline returned");
      return false;
    }
    if (cmyk)
      for (std::size_t x = 0; x < cinfo->output_width; ++x) {
        const std::uint8_t* p = cmyk_row[0] + 4 * x;
        row[3 * x + 0] = jpeg_blinn(p[0], p[3]);
        row[3 * x + 1] = jpeg_blinn(p[1], p[3]);
        row[3 * x + 2] = jpeg_blinn(p[2], p[3]);
      }
  }
  jpeg_finish_decompress(cinfo);
  return true;
}

/// Decodes a JPEG file's bytes; throws decode_failure with libjpeg's reason.
inline decoded_pixels decode_jpeg(std::span<const std::uint8_t> bytes, std::int64_t max_pixels) {
  decoded_pixels out;
  jpeg_job job;
  job.max_pixels = max_pixels;
  job.out = &out;
  job.info.client_data = &job;  // before jpeg_create_decompress, which may fail
  job.info.err = jpeg_std_error(&job.errors);
  job.errors.error_exit = &jpeg_job::error_exit;
  job.errors.emit_message = &jpeg_job::emit_message;
  job.errors.output_message = &jpeg_job::output_message;
  job.progress.progress_monitor = &jpeg_job::progress_monitor;
  struct destroyer {
    jpeg_job& job;
    ~destroyer() {
      if (job.created) jpeg_destroy_decompress(&job.info);
    }
  } destroy{job};

  if (!decode_jpeg_protected(job, bytes.data(), bytes.size())) {
    if (job.too_large)
      check_pixel_limit(job.info.image_width, job.info.image_height, max_pixels);  // throws
    throw decode_failure(std::string("libjpeg: ") + job.message);
  }
  return out;
}

}  // namespace typenet::detail
