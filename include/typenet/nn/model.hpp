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
//
// With a dynamic input shape (`Shape<3, tn::dyn, tn::dyn>`) each batch brings
// its extents: a new size is checked against every layer before any work
// (a misfit throws shape_error naming the layer's path, type and extents, and
// leaves the model as it was) and re-plans the activations. Storage only
// grows, so the buffers keep the largest size seen and any size seen before
// (or smaller) runs without allocating.
#pragma once

#include <cstdint>
#include <iomanip>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "typenet/backend/interface.hpp"
#include "typenet/core/diagnostics.hpp"
#include "typenet/core/errors.hpp"
#include "typenet/core/layer.hpp"
#include "typenet/core/outputs.hpp"
#include "typenet/nn/extent_check.hpp"
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
  /// A Tensor, or for a network ending in Heads one Tensor per head
  /// (`const auto& [a, b] = model.forward(x)`, core/outputs.hpp).
  using output_tensor = activation_t<output_shape, Device, T>;

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
    prepare(x);
    last_input_ = &x;
    ctx_.stream = mix64(seed_ ^ mix64(step_++));
    ctx_.need_input_grad = input_grad_wanted_;
    return node_.forward(*params_, x, ctx_);
  }
  /// A temporary input, kept by the model for backward (moved: no copy). It
  /// is checked first: a refused input leaves the previous one in place.
  const output_tensor& forward(input_tensor&& x) {
    prepare(x);
    owned_input_ = std::move(x);
    return forward(std::as_const(owned_input_));
  }

  /// Back-propagates `dy` (the gradient of the loss with respect to the last
  /// forward's output), adding into every trainable parameter's gradient.
  void backward(const output_tensor& dy) {
    if (!last_input_) throw usage_error("Model::backward called before forward");
    if (dy.batch() != planned_batch_)
      throw shape_error("Model::backward: gradient batch " +
                        (dy.batch() < 0 ? std::string("differs between the outputs and")
                                        : std::to_string(dy.batch())) +
                        " differs from the forward batch " + std::to_string(planned_batch_));
    if constexpr (!output_shape::is_static) {
      if (dy.extents() != node_.output().extents())
        throw shape_error("Model::backward: gradient extents " + extents_string(dy.extents()) +
                          " differ from the forward output's " +
                          extents_string(node_.output().extents()));
    }
    ctx_.need_input_grad = input_grad_wanted_;
    size_input_grad(node_, *last_input_, ctx_.need_input_grad);
    input_grad_ = &node_.backward(*params_, *last_input_, dy, ctx_);
  }

  /// For a network ending in Heads: one gradient per output, in order.
  template <class... Grads>
  requires(
      sizeof...(Grads) == outputs_count_v<output_shape> &&
      std::is_constructible_v<output_tensor, const Grads&...>) void backward(const Grads&... dy) {
    backward(output_tensor(dy...));
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

  /// The smallest input the network accepts: per dynamic extent, the least
  /// value for which every layer's output is non-empty while the other
  /// dynamic extents are large (In::dims for a static shape).
  static extents_t<In> min_input_extent() {
    extents_t<In> probe = In::dims;
    if constexpr (!In::is_static) {
      // A large extent the network fits (branches that round differently,
      // as a stride-2 body beside a stride-2 shortcut, may need an odd one).
      constexpr int largest = 1 << 14, tries = 64;
      int large = largest;
      for (; large > largest - tries; --large) {
        for (int d = 0; d < In::rank; ++d)
          if (In::dims[d] == dyn) probe[d] = large;
        if (fits_extents<Net, In>(probe, nullptr)) break;
      }
      if (large == largest - tries)
        throw usage_error("Model<" + In::str() +
                          ">::min_input_extent: the network fits no input of " +
                          std::to_string(largest - tries + 1) + " to " + std::to_string(largest) +
                          " per dynamic extent");
      extents_t<In> least = probe;
      for (int d = 0; d < In::rank; ++d) {
        if (In::dims[d] != dyn) continue;
        for (int v = 1; v <= large; ++v) {
          probe[d] = v;
          if (fits_extents<Net, In>(probe, nullptr)) {
            least[d] = v;
            break;
          }
        }
        probe[d] = large;
      }
      return least;
    }
    return probe;
  }

  /// Throws shape_error naming the first layer that `extents` do not fit,
  /// or the first merge whose branches disagree (checked before any work).
  static void check_input_extents(const extents_t<In>& extents) {
    if (!extents_match<In>(extents))
      throw shape_error("Model<" + In::str() + ">: the input extents " + extents_string(extents) +
                        " do not fit the input shape");
    extent_misfit why;
    if (!fits_extents<Net, In>(extents, &why)) {
      std::string least;
      try {
        least = "; the smallest input it accepts is " + extents_string(min_input_extent());
      } catch (const usage_error&) {  // no large input fits either: no minimum to name
      }
      throw shape_error("Model<" + In::str() + ">: the input " + extents_string(extents) +
                        " does not fit the network: " + why.describe() + least);
    }
  }

  /// Per-layer table: name, type, output shape, parameters and forward FLOPs per sample.
  static std::string summary() { return format_summary(summary_rows<Net, In>()); }

 private:
  /// Checks the input and plans the activations for its batch and extents
  /// (only when they changed); throws before anything changes.
  void prepare(const input_tensor& x) {
    if (x.batch() <= 0) throw shape_error("Model::forward: the input batch is empty");
    if (x.batch() != planned_batch_ || x.extents() != planned_extents_) {
      if constexpr (!In::is_static) check_input_extents(x.extents());
      node_.plan(x.batch(), x.extents(), output_extents_of<Net, In>(x.extents()));
      planned_batch_ = x.batch();
      planned_extents_ = x.extents();
    }
  }

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
  extents_t<In> planned_extents_{};
  bool input_grad_wanted_ = false;
  input_tensor owned_input_;  // the last temporary input
  const input_tensor* last_input_ = nullptr;
  const input_tensor* input_grad_ = nullptr;
};

}  // namespace typenet
