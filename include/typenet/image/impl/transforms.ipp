// typenet/image/impl/transforms.ipp — the definitions of image/transforms.hpp that are not
// templates: included by that header in the header-only default, compiled
// once into typenet::vision_compiled (src/vision.cpp) under
// TYPENET_COMPILED_VISION.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>

#include "typenet/image/transforms.hpp"

namespace typenet {

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

TYPENET_VISION_DECL image resize(const image& img, int width, int height, interpolation mode) {
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

TYPENET_VISION_DECL image resize_shorter(const image& img, int size, interpolation mode) {
  if (img.empty()) throw shape_error("resize_shorter: empty image " + describe(img));
  const bool wide = img.width() >= img.height();
  const int shorter = wide ? img.height() : img.width();
  const int longer = wide ? img.width() : img.height();
  const int new_longer = static_cast<int>(static_cast<std::int64_t>(size) * longer / shorter);
  return wide ? resize(img, new_longer, size, mode) : resize(img, size, new_longer, mode);
}

TYPENET_VISION_DECL image crop(const image& img, const crop_box& box) {
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
/// Index `i` (possibly outside [0, n)) mapped into the image by `mode`; -1 for zeros.
inline int padded_index(int i, int n, padding_mode mode) {
  if (i >= 0 && i < n) return i;
  switch (mode) {
    case padding_mode::zeros:
      return -1;
    case padding_mode::replicate:
      return i < 0 ? 0 : n - 1;
    case padding_mode::reflect: {
      if (n == 1) return 0;
      const int period = 2 * (n - 1);  // mirror without repeating the edge, periodically
      int m = i % period;
      if (m < 0) m += period;
      return m < n ? m : period - m;
    }
  }
  return -1;
}
}  // namespace detail

TYPENET_VISION_DECL image pad(const image& img, int top, int left, int bottom, int right,
                              padding_mode mode) {
  if (top < 0 || left < 0 || bottom < 0 || right < 0)
    throw shape_error("pad: negative padding (" + std::to_string(top) + ", " +
                      std::to_string(left) + ", " + std::to_string(bottom) + ", " +
                      std::to_string(right) + ")");
  if (img.width() <= 0 || img.height() <= 0) throw shape_error("pad: the image is empty");
  const std::int64_t width = std::int64_t{img.width()} + left + right;
  const std::int64_t height = std::int64_t{img.height()} + top + bottom;
  if (width * height * img.channels() > std::numeric_limits<int>::max())
    throw shape_error("pad: a " + std::to_string(width) + "x" + std::to_string(height) +
                      " result would hold more than INT_MAX values");
  image out(static_cast<int>(width), static_cast<int>(height), img.channels(), 0.0f);
  const int c = img.channels();
  for (int y = 0; y < out.height(); ++y) {
    const int sy = detail::padded_index(y - top, img.height(), mode);
    if (sy < 0) continue;
    for (int x = 0; x < out.width(); ++x) {
      const int sx = detail::padded_index(x - left, img.width(), mode);
      if (sx < 0) continue;
      for (int ch = 0; ch < c; ++ch) out(y, x, ch) = img(sy, sx, ch);
    }
  }
  return out;
}

TYPENET_VISION_DECL image pad_to_multiple(const image& img, int multiple, padding_mode mode) {
  if (multiple < 1) throw shape_error("pad_to_multiple: the multiple must be positive");
  const auto up = [&](int n) { return (multiple - n % multiple) % multiple; };
  return pad(img, 0, 0, up(img.height()), up(img.width()), mode);
}

TYPENET_VISION_DECL crop_box center_crop_box(int image_width, int image_height, int width,
                                             int height) {
  return {detail::center_offset(image_width, width), detail::center_offset(image_height, height),
          width, height};
}

TYPENET_VISION_DECL image center_crop(const image& img, int width, int height) {
  return crop(img, center_crop_box(img.width(), img.height(), width, height));
}

TYPENET_VISION_DECL crop_box random_crop_box(int image_width, int image_height, int width,
                                             int height, std::mt19937_64& rng) {
  if (width > image_width || height > image_height || width <= 0 || height <= 0)
    throw shape_error("random_crop: a " + std::to_string(width) + "x" + std::to_string(height) +
                      " crop does not fit a " + std::to_string(image_width) + "x" +
                      std::to_string(image_height) + " image; resize it first");
  const auto top =
      detail::uniform_below(rng, static_cast<std::uint64_t>(image_height - height) + 1);
  const auto left = detail::uniform_below(rng, static_cast<std::uint64_t>(image_width - width) + 1);
  return {static_cast<int>(left), static_cast<int>(top), width, height};
}

TYPENET_VISION_DECL image random_crop(const image& img, int width, int height,
                                      std::mt19937_64& rng) {
  return crop(img, random_crop_box(img.width(), img.height(), width, height, rng));
}

TYPENET_VISION_DECL image random_crop(const image& img, int width, int height, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  return random_crop(img, width, height, rng);
}

TYPENET_VISION_DECL image horizontal_flip(const image& img) {
  image out(img.width(), img.height(), img.channels());
  for (int y = 0; y < img.height(); ++y)
    for (int x = 0; x < img.width(); ++x)
      for (int c = 0; c < img.channels(); ++c) out(y, img.width() - 1 - x, c) = img(y, x, c);
  return out;
}

TYPENET_VISION_DECL bool random_horizontal_flip(image& img, std::mt19937_64& rng, double p) {
  const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;  // uniform in [0, 1)
  if (u >= p) return false;
  img = horizontal_flip(img);
  return true;
}

TYPENET_VISION_DECL void normalize(image& img, std::span<const float> mean,
                                   std::span<const float> std) {
  const auto c = static_cast<std::size_t>(img.channels());
  if (mean.size() != c || std.size() != c)
    throw shape_error("normalize: " + std::to_string(mean.size()) + " means and " +
                      std::to_string(std.size()) + " standard deviations for an image of " +
                      std::to_string(c) + " channels");
  auto v = img.values();
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = (v[i] - mean[i % c]) / std[i % c];
}

TYPENET_VISION_DECL void denormalize(image& img, std::span<const float> mean,
                                     std::span<const float> std) {
  const auto c = static_cast<std::size_t>(img.channels());
  if (mean.size() != c || std.size() != c)
    throw shape_error("denormalize: " + std::to_string(mean.size()) + " means and " +
                      std::to_string(std.size()) + " standard deviations for an image of " +
                      std::to_string(c) + " channels");
  auto v = img.values();
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = v[i] * std[i % c] + mean[i % c];
}

TYPENET_VISION_DECL void normalize_imagenet(image& img) {
  normalize(img, imagenet_mean, imagenet_std);
}
}  // namespace typenet
