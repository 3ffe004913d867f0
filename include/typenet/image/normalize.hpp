// typenet/image/normalize.hpp — torchvision's ImageNet statistics and normalization of tensors.
//
//   tn::normalize_imagenet(x);   // (x - mean) / std per RGB channel of a Tensor<Shape<3, H, W>>
//
// Images (rather than tensors) are normalized by image/transforms.hpp's
// normalize(img, tn::imagenet_mean, tn::imagenet_std).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "typenet/core/tensor.hpp"

namespace typenet {

/// torchvision's ImageNet statistics of RGB values in [0, 1].
inline constexpr std::array<float, 3> imagenet_mean{0.485f, 0.456f, 0.406f};
inline constexpr std::array<float, 3> imagenet_std{0.229f, 0.224f, 0.225f};

/// x[n, c] = (x[n, c] - mean[c]) / std[c] for RGB images with values in [0, 1]
/// (static or dynamic extents).
template <int H, int W, class T>
void normalize_imagenet(Tensor<Shape<3, H, W>, Cpu, T>& x) {
  for (int n = 0; n < x.batch(); ++n)
    for (int c = 0; c < 3; ++c) {
      const std::int64_t area = std::int64_t{x.extent(1)} * x.extent(2);
      T* plane = x.data() + (std::int64_t{n} * 3 + c) * area;
      for (std::int64_t i = 0; i < area; ++i)
        plane[i] = (plane[i] - imagenet_mean[static_cast<std::size_t>(c)]) /
                   imagenet_std[static_cast<std::size_t>(c)];
    }
}

}  // namespace typenet
