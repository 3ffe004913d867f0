// typenet/nn/predict.hpp — predict: a forward pass in evaluation mode.
//
//   const auto& logits = tn::predict(model, x);   // eval mode, then the mode it was in
//
// predict() restores the mode the model was in, so it can be called in the
// middle of training. Ranking the classes (top_k, predict_top_k) is in
// metrics/top_k.hpp; ImageNet normalization in image/normalize.hpp.
#pragma once

namespace typenet {

/// The output of a forward pass in evaluation mode; the model's mode is restored.
template <class M>
const typename M::output_tensor& predict(M& model, const typename M::input_tensor& x) {
  const bool was_training = model.is_training();
  model.eval();
  const auto& y = model.forward(x);
  model.train(was_training);
  return y;
}

}  // namespace typenet
