// typenet/image/impl/color.ipp — the definitions of image/color.hpp that are not
// templates: included by that header in the header-only default, compiled
// once into typenet::vision_compiled (src/vision.cpp) under
// TYPENET_COMPILED_VISION.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>

#include "typenet/image/color.hpp"

namespace typenet {

namespace detail {

inline void require_channels(const image& img, int channels, const char* what) {
  if (img.channels() != channels)
    throw shape_error(std::string(what) + ": needs " + std::to_string(channels) +
                      " channels, got a " + describe(img) + " image" +
                      (channels == 3 ? " (read files with {.channels = 3})" : ""));
}

// skimage.color.colorconv: xyz_from_rgb, its inverse, and the D65 / 2° white.
inline constexpr double xyz_from_rgb[3][3] = {
    {0.412453, 0.357580, 0.180423}, {0.212671, 0.715160, 0.072169}, {0.019334, 0.119193, 0.950227}};
inline constexpr std::array<double, 3> d65_white{0.95047, 1.0, 1.08883};

/// rgb_from_xyz = inv(xyz_from_rgb), computed once in double like numpy's.
inline const std::array<std::array<double, 3>, 3>& rgb_from_xyz() {
  static const auto inverse = [] {
    const auto& m = xyz_from_rgb;
    std::array<std::array<double, 3>, 3> r{};
    const double det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
                       m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
                       m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) {
        // Cofactor of m[j][i] (the adjugate is the transposed cofactor matrix).
        const int r0 = (j + 1) % 3, r1 = (j + 2) % 3, c0 = (i + 1) % 3, c1 = (i + 2) % 3;
        r[static_cast<std::size_t>(i)][static_cast<std::size_t>(j)] =
            (m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0]) / det;
      }
    return r;
  }();
  return inverse;
}

inline std::array<double, 3> rgb_to_lab_pixel(double r, double g, double b) {
  const auto linear = [](double v) {
    return v > 0.04045 ? std::pow((v + 0.055) / 1.055, 2.4) : v / 12.92;
  };
  const double rgb[3] = {linear(r), linear(g), linear(b)};
  double f[3];
  for (int i = 0; i < 3; ++i) {
    const double xyz =
        (xyz_from_rgb[i][0] * rgb[0] + xyz_from_rgb[i][1] * rgb[1] + xyz_from_rgb[i][2] * rgb[2]) /
        d65_white[static_cast<std::size_t>(i)];
    f[i] = xyz > 0.008856 ? std::cbrt(xyz) : 7.787 * xyz + 16.0 / 116.0;
  }
  return {116.0 * f[1] - 16.0, 500.0 * (f[0] - f[1]), 200.0 * (f[1] - f[2])};
}

inline std::array<double, 3> lab_to_rgb_pixel(double l, double a, double b) {
  const double y = (l + 16.0) / 116.0;
  double f[3] = {a / 500.0 + y, y, y - b / 200.0};
  if (f[2] < 0) f[2] = 0;  // skimage: "Color data out of range: Z < 0"
  double xyz[3];
  for (int i = 0; i < 3; ++i) {
    const double v = f[i] > 0.2068966 ? f[i] * f[i] * f[i] : (f[i] - 16.0 / 116.0) / 7.787;
    xyz[i] = v * d65_white[static_cast<std::size_t>(i)];
  }
  const auto& m = rgb_from_xyz();
  std::array<double, 3> rgb{};
  for (std::size_t i = 0; i < 3; ++i) {
    double v = m[i][0] * xyz[0] + m[i][1] * xyz[1] + m[i][2] * xyz[2];
    v = v > 0.0031308 ? 1.055 * std::pow(v, 1.0 / 2.4) - 0.055 : v * 12.92;
    rgb[i] = v < 0.0 ? 0.0 : (v > 1.0 ? 1.0 : v);
  }
  return rgb;
}

}  // namespace detail

namespace detail {

struct lab_affine {
  double l_scale, ab_scale, ab_offset;  // scaled = (v + offset) * scale
};

inline lab_affine lab_affine_of(lab_scaling s) {
  switch (s) {
    case lab_scaling::raw:
      return {1.0, 1.0, 0.0};
    case lab_scaling::centered:
      return {0.01, 1.0 / 128.0, 0.0};
    case lab_scaling::unit:
      return {0.01, 1.0 / 255.0, 128.0};
  }
  throw usage_error("lab_scaling: unknown value");
}

}  // namespace detail

TYPENET_VISION_DECL image rgb_to_gray(const image& rgb, gray_weights weights) {
  detail::require_channels(rgb, 3, "rgb_to_gray");
  const std::array<double, 3> w = weights == gray_weights::skimage
                                      ? std::array<double, 3>{0.2125, 0.7154, 0.0721}
                                      : std::array<double, 3>{0.299, 0.587, 0.114};
  image gray(rgb.width(), rgb.height(), 1);
  for (int y = 0; y < rgb.height(); ++y)
    for (int x = 0; x < rgb.width(); ++x)
      gray(y, x) =
          static_cast<float>(w[0] * rgb(y, x, 0) + w[1] * rgb(y, x, 1) + w[2] * rgb(y, x, 2));
  return gray;
}

TYPENET_VISION_DECL image gray_to_rgb(const image& gray) {
  detail::require_channels(gray, 1, "gray_to_rgb");
  image rgb(gray.width(), gray.height(), 3);
  for (int y = 0; y < gray.height(); ++y)
    for (int x = 0; x < gray.width(); ++x)
      for (int c = 0; c < 3; ++c) rgb(y, x, c) = gray(y, x);
  return rgb;
}

TYPENET_VISION_DECL image rgb_to_lab(const image& rgb) {
  detail::require_channels(rgb, 3, "rgb_to_lab");
  image lab(rgb.width(), rgb.height(), 3);
  for (int y = 0; y < rgb.height(); ++y)
    for (int x = 0; x < rgb.width(); ++x) {
      const auto v = detail::rgb_to_lab_pixel(rgb(y, x, 0), rgb(y, x, 1), rgb(y, x, 2));
      for (int c = 0; c < 3; ++c) lab(y, x, c) = static_cast<float>(v[static_cast<std::size_t>(c)]);
    }
  return lab;
}

TYPENET_VISION_DECL image lab_to_rgb(const image& lab) {
  detail::require_channels(lab, 3, "lab_to_rgb");
  image rgb(lab.width(), lab.height(), 3);
  for (int y = 0; y < lab.height(); ++y)
    for (int x = 0; x < lab.width(); ++x) {
      const auto v = detail::lab_to_rgb_pixel(lab(y, x, 0), lab(y, x, 1), lab(y, x, 2));
      for (int c = 0; c < 3; ++c) rgb(y, x, c) = static_cast<float>(v[static_cast<std::size_t>(c)]);
    }
  return rgb;
}

TYPENET_VISION_DECL colorization_pair colorization_split(const image& rgb, lab_scaling scaling) {
  const auto lab = rgb_to_lab(rgb);
  const auto s = detail::lab_affine_of(scaling);
  colorization_pair p{image(rgb.width(), rgb.height(), 1), image(rgb.width(), rgb.height(), 2)};
  for (int y = 0; y < rgb.height(); ++y)
    for (int x = 0; x < rgb.width(); ++x) {
      p.input(y, x) = static_cast<float>(lab(y, x, 0) * s.l_scale);
      for (int c = 0; c < 2; ++c)
        p.target(y, x, c) = static_cast<float>((lab(y, x, c + 1) + s.ab_offset) * s.ab_scale);
    }
  return p;
}

TYPENET_VISION_DECL image colorization_merge(const image& input, const image& ab,
                                             lab_scaling scaling) {
  detail::require_channels(input, 1, "colorization_merge (L input)");
  detail::require_channels(ab, 2, "colorization_merge (ab)");
  if (input.width() != ab.width() || input.height() != ab.height())
    throw shape_error("colorization_merge: L is " + describe(input) + " but ab is " + describe(ab));
  const auto s = detail::lab_affine_of(scaling);
  image rgb(input.width(), input.height(), 3);
  for (int y = 0; y < input.height(); ++y)
    for (int x = 0; x < input.width(); ++x) {
      const double l = std::clamp(input(y, x) / s.l_scale, 0.0, 100.0);
      const double a = ab(y, x, 0) / s.ab_scale - s.ab_offset;
      const double b = ab(y, x, 1) / s.ab_scale - s.ab_offset;
      const auto v = detail::lab_to_rgb_pixel(l, a, b);
      for (int c = 0; c < 3; ++c) rgb(y, x, c) = static_cast<float>(v[static_cast<std::size_t>(c)]);
    }
  return rgb;
}
}  // namespace typenet
