// typenet/image/transforms.hpp — resize, crops, flips, normalization, images <-> Tensors.
//
//   auto x = tn::center_crop(tn::resize_shorter(photo, 256), 224, 224);   // ImageNet eval
//   tn::normalize_imagenet(x);
//   tn::to_tensor(x, batch, n);            // sample n of a Tensor<Shape<3, 224, 224>>
//   auto any = tn::to_tensor<3>(photo);    // a Tensor<Shape<3, dyn, dyn>> of the photo's size
//   auto even = tn::pad_to_multiple(photo, 8, tn::padding_mode::reflect);  // for stride 8
//
// resize() filters, per axis, (in / out = scale):
//   interpolation::bilinear  torchvision's resize(antialias=True) on float
//       tensors, which is PIL's BILINEAR: output i has centre (i + 0.5) * scale;
//       input j gets weight tri((j + 0.5 - centre) / s), tri(t) = max(0, 1 - |t|),
//       s = max(scale, 1), weights normalized over the pixels inside the image.
//       Growing, this is plain bilinear interpolation (half-pixel centres,
//       edges clamped); shrinking, the triangle widens to cover `scale` pixels.
//   interpolation::area (the default) shrinks by exact area averaging: input j
//       gets weight |[j, j+1) ∩ [i*scale, (i+1)*scale)| / scale (OpenCV's
//       INTER_AREA; torch's mode="area" when scale is an integer), and grows
//       like bilinear.
//   interpolation::nearest   input floor((i + 0.5) * scale): PIL's NEAREST,
//       torch's "nearest-exact" (for label maps).
// Crops follow torchvision (center offsets rounded half to even; areas
// outside the image are zero). Random choices draw from a caller's
// std::mt19937_64 without std::uniform_int_distribution, whose results
// differ between standard libraries, so a seed gives the same crops everywhere.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "typenet/config.hpp"
#include "typenet/core/errors.hpp"
#include "typenet/core/tensor.hpp"
#include "typenet/image/image.hpp"
#include "typenet/image/normalize.hpp"

namespace typenet {

enum class interpolation { area, bilinear, nearest };

/// The image resampled to width x height (see the header comment for the filters).
TYPENET_VISION_DECL image resize(const image& img, int width, int height,
                                 interpolation mode = interpolation::area);

/// Resizes so that the shorter side is `size`, keeping the aspect ratio
/// (torchvision's Resize(int): the longer side becomes int(size * long / short)).
TYPENET_VISION_DECL image resize_shorter(const image& img, int size,
                                         interpolation mode = interpolation::area);

/// A rectangle of an image: left/top may be negative and the box may extend
/// past the image; those parts of a crop are zero (PIL's crop).
struct crop_box {
  int left = 0;
  int top = 0;
  int width = 0;
  int height = 0;
};

TYPENET_VISION_DECL image crop(const image& img, const crop_box& box);

namespace detail {

/// torchvision: int(round((size - crop) / 2.0)) with Python's half-to-even
/// rounding when the crop fits; the image centred in zero padding when not.
inline int center_offset(int size, int crop) {
  const int d = size - crop;
  if (d < 0) return -((-d) / 2);
  const int k = d / 2;
  return (d % 2 == 0 || k % 2 == 0) ? k : k + 1;
}

/// Uniform in [0, n) from raw engine output (rejection keeps it unbiased).
inline std::uint64_t uniform_below(std::mt19937_64& rng, std::uint64_t n) {
  const std::uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  std::uint64_t v = 0;
  do v = rng();
  while (v >= limit);
  return v % n;
}

}  // namespace detail

/// The centre box of width x height (torchvision's center_crop).
TYPENET_VISION_DECL crop_box center_crop_box(int image_width, int image_height, int width,
                                             int height);

TYPENET_VISION_DECL image center_crop(const image& img, int width, int height);

/// A box of width x height inside the image, every position equally likely
/// (torchvision's RandomCrop without padding). Apply it with crop() to an
/// image and its label map alike.
TYPENET_VISION_DECL crop_box random_crop_box(int image_width, int image_height, int width,
                                             int height, std::mt19937_64& rng);

TYPENET_VISION_DECL image random_crop(const image& img, int width, int height,
                                      std::mt19937_64& rng);

TYPENET_VISION_DECL image random_crop(const image& img, int width, int height, std::uint64_t seed);

/// Mirrors left and right.
TYPENET_VISION_DECL image horizontal_flip(const image& img);

/// Flips with probability p; true when it did.
TYPENET_VISION_DECL bool random_horizontal_flip(image& img, std::mt19937_64& rng, double p = 0.5);

/// img[..., c] = (img[..., c] - mean[c]) / std[c] (torchvision's Normalize).
TYPENET_VISION_DECL void normalize(image& img, std::span<const float> mean,
                                   std::span<const float> std);

/// The inverse of normalize (to display a normalized image).
TYPENET_VISION_DECL void denormalize(image& img, std::span<const float> mean,
                                     std::span<const float> std);

/// normalize with ImageNet's RGB statistics (typenet::imagenet_mean / imagenet_std).
TYPENET_VISION_DECL void normalize_imagenet(image& img);

/// How pad() fills the border: numpy's/torch's "reflect" (mirror without
/// repeating the edge pixel), "replicate" (repeat the edge) or zeros.
enum class padding_mode { reflect, replicate, zeros };

/// The image with `top`, `left`, `bottom` and `right` pixels added (like
/// torch.nn.functional.pad); reflect mirrors again where a border is wider
/// than the image.
TYPENET_VISION_DECL image pad(const image& img, int top, int left, int bottom, int right,
                              padding_mode mode = padding_mode::reflect);

/// Extents grown to the next multiple of `multiple`, padding the bottom and
/// right (crop back with crop(out, {0, 0, width, height})): a network of
/// total stride `multiple` then maps every pixel, at the photo's own size.
TYPENET_VISION_DECL image pad_to_multiple(const image& img, int multiple,
                                          padding_mode mode = padding_mode::reflect);

/// HWC -> CHW into `base` (C x height x width values).
template <class T>
void to_planes(const image& img, T* base) {
  const int H = img.height(), W = img.width(), C = img.channels();
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x)
      for (int c = 0; c < C; ++c)
        base[(std::int64_t{c} * H + y) * W + x] = static_cast<T>(img(y, x, c));
}

/// Copies the image into sample `n` of `t` as planes (HWC -> CHW), values
/// unchanged: an image read from a file gives torchvision's to_tensor. A
/// tensor of dynamic extents takes images of its current extents.
template <int C, int H, int W, class T>
void to_tensor(const image& img, Tensor<Shape<C, H, W>, Cpu, T>& t, int n) {
  const int height = t.extent(1), width = t.extent(2);
  if (img.channels() != C || img.width() != width || img.height() != height)
    throw shape_error("to_tensor: a " + describe(img) + " image for a tensor of " +
                      std::to_string(width) + "x" + std::to_string(height) + "x" +
                      std::to_string(C) +
                      " (width x height x channels) samples; resize/crop it or read it with "
                      "{.channels = " +
                      std::to_string(C) + "}");
  if (n < 0 || n >= t.batch())
    throw shape_error("to_tensor: sample " + std::to_string(n) + " of a batch of " +
                      std::to_string(t.batch()));
  to_planes(img, t.data() + std::int64_t{n} * C * height * width);
}

/// The image as a batch of one sample of its own size (Shape<C, dyn, dyn>).
template <int C, class T = float>
Tensor<Shape<C, dyn, dyn>, Cpu, T> to_tensor(const image& img) {
  Tensor<Shape<C, dyn, dyn>, Cpu, T> t(1, {C, img.height(), img.width()});
  to_tensor(img, t, 0);
  return t;
}

/// Sample `n` of `t` as an image (CHW -> HWC), values unchanged (1 to 4 channels).
template <int C, int Height, int Width, class T>
image from_tensor(const Tensor<Shape<C, Height, Width>, Cpu, T>& t, int n) {
  static_assert(C >= 1 && C <= 4, "from_tensor: an image has 1 to 4 channels");
  const int H = t.extent(1), W = t.extent(2);
  if (n < 0 || n >= t.batch())
    throw shape_error("from_tensor: sample " + std::to_string(n) + " of a batch of " +
                      std::to_string(t.batch()));
  image img(W, H, C);
  const T* base = t.data() + std::int64_t{n} * C * H * W;
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x)
      for (int c = 0; c < C; ++c)
        img(y, x, c) = static_cast<float>(base[(std::int64_t{c} * H + y) * W + x]);
  return img;
}

}  // namespace typenet

#if !defined(TYPENET_COMPILED_VISION)
#include "typenet/image/impl/transforms.ipp"
#endif
