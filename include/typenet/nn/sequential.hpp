// typenet/nn/sequential.hpp — Sequential<Layers...>: layers applied in order.
//
// Like nn.Sequential: the output of each child is the input of the next and
// children are keyed "0", "1", ... (or by Named<"name", ...>). Sequentials
// nest. Each link is checked once at compile time; a failure names the
// child (at_child<I, ...> or at_named<"name", ...>), the layer and its input.
// After forward, every child's output stays readable (feature extraction):
// `node.output_of<I>()`, or `output_of<"name">()` for a Named child.
#pragma once

#include <array>
#include <boost/mp11/algorithm.hpp>
#include <boost/mp11/list.hpp>
#include <cstdint>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "typenet/core/diagnostics.hpp"
#include "typenet/core/layer.hpp"
#include "typenet/nn/extent_check.hpp"
#include "typenet/nn/named.hpp"
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

template <class... Layers>
struct Sequential {
  static_assert(sizeof...(Layers) > 0, "Sequential needs at least one layer");

  using children = boost::mp11::mp_list<Layers...>;
  static constexpr std::size_t size = sizeof...(Layers);

  /// mp_list<In, out of child 0, out of child 1, ...>.
  template <class Acc, class L>
  using append_output =
      boost::mp11::mp_push_back<Acc, output_shape_t<L, boost::mp11::mp_back<Acc>>>;
  template <class In>
  using shapes = boost::mp11::mp_fold<children, boost::mp11::mp_list<In>, append_output>;

  template <class In, std::size_t I>
  using input_of = boost::mp11::mp_at_c<shapes<In>, I>;
  template <std::size_t I>
  using child = boost::mp11::mp_at_c<children, I>;

  template <class In>
  using output_shape = boost::mp11::mp_back<shapes<In>>;

  /// Run-time extents through the children.
  template <class In>
  static constexpr extents_t<output_shape<In>> output_extents(const extents_t<In>& in) {
    return extents_from<In, 0>(in);
  }

  /// Whether every child fits the run-time extents; the first misfit is
  /// recorded with the child's key in its path.
  template <class In>
  static bool fits(const extents_t<In>& in, extent_misfit* why) {
    return fits_from<In, 0>(in, why);
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
    std::size_t found = size;
    std::size_t i = 0;
    ((is_named_v<Layers> && found == size && name_equals<Layers, Name>() ? found = i : 0, ++i),
     ...);
    return found;
  }

  template <class In, class Where, bool Diagnose = true>
  static constexpr bool check() {
    return check_children<In, Where, Diagnose>(std::make_index_sequence<size>{}) &&
           check_unique_names<Where, Diagnose>(std::make_index_sequence<size>{});
  }

  template <class Is, class In, class Device, class T>
  struct parameters_of;
  template <std::size_t... I, class In, class Device, class T>
  struct parameters_of<std::index_sequence<I...>, In, Device, T> {
    using type =
        sequential_parameters<Sequential, parameters_t<child<I>, input_of<In, I>, Device, T>...>;
  };

  /// The children's parameters; the same type for every input shape that
  /// gives the children the same parameter types, so such models share them.
  template <class In, class Device, class T>
  using parameters = typename parameters_of<std::make_index_sequence<size>, In, Device, T>::type;

  template <class In, class Device, class T>
  struct node {
    template <class Is>
    struct tuple_of;
    template <std::size_t... I>
    struct tuple_of<std::index_sequence<I...>> {
      using type = std::tuple<node_t<child<I>, input_of<In, I>, Device, T>...>;
    };
    using Out = output_shape<In>;
    using params_type = parameters<In, Device, T>;

    typename tuple_of<std::make_index_sequence<size>>::type nodes;

    void plan(int batch, const extents_t<In>& in, const extents_t<Out>&) {
      plan_from<0>(batch, in);
    }

    const Tensor<Out, Device, T>& forward(params_type& p, const Tensor<In, Device, T>& x,
                                          const run_context& ctx) {
      forward_from<0>(p, x, ctx);
      return output();
    }

    /// Back-propagates through the children in reverse, stopping early when
    /// no earlier child has a trainable parameter and the caller needs no
    /// input gradient (a frozen trunk costs no backward work). The returned
    /// input gradient is meaningful only when ctx.need_input_grad.
    const Tensor<In, Device, T>& backward(params_type& p, const Tensor<In, Device, T>& x,
                                          const Tensor<Out, Device, T>& dy,
                                          const run_context& ctx) {
      std::array<bool, size> learns_before{};  // some child before I has a trainable parameter
      [&]<std::size_t... I>(std::index_sequence<I...>) {
        bool any = false;
        ((learns_before[I] = any, any = any || any_requires_grad(std::get<I>(p.items))), ...);
      }
      (std::make_index_sequence<size>{});
      return backward_from<size - 1>(p, x, dy, ctx, learns_before);
    }

    const Tensor<Out, Device, T>& output() const { return std::get<size - 1>(nodes).output(); }

    /// Output of child I after the last forward.
    template <std::size_t I>
    const auto& output_of() const {
      return std::get<I>(nodes).output();
    }
    /// Output of the child Named `Name` after the last forward.
    template <fixed_string Name>
    const auto& output_of() const {
      constexpr std::size_t i = index_of<Name>();
      static_assert(i < size, "output_of<\"name\">: no child of this Sequential has that name");
      return std::get<i>(nodes).output();
    }

   private:
    template <std::size_t I>
    void plan_from(int batch, const extents_t<input_of<In, I>>& in) {
      const auto out = output_extents_of<child<I>, input_of<In, I>>(in);
      std::get<I>(nodes).plan(batch, in, out);
      if constexpr (I + 1 < size) plan_from<I + 1>(batch, out);
    }

    template <std::size_t I>
    void forward_from(params_type& p, const Tensor<input_of<In, I>, Device, T>& x,
                      const run_context& ctx) {
      const auto& y = std::get<I>(nodes).forward(std::get<I>(p.items), x, ctx.child(I, true));
      if constexpr (I + 1 < size) forward_from<I + 1>(p, y, ctx);
    }

    template <std::size_t I>
    const Tensor<In, Device, T>& backward_from(params_type& p, const Tensor<In, Device, T>& x,
                                               const Tensor<input_of<In, I + 1>, Device, T>& dy,
                                               const run_context& ctx,
                                               const std::array<bool, size>& learns_before) {
      const bool need = ctx.need_input_grad || learns_before[I];
      if (!need && !any_requires_grad(std::get<I>(p.items))) return no_input_grad_;
      const auto& child_in = [&]() -> const Tensor<input_of<In, I>, Device, T>& {
        if constexpr (I == 0) {
          return x;
        } else {
          return std::get<I - 1>(nodes).output();
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
  };

  template <class In>
  static constexpr std::int64_t flops = []<std::size_t... I>(std::index_sequence<I...>) {
    return (std::int64_t{0} + ... + unnamed_t<child<I>>::template flops<input_of<In, I>>);
  }
  (std::make_index_sequence<size>{});

  /// Rows of summary(): the children, keyed by their state_dict prefixes.
  template <class In>
  static void summarize(std::vector<summary_row>& rows, const std::string& name, int depth) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (typenet::summarize<unnamed_t<child<I>>, input_of<In, I>>(
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
  template <class In, std::size_t I>
  static constexpr extents_t<output_shape<In>> extents_from(const extents_t<input_of<In, I>>& in) {
    const auto out = output_extents_of<child<I>, input_of<In, I>>(in);
    if constexpr (I + 1 == size) {
      return out;
    } else {
      return extents_from<In, I + 1>(out);
    }
  }

  template <class In, std::size_t I>
  static bool fits_from(const extents_t<input_of<In, I>>& in, extent_misfit* why) {
    if (!fits_extents<child<I>, input_of<In, I>>(in, why)) {
      prepend_path(why, key<I>());
      return false;
    }
    if constexpr (I + 1 == size) {
      return true;
    } else {
      return fits_from<In, I + 1>(output_extents_of<child<I>, input_of<In, I>>(in), why);
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

  template <class In, class Where, bool Diagnose, std::size_t... I>
  static constexpr bool check_children(std::index_sequence<I...>) {
    return (child<I>::template check<input_of<In, I>, where_of<I, Where>, Diagnose>() && ...);
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
