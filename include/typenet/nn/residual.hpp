// typenet/nn/residual.hpp — Residual<Body, Shortcut = Identity, Activation = Identity>.
//
// y = Activation(Body(x) + Shortcut(x)): torchvision's BasicBlock is
//
//   Residual<Sequential<Named<"conv1", Conv2d<C, 3, Stride<S>, Padding<1>, NoBias>>,
//                       Named<"bn1", BatchNorm2d>, ReLU,
//                       Named<"conv2", Conv2d<C, 3, Padding<1>, NoBias>>,
//                       Named<"bn2", BatchNorm2d>>,
//            Named<"downsample", Sequential<Conv2d<C, 1, Stride<S>, NoBias>, BatchNorm2d>>,
//            ReLU>
//
// State dict keys: the body's children sit directly under the block
// ("conv1.weight"), the shortcut under its Named name ("downsample.0.weight")
// or "shortcut", the activation under "activation". The two branches must
// produce the same shape, checked at compile time.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "typenet/backend/interface.hpp"
#include "typenet/core/diagnostics.hpp"
#include "typenet/core/layer.hpp"
#include "typenet/layers/identity.hpp"
#include "typenet/nn/extent_check.hpp"
#include "typenet/nn/named.hpp"
#include "typenet/nn/summary.hpp"

namespace typenet {

/// Parameters of a Residual: body (keys directly under the block), shortcut
/// (under `R::shortcut_key()`), activation (under "activation").
template <class R, class BodyParameters, class ShortcutParameters, class ActivationParameters>
struct residual_parameters {
  static constexpr std::int64_t count =
      BodyParameters::count + ShortcutParameters::count + ActivationParameters::count;

  BodyParameters body;
  ShortcutParameters shortcut;
  ActivationParameters activation;

  template <class Visitor>
  void visit(Visitor&& visitor, const std::string& prefix) {
    body.visit(visitor, prefix);
    shortcut.visit(visitor, prefix + R::shortcut_key() + ".");
    activation.visit(visitor, prefix + "activation.");
  }
  template <class F>
  void for_each_entry(F&& f) {
    for_each_entry_of(body, f);
    for_each_entry_of(shortcut, f);
    for_each_entry_of(activation, f);
  }
  template <class Rng>
  void reset(Rng& rng) {
    body.reset(rng);
    shortcut.reset(rng);
    activation.reset(rng);
  }
};

template <class Body, class Shortcut = Identity, class Activation = Identity>
struct Residual {
  using body = Body;
  using shortcut = Shortcut;
  using activation = Activation;

  template <class In>
  using body_shape = output_shape_t<Body, In>;
  template <class In>
  using shortcut_shape = output_shape_t<Shortcut, In>;

  template <class In>
  using output_shape = output_shape_t<Activation, body_shape<In>>;

  template <class In>
  static constexpr extents_t<output_shape<In>> output_extents(const extents_t<In>& in) {
    return output_extents_of<Activation, body_shape<In>>(output_extents_of<Body, In>(in));
  }

  /// The branches must fit and agree at run time too (a stride-2 body and
  /// shortcut can round an odd extent differently).
  template <class In>
  static bool fits(const extents_t<In>& in, extent_misfit* why) {
    if (!fits_extents<Body, In>(in, why)) return false;
    if (!fits_extents<Shortcut, In>(in, why)) {
      prepend_path(why, shortcut_key());
      return false;
    }
    const auto a = output_extents_of<Body, In>(in);
    const auto b = output_extents_of<Shortcut, In>(in);
    if (a != b) {
      if (why)
        *why = {"", type_name(), extents_string(in), extents_string(a),
                "from " + extents_string(in) + " its body gives " + extents_string(a) +
                    " but its shortcut " + extents_string(b) + "; the two branches must agree"};
      return false;
    }
    if (!fits_extents<Activation, body_shape<In>>(a, why)) {
      prepend_path(why, "activation");
      return false;
    }
    return true;
  }

  static std::string shortcut_key() {
    if constexpr (is_named_v<Shortcut>) {
      return Shortcut::name.str();
    } else {
      return "shortcut";
    }
  }

  template <class In, class Where, bool Diagnose = true>
  static constexpr bool check() {
    constexpr bool parts =
        Body::template check<In, at_named<"body", Where>, Diagnose>() &&
        Shortcut::template check<In, at_named<"shortcut", Where>, Diagnose>() &&
        Activation::template check<body_shape<In>, at_named<"activation", Where>, Diagnose>();
    if constexpr (parts && !std::is_same_v<body_shape<In>, shortcut_shape<In>>) {
      return diagnostic::reject<
          Diagnose, diagnostic::residual_branches_disagree<Where, Residual, body_shape<In>,
                                                           shortcut_shape<In>>>();
    } else {
      return parts;
    }
  }

  /// Depends only on the branches' parameter types, so models of one block
  /// at two input sizes share parameters whenever the branches do.
  template <class In, class Device, class T>
  using parameters = residual_parameters<Residual, parameters_t<Body, In, Device, T>,
                                         parameters_t<Shortcut, In, Device, T>,
                                         parameters_t<Activation, body_shape<In>, Device, T>>;

  template <class In>
  static constexpr std::int64_t flops =
      unnamed_t<Body>::template flops<In> + unnamed_t<Shortcut>::template flops<In> +
      body_shape<In>::size + Activation::template flops<body_shape<In>>;

  template <class In, class Device, class T>
  struct node {
    using Mid = body_shape<In>;
    using Out = output_shape<In>;
    node_t<Body, In, Device, T> body;
    node_t<Shortcut, In, Device, T> shortcut;
    node_t<Activation, Mid, Device, T> activation;
    Tensor<Mid, Device, T> sum;
    Tensor<In, Device, T> dx;  ///< sized by size_input_grad, as a leaf's

    void plan(int batch, const extents_t<In>& in, const extents_t<Out>& out) {
      const auto mid = output_extents_of<Body, In>(in);
      body.plan(batch, in, mid);
      shortcut.plan(batch, in, output_extents_of<Shortcut, In>(in));
      activation.plan(batch, mid, out);
      sum.resize(batch, mid);
    }

    const Tensor<Out, Device, T>& forward(parameters<In, Device, T>& p,
                                          const Tensor<In, Device, T>& x, const run_context& ctx) {
      const auto& a = body.forward(p.body, x, ctx.child(0, true));
      const auto& b = shortcut.forward(p.shortcut, x, ctx.child(1, true));
      backend::add(Device{}, backend::flat_view(a), backend::flat_view(b), backend::flat_view(sum));
      return activation.forward(p.activation, sum, ctx.child(2, true));
    }

    const Tensor<In, Device, T>& backward(parameters<In, Device, T>& p,
                                          const Tensor<In, Device, T>& x,
                                          const Tensor<Out, Device, T>& dy,
                                          const run_context& ctx) {
      size_input_grad(activation, sum, true);
      const auto& dsum = activation.backward(p.activation, sum, dy, ctx.child(2, true));
      size_input_grad(body, x, ctx.need_input_grad);
      const auto& da = body.backward(p.body, x, dsum, ctx.child(0, ctx.need_input_grad));
      size_input_grad(shortcut, x, ctx.need_input_grad);
      const auto& db = shortcut.backward(p.shortcut, x, dsum, ctx.child(1, ctx.need_input_grad));
      if (ctx.need_input_grad)
        backend::add(Device{}, backend::flat_view(da), backend::flat_view(db),
                     backend::flat_view(dx));
      return dx;
    }

    const Tensor<Out, Device, T>& output() const { return activation.output(); }
  };

  template <class In>
  static void summarize(std::vector<summary_row>& rows, const std::string& name, int depth) {
    const std::string prefix = name.empty() ? "" : name + ".";
    typenet::summarize<unnamed_t<Body>, In>(rows, name, depth);
    if constexpr (!std::is_same_v<unnamed_t<Shortcut>, Identity>)
      typenet::summarize<unnamed_t<Shortcut>, In>(rows, prefix + shortcut_key(), depth);
    if constexpr (!std::is_same_v<Activation, Identity>)
      typenet::summarize<Activation, body_shape<In>>(rows, prefix + "activation", depth + 1);
  }

  static std::string type_name() {
    return "Residual<" + Body::type_name() + ", " + Shortcut::type_name() + ", " +
           Activation::type_name() + ">";
  }
};

}  // namespace typenet
