// typenet/image/grid.hpp — images side by side in one PNG (original | grayscale | colorized).
//
//   tn::write_grid("epoch3.png", {{photo, tn::gray_to_rgb(gray), colorized},
//                                 {photo2, tn::gray_to_rgb(gray2), colorized2}});
//
// Each row's images are resized (area / bilinear, image/transforms.hpp) to
// one height, keeping their aspect ratios, and placed left to right with
// `gap` pixels of `background` between them and around nothing else; rows
// are stacked with the same gap, and shorter rows are padded on the right.
// Gray images are shown as gray RGB, RGBA ones over the background; two
// channels (ab) are not displayable and throw.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "typenet/config.hpp"
#include "typenet/core/errors.hpp"
#include "typenet/image/image.hpp"
#include "typenet/image/transforms.hpp"

namespace typenet {

struct grid_options {
  int height = 0;           ///< height of each row; 0: the first image's height
  int gap = 4;              ///< pixels between images and between rows
  float background = 1.0f;  ///< gray level of the gaps and the padding (white)
};

/// Rows of images as one RGB image.
TYPENET_VISION_DECL image make_grid(const std::vector<std::vector<image>>& rows,
                                    const grid_options& options = {});

/// Rows of images written as one PNG.
TYPENET_VISION_DECL void write_grid(const std::filesystem::path& path,
                                    const std::vector<std::vector<image>>& rows,
                                    const grid_options& options = {});

}  // namespace typenet

#if !defined(TYPENET_COMPILED_VISION)
#include "typenet/image/impl/grid.ipp"
#endif
