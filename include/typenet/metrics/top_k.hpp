// typenet/metrics/top_k.hpp — the most probable classes of each sample.
//
//   auto best = tn::predict_top_k(model, x, 5);   // eval mode, softmax, best 5 per sample
//   best[n][0].index, best[n][0].probability
//
// Ties keep the lower class index first, as torch.topk does on the CPU.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include "typenet/core/errors.hpp"
#include "typenet/core/tensor.hpp"
#include "typenet/nn/predict.hpp"

namespace typenet {

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
