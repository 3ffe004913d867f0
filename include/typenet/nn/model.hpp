// typenet/nn/model.hpp — Model<Net, InputShape, Device, Scalar>: a network ready to run.
//
// A Model binds a network type to an input shape, a device and a scalar type
// and owns what running it needs: the parameters (held by shared_ptr, so
// models of one network at other input sizes, or inference contexts on other
// threads, can share them) and the activation plan (outputs and gradients of
// every layer for the current batch size, allocated once per batch size).
//
//   tn::Model<Net, tn::Shape<1, 28, 28>> net(seed);
//   const auto& y = net.forward(x);   // owned by the model until the next forward
//   net.backward(dy);                  // accumulates every parameter's gradient
//
// backward reads the input of the last forward again (the first layer's
// weight gradient): an input passed as an lvalue is read where it is and must
// outlive backward; a temporary (`net.forward(tn::to<tn::Cuda>(x))`) is
// moved into the model, which keeps it until the next forward.
//   for (auto& p : net.parameters()) p.name(), p.value(), p.grad();
#pragma once

#include <cstdint>
#include <iomanip>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "typenet/backend/interface.hpp"
#include "typenet/core/diagnostics.hpp"
#include "typenet/core/errors.hpp"
#include "typenet/core/layer.hpp"
#include "typenet/nn/state.hpp"
#include "typenet/nn/summary.hpp"

namespace typenet {

template <class Net, ShapeType In, class Device = Cpu, class T = float>
class Model {
  static_assert(Net::template check<In, at_model_root>(), "the network does not accept this input");

 public:
  using network = Net;
  using input_shape = In;
  using output_shape = output_shape_t<Net, In>;
  using device = Device;
  using scalar = T;
  using parameters_type = parameters_t<Net, In, Device, T>;
  using input_tensor = Tensor<In, Device, T>;
  using output_tensor = Tensor<output_shape, Device, T>;

  /// Parameters initialised as PyTorch does, from `seed`.
  explicit Model(std::uint64_t seed = 0)
      : params_(std::make_shared<parameters_type>()),
        refs_(collect_parameters<T, Device>(*params_)),
        seed_(seed) {
    std::mt19937_64 rng(seed);
    params_->reset(rng);
  }

  /// A model that uses (and shares) `params`.
  explicit Model(std::shared_ptr<parameters_type> params, std::uint64_t seed = 0)
      : params_(std::move(params)), seed_(seed) {
    if (!params_) throw usage_error("Model: null parameters");
    refs_ = collect_parameters<T, Device>(*params_);
  }

  /// A model of the same network at another input size sharing `other`'s
  /// parameters; a compile error when the two sizes give different parameter shapes.
  template <class OtherIn>
  explicit Model(Model<Net, OtherIn, Device, T>& other)
      : params_(share_from(other)),
        refs_(collect_parameters<T, Device>(*params_)),
        seed_(other.seed()) {}

  const output_tensor& forward(const input_tensor& x) {
    if (x.batch() <= 0) throw shape_error("Model::forward: the input batch is empty");
    if (x.batch() != planned_batch_) {
      node_.plan(x.batch());
      planned_batch_ = x.batch();
    }
    last_input_ = &x;
    ctx_.stream = mix64(seed_ ^ mix64(step_++));
    ctx_.need_input_grad = input_grad_wanted_;
    return node_.forward(*params_, x, ctx_);
  }
  /// A temporary input, kept by the model for backward (moved: no copy).
  const output_tensor& forward(input_tensor&& x) {
    owned_input_ = std::move(x);
    return forward(std::as_const(owned_input_));
  }

  /// Back-propagates `dy` (the gradient of the loss with respect to the last
  /// forward's output), adding into every trainable parameter's gradient.
  void backward(const output_tensor& dy) {
    if (!last_input_) throw usage_error("Model::backward called before forward");
    if (dy.batch() != planned_batch_)
      throw shape_error("Model::backward: gradient batch " + std::to_string(dy.batch()) +
                        " differs from the forward batch " + std::to_string(planned_batch_));
    ctx_.need_input_grad = input_grad_wanted_;
    input_grad_ = &node_.backward(*params_, *last_input_, dy, ctx_);
  }

  /// Asks backward to also compute the gradient with respect to the input.
  void requires_input_grad(bool wanted) { input_grad_wanted_ = wanted; }
  const input_tensor& input_grad() const {
    if (!input_grad_wanted_ || !input_grad_)
      throw usage_error("Model::input_grad: call requires_input_grad(true) before backward");
    return *input_grad_;
  }

  /// After forward: the output of the top-level child Named `Name` (feature
  /// extraction), or of child number I.
  template <fixed_string Name>
  const auto& output_of() const {
    return node_.template output_of<Name>();
  }
  template <std::size_t I>
  const auto& output_of() const {
    return node_.template output_of<I>();
  }

  /// The output of the last forward.
  const output_tensor& output() const { return node_.output(); }

  void train(bool on = true) { ctx_.training = on; }
  void eval() { ctx_.training = false; }
  bool is_training() const { return ctx_.training; }

  /// Clears every parameter's gradient (no allocation: uses the cached list).
  void zero_grad() {
    for (const auto& p : refs_)
      backend::fill_values(Device{}, backend::vector_view(p.grad_data(), p.size()), T{0});
  }

  /// Every learnable parameter with its state_dict name, in definition order.
  const std::vector<ParameterRef<T, Device>>& parameters() const { return refs_; }
  /// Parameters and buffers (running statistics, counters): the state dict.
  std::vector<StateRef> state() { return collect_state(*params_); }

  /// Stops (or restarts) training of every parameter whose name starts with `prefix`.
  void freeze(std::string_view prefix = "") { set_requires_grad(prefix, false); }
  void unfreeze(std::string_view prefix = "") { set_requires_grad(prefix, true); }

  parameters_type& params() { return *params_; }
  const std::shared_ptr<parameters_type>& shared_parameters() { return params_; }
  auto& root() { return node_; }
  const auto& root() const { return node_; }
  std::uint64_t seed() const { return seed_; }
  /// Forward passes so far: with the seed, the position of the random stream
  /// (Dropout). A checkpoint saves both and resuming restores them, so a
  /// resumed run draws the same masks as an uninterrupted one.
  std::uint64_t forward_count() const { return step_; }
  void restore_random_stream(std::uint64_t seed, std::uint64_t forward_count) {
    seed_ = seed;
    step_ = forward_count;
  }

  /// Per-layer table: name, type, output shape, parameters and forward FLOPs per sample.
  static std::string summary() { return format_summary(summary_rows<Net, In>()); }

 private:
  template <class OtherIn>
  static std::shared_ptr<parameters_type> share_from(Model<Net, OtherIn, Device, T>& other) {
    if constexpr (!std::is_same_v<typename Model<Net, OtherIn, Device, T>::parameters_type,
                                  parameters_type>) {
      static_assert(diagnostic::parameters_differ_between_input_shapes<at_model_root, Net, OtherIn,
                                                                       In>::value);
      return nullptr;
    } else {
      return other.shared_parameters();
    }
  }

  void set_requires_grad(std::string_view prefix, bool on) {
    params_->visit(
        [&](const std::string& name, auto& entry) {
          if constexpr (requires { entry.requires_grad; }) {
            if (name.starts_with(prefix)) entry.requires_grad = on;
          }
        },
        "");
  }

  std::shared_ptr<parameters_type> params_;
  std::vector<ParameterRef<T, Device>> refs_;
  node_t<Net, In, Device, T> node_;
  run_context ctx_;
  std::uint64_t seed_ = 0;
  std::uint64_t step_ = 0;
  int planned_batch_ = 0;
  bool input_grad_wanted_ = false;
  input_tensor owned_input_;  // the last temporary input
  const input_tensor* last_input_ = nullptr;
  const input_tensor* input_grad_ = nullptr;
};

}  // namespace typenet
