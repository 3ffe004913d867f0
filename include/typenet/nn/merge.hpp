// typenet/nn/merge.hpp — Merge<Op, Branches...>: branches on one input, joined.
//
// Every branch takes the container's input; their outputs are joined by Op:
//
//   Concat<A, B, ...>   torch.cat([a(x), b(x), ...], dim=1): the channels add
//                       up, the other extents must agree (Inception, U-Net);
//   Sum<A, B, ...>      a(x) + b(x) + ...: the branches give one shape;
//   Heads<A, B, ...>    `return a(x), b(x)`: each branch an output of the
//                       network (its last child), core/outputs.hpp.
//
// Branches are keyed "0", "1", ... or by Named<"name", ...>, as the
// attributes of the PyTorch module that would hold them. A branch may be
// From<"name"> (nn/from.hpp), which ignores the input and yields an earlier
// output: `Concat<From<"down3">, Identity>` is U-Net's torch.cat([x4, x], 1).
// The input gradient is the sum of the branches' (each branch used the
// input); a From branch sends its slice of the gradient back to the output
// it read. The joins are checked at compile time (static extents) and
// before any work at run time (dynamic extents).
#pragma once

#include <array>
#include <boost/mp11/algorithm.hpp>
#include <boost/mp11/list.hpp>
#include <cstdint>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "typenet/backend/interface.hpp"
#include "typenet/core/diagnostics.hpp"
#include "typenet/core/layer.hpp"
#include "typenet/core/outputs.hpp"
#include "typenet/nn/extent_check.hpp"
#include "typenet/nn/named.hpp"
#include "typenet/nn/scope.hpp"
#include "typenet/nn/sequential.hpp"
#include "typenet/nn/summary.hpp"

namespace typenet {

/// Merge operation: torch.cat along the channels (dimension 1 of a batch).
struct concat_channels {};
/// Merge operation: the element-wise sum of the branches.
struct add_outputs {};
/// Merge operation: none; each branch is an output of its own (Heads).
struct separate_outputs {};

namespace detail {
constexpr int join_extent(int a, int b) {
  return a == dyn ? b : a;
}

template <class Op, class A, class B>
struct joined_shape {
  using type = A;  // ranks differ: the check reports it
};
template <class Op, class B>
struct joined_shape<Op, void, B> {
  using type = B;  // the first branch
};
template <int CA, int... A, int CB, int... B>
requires(sizeof...(A) ==
         sizeof...(B)) struct joined_shape<concat_channels, Shape<CA, A...>, Shape<CB, B...>> {
  using type = Shape<CA + CB, join_extent(A, B)...>;
};
template <int... A, int... B>
requires(sizeof...(A) == sizeof...(B)) struct joined_shape<add_outputs, Shape<A...>, Shape<B...>> {
  using type = Shape<join_extent(A, B)...>;
};

template <class Op>
struct joined_shape_t {
  template <class A, class B>
  using fn = typename joined_shape<Op, A, B>::type;
};

/// Whether shapes A and B can be joined by Op: same rank, and every extent
/// static in both agrees (the channels only for a sum).
template <class Op, class A, class B>
constexpr bool joinable() {
  if constexpr (A::rank != B::rank) {
    return false;
  } else {
    for (int d = std::is_same_v<Op, concat_channels> ? 1 : 0; d < A::rank; ++d)
      if (A::dims[d] != dyn && B::dims[d] != dyn && A::dims[d] != B::dims[d]) return false;
    return true;
  }
}

/// The output shape of a merge of branch shapes Ss.
template <class Op, class Ss>
struct merged_shape {
  using type = boost::mp11::mp_fold<Ss, void, joined_shape_t<Op>::template fn>;
};
template <class... S>
struct merged_shape<separate_outputs, boost::mp11::mp_list<S...>> {
  using type = Outputs<S...>;
};

template <class L>
inline constexpr bool ignores_input_v = requires {
  requires unnamed_t<L>::ignores_input;
};

struct no_storage {};
}  // namespace detail

template <class Op, class... Branches>
struct Merge {
  static_assert(sizeof...(Branches) >= 2, "Merge (Concat, Sum) needs at least two branches");
  static constexpr bool concat = std::is_same_v<Op, concat_channels>;
  static constexpr bool apart = std::is_same_v<Op, separate_outputs>;

  using branches = boost::mp11::mp_list<Branches...>;
  static constexpr std::size_t size = sizeof...(Branches);

  using free_names = boost::mp11::mp_unique<boost::mp11::mp_append<free_names_t<Branches>...>>;
  template <class Env>
  using in_scope = Bound<Env, Merge>;

  template <std::size_t I>
  using branch = boost::mp11::mp_at_c<branches, I>;
  /// Branch I with the earlier outputs of Env visible.
  template <std::size_t I, class Env>
  using bound_branch = in_scope_t<branch<I>, Env>;
  template <class In, std::size_t I, class Env = boost::mp11::mp_list<>>
  using branch_shape = output_shape_t<bound_branch<I, Env>, In>;

  template <class In, class Env = boost::mp11::mp_list<>>
  using output_shape = typename detail::merged_shape<
      Op, boost::mp11::mp_list<output_shape_t<in_scope_t<Branches, Env>, In>...>>::type;

  /// The key of branch I: its Named name, or its index.
  template <std::size_t I>
  static std::string key() {
    if constexpr (is_named_v<branch<I>>) {
      return branch<I>::name.str();
    } else {
      return std::to_string(I);
    }
  }
  /// Index of the branch keyed `Key`, or `size` when there is none.
  template <fixed_string Key>
  static constexpr std::size_t index_of_key() {
    return Sequential<Branches...>::template index_of_key<Key>();
  }

  template <class In, class Env = boost::mp11::mp_list<>>
  static constexpr extents_t<output_shape<In, Env>> output_extents(
      const extents_t<In>& in, const scope_extents<Env>& env = {}) {
    if constexpr (apart) {
      return [&]<std::size_t... I>(std::index_sequence<I...>) {
        return extents_t<output_shape<In, Env>>(
            output_extents_in<bound_branch<I, Env>, In, Env>(in, env)...);
      }
      (std::make_index_sequence<size>{});
    } else {
      extents_t<output_shape<In, Env>> out =
          output_extents_in<bound_branch<0, Env>, In, Env>(in, env);
      if constexpr (concat) {
        [&]<std::size_t... I>(std::index_sequence<I...>) {
          ((out[0] += output_extents_in<bound_branch<I + 1, Env>, In, Env>(in, env)[0]), ...);
        }
        (std::make_index_sequence<size - 1>{});
      }
      return out;
    }
  }

  /// Every branch fits, and the branches agree on the extents they join.
  template <class In, class Env = boost::mp11::mp_list<>>
  static bool fits(const extents_t<In>& in, extent_misfit* why,
                   const scope_extents<Env>& env = {}) {
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
      return (fits_branch<In, Env, I>(in, why, env) && ...);
    }
    (std::make_index_sequence<size>{});
  }

  template <class In, class Where, bool Diagnose = true, class Env = boost::mp11::mp_list<>>
  static constexpr bool check() {
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
      return (bound_branch<I, Env>::template check<In, where_of<I, Where>, Diagnose>() && ...) &&
             (check_join<In, Where, Diagnose, Env, I>() && ...);
    }
    (std::make_index_sequence<size>{});
  }

  template <class Is, class In, class Device, class T, class Env>
  struct parameters_of;
  template <std::size_t... I, class In, class Device, class T, class Env>
  struct parameters_of<std::index_sequence<I...>, In, Device, T, Env> {
    using type = sequential_parameters<Merge, parameters_t<bound_branch<I, Env>, In, Device, T>...>;
  };
  template <class In, class Device, class T, class Env = boost::mp11::mp_list<>>
  using parameters =
      typename parameters_of<std::make_index_sequence<size>, In, Device, T, Env>::type;

  /// Branches whose output depends on the input (all but From).
  static constexpr std::size_t input_users =
      (std::size_t{0} + ... + std::size_t{!detail::ignores_input_v<Branches>});

  template <class In, class Device, class T, class Env = boost::mp11::mp_list<>>
  struct node {
    template <std::size_t I>
    using branch_t = bound_branch<I, Env>;
    template <std::size_t I>
    using shape_t = branch_shape<In, I, Env>;
    using Out = output_shape<In, Env>;
    using params_type = parameters<In, Device, T, Env>;

    template <class Is>
    struct storage;
    template <std::size_t... I>
    struct storage<std::index_sequence<I...>> {
      using nodes = std::tuple<node_t<branch_t<I>, In, Device, T>...>;
      /// Each branch's slice of the output gradient (a concatenation only).
      using grads = std::tuple<Tensor<shape_t<I>, Device, T>...>;
    };
    using indices = std::make_index_sequence<size>;

    typename storage<indices>::nodes nodes;
    activation_t<Out, Device, T> y;  ///< for Heads, references to the branches' outputs
    /// The input gradient, when several branches add to it (sized by size_input_grad).
    std::conditional_t<input_users == 1, detail::no_storage, Tensor<In, Device, T>> dx;

    void plan(int batch, const extents_t<In>& in, const extents_t<Out>& out,
              const scope_extents<Env>& env = {}) {
      [&]<std::size_t... I>(std::index_sequence<I...>) {
        ((plan_branch<I>(batch, in, env)), ...);
      }
      (indices{});
      if constexpr (!apart) y.resize(batch, out);
    }

    const activation_t<Out, Device, T>& forward(params_type& p, const Tensor<In, Device, T>& x,
                                                const run_context& ctx) {
      [&]<std::size_t... I>(std::index_sequence<I...>) {
        ((forward_branch<I>(p, x, ctx)), ...);
        if constexpr (apart) y = activation_t<Out, Device, T>(std::get<I>(nodes).output()...);
      }
      (indices{});
      return y;
    }

    const Tensor<In, Device, T>& backward(params_type& p, const Tensor<In, Device, T>& x,
                                          const activation_t<Out, Device, T>& dy,
                                          const run_context& ctx) {
      [&]<std::size_t... I>(std::index_sequence<I...>) {
        ((backward_branch<I>(p, x, dy, ctx)), ...);
      }
      (indices{});
      if constexpr (input_users == 1) {
        return *sole_dx_;
      } else {
        if constexpr (input_users == 0) {
          if (ctx.need_input_grad) backend::fill_values(Device{}, backend::flat_view(dx), T{0});
        }
        return dx;
      }
    }

    const activation_t<Out, Device, T>& output() const { return y; }

    /// Output of branch I after the last forward.
    template <std::size_t I>
    const auto& output_of() const {
      return std::get<I>(nodes).output();
    }
    /// Output of the branch keyed `Path` ("0", a Named name), or of a layer inside it.
    template <fixed_string Path>
    const auto& output_of() const {
      return detail::output_at_path<Merge, Path>(nodes);
    }

   private:
    template <std::size_t I>
    void plan_branch(int batch, const extents_t<In>& in, const scope_extents<Env>& env) {
      const auto out = output_extents_in<branch_t<I>, In, Env>(in, env);
      plan_in(std::get<I>(nodes), batch, in, out, env);
      if constexpr (concat) std::get<I>(grads_).resize(batch, out);
    }

    /// Where branch I's output starts along the channels of y.
    template <std::size_t I>
    static constexpr std::int64_t channel_offset() {
      return []<std::size_t... K>(std::index_sequence<K...>) {
        return (std::int64_t{0} + ... + std::int64_t{shape_t<K>::dims[0]});
      }
      (std::make_index_sequence<I>{});
    }

    template <std::size_t I>
    void forward_branch(params_type& p, const Tensor<In, Device, T>& x, const run_context& ctx) {
      const auto& b = std::get<I>(nodes).forward(std::get<I>(p.items), x, ctx.child(I, true));
      if constexpr (apart) {
        (void)b;  // each branch's output is an output of the network
      } else if constexpr (concat) {
        backend::copy_into_channels(Device{}, backend::channel_view(b), backend::channel_view(y),
                                    channel_offset<I>(), false);
      } else if constexpr (I == 1) {
        const auto& a = std::get<0>(nodes).output();
        backend::add(Device{}, backend::flat_view(a), backend::flat_view(b), backend::flat_view(y));
      } else if constexpr (I > 1) {
        backend::add(Device{}, backend::flat_view(y), backend::flat_view(b), backend::flat_view(y));
      }
    }

    template <std::size_t I>
    void backward_branch(params_type& p, const Tensor<In, Device, T>& x,
                         const activation_t<Out, Device, T>& dy, const run_context& ctx) {
      const auto& dy_i = [&]() -> const Tensor<shape_t<I>, Device, T>& {
        if constexpr (apart) {
          return dy.template get<I>();
        } else if constexpr (concat) {
          auto& g = std::get<I>(grads_);
          backend::copy_from_channels(Device{}, backend::channel_view(dy), channel_offset<I>(),
                                      backend::channel_view(g), false);
          return g;
        } else {
          return dy;
        }
      }();
      constexpr bool uses_input = !detail::ignores_input_v<branch<I>>;
      const bool need = ctx.need_input_grad && uses_input;
      auto& n = std::get<I>(nodes);
      size_input_grad(n, x, need);
      const auto& dx_i = n.backward(std::get<I>(p.items), x, dy_i, ctx.child(I, need));
      if constexpr (input_users == 1 && uses_input) {
        sole_dx_ = &dx_i;
      } else if constexpr (uses_input) {
        if (need) {
          constexpr std::size_t first = first_input_user();
          if constexpr (I == first) {
            backend::copy_values(Device{}, backend::flat_view(dx_i), backend::flat_view(dx));
          } else {
            backend::add(Device{}, backend::flat_view(dx), backend::flat_view(dx_i),
                         backend::flat_view(dx));
          }
        }
      }
    }

    static constexpr std::size_t first_input_user() {
      constexpr std::array<bool, size> uses{!detail::ignores_input_v<Branches>...};
      for (std::size_t i = 0; i < size; ++i)
        if (uses[i]) return i;
      return size;
    }

    std::conditional_t<concat, typename storage<indices>::grads, detail::no_storage> grads_;
    const Tensor<In, Device, T>* sole_dx_ = nullptr;  // the input gradient of the sole input user
  };

  template <class In, class Env = boost::mp11::mp_list<>>
  static constexpr std::int64_t flops = [] {
    std::int64_t f = [&]<std::size_t... I>(std::index_sequence<I...>) {
      return (std::int64_t{0} + ... + unnamed_t<bound_branch<I, Env>>::template flops<In>);
    }
    (std::make_index_sequence<size>{});
    if constexpr (!concat && !apart && output_shape<In, Env>::is_static)
      f += std::int64_t{size - 1} * output_shape<In, Env>::size;
    return f;
  }();

  /// Rows of summary(): the merge, then its branches indented under it.
  template <class In, class Env = boost::mp11::mp_list<>>
  static void summarize(std::vector<summary_row>& rows, const std::string& name, int depth) {
    std::int64_t join_flops = -1;
    if constexpr (concat || apart) {
      join_flops = 0;
    } else if constexpr (output_shape<In, Env>::is_static) {
      join_flops = std::int64_t{size - 1} * output_shape<In, Env>::size;
    }
    rows.push_back({name, op_name() + "<" + std::to_string(size) + " branches>",
                    output_shape<In, Env>::str(), 0, join_flops, depth});
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (typenet::summarize<unnamed_t<bound_branch<I, Env>>, In>(
           rows, (name.empty() ? "" : name + ".") + key<I>(), depth + 1),
       ...);
    }
    (std::make_index_sequence<size>{});
  }

  static std::string op_name() { return concat ? "Concat" : apart ? "Heads" : "Sum"; }

  static std::string type_name() {
    std::string s = op_name() + "<";
    std::size_t i = 0;
    ((s += (i++ ? ", " : "") + Branches::type_name()), ...);
    return s + ">";
  }

 private:
  template <std::size_t I, class Where>
  using where_of = typename detail::where_for<branch<I>, I, Where>::type;

  template <class In, class Where, bool Diagnose, class Env, std::size_t I>
  static constexpr bool check_join() {
    using A = branch_shape<In, 0, Env>;
    using B = branch_shape<In, I, Env>;
    if constexpr (is_outputs_v<A> || is_outputs_v<B>) {
      return diagnostic::reject<
          Diagnose, diagnostic::nothing_follows_heads<where_of<I, Where>, Merge,
                                                      std::conditional_t<is_outputs_v<A>, A, B>>>();
    } else if constexpr (I == 0 || apart || detail::joinable<Op, A, B>()) {
      return true;
    } else if constexpr (concat) {
      return diagnostic::reject<
          Diagnose, diagnostic::concat_branches_disagree<where_of<I, Where>, Merge, A, B>>();
    } else {
      return diagnostic::reject<
          Diagnose, diagnostic::sum_branches_disagree<where_of<I, Where>, Merge, A, B>>();
    }
  }

  template <class In, class Env, std::size_t I>
  static bool fits_branch(const extents_t<In>& in, extent_misfit* why,
                          const scope_extents<Env>& env) {
    if (!fits_extents_in<bound_branch<I, Env>, In, Env>(in, why, env)) {
      prepend_path(why, key<I>());
      return false;
    }
    if constexpr (I > 0 && !apart) {
      const auto a = output_extents_in<bound_branch<0, Env>, In, Env>(in, env);
      const auto b = output_extents_in<bound_branch<I, Env>, In, Env>(in, env);
      for (std::size_t d = concat ? 1 : 0; d < a.size(); ++d) {
        if (a[d] != b[d]) {
          if (why)
            *why = {"", type_name(), extents_string(in), extents_string(b),
                    "from " + extents_string(in) + " its branch '" + key<0>() + "' gives " +
                        extents_string(a) + " but its branch '" + key<I>() + "' gives " +
                        extents_string(b) +
                        (concat ? "; a concatenation needs the extents after the channels to agree"
                                : "; a sum needs the branches to agree")};
          return false;
        }
      }
    }
    return true;
  }
};

/// torch.cat([a(x), b(x), ...], dim=1).
template <class... Branches>
using Concat = Merge<concat_channels, Branches...>;
/// a(x) + b(x) + ...
template <class... Branches>
using Sum = Merge<add_outputs, Branches...>;
/// Several outputs, `return a(x), b(x), ...`: the last child of a network
/// with several heads; the model returns one tensor per head
/// (core/outputs.hpp) and takes one gradient per head in backward.
template <class... Branches>
using Heads = Merge<separate_outputs, Branches...>;

}  // namespace typenet
