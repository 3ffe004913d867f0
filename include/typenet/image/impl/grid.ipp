// typenet/image/impl/grid.ipp — the definitions of image/grid.hpp that are not
// templates: included by that header in the header-only default, compiled
// once into typenet::vision_compiled (src/vision.cpp) under
// TYPENET_COMPILED_VISION.
#pragma once

#include <algorithm>
#include <cmath>

#include "typenet/image/grid.hpp"

namespace typenet {

namespace detail {

inline image displayable_rgb(const image& img, float background) {
  if (img.channels() == 3) return img;
  if (img.channels() == 2)
    throw shape_error("grid: a " + describe(img) +
                      " image (two channels, e.g. ab) is not displayable; merge it with "
                      "colorization_merge first");
  image rgb(img.width(), img.height(), 3);
  for (int y = 0; y < img.height(); ++y)
    for (int x = 0; x < img.width(); ++x)
      for (int c = 0; c < 3; ++c) {
        if (img.channels() == 1) {
          rgb(y, x, c) = img(y, x);
        } else {
          const float a = img(y, x, 3);
          rgb(y, x, c) = img(y, x, c) * a + background * (1.0f - a);
        }
      }
  return rgb;
}

}  // namespace detail

TYPENET_VISION_DECL image make_grid(const std::vector<std::vector<image>>& rows,
                                    const grid_options& options) {
  if (rows.empty() || rows.front().empty()) throw usage_error("make_grid: no images");
  if (options.gap < 0) throw usage_error("make_grid: negative gap");
  const int height = options.height > 0 ? options.height : rows.front().front().height();
  if (height <= 0) throw shape_error("make_grid: the first image is empty");

  std::vector<std::vector<image>> scaled(rows.size());
  int width = 0;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    int row_width = 0;
    for (const auto& img : rows[r]) {
      if (img.empty()) throw shape_error("make_grid: an empty image in row " + std::to_string(r));
      const int w = std::max(1, static_cast<int>(std::lround(static_cast<double>(img.width()) *
                                                             height / img.height())));
      auto rgb = detail::displayable_rgb(img, options.background);
      if (w != img.width() || height != img.height()) rgb = resize(rgb, w, height);
      row_width += (row_width ? options.gap : 0) + w;
      scaled[r].push_back(std::move(rgb));
    }
    width = std::max(width, row_width);
  }

  const int rows_n = static_cast<int>(rows.size());
  image grid(width, rows_n * height + (rows_n - 1) * options.gap, 3, options.background);
  for (int r = 0; r < rows_n; ++r) {
    int left = 0;
    const int top = r * (height + options.gap);
    for (const auto& img : scaled[static_cast<std::size_t>(r)]) {
      for (int y = 0; y < img.height(); ++y)
        std::copy_n(img.data() + std::int64_t{y} * img.width() * 3, img.width() * 3,
                    &grid(top + y, left, 0));
      left += img.width() + options.gap;
    }
  }
  return grid;
}

TYPENET_VISION_DECL void write_grid(const std::filesystem::path& path,
                                    const std::vector<std::vector<image>>& rows,
                                    const grid_options& options) {
  write_png(make_grid(rows, options), path);
}
}  // namespace typenet
