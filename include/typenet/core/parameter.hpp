// typenet/core/parameter.hpp — learnable parameters, buffers, and walking them by name.
//
// A layer's parameters live in a plain struct (`parameters` of the layer)
// whose `visit(visitor, prefix)` names each member exactly like PyTorch's
// state_dict ("weight", "bias", "running_mean", "num_batches_tracked").
// Containers prefix their children's names, so a whole network's state is
// walked by dotted name, never by position.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <type_traits>

#include "typenet/core/dtype.hpp"
#include "typenet/core/shape.hpp"
#include "typenet/core/tensor.hpp"

namespace typenet {

/// A learnable tensor of shape S with its gradient (accumulated by backward,
/// cleared by zero_grad) and whether it takes part in training.
template <ShapeType S, class Device, class T>
struct Parameter {
  using shape = S;
  Tensor<S, Device, T> value{1};
  Tensor<S, Device, T> grad{1};
  bool requires_grad = true;

  Parameter() { fill(grad, T{0}); }
};

/// A non-learnable tensor that is part of the state (BatchNorm's running statistics).
template <ShapeType S, class Device, class T>
struct Buffer {
  using shape = S;
  Tensor<S, Device, T> value{1};
};

/// A 0-d integer buffer kept on the host (BatchNorm's num_batches_tracked).
struct Counter {
  std::int64_t value = 0;
};

/// Parameters of a layer without any.
struct no_parameters {
  static constexpr std::int64_t count = 0;
  template <class Visitor>
  void visit(Visitor&&, const std::string&) {}
  template <class Visitor>
  void visit(Visitor&&, const std::string&) const {}
  template <class F>
  void for_each_entry(F&&) {}
  template <class Rng>
  void reset(Rng&) {}
};

/// Calls f(entry) for every Parameter, Buffer and Counter of a layer's
/// parameter struct: through its for_each_entry when it has one (no names
/// are built, so nothing is allocated), else through visit.
template <class P, class F>
void for_each_entry_of(P& p, F&& f) {
  if constexpr (requires { p.for_each_entry(f); }) {
    p.for_each_entry(f);
  } else {
    p.visit([&](const std::string&, auto& entry) { f(entry); }, std::string());
  }
}

/// True when some Parameter of a parameter struct is trainable (requires_grad).
template <class P>
bool any_requires_grad(P& p) {
  bool any = false;
  for_each_entry_of(p, [&](auto& entry) {
    if constexpr (requires { entry.requires_grad; }) any = any || entry.requires_grad;
  });
  return any;
}

/// Draws `count` values uniformly from [-bound, bound] into a CPU buffer.
template <class T, class Rng>
void fill_uniform(T* out, std::int64_t count, T bound, Rng& rng) {
  std::uniform_real_distribution<double> dist(-static_cast<double>(bound),
                                              static_cast<double>(bound));
  for (std::int64_t i = 0; i < count; ++i) out[i] = static_cast<T>(dist(rng));
}

}  // namespace typenet

namespace typenet {

/// Fills a CPU tensor with U(-bound, bound) (backend/cuda overloads it).
template <class S, class T, class Rng>
void init_uniform(Tensor<S, Cpu, T>& t, T bound, Rng& rng) {
  fill_uniform(t.data(), t.size(), bound, rng);
}

}  // namespace typenet
