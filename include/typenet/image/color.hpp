// typenet/image/color.hpp — RGB <-> grayscale <-> CIE LAB, and the colorization split.
//
//   auto lab = tn::rgb_to_lab(photo);                        // L in [0, 100], a, b in about [-128,
//   127] auto [input, target] = tn::colorization_split(photo, tn::lab_scaling::centered); auto rgb
//   = tn::colorization_merge(input, predicted_ab, tn::lab_scaling::centered);
//
// Formulas are scikit-image's (skimage.color, 0.19), so values match
// rgb2gray / rgb2lab / lab2rgb:
//   gray = 0.2125 R + 0.7154 G + 0.0721 B on the gamma-encoded values (not
//   ITU-R 601's 0.299 / 0.587 / 0.114, which PIL and torchvision use:
//   gray_weights::rec601);
//   LAB: sRGB gamma (threshold 0.04045) -> linear RGB -> XYZ with
//   skimage's xyz_from_rgb matrix -> LAB relative to D65 / 2° white
//   (0.95047, 1, 1.08883), with the 0.008856 / 7.787 linear segment.
//   LAB -> RGB inverts this: z < 0 is set to 0, linear RGB is gamma encoded
//   (threshold 0.0031308) and clipped to [0, 1], so out-of-gamut colours
//   become displayable.
// Arithmetic is in double, results in float: the difference to skimage's
// float64 is float rounding (below 1e-5 LAB units).
//
// RGB inputs must have 3 channels (read files with {.channels = 3}).
#pragma once

#include <string>
#include <utility>

#include "typenet/config.hpp"
#include "typenet/core/errors.hpp"
#include "typenet/image/image.hpp"

namespace typenet {

enum class gray_weights {
  skimage,  ///< 0.2125, 0.7154, 0.0721 (skimage.color.rgb2gray)
  rec601,   ///< 0.299, 0.587, 0.114 (PIL's convert("L"), torchvision's rgb_to_grayscale)
};

/// One channel of luma: skimage's weights by default.
TYPENET_VISION_DECL image rgb_to_gray(const image& rgb,
                                      gray_weights weights = gray_weights::skimage);

/// Three equal channels (skimage.color.gray2rgb).
TYPENET_VISION_DECL image gray_to_rgb(const image& gray);

/// CIE LAB (D65): channel 0 is L in [0, 100], channels 1 and 2 are a and b.
TYPENET_VISION_DECL image rgb_to_lab(const image& rgb);

/// sRGB in [0, 1] from CIE LAB (D65); out-of-gamut colours are clipped.
TYPENET_VISION_DECL image lab_to_rgb(const image& lab);

// ---- colorization: L in, ab out -----------------------------------------------------------

/// How colorization_split scales the L input and the ab target. There is no
/// default: the scaling must be the one the network was trained with.
enum class lab_scaling {
  raw,       ///< L in [0, 100]; a, b in about [-128, 127]
  centered,  ///< L / 100 in [0, 1]; a / 128, b / 128 in about [-1, 1]
  unit,      ///< L / 100 in [0, 1]; (a + 128) / 255, (b + 128) / 255 in about [0, 1]
             ///< (the lecture notebook's target; it fed skimage's rgb2gray as L / 100)
};

/// The network's input (1 channel: L) and target (2 channels: a, b), scaled.
struct colorization_pair {
  image input;
  image target;
};

TYPENET_VISION_DECL colorization_pair colorization_split(const image& rgb, lab_scaling scaling);

/// The displayable RGB image of an L input and an ab prediction in the same
/// scaling (L is clamped to [0, 100]; out-of-gamut colours are clipped).
TYPENET_VISION_DECL image colorization_merge(const image& input, const image& ab,
                                             lab_scaling scaling);

}  // namespace typenet

#if !defined(TYPENET_COMPILED_VISION)
#include "typenet/image/impl/color.ipp"
#endif
