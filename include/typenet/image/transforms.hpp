// typenet/image/transforms.hpp — resize, crops, flips, normalization, images <-> Tensors.
//
//   auto x = tn::center_crop(tn::resize_shorter(photo, 256), 224, 224);   // ImageNet eval
//   tn::normalize_imagenet(x);
//   tn::to_tensor(x, batch, n);            // sample n of a Tensor<Shape<3, 224, 224>>
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
#include <cmath>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "typenet/core/errors.hpp"
#include "typenet/core/tensor.hpp"
#include "typenet/image/image.hpp"
#include "typenet/image/normalize.hpp"

namespace typenet {

enum class interpolation { area, bilinear, nearest };

namespace detail {

/// One output pixel's contributions: input index `first` onwards, `weights`.
struct resample_taps {
  int first = 0;
  std::vector<double> weights;
};

inline std::vector<resample_taps> resample_coefficients(int in, int out, interpolation mode) {
  std::vector<resample_taps> taps(static_cast<std::size_t>(out));
  const double scale = static_cast<double>(in) / out;
  for (int i = 0; i < out; ++i) {
    auto& t = taps[static_cast<std::size_t>(i)];
    if (mode == interpolation::nearest) {
      // torch's nearest-exact rounding, step by step: the scale in float, the
      // product in double, floored as a float; boundary cases (e.g. 48.5 * 64 / 97)
      // then land where torch puts them.
      const double scale_f = static_cast<float>(in) / static_cast<float>(out);
      const float source = static_cast<float>((i + 0.5) * scale_f);
      t.first = std::min(static_cast<int>(std::floor(source)), in - 1);
      t.weights = {1.0};
    } else if (mode == interpolation::area && scale > 1.0) {
      const double lo = i * scale, hi = (i + 1) * scale;
      t.first = static_cast<int>(std::floor(lo));
      const int last = std::min(static_cast<int>(std::ceil(hi)), in);
      for (int j = t.first; j < last; ++j) {
        const double overlap = std::min(hi, j + 1.0) - std::max(lo, static_cast<double>(j));
        t.weights.push_back(std::max(overlap, 0.0) / scale);
      }
    } else {
      // PIL's / torch's _upsample_bilinear2d_aa coefficients, truncation included.
      const double support = scale >= 1.0 ? scale : 1.0;
      const double inv = scale >= 1.0 ? 1.0 / scale : 1.0;
      const double centre = scale * (i + 0.5);
      t.first = std::max(static_cast<int>(centre - support + 0.5), 0);
      const int last = std::min(static_cast<int>(centre + support + 0.5), in);
      double total = 0;
      for (int j = t.first; j < last; ++j) {
        const double w = std::max(0.0, 1.0 - std::abs((j - centre + 0.5) * inv));
        t.weights.push_back(w);
        total += w;
      }
      if (total > 0)
        for (auto& w : t.weights) w /= total;
    }
  }
  return taps;
}

}  // namespace detail

/// The image resampled to width x height (see the header comment for the filters).
inline image resize(const image& img, int width, int height,
                    interpolation mode = interpolation::area) {
  if (width <= 0 || height <= 0)
    throw shape_error("resize: target size " + std::to_string(width) + "x" +
                      std::to_string(height) + " must be positive");
  if (img.empty()) throw shape_error("resize: empty image " + describe(img));
  const int c = img.channels();
  // Horizontal pass into a width x img.height buffer, then vertical (PIL's order).
  const auto htaps = detail::resample_coefficients(img.width(), width, mode);
  image wide(width, img.height(), c);
  std::vector<double> acc(static_cast<std::size_t>(c));
  for (int y = 0; y < img.height(); ++y)
    for (int x = 0; x < width; ++x) {
      const auto& t = htaps[static_cast<std::size_t>(x)];
      std::fill(acc.begin(), acc.end(), 0.0);
      for (std::size_t k = 0; k < t.weights.size(); ++k)
        for (int ch = 0; ch < c; ++ch)
          acc[static_cast<std::size_t>(ch)] +=
              t.weights[k] * img(y, t.first + static_cast<int>(k), ch);
      for (int ch = 0; ch < c; ++ch)
        wide(y, x, ch) = static_cast<float>(acc[static_cast<std::size_t>(ch)]);
    }
  const auto vtaps = detail::resample_coefficients(img.height(), height, mode);
  image out(width, height, c);
  const std::size_t row = static_cast<std::size_t>(width) * static_cast<std::size_t>(c);
  std::vector<double> line(row);
  for (int y = 0; y < height; ++y) {
    const auto& t = vtaps[static_cast<std::size_t>(y)];
    std::fill(line.begin(), line.end(), 0.0);
    for (std::size_t k = 0; k < t.weights.size(); ++k) {
      const float* src = &wide(t.first + static_cast<int>(k), 0, 0);
      for (std::size_t i = 0; i < row; ++i) line[i] += t.weights[k] * src[i];
    }
    float* dst = &out(y, 0, 0);
    for (std::size_t i = 0; i < row; ++i) dst[i] = static_cast<float>(line[i]);
  }
  return out;
}

/// Resizes so that the shorter side is `size`, keeping the aspect ratio
/// (torchvision's Resize(int): the longer side becomes int(size * long / short)).
inline image resize_shorter(const image& img, int size, interpolation mode = interpolation::area) {
  if (img.empty()) throw shape_error("resize_shorter: empty image " + describe(img));
  const bool wide = img.width() >= img.height();
  const int shorter = wide ? img.height() : img.width();
  const int longer = wide ? img.width() : img.height();
  const int new_longer = static_cast<int>(static_cast<std::int64_t>(size) * longer / shorter);
  return wide ? resize(img, new_longer, size, mode) : resize(img, size, new_longer, mode);
}

/// A rectangle of an image: left/top may be negative and the box may extend
/// past the image; those parts of a crop are zero (PIL's crop).
struct crop_box {
  int left = 0;
  int top = 0;
  int width = 0;
  int height = 0;
};

inline image crop(const image& img, const crop_box& box) {
  if (box.width <= 0 || box.height <= 0)
    throw shape_error("crop: box size " + std::to_string(box.width) + "x" +
                      std::to_string(box.height) + " must be positive");
  image out(box.width, box.height, img.channels());
  const int c = img.channels();
  for (int y = 0; y < box.height; ++y) {
    const int sy = box.top + y;
    if (sy < 0 || sy >= img.height()) continue;
    for (int x = 0; x < box.width; ++x) {
      const int sx = box.left + x;
      if (sx < 0 || sx >= img.width()) continue;
      for (int ch = 0; ch < c; ++ch) out(y, x, ch) = img(sy, sx, ch);
    }
  }
  return out;
}

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
inline crop_box center_crop_box(int image_width, int image_height, int width, int height) {
  return {detail::center_offset(image_width, width), detail::center_offset(image_height, height),
          width, height};
}

inline image center_crop(const image& img, int width, int height) {
  return crop(img, center_crop_box(img.width(), img.height(), width, height));
}

/// A box of width x height inside the image, every position equally likely
/// (torchvision's RandomCrop without padding). Apply it with crop() to an
/// image and its label map alike.
inline crop_box random_crop_box(int image_width, int image_height, int width, int height,
                                std::mt19937_64& rng) {
  if (width > image_width || height > image_height || width <= 0 || height <= 0)
    throw shape_error("random_crop: a " + std::to_string(width) + "x" + std::to_string(height) +
                      " crop does not fit a " + std::to_string(image_width) + "x" +
                      std::to_string(image_height) + " image; resize it first");
  const auto top =
      detail::uniform_below(rng, static_cast<std::uint64_t>(image_height - height) + 1);
  const auto left = detail::uniform_below(rng, static_cast<std::uint64_t>(image_width - width) + 1);
  return {static_cast<int>(left), static_cast<int>(top), width, height};
}

inline image random_crop(const image& img, int width, int height, std::mt19937_64& rng) {
  return crop(img, random_crop_box(img.width(), img.height(), width, height, rng));
}

inline image random_crop(const image& img, int width, int height, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  return random_crop(img, width, height, rng);
}

/// Mirrors left and right.
inline image horizontal_flip(const image& img) {
  image out(img.width(), img.height(), img.channels());
  for (int y = 0; y < img.height(); ++y)
    for (int x = 0; x < img.width(); ++x)
      for (int c = 0; c < img.channels(); ++c) out(y, img.width() - 1 - x, c) = img(y, x, c);
  return out;
}

/// Flips with probability p; true when it did.
inline bool random_horizontal_flip(image& img, std::mt19937_64& rng, double p = 0.5) {
  const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;  // uniform in [0, 1)
  if (u >= p) return false;
  img = horizontal_flip(img);
  return true;
}

/// img[..., c] = (img[..., c] - mean[c]) / std[c] (torchvision's Normalize).
inline void normalize(image& img, std::span<const float> mean, std::span<const float> std) {
  const auto c = static_cast<std::size_t>(img.channels());
  if (mean.size() != c || std.size() != c)
    throw shape_error("normalize: " + std::to_string(mean.size()) + " means and " +
                      std::to_string(std.size()) + " standard deviations for an image of " +
                      std::to_string(c) + " channels");
  auto v = img.values();
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = (v[i] - mean[i % c]) / std[i % c];
}

/// The inverse of normalize (to display a normalized image).
inline void denormalize(image& img, std::span<const float> mean, std::span<const float> std) {
  const auto c = static_cast<std::size_t>(img.channels());
  if (mean.size() != c || std.size() != c)
    throw shape_error("denormalize: " + std::to_string(mean.size()) + " means and " +
                      std::to_string(std.size()) + " standard deviations for an image of " +
                      std::to_string(c) + " channels");
  auto v = img.values();
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = v[i] * std[i % c] + mean[i % c];
}

/// normalize with ImageNet's RGB statistics (typenet::imagenet_mean / imagenet_std).
inline void normalize_imagenet(image& img) {
  normalize(img, imagenet_mean, imagenet_std);
}

/// Copies the image into sample `n` of `t` as planes (HWC -> CHW), values
/// unchanged: an image read from a file gives torchvision's to_tensor.
template <int C, int H, int W, class T>
void to_tensor(const image& img, Tensor<Shape<C, H, W>, Cpu, T>& t, int n) {
  if (img.channels() != C || img.width() != W || img.height() != H)
    throw shape_error("to_tensor: a " + describe(img) + " image for a tensor of " +
                      std::to_string(W) + "x" + std::to_string(H) + "x" + std::to_string(C) +
                      " (width x height x channels) samples; resize/crop it or read it with "
                      "{.channels = " +
                      std::to_string(C) + "}");
  if (n < 0 || n >= t.batch())
    throw shape_error("to_tensor: sample " + std::to_string(n) + " of a batch of " +
                      std::to_string(t.batch()));
  T* base = t.data() + std::int64_t{n} * C * H * W;
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x)
      for (int c = 0; c < C; ++c)
        base[(std::int64_t{c} * H + y) * W + x] = static_cast<T>(img(y, x, c));
}

/// Sample `n` of `t` as an image (CHW -> HWC), values unchanged (1 to 4 channels).
template <int C, int H, int W, class T>
image from_tensor(const Tensor<Shape<C, H, W>, Cpu, T>& t, int n) {
  static_assert(C >= 1 && C <= 4, "from_tensor: an image has 1 to 4 channels");
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
