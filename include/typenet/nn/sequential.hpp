// typenet/nn/sequential.hpp — Sequential<Layers...>: layers applied in order.
//
// Like nn.Sequential: the output of each child is the input of the next and
// children are keyed "0", "1", ... (or by Named<"name", ...>). Sequentials
// nest. Each link is checked once at compile time; a failure names the
// child (at_child<I, ...> or at_named<"name", ...>), the layer and its input.
// After forward, every child's output stays readable (feature extraction):
// `node.output_of<I>()`, or `output_of<"name">()` for a Named child, and
// `output_of<"up1.conv">()` inside it. A Named child's output is also
// visible by its name to the children after it (`From<"name">`,
// nn/scope.hpp): the gradient that flows back through such a reference
// joins the child's own before its backward.
#pragma once

#include <algorithm>
#include <array>
#include <boost/mp11/algorithm.hpp>
#include <boost/mp11/bind.hpp>
#include <boost/mp11/list.hpp>
#include <cstdint>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "typenet/backend/interface.hpp"
#include "typenet/core/diagnostics.hpp"
#include "typenet/core/layer.hpp"
#include "typenet/core/outputs.hpp"
#include "typenet/nn/extent_check.hpp"
#include "typenet/nn/named.hpp"
#include "typenet/nn/scope.hpp"
#include "typenet/nn/summary.hpp"

namespace typenet {

/// Parameters of a Sequential: a tuple of its children's, keyed by `Seq::key<I>()`.
template <class Seq, class... Children>
struct sequential_parameters {
  static constexpr std::int64_t count = (std::int64_t{0} + ... + Children::count);

  std::tuple<Children...> items;

  template <class Visitor>
  void visit(Visitor&& visitor, const std::string& prefix) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (std::get<I>(items).visit(visitor, prefix + Seq::template key<I>() + "."), ...);
    }
    (std::index_sequence_for<Children...>{});
  }
  template <class F>
  void for_each_entry(F&& f) {
    std::apply([&](auto&... p) { (for_each_entry_of(p, f), ...); }, items);
  }

  template <class Rng>
  void reset(Rng& rng) {
    std::apply([&](auto&... p) { (p.reset(rng), ...); }, items);
  }
};

namespace detail {
/// Env with L's output pushed when L is Named (visible to the children after it).
template <class Env, class L, class Out, bool Named = is_named_v<L>>
struct push_named {
  using type = Env;
};
template <class Env, class L, class Out>
struct push_named<Env, L, Out, true> {
  using type = boost::mp11::mp_push_back<Env, scope_entry<L::name, Out>>;
};

/// The output of L on In; nothing follows the Outputs of Heads (the check
/// reports a layer after them), so they stay Outputs.
template <class L, class In>
struct next_shape {
  using type = output_shape_t<L, In>;
};
template <class L, class... S>
struct next_shape<L, Outputs<S...>> {
  using type = Outputs<S...>;
};

/// The fold of a Sequential's children whose later children refer to names:
/// mp_list<shapes, children rebound, Env before each child, Env after all>.
template <class State, class L>
struct scoped_fold_step {
  using shapes = boost::mp11::mp_at_c<State, 0>;
  using env = boost::mp11::mp_at_c<State, 3>;
  using child = in_scope_t<L, env>;
  using out = typename next_shape<child, boost::mp11::mp_back<shapes>>::type;
  using type =
      boost::mp11::mp_list<boost::mp11::mp_push_back<shapes, out>,
                           boost::mp11::mp_push_back<boost::mp11::mp_at_c<State, 1>, child>,
                           boost::mp11::mp_push_back<boost::mp11::mp_at_c<State, 2>, env>,
                           typename push_named<env, L, out>::type>;
};
template <class State, class L>
using scoped_fold_step_t = typename scoped_fold_step<State, L>::type;

/// The names a Sequential's children refer to that no earlier sibling binds:
/// mp_list<names bound so far, free names>.
template <class State, class L, bool Named = is_named_v<L>>
struct free_names_step {
  using bound = boost::mp11::mp_at_c<State, 0>;
  using free = boost::mp11::mp_unique<boost::mp11::mp_append<
      boost::mp11::mp_at_c<State, 1>,
      boost::mp11::mp_remove_if_q<free_names_t<L>,
                                  boost::mp11::mp_bind_front<boost::mp11::mp_contains, bound>>>>;
  using type = boost::mp11::mp_list<bound, free>;
};
template <class State, class L>
struct free_names_step<State, L, true> {
  using base = free_names_step<State, unnamed_t<L>>;
  using type =
      boost::mp11::mp_list<boost::mp11::mp_push_back<typename base::bound, name_tag<L::name>>,
                           typename base::free>;
};
template <class State, class L>
using free_names_step_t = typename free_names_step<State, L>::type;

/// After forward: the output of the child of Container keyed by Path's
/// first component (a Named name, or the position of an unnamed child) among
/// its `nodes`, or of the layer inside it that the rest of Path names.
template <class Container, fixed_string Path, class Nodes>
const auto& output_at_path(const Nodes& nodes) {
  constexpr std::size_t dot = Path.find('.');
  if constexpr (dot == Path.size()) {
    constexpr std::size_t i = Container::template index_of_key<Path>();
    static_assert(i < Container::size, "output_of<\"key\">: no child has that key");
    return std::get<i>(nodes).output();
  } else {
    constexpr auto head = Path.template substr<0, dot>();
    constexpr auto rest = Path.template substr<dot + 1, Path.size() - dot - 1>();
    constexpr std::size_t i = Container::template index_of_key<head>();
    static_assert(i < Container::size, "output_of<\"key.path\">: no child has that key");
    return std::get<i>(nodes).template output_of<rest>();
  }
}
}  // namespace detail

template <class... Layers>
struct Sequential {
  static_assert(sizeof...(Layers) > 0, "Sequential needs at least one layer");

  using children = boost::mp11::mp_list<Layers...>;
  static constexpr std::size_t size = sizeof...(Layers);
  /// Whether a child refers to an earlier output by name (then the children
  /// are rebound to the names before them and the node keeps a scope_frame).
  static constexpr bool scoped = (uses_scope_v<Layers> || ...);

  /// The names referred to inside that no child of this Sequential binds.
  using free_names = boost::mp11::mp_second<boost::mp11::mp_fold<
      children, boost::mp11::mp_list<boost::mp11::mp_list<>, boost::mp11::mp_list<>>,
      detail::free_names_step_t>>;
  /// This Sequential with the earlier outputs of an enclosing one visible.
  template <class Env>
  using in_scope = Bound<Env, Sequential>;

  /// mp_list<In, out of child 0, out of child 1, ...>.
  template <class Acc, class L>
  using append_output =
      boost::mp11::mp_push_back<Acc,
                                typename detail::next_shape<L, boost::mp11::mp_back<Acc>>::type>;

  /// The shapes and the children as they run: rebound to the names before
  /// each when some child refers to names, the children themselves otherwise.
  template <class In, class Env, bool Scoped = scoped>
  struct layout {
    using shapes = boost::mp11::mp_fold<children, boost::mp11::mp_list<In>, append_output>;
    using bound_children = children;
  };
  template <class In, class Env>
  struct layout<In, Env, true> {
    using fold =
        boost::mp11::mp_fold<children,
                             boost::mp11::mp_list<boost::mp11::mp_list<In>, boost::mp11::mp_list<>,
                                                  boost::mp11::mp_list<>, Env>,
                             detail::scoped_fold_step_t>;
    using shapes = boost::mp11::mp_at_c<fold, 0>;
    using bound_children = boost::mp11::mp_at_c<fold, 1>;
    using envs = boost::mp11::mp_at_c<fold, 2>;  ///< the Env each child sees
    using full_env = boost::mp11::mp_at_c<fold, 3>;
  };

  template <class In, class Env = boost::mp11::mp_list<>>
  using shapes = typename layout<In, Env>::shapes;

  template <class In, std::size_t I, class Env = boost::mp11::mp_list<>>
  using input_of = boost::mp11::mp_at_c<shapes<In, Env>, I>;
  template <std::size_t I>
  using child = boost::mp11::mp_at_c<children, I>;
  /// Child I as it runs (rebound to the names before it).
  template <class In, std::size_t I, class Env = boost::mp11::mp_list<>>
  using bound_child = boost::mp11::mp_at_c<typename layout<In, Env>::bound_children, I>;
  /// The names visible to child I (only when scoped).
  template <class In, std::size_t I, class Env>
  using env_of = boost::mp11::mp_at_c<typename layout<In, Env>::envs, I>;

  template <class In, class Env = boost::mp11::mp_list<>>
  using output_shape = boost::mp11::mp_back<shapes<In, Env>>;

  /// Run-time extents through the children.
  template <class In, class Env = boost::mp11::mp_list<>>
  static constexpr extents_t<output_shape<In, Env>> output_extents(
      const extents_t<In>& in, const scope_extents<Env>& env = {}) {
    return extents_from<In, Env, 0>(in, env);
  }

  /// Whether every child fits the run-time extents; the first misfit is
  /// recorded with the child's key in its path.
  template <class In, class Env = boost::mp11::mp_list<>>
  static bool fits(const extents_t<In>& in, extent_misfit* why,
                   const scope_extents<Env>& env = {}) {
    return fits_from<In, Env, 0>(in, why, env);
  }

  /// The key of child I: its Named name, or its index.
  template <std::size_t I>
  static std::string key() {
    using C = child<I>;
    if constexpr (is_named_v<C>) {
      return C::name.str();
    } else {
      return std::to_string(I);
    }
  }

  /// Index of the child Named `Name`, or `size` when there is none.
  template <fixed_string Name>
  static constexpr std::size_t index_of() {
    constexpr std::array<bool, size> named_so{name_equals<Layers, Name>()...};
    for (std::size_t i = 0; i < size; ++i)
      if (named_so[i]) return i;
    return size;
  }
  /// Index of the child whose key is `Key` (a Named name, or the position of
  /// an unnamed child), or `size` when there is none.
  template <fixed_string Key>
  static constexpr std::size_t index_of_key() {
    if constexpr (Key.is_index()) {
      constexpr std::size_t i = Key.to_index();
      if constexpr (i < size) {
        if constexpr (!is_named_v<child<i>>) return i;
      }
      return size;
    } else {
      return index_of<Key>();
    }
  }

  /// Whether child I is Named and a later child reads its output by name.
  template <std::size_t I>
  static constexpr bool referenced() {
    if constexpr (!scoped || !is_named_v<child<I>>) {
      return false;
    } else {
      return []<std::size_t... K>(std::index_sequence<K...>) {
        return (
            (K > I &&
             boost::mp11::mp_contains<free_names_t<child<K>>, name_tag<child<I>::name>>::value) ||
            ...);
      }
      (std::make_index_sequence<size>{});
    }
  }

  template <class In, class Where, bool Diagnose = true, class Env = boost::mp11::mp_list<>>
  static constexpr bool check() {
    return check_children<In, Where, Diagnose, Env>(std::make_index_sequence<size>{}) &&
           check_unique_names<Where, Diagnose>(std::make_index_sequence<size>{});
  }

  template <class Is, class In, class Device, class T, class Env>
  struct parameters_of;
  template <std::size_t... I, class In, class Device, class T, class Env>
  struct parameters_of<std::index_sequence<I...>, In, Device, T, Env> {
    using type = sequential_parameters<
        Sequential, parameters_t<bound_child<In, I, Env>, input_of<In, I, Env>, Device, T>...>;
  };

  /// The children's parameters; the same type for every input shape that
  /// gives the children the same parameter types, so such models share them.
  template <class In, class Device, class T, class Env = boost::mp11::mp_list<>>
  using parameters =
      typename parameters_of<std::make_index_sequence<size>, In, Device, T, Env>::type;

  template <class In, class Device, class T, class Env = boost::mp11::mp_list<>>
  struct node {
    template <std::size_t I>
    using in_t = input_of<In, I, Env>;
    template <std::size_t I>
    using child_t = bound_child<In, I, Env>;
    template <class Is>
    struct tuple_of;
    template <std::size_t... I>
    struct tuple_of<std::index_sequence<I...>> {
      using type = std::tuple<node_t<child_t<I>, in_t<I>, Device, T>...>;
      /// The gradient accumulators of the outputs later children read by name.
      using accumulators =
          std::tuple<std::conditional_t<referenced<I>(), activation_t<in_t<I + 1>, Device, T>,
                                        no_parameters>...>;
    };
    using Out = output_shape<In, Env>;
    using params_type = parameters<In, Device, T, Env>;

    typename tuple_of<std::make_index_sequence<size>>::type nodes;

    void plan(int batch, const extents_t<In>& in, const extents_t<Out>&,
              const scope_extents<Env>& env = {}) {
      plan_from<0>(batch, in, env);
    }

    const activation_t<Out, Device, T>& forward(params_type& p, const Tensor<In, Device, T>& x,
                                                const run_context& ctx) {
      if constexpr (scoped) {
        run_context c = ctx;
        c.scope = enter_scope(ctx);
        forward_from<0>(p, x, c);
      } else {
        forward_from<0>(p, x, ctx);
      }
      return output();
    }

    /// Back-propagates through the children in reverse, stopping early when
    /// no earlier child has a trainable parameter and the caller needs no
    /// input gradient (a frozen trunk costs no backward work). The returned
    /// input gradient is meaningful only when ctx.need_input_grad.
    const Tensor<In, Device, T>& backward(params_type& p, const Tensor<In, Device, T>& x,
                                          const activation_t<Out, Device, T>& dy,
                                          const run_context& ctx) {
      std::array<bool, size> learns_before{};  // some child before I has a trainable parameter
      [&]<std::size_t... I>(std::index_sequence<I...>) {
        bool any = false;
        ((learns_before[I] = any, any = any || any_requires_grad(std::get<I>(p.items))), ...);
      }
      (std::make_index_sequence<size>{});
      if constexpr (scoped) {
        run_context c = ctx;
        c.scope = enter_scope(ctx);
        clear_accumulators(std::make_index_sequence<size>{});
        return backward_from<size - 1>(p, x, dy, c, learns_before);
      } else {
        return backward_from<size - 1>(p, x, dy, ctx, learns_before);
      }
    }

    const activation_t<Out, Device, T>& output() const {
      return std::get<size - 1>(nodes).output();
    }

    /// Output of child I after the last forward.
    template <std::size_t I>
    const auto& output_of() const {
      return std::get<I>(nodes).output();
    }
    /// Output of the child keyed `Path` after the last forward ("fc", "3"),
    /// or of a layer inside it ("up1.conv", "layer1.0").
    template <fixed_string Path>
    const auto& output_of() const {
      return detail::output_at_path<Sequential, Path>(nodes);
    }

   private:
    // The scope frame: the outputs (and gradient accumulators) of the
    // enclosing Sequentials' names, then of this one's Named children.
    static constexpr std::size_t outer_names = boost::mp11::mp_size<Env>::value;
    static constexpr std::size_t frame_size = []() {
      if constexpr (scoped) {
        return boost::mp11::mp_size<typename layout<In, Env>::full_env>::value;
      } else {
        return std::size_t{0};
      }
    }();
    /// Slot of child I's output in the frame (I Named).
    template <std::size_t I>
    static constexpr std::size_t slot_of() {
      return outer_names + []<std::size_t... K>(std::index_sequence<K...>) {
        return (std::size_t{0} + ... + std::size_t{is_named_v<child<K>>});
      }
      (std::make_index_sequence<I>{});
    }

    const scope_frame* enter_scope(const run_context& ctx) {
      if constexpr (outer_names > 0) {
        std::copy_n(ctx.scope->outputs, outer_names, frame_outputs_.begin());
        std::copy_n(ctx.scope->grads, outer_names, frame_grads_.begin());
      }
      frame_ = {frame_outputs_.data(), frame_grads_.data()};
      return &frame_;
    }

    template <std::size_t... I>
    void clear_accumulators(std::index_sequence<I...>) {
      (
          [&] {
            if constexpr (referenced<I>()) {
              auto& acc = std::get<I>(accumulators_);
              backend::fill_values(Device{}, backend::flat_view(acc), T{0});
              frame_grads_[slot_of<I>()] = &acc;
            }
          }(),
          ...);
    }

    template <std::size_t I, class EnvE>
    void plan_from(int batch, const extents_t<in_t<I>>& in, const EnvE& env) {
      if constexpr (scoped) {
        const auto out = output_extents_in<child_t<I>, in_t<I>, env_of<In, I, Env>>(in, env);
        plan_in(std::get<I>(nodes), batch, in, out, env);
        if constexpr (referenced<I>()) std::get<I>(accumulators_).resize(batch, out);
        if constexpr (I + 1 < size) {
          if constexpr (is_named_v<child<I>>) {
            plan_from<I + 1>(batch, out, std::tuple_cat(env, std::tuple(out)));
          } else {
            plan_from<I + 1>(batch, out, env);
          }
        }
      } else {
        const auto out = output_extents_of<child_t<I>, in_t<I>>(in);
        std::get<I>(nodes).plan(batch, in, out);
        if constexpr (I + 1 < size) plan_from<I + 1>(batch, out, env);
      }
    }

    template <std::size_t I>
    void forward_from(params_type& p, const Tensor<in_t<I>, Device, T>& x, const run_context& ctx) {
      const auto& y = std::get<I>(nodes).forward(std::get<I>(p.items), x, ctx.child(I, true));
      if constexpr (scoped && is_named_v<child<I>>) frame_outputs_[slot_of<I>()] = &y;
      if constexpr (I + 1 < size) forward_from<I + 1>(p, y, ctx);
    }

    template <std::size_t I>
    const Tensor<In, Device, T>& backward_from(params_type& p, const Tensor<In, Device, T>& x,
                                               const activation_t<in_t<I + 1>, Device, T>& dy_in,
                                               const run_context& ctx,
                                               const std::array<bool, size>& learns_before) {
      const bool need = ctx.need_input_grad || learns_before[I];
      if (!need && !any_requires_grad(std::get<I>(p.items))) return no_input_grad_;
      const auto& child_in = [&]() -> const Tensor<in_t<I>, Device, T>& {
        if constexpr (I == 0) {
          return x;
        } else {
          return std::get<I - 1>(nodes).output();
        }
      }();
      // The gradient that came back through references joins the child's own.
      const auto& dy = [&]() -> const activation_t<in_t<I + 1>, Device, T>& {
        if constexpr (referenced<I>()) {
          auto& acc = std::get<I>(accumulators_);
          backend::add(Device{}, backend::flat_view(acc), backend::flat_view(dy_in),
                       backend::flat_view(acc));
          return acc;
        } else {
          return dy_in;
        }
      }();
      size_input_grad(std::get<I>(nodes), child_in, need);
      const auto& dx =
          std::get<I>(nodes).backward(std::get<I>(p.items), child_in, dy, ctx.child(I, need));
      if constexpr (I == 0) {
        return dx;
      } else {
        if (!need) return no_input_grad_;
        return backward_from<I - 1>(p, x, dx, ctx, learns_before);
      }
    }

    Tensor<In, Device, T> no_input_grad_;  // returned when no input gradient was computed
    typename tuple_of<std::make_index_sequence<size>>::accumulators accumulators_;
    std::array<const void*, frame_size> frame_outputs_{};
    std::array<void*, frame_size> frame_grads_{};
    scope_frame frame_;
  };

  template <class In, class Env = boost::mp11::mp_list<>>
  static constexpr std::int64_t flops = []<std::size_t... I>(std::index_sequence<I...>) {
    return (std::int64_t{0} + ... +
            unnamed_t<bound_child<In, I, Env>>::template flops<input_of<In, I, Env>>);
  }
  (std::make_index_sequence<size>{});

  /// Rows of summary(): the children, keyed by their state_dict prefixes.
  template <class In, class Env = boost::mp11::mp_list<>>
  static void summarize(std::vector<summary_row>& rows, const std::string& name, int depth) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (typenet::summarize<unnamed_t<bound_child<In, I, Env>>, input_of<In, I, Env>>(
           rows, (name.empty() ? "" : name + ".") + key<I>(), depth + (name.empty() ? 0 : 1)),
       ...);
    }
    (std::make_index_sequence<size>{});
  }

  static std::string type_name() {
    std::string s = "Sequential<";
    std::size_t i = 0;
    ((s += (i++ ? ", " : "") + Layers::type_name()), ...);
    return s + ">";
  }

 private:
  template <class In, class Env, std::size_t I, class EnvE>
  static constexpr extents_t<output_shape<In, Env>> extents_from(
      const extents_t<input_of<In, I, Env>>& in, const EnvE& env) {
    using C = bound_child<In, I, Env>;
    if constexpr (scoped) {
      const auto out = output_extents_in<C, input_of<In, I, Env>, env_of<In, I, Env>>(in, env);
      if constexpr (I + 1 == size) {
        return out;
      } else if constexpr (is_named_v<child<I>>) {
        return extents_from<In, Env, I + 1>(out, std::tuple_cat(env, std::tuple(out)));
      } else {
        return extents_from<In, Env, I + 1>(out, env);
      }
    } else {
      const auto out = output_extents_of<C, input_of<In, I, Env>>(in);
      if constexpr (I + 1 == size) {
        return out;
      } else {
        return extents_from<In, Env, I + 1>(out, env);
      }
    }
  }

  template <class In, class Env, std::size_t I, class EnvE>
  static bool fits_from(const extents_t<input_of<In, I, Env>>& in, extent_misfit* why,
                        const EnvE& env) {
    using C = bound_child<In, I, Env>;
    using CIn = input_of<In, I, Env>;
    bool ok;
    if constexpr (scoped) {
      ok = fits_extents_in<C, CIn, env_of<In, I, Env>>(in, why, env);
    } else {
      ok = fits_extents<C, CIn>(in, why);
    }
    if (!ok) {
      prepend_path(why, key<I>());
      return false;
    }
    if constexpr (I + 1 == size) {
      return true;
    } else if constexpr (scoped) {
      const auto out = output_extents_in<C, CIn, env_of<In, I, Env>>(in, env);
      if constexpr (is_named_v<child<I>>) {
        return fits_from<In, Env, I + 1>(out, why, std::tuple_cat(env, std::tuple(out)));
      } else {
        return fits_from<In, Env, I + 1>(out, why, env);
      }
    } else {
      return fits_from<In, Env, I + 1>(output_extents_of<C, CIn>(in), why, env);
    }
  }

  template <class C, fixed_string Name>
  static constexpr bool name_equals() {
    if constexpr (is_named_v<C>) {
      return C::name == Name;
    } else {
      return false;
    }
  }

  template <std::size_t I, class Where>
  using where_of = typename detail::where_for<child<I>, I, Where>::type;

  template <class In, class Where, bool Diagnose, class Env, std::size_t... I>
  static constexpr bool check_children(std::index_sequence<I...>) {
    return (check_child<In, Where, Diagnose, Env, I>() && ...);
  }
  template <class In, class Where, bool Diagnose, class Env, std::size_t I>
  static constexpr bool check_child() {
    using CIn = input_of<In, I, Env>;
    if constexpr (is_outputs_v<CIn>) {
      return diagnostic::reject<
          Diagnose, diagnostic::nothing_follows_heads<where_of<I, Where>, child<I>, CIn>>();
    } else {
      return bound_child<In, I, Env>::template check<CIn, where_of<I, Where>, Diagnose>();
    }
  }

  template <class Where, bool Diagnose, std::size_t... I>
  static constexpr bool check_unique_names(std::index_sequence<I...>) {
    return (check_unique_name<I, Where, Diagnose>() && ...);
  }

  template <std::size_t I, class Where, bool Diagnose>
  static constexpr bool check_unique_name() {
    if constexpr (is_named_v<child<I>>) {
      constexpr std::size_t first = index_of<child<I>::name>();
      if constexpr (first != I) {
        return diagnostic::reject<
            Diagnose, diagnostic::duplicate_child_name<at_child<I, Where>, Sequential, child<I>>>();
      } else {
        return true;
      }
    } else {
      return true;
    }
  }
};

}  // namespace typenet
