// typenet/nn/predict.hpp — inference conveniences: predict, top-k, ImageNet normalization.
//
//   auto classes = tn::predict_top_k(model, x, 5);   // eval mode, softmax, best 5 per sample
//   tn::normalize_imagenet(x);                        // (x - mean) / std per RGB channel
//
// predict() runs a forward pass in evaluation mode and restores the mode the
// model was in, so it can be called in the middle of training.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

#include "typenet/core/errors.hpp"
#include "typenet/core/tensor.hpp"

namespace typenet {

/// torchvision's ImageNet statistics of RGB values in [0, 1].
inline constexpr std::array<float, 3> imagenet_mean{0.485f, 0.456f, 0.406f};
inline constexpr std::array<float, 3> imagenet_std{0.229f, 0.224f, 0.225f};

/// x[n, c] = (x[n, c] - mean[c]) / std[c] for RGB images with values in [0, 1].
template <int H, int W, class T>
void normalize_imagenet(Tensor<Shape<3, H, W>, Cpu, T>& x) {
  for (int n = 0; n < x.batch(); ++n)
    for (int c = 0; c < 3; ++c) {
      T* plane = x.data() + (std::int64_t{n} * 3 + c) * H * W;
      for (std::int64_t i = 0; i < std::int64_t{H} * W; ++i)
        plane[i] = (plane[i] - imagenet_mean[static_cast<std::size_t>(c)]) /
                   imagenet_std[static_cast<std::size_t>(c)];
    }
}

/// The output of a forward pass in evaluation mode; the model's mode is restored.
template <class M>
const typename M::output_tensor& predict(M& model, const typename M::input_tensor& x) {
  const bool was_training = model.is_training();
  model.eval();
  const auto& y = model.forward(x);
  model.train(was_training);
  return y;
}

struct class_score {
  int index;
  float probability;
};

/// The k most probable classes of each sample of `logits` (softmax over the
/// classes), best first; ties keep the lower index first.
template <int Classes, class T>
std::vector<std::vector<class_score>> top_k(const Tensor<Shape<Classes>, Cpu, T>& logits, int k) {
  if (k < 1 || k > Classes)
    throw usage_error("top_k: k = " + std::to_string(k) + " outside [1, " +
                      std::to_string(Classes) + "]");
  std::vector<std::vector<class_score>> result(static_cast<std::size_t>(logits.batch()));
  std::vector<int> order(Classes);
  for (int n = 0; n < logits.batch(); ++n) {
    const T* z = logits.data() + std::int64_t{n} * Classes;
    const double top = *std::max_element(z, z + Classes);
    double sum = 0;
    for (int c = 0; c < Classes; ++c) sum += std::exp(z[c] - top);
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + k, order.end(),
                      [&](int a, int b) { return z[a] > z[b] || (z[a] == z[b] && a < b); });
    for (int i = 0; i < k; ++i)
      result[static_cast<std::size_t>(n)].push_back(
          {order[static_cast<std::size_t>(i)],
           static_cast<float>(std::exp(z[order[static_cast<std::size_t>(i)]] - top) / sum)});
  }
  return result;
}

/// top_k of predict(model, x).
template <class M>
auto predict_top_k(M& model, const typename M::input_tensor& x, int k) {
  return top_k(predict(model, x), k);
}

}  // namespace typenet
