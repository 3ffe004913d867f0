// typenet/nn/from.hpp — layers that read an earlier output by name.
//
//   From<"down3">     yields the output of the earlier child Named "down3"
//                     (its input is ignored); as a branch of Concat it is
//                     the U-Net skip, torch.cat([x4, x], dim=1).
//   PadLike<"down3">  zero-pads its input's height and width to those of
//                     the output "down3", centred as U-Net's
//                     F.pad(x, [dx // 2, dx - dx // 2, dy // 2, dy - dy // 2]);
//                     a smaller target crops (negative padding).
//
// The name is looked up among the Named children before this layer in every
// enclosing Sequential, innermost first (nn/scope.hpp); a name that is not
// there is a compile error naming the layer and the names it can see. In
// backward, the gradient a From receives is added to that output's.
#pragma once

#include <boost/mp11/list.hpp>
#include <string>
#include <tuple>

#include "typenet/backend/interface.hpp"
#include "typenet/core/diagnostics.hpp"
#include "typenet/core/layer.hpp"
#include "typenet/nn/scope.hpp"

namespace typenet {

namespace detail {
template <class In, class Target>
using padded_shape = Shape<In::dims[0], Target::dims[1], Target::dims[2]>;
}  // namespace detail

template <fixed_string Name>
requires(!Name.empty() && !Name.contains('.')) struct From {
  using free_names = boost::mp11::mp_list<name_tag<Name>>;
  template <class Env>
  using in_scope = Bound<Env, From>;
  /// Its output does not depend on its input (a Merge adds no input gradient for it).
  static constexpr bool ignores_input = true;

  template <class In, class Env = boost::mp11::mp_list<>>
  using output_shape = scope_shape<Env, Name, In>;

  template <class In, class Env = boost::mp11::mp_list<>>
  // (`auto`: nvcc's front end fails to substitute the shape of a name into
  // a declared return type.)
  static constexpr auto output_extents(const extents_t<In>& in,
                                       const scope_extents<Env>& env = {}) {
    extents_t<output_shape<In, Env>> out{};
    if constexpr (in_scope_v<Env, Name>) {
      out = std::get<scope_slot<Env, Name>()>(env);
    } else {
      out = in;
    }
    return out;
  }
  /// An earlier output is never empty.
  template <class In, class Env = boost::mp11::mp_list<>>
  static bool fits(const extents_t<In>&, extent_misfit*, const scope_extents<Env>& = {}) {
    return true;
  }

  template <class In, class Where, bool Diagnose = true, class Env = boost::mp11::mp_list<>>
  static constexpr bool check() {
    if constexpr (in_scope_v<Env, Name>) {
      return true;
    } else {
      return diagnostic::reject<Diagnose, diagnostic::no_earlier_output_named<Where, From, Env>>();
    }
  }

  template <class In, class Device, class T, class Env = boost::mp11::mp_list<>>
  using parameters = no_parameters;

  template <class In, class Env = boost::mp11::mp_list<>>
  static constexpr std::int64_t flops = 0;

  template <class In, class Device, class T, class Env = boost::mp11::mp_list<>>
  struct node {
    using Out = output_shape<In, Env>;
    const Tensor<Out, Device, T>* y = nullptr;
    Tensor<In, Device, T> dx;  ///< zeros, when a container asks for this input gradient

    void plan(int, const extents_t<In>&, const extents_t<Out>&, const scope_extents<Env>& = {}) {}
    const Tensor<Out, Device, T>& forward(no_parameters&, const Tensor<In, Device, T>&,
                                          const run_context& ctx) {
      y = &scope_output<Out, Device, T>(ctx, scope_slot<Env, Name>());
      return *y;
    }
    const Tensor<In, Device, T>& backward(no_parameters&, const Tensor<In, Device, T>&,
                                          const Tensor<Out, Device, T>& dy,
                                          const run_context& ctx) {
      auto& acc = scope_grad<Out, Device, T>(ctx, scope_slot<Env, Name>());
      backend::add(Device{}, backend::flat_view(acc), backend::flat_view(dy),
                   backend::flat_view(acc));
      if (ctx.need_input_grad) backend::fill_values(Device{}, backend::flat_view(dx), T{0});
      return dx;
    }
    const Tensor<Out, Device, T>& output() const { return *y; }
  };

  static std::string type_name() { return "From<\"" + Name.str() + "\">"; }
};

template <fixed_string Name>
requires(!Name.empty() && !Name.contains('.')) struct PadLike {
  using free_names = boost::mp11::mp_list<name_tag<Name>>;
  template <class Env>
  using in_scope = Bound<Env, PadLike>;

  template <class In, class Env>
  using target = scope_shape<Env, Name, In>;

  template <class In, class Env = boost::mp11::mp_list<>>
  using output_shape = boost::mp11::mp_eval_if_c<In::rank != 3 || target<In, Env>::rank != 3, In,
                                                 detail::padded_shape, In, target<In, Env>>;

  template <class In, class Env = boost::mp11::mp_list<>>
  static constexpr auto output_extents(const extents_t<In>& in,
                                       const scope_extents<Env>& env = {}) {
    extents_t<output_shape<In, Env>> out{};
    if constexpr (in_scope_v<Env, Name> && In::rank == 3 && target<In, Env>::rank == 3) {
      const auto& t = std::get<scope_slot<Env, Name>()>(env);
      out = {in[0], t[1], t[2]};
    } else {
      out = in;
    }
    return out;
  }
  template <class In, class Env = boost::mp11::mp_list<>>
  static bool fits(const extents_t<In>&, extent_misfit*, const scope_extents<Env>& = {}) {
    return true;  // the target's extents, never empty
  }

  template <class In, class Where, bool Diagnose = true, class Env = boost::mp11::mp_list<>>
  static constexpr bool check() {
    if constexpr (!in_scope_v<Env, Name>) {
      return diagnostic::reject<Diagnose,
                                diagnostic::no_earlier_output_named<Where, PadLike, Env>>();
    } else if constexpr (In::rank != 3) {
      return diagnostic::reject<Diagnose,
                                diagnostic::layer_needs_image_input<Where, PadLike, In>>();
    } else if constexpr (target<In, Env>::rank != 3) {
      return diagnostic::reject<
          Diagnose, diagnostic::layer_needs_image_input<Where, PadLike, target<In, Env>>>();
    } else {
      return true;
    }
  }

  template <class In, class Device, class T, class Env = boost::mp11::mp_list<>>
  using parameters = no_parameters;

  template <class In, class Env = boost::mp11::mp_list<>>
  static constexpr std::int64_t flops = 0;

  template <class In, class Device, class T, class Env = boost::mp11::mp_list<>>
  struct node : node_io<In, output_shape<In, Env>, Device, T> {
    using Out = output_shape<In, Env>;
    int top = 0, left = 0;

    void plan(int batch, const extents_t<In>& in, const extents_t<Out>& out,
              const scope_extents<Env>& = {}) {
      node_io<In, Out, Device, T>::plan(batch, in, out);
      top = floor_half(out[1] - in[1]);
      left = floor_half(out[2] - in[2]);
    }
    const Tensor<Out, Device, T>& forward(no_parameters&, const Tensor<In, Device, T>& x,
                                          const run_context&) {
      backend::pad_planes(Device{}, backend::batch_view(x), top, left,
                          backend::batch_view(this->y));
      return this->y;
    }
    const Tensor<In, Device, T>& backward(no_parameters&, const Tensor<In, Device, T>&,
                                          const Tensor<Out, Device, T>& dy,
                                          const run_context& ctx) {
      if (ctx.need_input_grad)
        backend::pad_planes(Device{}, backend::batch_view(dy), -top, -left,
                            backend::batch_view(this->dx));
      return this->dx;
    }
  };

  static std::string type_name() { return "PadLike<\"" + Name.str() + "\">"; }

 private:
  /// Python's d // 2 (floor, also for a negative d).
  static constexpr int floor_half(int d) { return d >= 0 ? d / 2 : -((1 - d) / 2); }
};

}  // namespace typenet
