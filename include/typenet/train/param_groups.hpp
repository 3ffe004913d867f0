// typenet/train/param_groups.hpp — parameter groups: different options for parts of a network.
//
// torch.optim's param_groups, typed. A `param_group` is a list of parameters
// plus the options it overrides; everything it leaves unset comes from the
// defaults the optimizer is built with. `select` and `exclude` pick
// parameters by name prefix, so discriminative fine-tuning reads
//
//   auto params = model.parameters();
//   tn::Adam<float> opt({tn::param_group{tn::exclude(params, "fc."), {.lr = 1e-4}},
//                        tn::param_group{tn::select(params, "fc.")}},
//                       {.lr = 1e-3});
//
// Guarantees: a parameter may belong to one group only (usage_error
// otherwise, as in PyTorch); `select` with a prefix that matches nothing is
// a usage_error naming the prefix, since it is almost always a typo.
//
// The rest of this header is the part SGD and Adam share (detail::): the
// group list with run-time mutable options, zero_grad, and the plumbing of
// state() / load_state(), the optimizer state as named buffers (see
// docs/optimizers.md).
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "typenet/backend/interface.hpp"
#include "typenet/core/device.hpp"
#include "typenet/core/errors.hpp"
#include "typenet/core/parameter.hpp"
#include "typenet/nn/state.hpp"

namespace typenet {

/// Adam's betas as a group overrides them: `.betas = {0.9, 0.99}`, or unset.
struct optional_betas : std::optional<std::array<double, 2>> {
  optional_betas() = default;
  optional_betas(double beta1, double beta2) : optional(std::array{beta1, beta2}) {}
  optional_betas(std::array<double, 2> betas) : optional(betas) {}  // NOLINT: implicit
};

/// Options a parameter group overrides; unset ones take the optimizer's
/// defaults. Each optimizer accepts the fields it has (SGD: lr, momentum,
/// dampening, weight_decay, nesterov; Adam/AdamW: lr, betas, eps,
/// weight_decay, amsgrad) and rejects the others with a usage_error.
struct group_options {
  std::optional<double> lr{};
  std::optional<double> momentum{};
  std::optional<double> dampening{};
  std::optional<double> weight_decay{};
  std::optional<bool> nesterov{};
  optional_betas betas{};
  std::optional<double> eps{};
  std::optional<bool> amsgrad{};
};

/// Parameters that share options, e.g. `param_group{select(params, "fc."), {.lr = 1e-3}}`.
template <class T, class Device>
struct param_group {
  std::vector<ParameterRef<T, Device>> params{};
  group_options options{};
};

// Spelled out for compilers without aggregate CTAD (clang before 17).
template <class T, class Device>
param_group(std::vector<ParameterRef<T, Device>>) -> param_group<T, Device>;
template <class T, class Device>
param_group(std::vector<ParameterRef<T, Device>>, group_options) -> param_group<T, Device>;

/// The parameters whose name starts with `prefix`, in order. Throws
/// usage_error when none does.
template <class T, class Device>
std::vector<ParameterRef<T, Device>> select(const std::vector<ParameterRef<T, Device>>& params,
                                            std::string_view prefix) {
  std::vector<ParameterRef<T, Device>> out;
  for (const auto& p : params)
    if (p.name().starts_with(prefix)) out.push_back(p);
  if (out.empty()) {
    std::string names;
    for (std::size_t i = 0; i < params.size() && i < 8; ++i)
      names += (i ? ", " : "") + params[i].name();
    if (params.size() > 8) names += ", ...";
    throw usage_error("select: no parameter name starts with '" + std::string(prefix) +
                      "' (names are " + (names.empty() ? "none" : names) + ")");
  }
  return out;
}

/// The parameters whose name starts with any of `prefixes`, in order; each
/// prefix must match at least one.
template <class T, class Device>
std::vector<ParameterRef<T, Device>> select(const std::vector<ParameterRef<T, Device>>& params,
                                            std::initializer_list<std::string_view> prefixes) {
  for (auto prefix : prefixes) (void)select(params, prefix);  // each must match something
  std::vector<ParameterRef<T, Device>> out;
  for (const auto& p : params)
    for (auto prefix : prefixes)
      if (p.name().starts_with(prefix)) {
        out.push_back(p);
        break;
      }
  return out;
}

/// The parameters whose name starts with none of `prefixes`, in order.
template <class T, class Device>
std::vector<ParameterRef<T, Device>> exclude(const std::vector<ParameterRef<T, Device>>& params,
                                             std::initializer_list<std::string_view> prefixes) {
  std::vector<ParameterRef<T, Device>> out;
  for (const auto& p : params) {
    bool drop = false;
    for (auto prefix : prefixes) drop = drop || p.name().starts_with(prefix);
    if (!drop) out.push_back(p);
  }
  return out;
}

template <class T, class Device>
std::vector<ParameterRef<T, Device>> exclude(const std::vector<ParameterRef<T, Device>>& params,
                                             std::string_view prefix) {
  return exclude(params, {prefix});
}

namespace detail {

/// The entries handed to load_state, by name; every one must be claimed.
class state_source {
 public:
  state_source(std::span<const StateRef> entries, std::string who) : who_(std::move(who)) {
    for (const auto& e : entries) {
      if (!by_name_.emplace(e.name, &e).second)
        throw usage_error(who_ + "::load_state: entry '" + e.name + "' appears twice");
    }
  }

  /// The entry `name`, or null; claims it.
  const StateRef* take(const std::string& name) {
    const auto it = by_name_.find(name);
    if (it == by_name_.end()) return nullptr;
    const StateRef* e = it->second;
    by_name_.erase(it);
    return e;
  }

  /// Throws if an entry was not claimed: it belongs to no parameter or option.
  void check_all_used() const {
    if (by_name_.empty()) return;
    std::string names;
    for (const auto& [name, e] : by_name_) names += (names.empty() ? "'" : ", '") + name + "'";
    throw usage_error(who_ + "::load_state: unknown entr" + (by_name_.size() == 1 ? "y " : "ies ") +
                      names + " (no parameter or option of this optimizer has that name)");
  }

  [[noreturn]] void fail(const StateRef& e, const std::string& why) const {
    throw usage_error(who_ + "::load_state: entry '" + e.name + "' " + why);
  }

  void check(const StateRef& e, dtype type, std::int64_t size) const {
    if (e.type != type)
      fail(e, std::string("has element type ") + dtype_name(e.type) + ", expected " +
                  dtype_name(type));
    if (e.size != size)
      fail(e, "has " + std::to_string(e.size) + " elements, expected " + std::to_string(size));
    if (!e.on_host) fail(e, "is not in host memory");
    if (!e.data && size > 0) fail(e, "has no data");
  }

  void read(const StateRef& e, double* out, std::int64_t size) const {
    check(e, dtype::f64, size);
    for (std::int64_t i = 0; i < size; ++i) out[i] = static_cast<const double*>(e.data)[i];
  }
  void read(const StateRef& e, std::int64_t& out) const {
    check(e, dtype::i64, 1);
    out = *static_cast<const std::int64_t*>(e.data);
    if (out < 0) fail(e, "is negative (" + std::to_string(out) + ")");
  }

 private:
  std::string who_;
  std::map<std::string, const StateRef*> by_name_;
};

/// What SGD and Adam share: the groups, their mutable options, zero_grad,
/// the step count, and building state entries. `Slot` is the per-parameter
/// optimizer state.
template <class T, class Device, class Options, class Slot>
class optimizer_base {
 public:
  using parameter = ParameterRef<T, Device>;
  using options_type = Options;

  std::size_t group_count() const noexcept { return groups_.size(); }
  /// Group g's options; change them at run time (schedulers do).
  Options& options(std::size_t g = 0) { return groups_[checked(g)].options; }
  const Options& options(std::size_t g = 0) const { return groups_[checked(g)].options; }
  /// Group g's parameters.
  const std::vector<parameter>& params(std::size_t g = 0) const {
    return groups_[checked(g)].params;
  }
  /// How many times step() ran.
  std::int64_t steps() const noexcept { return steps_; }

  /// Sets every parameter's gradient to zero (frozen ones too).
  void zero_grad() {
    for (auto& group : groups_)
      for (auto& p : group.params)
        backend::fill_values(Device{}, backend::vector_view(p.grad_data(), p.size()), T{0});
  }

 protected:
  struct group {
    std::vector<parameter> params;
    Options options;
    std::vector<Slot> slots;
  };

  explicit optimizer_base(const char* name) : name_(name) {}

  std::size_t checked(std::size_t g) const {
    if (g >= groups_.size())
      throw usage_error(std::string(name_) + ": no parameter group " + std::to_string(g) +
                        " (it has " + std::to_string(groups_.size()) + ")");
    return g;
  }

  /// Appends a group after checking that none of its parameters is already optimized.
  group& append(std::vector<parameter> params, const Options& options) {
    for (std::size_t i = 0; i < params.size(); ++i) {
      for (std::size_t j = 0; j < i; ++j)
        if (params[j].value_data() == params[i].value_data())
          throw usage_error(std::string(name_) + ": parameter '" + params[i].name() +
                            "' appears twice in parameter group " + std::to_string(groups_.size()));
      for (std::size_t g = 0; g < groups_.size(); ++g)
        for (const auto& q : groups_[g].params)
          if (q.value_data() == params[i].value_data())
            throw usage_error(std::string(name_) + ": parameter '" + params[i].name() +
                              "' appears in more than one parameter group (" + std::to_string(g) +
                              " and " + std::to_string(groups_.size()) + ")");
    }
    group& out = groups_.emplace_back();
    out.params = std::move(params);
    out.options = options;
    out.slots.resize(out.params.size());
    return out;
  }

  void require_parameters() const {
    std::size_t n = 0;
    for (const auto& group : groups_) n += group.params.size();
    if (n == 0) throw usage_error(std::string(name_) + ": got an empty parameter list");
  }

  /// Throws if two parameters share a name: state entries are named after them.
  void require_unique_names(const char* what) const {
    std::map<std::string_view, int> seen;
    for (const auto& group : groups_)
      for (const auto& p : group.params)
        if (++seen[p.name()] == 2)
          throw usage_error(std::string(name_) + "::" + what + ": two parameters are named '" +
                            p.name() +
                            "' (from two models?); the optimizer state is named after them");
  }

  static StateRef tensor_entry(std::string name, const parameter& p, T* data) {
    return {std::move(name),
            p.shape(),
            dtype_of_v<T>,
            data,
            p.size(),
            false,
            std::is_same_v<Device, Cpu>};
  }
  static StateRef value_entry(std::string name, double* value, std::int64_t size = 1) {
    std::vector<int> shape;
    if (size != 1) shape.push_back(static_cast<int>(size));
    return {std::move(name), std::move(shape), dtype::f64, value, size, false, true};
  }
  static StateRef counter_entry(std::string name, std::int64_t* value) {
    return {std::move(name), {}, dtype::i64, value, 1, false, true};
  }
  static std::string group_key(std::size_t g, const char* option) {
    return "param_groups." + std::to_string(g) + "." + option;
  }

  /// Copies a tensor entry into `out` (a buffer of parameter p's size on Device).
  static void read_tensor(const state_source& source, const StateRef& e, const parameter& p,
                          T* out) {
    source.check(e, dtype_of_v<T>, p.size());
    backend::copy_from_host(Device{}, backend::vector_view(static_cast<const T*>(e.data), p.size()),
                            backend::vector_view(out, p.size()));
  }

  const char* name_;
  std::vector<group> groups_;
  std::int64_t steps_ = 0;
};

}  // namespace detail
}  // namespace typenet
