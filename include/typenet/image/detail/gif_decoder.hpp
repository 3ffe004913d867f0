// typenet/image/detail/gif_decoder.hpp — the first frame of a GIF, decoded by giflib,
// safe on untrusted files.
//
// Private to image/image.hpp. stb_image's GIF reader allocates three
// screen-sized buffers for any header (a 136-byte file can exhaust memory)
// and trips UBSan on fuzzed input; giflib (Debian libgif7) reads through
// error codes, never exits, and is used here only through its low-level
// record API (DGifGetImageDesc, DGifGetLine), not DGifSlurp, which keeps every
// frame. The logical screen's size is checked against max_pixels before
// anything image-sized is allocated, and a frame must lie inside the screen.
//
// Output is what stb_image gave: 4 channels (RGBA) of the logical screen;
// the first frame's pixels from its colour table (local, else global), its
// transparent index (graphics control extension) and indices past the table
// left at (0, 0, 0, 0); pixels outside the frame at (0, 0, 0, 0), or at the
// opaque background colour when the background index is not 0. Interlaced
// frames are de-interlaced. Later frames are not read.
#pragma once

#include <gif_lib.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "typenet/image/detail/decoded_pixels.hpp"

namespace typenet::detail {

struct gif_reader {
  std::span<const std::uint8_t> bytes;
  std::size_t position = 0;

  static int read(GifFileType* gif, GifByteType* out, int size) {
    auto& r = *static_cast<gif_reader*>(gif->UserData);
    const std::size_t n =
        std::min(static_cast<std::size_t>(std::max(size, 0)), r.bytes.size() - r.position);
    if (n > 0) std::memcpy(out, r.bytes.data() + r.position, n);
    r.position += n;
    return static_cast<int>(n);
  }
};

inline std::string gif_reason(int code) {
  const char* what = GifErrorString(code);
  return std::string("giflib: ") + (what ? what : "unknown error") +
         (code == D_GIF_ERR_READ_FAILED ? " (truncated image)" : "");
}

/// Decodes the first frame of a GIF file's bytes; throws decode_failure.
inline decoded_pixels decode_gif(std::span<const std::uint8_t> bytes, std::int64_t max_pixels) {
  gif_reader reader{bytes};
  int error = 0;
  GifFileType* gif = DGifOpen(&reader, &gif_reader::read, &error);
  if (gif == nullptr) throw decode_failure(gif_reason(error));
  struct closer {
    GifFileType* gif;
    ~closer() {
      int ignored = 0;
      DGifCloseFile(gif, &ignored);
    }
  } close{gif};

  const int width = gif->SWidth, height = gif->SHeight;
  check_pixel_limit(width, height, max_pixels);

  // Extensions until the first image descriptor; the graphics control
  // extension before it may name a transparent index.
  int transparent = -1;
  for (;;) {
    GifRecordType record = UNDEFINED_RECORD_TYPE;
    if (DGifGetRecordType(gif, &record) == GIF_ERROR) throw decode_failure(gif_reason(gif->Error));
    if (record == TERMINATE_RECORD_TYPE) throw decode_failure("GIF without an image");
    if (record == IMAGE_DESC_RECORD_TYPE) break;
    if (record != EXTENSION_RECORD_TYPE) throw decode_failure("GIF: unexpected record");
    int code = 0;
    GifByteType* block = nullptr;
    if (DGifGetExtension(gif, &code, &block) == GIF_ERROR)
      throw decode_failure(gif_reason(gif->Error));
    if (code == GRAPHICS_EXT_FUNC_CODE && block != nullptr && block[0] >= 4)
      transparent = (block[1] & 0x01) ? block[4] : -1;
    while (block != nullptr)
      if (DGifGetExtensionNext(gif, &block) == GIF_ERROR)
        throw decode_failure(gif_reason(gif->Error));
  }
  if (DGifGetImageDesc(gif) == GIF_ERROR) throw decode_failure(gif_reason(gif->Error));
  const GifImageDesc& frame = gif->Image;
  if (frame.Left < 0 || frame.Top < 0 || frame.Width < 0 || frame.Height < 0 ||
      std::int64_t{frame.Left} + frame.Width > width ||
      std::int64_t{frame.Top} + frame.Height > height)
    throw decode_failure("GIF: the first frame (" + std::to_string(frame.Width) + "x" +
                         std::to_string(frame.Height) + " at " + std::to_string(frame.Left) + ", " +
                         std::to_string(frame.Top) + ") lies outside the " + std::to_string(width) +
                         "x" + std::to_string(height) + " screen");
  const ColorMapObject* colors = frame.ColorMap ? frame.ColorMap : gif->SColorMap;
  if (colors == nullptr || colors->Colors == nullptr)
    throw decode_failure("GIF: the first frame has no colour table");

  decoded_pixels out;
  out.allocate(width, height, 4, false);
  std::uint8_t* canvas = out.samples8.get();
  const auto row_of = [&](int y) { return canvas + std::size_t{4} * width * y; };
  std::vector<GifPixelType> line(static_cast<std::size_t>(frame.Width));
  // File order of an interlaced frame's rows: every 8th from 0, every 8th from 4,
  // every 4th from 2, every 2nd from 1.
  static constexpr int start[] = {0, 4, 2, 1}, step[] = {8, 8, 4, 2};
  const int passes = frame.Interlace ? 4 : 1;
  for (int pass = 0; pass < passes; ++pass)
    for (int y = frame.Interlace ? start[pass] : 0; y < frame.Height;
         y += frame.Interlace ? step[pass] : 1) {
      if (frame.Width > 0 && DGifGetLine(gif, line.data(), frame.Width) == GIF_ERROR)
        throw decode_failure(gif_reason(gif->Error));
      std::uint8_t* p = row_of(frame.Top + y) + std::size_t{4} * frame.Left;
      for (int x = 0; x < frame.Width; ++x, p += 4) {
        const int index = line[static_cast<std::size_t>(x)];
        if (index == transparent || index >= colors->ColorCount) {
          std::memset(p, 0, 4);
        } else {
          const GifColorType& c = colors->Colors[index];
          p[0] = c.Red;
          p[1] = c.Green;
          p[2] = c.Blue;
          p[3] = 255;
        }
      }
    }

  // Outside the frame: stb_image's background rule for a first frame.
  std::uint8_t background[4] = {0, 0, 0, 0};
  const int bg = gif->SBackGroundColor;
  if (bg > 0) {
    background[3] = 255;
    const ColorMapObject* global = gif->SColorMap;
    if (global != nullptr && global->Colors != nullptr && bg < global->ColorCount) {
      background[0] = global->Colors[bg].Red;
      background[1] = global->Colors[bg].Green;
      background[2] = global->Colors[bg].Blue;
    }
  }
  for (int y = 0; y < height; ++y) {
    const bool in_frame_rows = y >= frame.Top && y < frame.Top + frame.Height;
    for (int x = 0; x < width; ++x) {
      if (in_frame_rows && x >= frame.Left && x < frame.Left + frame.Width) {
        x = frame.Left + frame.Width - 1;
        continue;
      }
      std::memcpy(row_of(y) + std::size_t{4} * x, background, 4);
    }
  }
  return out;
}

}  // namespace typenet::detail
