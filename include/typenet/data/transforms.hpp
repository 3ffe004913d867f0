// typenet/data/transforms.hpp — augmentation and preprocessing of examples, torchvision's names.
//
//   namespace T = tn::data::transforms;
//   tn::data::transform train_tf = T::Compose{T::RandomCrop(32, 4), T::RandomHorizontalFlip(),
//                                             T::Normalize({0.49f, 0.48f, 0.45f}, {0.25f, 0.24f,
//                                             0.26f})};
//   tn::data::transform eval_tf = T::Compose{T::Resize(256), T::CenterCrop(224),
//   T::NormalizeImageNet()}; tn::data::transform color_tf = T::Compose{T::Resize(256),
//   T::CenterCrop(224),
//                                             T::ColorizationLab(tn::lab_scaling::centered)};
//
// A transform is any callable `void(example&, std::mt19937_64&)`. The loader
// calls it with the sample's own stream, sample_rng(seed, epoch, index), so
// an augmentation is reproducible whatever thread runs it. Geometric
// transforms (resize, crops, flip) apply the same change to example.target
// when it holds an image of the input's size (segmentation masks,
// colorization targets); colour transforms touch only the input.
#pragma once

#include <functional>
#include <initializer_list>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "typenet/core/errors.hpp"
#include "typenet/data/example.hpp"
#include "typenet/image/color.hpp"
#include "typenet/image/transforms.hpp"

namespace typenet::data {

using transform = std::function<void(example&, std::mt19937_64&)>;

namespace transforms {

namespace detail {

/// Applies a geometric change to the input and to a same-sized target image.
template <class F>
void geometric(example& ex, F&& f) {
  const bool with_target = !ex.target.empty() && ex.target.width() == ex.image.width() &&
                           ex.target.height() == ex.image.height();
  ex.image = f(ex.image);
  if (with_target) ex.target = f(ex.target);
}

}  // namespace detail

/// Runs transforms in order.
struct Compose {
  std::vector<transform> steps;
  Compose(std::initializer_list<transform> list) : steps(list) {}
  void operator()(example& ex, std::mt19937_64& rng) const {
    for (const auto& s : steps)
      if (s) s(ex, rng);
  }
};

/// Resize(size): shorter side to `size`, aspect kept; Resize(w, h): exactly w x h.
struct Resize {
  int width = 0, height = 0;  // height 0: `width` is the shorter side
  interpolation mode = interpolation::area;
  explicit Resize(int shorter, interpolation m = interpolation::area) : width(shorter), mode(m) {}
  Resize(int w, int h, interpolation m = interpolation::area) : width(w), height(h), mode(m) {}
  void operator()(example& ex, std::mt19937_64&) const {
    detail::geometric(ex, [&](const image& img) {
      return height == 0 ? resize_shorter(img, width, mode) : resize(img, width, height, mode);
    });
  }
};

struct CenterCrop {
  int width, height;
  explicit CenterCrop(int size) : width(size), height(size) {}
  CenterCrop(int w, int h) : width(w), height(h) {}
  void operator()(example& ex, std::mt19937_64&) const {
    detail::geometric(ex, [&](const image& img) { return center_crop(img, width, height); });
  }
};

/// A random width x height window after zero-padding each side by `padding`
/// (torchvision's RandomCrop(size, padding)).
struct RandomCrop {
  int width, height, padding;
  explicit RandomCrop(int size, int pad = 0) : width(size), height(size), padding(pad) {}
  RandomCrop(int w, int h, int pad) : width(w), height(h), padding(pad) {}
  void operator()(example& ex, std::mt19937_64& rng) const {
    auto box = random_crop_box(ex.image.width() + 2 * padding, ex.image.height() + 2 * padding,
                               width, height, rng);
    box.left -= padding;
    box.top -= padding;
    detail::geometric(ex, [&](const image& img) { return crop(img, box); });
  }
};

/// Mirrors with probability p.
struct RandomHorizontalFlip {
  double p = 0.5;
  explicit RandomHorizontalFlip(double probability = 0.5) : p(probability) {}
  void operator()(example& ex, std::mt19937_64& rng) const {
    const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;
    if (u < p) detail::geometric(ex, [](const image& img) { return horizontal_flip(img); });
  }
};

/// (x - mean[c]) / std[c] per channel.
struct Normalize {
  std::vector<float> mean, stddev;
  Normalize(std::vector<float> m, std::vector<float> s)
      : mean(std::move(m)), stddev(std::move(s)) {}
  void operator()(example& ex, std::mt19937_64&) const { normalize(ex.image, mean, stddev); }
};

/// Normalize with ImageNet's statistics, as torchvision's pretrained models expect.
struct NormalizeImageNet {
  void operator()(example& ex, std::mt19937_64&) const { normalize_imagenet(ex.image); }
};

/// RGB to one channel of luma (or `channels` equal ones, torchvision's Grayscale(3)).
struct Grayscale {
  int channels = 1;
  explicit Grayscale(int out_channels = 1) : channels(out_channels) {
    if (channels != 1 && channels != 3)
      throw usage_error("Grayscale: 1 or 3 output channels, not " + std::to_string(channels));
  }
  void operator()(example& ex, std::mt19937_64&) const {
    ex.image = rgb_to_gray(ex.image);
    if (channels == 3) ex.image = gray_to_rgb(ex.image);
  }
};

/// The colorization split: the input becomes L (1 channel), the target ab
/// (2 channels), both scaled by `scaling` (image/color.hpp).
struct ColorizationLab {
  lab_scaling scaling;
  explicit ColorizationLab(lab_scaling s) : scaling(s) {}
  void operator()(example& ex, std::mt19937_64&) const {
    auto pair = colorization_split(ex.image, scaling);
    ex.image = std::move(pair.input);
    ex.target = std::move(pair.target);
  }
};

/// Any function of the image alone.
struct Lambda {
  std::function<image(const image&)> f;
  void operator()(example& ex, std::mt19937_64&) const { ex.image = f(ex.image); }
};

}  // namespace transforms

}  // namespace typenet::data
