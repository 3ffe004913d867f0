// typenet/train/fit.hpp — the training loop: epochs, validation, checkpoints, resume.
//
//   tn::CrossEntropyLoss loss;
//   tn::SGD<float> sgd(model.parameters(), {.lr = 0.01, .momentum = 0.9});
//   auto result = tn::fit(model, loss, sgd, train_loader, val_loader,
//                         {.epochs = 10, .checkpoint_dir = "runs/fashion"});
//   result.history[9].val_accuracy;
//
// Each step: zero_grad, forward, loss (which writes d loss / d output),
// backward, the on_after_backward callback (gradient clipping), optimizer
// step, the on_step callback (per-batch schedules such as OneCycleLR).
// After each epoch: validation (mean loss; accuracy when the output is
// Shape<K> logits and the batches have labels), on_epoch callback,
// checkpoints. The loss is any callable taking (output, labels, grad),
// (output, targets, grad) or (output, batch, grad) and returning a double.
//
// Guarantees:
// - A NaN or infinite loss stops training with non_finite_loss naming the
//   epoch, batch and step, before the optimizer touches the weights; the
//   checkpoints on disk are those of the last completed epoch.
// - With checkpoint_dir set, `last.safetensors` (model, optimizer state,
//   epoch, RNG position; train/checkpoint.hpp) is written after every epoch
//   and `best.safetensors` (the model alone, loadable with load_weights)
//   whenever the validation metric improves; both atomically and durably.
//   fit checks that it can create files in checkpoint_dir before the first
//   epoch (file_error with the system's reason otherwise).
// - resume = true continues from `last.safetensors` when it exists: the
//   result is bit-identical to an uninterrupted run on the CPU with the same
//   thread count (the loader's order and augmentation depend only on seed,
//   epoch and index; the model's random stream position is restored).
// - A Cuda model trains the same way: each batch's inputs (and targets) are
//   copied to the device, labels stay on the host, checkpoints stage the
//   device tensors through host memory.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "typenet/core/errors.hpp"
#include "typenet/core/outputs.hpp"
#include "typenet/core/shape.hpp"
#include "typenet/core/tensor.hpp"
#include "typenet/io/durable_file.hpp"
#include "typenet/metrics/classification.hpp"
#include "typenet/train/checkpoint.hpp"
#include "typenet/train/losses.hpp"
#include "typenet/train/progress.hpp"

namespace typenet {

struct epoch_result {
  int epoch = 0;          ///< from 0
  double train_loss = 0;  ///< mean per sample
  std::optional<double> val_loss;
  std::optional<double> val_accuracy;
  double seconds = 0;
};

struct fit_result {
  std::vector<epoch_result> history;  ///< epochs run by this call (not those before a resume)
  int best_epoch = -1;                ///< by validation accuracy, else validation loss
  int start_epoch = 0;                ///< > 0 after a resume
};

struct fit_options {
  int epochs = 1;
  /// Where last.safetensors and best.safetensors go; empty: no checkpoints.
  std::filesystem::path checkpoint_dir{};
  /// Continue from checkpoint_dir/last.safetensors if it exists.
  bool resume = false;
  progress_mode progress = progress_mode::automatic;
  /// After backward, before the optimizer step (e.g. clip_grad_norm).
  std::function<void()> on_after_backward{};
  /// After each optimizer step, with the global step number counted from 1
  /// across epochs and resumes (per-batch schedules).
  std::function<void(std::int64_t step)> on_step{};
  /// After each epoch's validation (per-epoch schedules, logging, early stop:
  /// return false to stop).
  std::function<bool(const epoch_result&)> on_epoch{};
};

namespace detail {

/// A batch's host tensor on the model's device: the tensor itself for a Cpu
/// model, else a copy in a per-thread buffer that only grows. `Slot` keeps
/// inputs (0) and targets (1) of the same type apart: the model reads its
/// input again in backward.
template <class Device, int Slot, class X>
const auto& on_device(const X& x) {
  if constexpr (std::is_same_v<Device, Cpu> || !requires { typename X::device; }) {
    return x;
  } else {
    thread_local Tensor<typename X::shape, Device, typename X::scalar> buffer;
    copy(x, buffer);
    return std::as_const(buffer);
  }
}

/// A model's output in host memory (for the accuracy).
template <class S, class D, class T>
const Tensor<S, Cpu, T>& on_host(const Tensor<S, D, T>& y) {
  if constexpr (std::is_same_v<D, Cpu>) {
    return y;
  } else {
    thread_local Tensor<S, Cpu, T> buffer;
    copy(y, buffer);
    return buffer;
  }
}

template <class Loss, class Y, class B, class G>
double call_loss(Loss& loss, const Y& y, const B& b, G& grad) {
  using device = typename Y::device;
  if constexpr (std::is_invocable_v<Loss&, const Y&, std::span<const int>, G&>) {
    return loss(y, std::span<const int>(b.labels), grad);
  } else if constexpr (requires { b.targets; } &&
                       std::is_invocable_v<Loss&, const Y&,
                                           decltype(on_device<device, 1>(b.targets)), G&>) {
    return loss(y, on_device<device, 1>(b.targets), grad);
  } else {
    static_assert(std::is_invocable_v<Loss&, const Y&, const B&, G&>,
                  "fit: the loss must take (output, labels, grad), (output, targets, grad) or "
                  "(output, batch, grad)");
    return loss(y, b, grad);
  }
}

template <class S>
inline constexpr bool is_logits_v = S::rank == 1;

/// The batch's loss as a sum over its samples (mean-reduced losses are scaled back).
template <class Loss>
double summed(const Loss& loss, double value, int batch) {
  if constexpr (requires { loss.options().reduction == reduction::sum; }) {
    if (loss.options().reduction == reduction::sum) return value;
  }
  return value * batch;
}

}  // namespace detail

/// Mean loss and accuracy of `model` over `data` in eval mode (the mode is restored).
template <class M, class Loss, class Loader>
std::pair<double, std::optional<double>> evaluate(M& model, Loss& loss, const Loader& data) {
  const bool was_training = model.is_training();
  model.eval();
  typename M::output_tensor grad;
  double loss_sum = 0;
  std::int64_t samples = 0, labelled = 0, correct = 0;
  for (const auto& b : data.epoch(0)) {
    const auto& y = model.forward(detail::on_device<typename M::input_tensor::device, 0>(b.inputs));
    loss_sum += detail::summed(loss, detail::call_loss(loss, y, b, grad), b.size());
    samples += b.size();
    if constexpr (detail::is_logits_v<typename M::output_shape>) {
      const auto predicted = metrics::argmax(detail::on_host(y));
      for (std::size_t i = 0; i < predicted.size(); ++i)
        if (b.labels[i] >= 0) {
          ++labelled;
          correct += predicted[i] == b.labels[i];
        }
    }
  }
  model.train(was_training);
  std::optional<double> accuracy;
  if (labelled > 0) accuracy = static_cast<double>(correct) / static_cast<double>(labelled);
  return {samples ? loss_sum / static_cast<double>(samples) : 0.0, accuracy};
}

struct no_validation {};

template <class M, class Loss, class Optimizer, class TrainLoader, class ValLoader = no_validation>
fit_result fit(M& model, Loss&& loss, Optimizer& optimizer, const TrainLoader& train,
               const ValLoader& val, const fit_options& options) {
  static_assert(!is_outputs_v<typename M::output_shape>,
                "fit trains a network of one output and one loss; for a network ending in "
                "Heads<...>, write the loop: forward, one loss per head, backward(d1, d2, ...)");
  constexpr bool validating = !std::is_same_v<ValLoader, no_validation>;
  if (options.epochs < 0) throw usage_error("fit: epochs must be >= 0");
  fit_result result;
  const auto last_path = options.checkpoint_dir / "last.safetensors";
  const auto best_path = options.checkpoint_dir / "best.safetensors";
  double best_metric = -std::numeric_limits<double>::infinity();
  std::int64_t step = 0;
  // Before the first epoch, not after it: a run that cannot save says so now.
  if (!options.checkpoint_dir.empty()) io::check_writable_directory(options.checkpoint_dir);
  if (options.resume && !options.checkpoint_dir.empty() && std::filesystem::exists(last_path)) {
    const auto state = load_training_checkpoint(last_path.string(), model, optimizer);
    result.start_epoch = state.epoch + 1;
    result.best_epoch = state.best_epoch;
    best_metric = state.best_metric;
    step = state.step;
  }

  progress_bar bar(options.progress);
  typename M::output_tensor grad;
  for (int epoch = result.start_epoch; epoch < options.epochs; ++epoch) {
    model.train();
    const auto start = std::chrono::steady_clock::now();
    bar.start();
    const std::string label =
        "epoch " + std::to_string(epoch + 1) + "/" + std::to_string(options.epochs);
    double loss_sum = 0;
    std::int64_t samples = 0;
    std::size_t batch_index = 0;
    for (const auto& b : train.epoch(static_cast<std::uint64_t>(epoch))) {
      model.zero_grad();
      const auto& y =
          model.forward(detail::on_device<typename M::input_tensor::device, 0>(b.inputs));
      double l = 0;
      try {
        l = detail::call_loss(loss, y, b, grad);
      } catch (const non_finite_loss& e) {
        bar.finish("");
        throw non_finite_loss(
            "fit: epoch " + std::to_string(epoch) + ", batch " + std::to_string(batch_index) +
            " (step " + std::to_string(step + 1) + "): " + e.what() +
            "; the weights were not updated at this step" +
            (options.checkpoint_dir.empty()
                 ? std::string()
                 : "; " + last_path.string() + " holds the last completed epoch"));
      }
      model.backward(grad);
      if (options.on_after_backward) options.on_after_backward();
      optimizer.step();
      ++step;
      if (options.on_step) options.on_step(step);
      loss_sum += detail::summed(loss, l, b.size());
      samples += b.size();
      ++batch_index;
      const double elapsed =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      bar.update(label, batch_index, train.batches(), loss_sum / static_cast<double>(samples),
                 elapsed > 0 ? static_cast<double>(samples) / elapsed : 0.0);
    }
    epoch_result r;
    r.epoch = epoch;
    r.train_loss = samples ? loss_sum / static_cast<double>(samples) : 0.0;
    if constexpr (validating) {
      const auto [val_loss, val_accuracy] = evaluate(model, loss, val);
      r.val_loss = val_loss;
      r.val_accuracy = val_accuracy;
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    result.history.push_back(r);

    std::string summary = label + "  loss " + std::to_string(r.train_loss);
    if (r.val_loss) summary += "  val_loss " + std::to_string(*r.val_loss);
    if (r.val_accuracy) summary += "  val_acc " + std::to_string(*r.val_accuracy);
    summary += "  " + progress_bar::format_seconds(r.seconds);

    if constexpr (validating) {
      const double metric = r.val_accuracy ? *r.val_accuracy : -*r.val_loss;
      if (metric > best_metric) {
        best_metric = metric;
        result.best_epoch = epoch;
        if (!options.checkpoint_dir.empty()) {
          save_weights(model, best_path.string());
          summary += "  (best, saved)";
        }
      }
    }
    if (!options.checkpoint_dir.empty())
      save_training_checkpoint(last_path.string(), model, optimizer,
                               {.epoch = epoch,
                                .step = step,
                                .best_epoch = result.best_epoch,
                                .best_metric = best_metric});
    bar.finish(summary);
    if (options.on_epoch && !options.on_epoch(r)) break;
  }
  return result;
}

/// fit without validation data.
template <class M, class Loss, class Optimizer, class TrainLoader>
fit_result fit(M& model, Loss&& loss, Optimizer& optimizer, const TrainLoader& train,
               const fit_options& options) {
  return fit(model, std::forward<Loss>(loss), optimizer, train, no_validation{}, options);
}

}  // namespace typenet
