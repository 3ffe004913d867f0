// typenet/io/weights.hpp — load_weights / save_weights: one loader for every model and format.
//
//   tn::load_weights(model, "resnet34-b627a593.pth", {.skip = {"fc."}});
//   tn::save_weights(model, "colorizer.safetensors");
//
// Formats by content, not extension: safetensors, PyTorch's zip (>= 1.6)
// and legacy torch.save files. Matching is by name: a file key, after
// `strip_prefix` is removed and `add_prefix` prepended, matches a model key
// or that key's source name through FirstChildren (so a torchvision
// resnet18 checkpoint loads into FirstChildren<6, ResNet18<>>). `skip`
// prefixes excuse keys on both sides. Per-key `transforms` reshape a file
// tensor before it is checked (e.g. sum_input_channels for a grayscale
// conv1). Everything is validated before anything is written: a mismatch
// (missing, unexpected, shape, dtype, architecture) throws
// weights_mismatch naming the key, the expected shape and dtype and the
// file's, and leaves the model untouched.
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "typenet/config.hpp"
#include "typenet/io/checkpoint.hpp"
#include "typenet/io/errors.hpp"
#include "typenet/io/mapped_file.hpp"
#include "typenet/io/safetensors.hpp"
#include "typenet/io/weight_file.hpp"
#include "typenet/nn/key_aliases.hpp"
#include "typenet/nn/state.hpp"

namespace typenet {

/// Reshapes a file tensor before it is matched against the model.
using weight_transform = std::function<io::tensor_record(const io::tensor_record&)>;

/// Sums a convolution weight [out, in, kh, kw] over its input channels,
/// giving [out, 1, kh, kw]: a pretrained RGB first layer for a grayscale
/// input, as the lecture does (`conv1.weight.sum(dim=1).unsqueeze(1)`).
inline io::tensor_record sum_input_channels(const io::tensor_record& w) {
  if (w.shape.size() != 4)
    throw weights_mismatch("sum_input_channels: expected a 4-d convolution weight, got shape " +
                           w.shape_string());
  std::vector<double> values(static_cast<std::size_t>(w.numel()));
  io::read_as<double>(w, values.data());
  const auto out = w.shape[0], in = w.shape[1], taps = w.shape[2] * w.shape[3];
  auto storage = std::make_shared<io::buffer_storage>();
  storage->data.resize(static_cast<std::size_t>(out * taps) * sizeof(double));
  auto* sums = reinterpret_cast<double*>(storage->data.data());
  for (std::int64_t o = 0; o < out; ++o)
    for (std::int64_t t = 0; t < taps; ++t) {
      double s = 0;
      for (std::int64_t c = 0; c < in; ++c)
        s += values[static_cast<std::size_t>((o * in + c) * taps + t)];
      sums[o * taps + t] = s;
    }
  io::tensor_record r;
  r.type = io::element_type::f64;
  r.shape = {out, 1, w.shape[2], w.shape[3]};
  r.strides = io::tensor_record::contiguous_strides(r.shape);
  r.storage = std::move(storage);
  return r;
}

struct load_options {
  /// Every model key must be loaded and every file key used (after skips).
  bool strict = true;
  /// Key prefixes excused on both sides ("fc." for a new head).
  std::vector<std::string> skip{};
  /// Removed from file keys that start with it ("module." of DataParallel).
  std::string strip_prefix{};
  /// Prepended to file keys ("midlevel_resnet." to load a trunk's checkpoint).
  std::string add_prefix{};
  /// Transforms by model key (or its FirstChildren source name).
  std::map<std::string, weight_transform> transforms{};
  /// PyTorch files: the entry of a checkpoint dict holding the state dict
  /// ("state_dict", "model"; "*" finds it); empty: the file is the state dict.
  std::string state_dict_key{};
  /// Refuse files saved by typenet from another network type (strict loads
  /// without skips or prefixes only).
  bool check_architecture = true;
};

struct load_report {
  std::vector<std::string> loaded;      ///< model keys written
  std::vector<std::string> skipped;     ///< keys excused by `skip` (model or file)
  std::vector<std::string> missing;     ///< model keys the file lacks (non-strict only)
  std::vector<std::string> unexpected;  ///< file keys the model lacks (non-strict only)
};

namespace detail {

inline bool has_prefix(const std::vector<std::string>& prefixes, const std::string& key) {
  for (const auto& p : prefixes)
    if (key.starts_with(p)) return true;
  return false;
}

inline std::string shape_string(const std::vector<int>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

/// The part of a long type name around `at` (where two names first differ).
inline std::string excerpt(const std::string& s, std::size_t at) {
  const std::size_t begin = at > 60 ? at - 60 : 0;
  const std::size_t length = 120;
  return (begin > 0 ? "..." : "") + s.substr(begin, length) +
         (begin + length < s.size() ? "..." : "");
}

inline const char* dtype_text(dtype t) {
  return dtype_name(t);
}

/// Validates and writes a checkpoint into a model's state. Nothing is
/// written unless everything matches.
template <class Net, class Write>
load_report load_state(const io::checkpoint& file, std::vector<StateRef> state,
                       const load_options& options, const std::string& network_name,
                       Write&& write) {
  load_report report;
  // Only a strict, unprefixed load without skips claims the file is this
  // network; partial loads (a trunk from a classifier, a new head) cross
  // architectures on purpose.
  if (options.check_architecture && options.strict && options.skip.empty() &&
      options.strip_prefix.empty() && options.add_prefix.empty()) {
    const auto it = file.metadata.find("typenet.network");
    if (it != file.metadata.end() && it->second != network_name) {
      std::size_t at = 0;
      while (at < it->second.size() && at < network_name.size() &&
             it->second[at] == network_name[at])
        ++at;
      throw weights_mismatch(
          file.source + " was saved from another network; the types first differ here:\n  file:  " +
          excerpt(it->second, at) + "\n  model: " + excerpt(network_name, at) +
          "\n(set check_architecture = false to load matching keys anyway)");
    }
  }
  const key_alias_list aliases = key_aliases<Net>();
  std::map<std::string, std::size_t> model_index;  // model key or source name -> state index
  for (std::size_t i = 0; i < state.size(); ++i) {
    model_index[state[i].name] = i;
    const std::string alias = source_key(aliases, state[i].name);
    if (alias != state[i].name) model_index.emplace(alias, i);
  }

  struct match {
    std::size_t state_index;
    io::tensor_record record;
    std::string file_key;
  };
  std::vector<match> matches;
  std::vector<bool> found(state.size(), false);
  std::vector<std::string> problems;
  for (const auto& [raw_key, record] : file.tensors) {
    std::string key = raw_key;
    if (!options.strip_prefix.empty() && key.starts_with(options.strip_prefix))
      key = key.substr(options.strip_prefix.size());
    key = options.add_prefix + key;
    const auto it = model_index.find(key);
    if (it == model_index.end()) {
      if (has_prefix(options.skip, key) || has_prefix(options.skip, raw_key)) {
        report.skipped.push_back(raw_key);
      } else {
        report.unexpected.push_back(raw_key);
      }
      continue;
    }
    const StateRef& target = state[it->second];
    if (has_prefix(options.skip, target.name) || has_prefix(options.skip, key)) {
      report.skipped.push_back(raw_key);
      continue;
    }
    if (found[it->second]) {
      problems.push_back("key '" + target.name + "' is given twice in the file (as '" + raw_key +
                         "')");
      continue;
    }
    io::tensor_record r = record;
    auto transform = options.transforms.find(target.name);
    if (transform == options.transforms.end())
      transform = options.transforms.find(source_key(aliases, target.name));
    if (transform != options.transforms.end()) r = transform->second(record);
    std::vector<std::int64_t> expected(target.shape.begin(), target.shape.end());
    if (r.shape != expected) {
      found[it->second] = true;
      problems.push_back("key '" + target.name + "': the model expects " + dtype_text(target.type) +
                         " " + shape_string(target.shape) + ", the file has " +
                         io::element_name(r.type) + " " + r.shape_string() + " (file key '" +
                         raw_key + "')");
      continue;
    }
    const bool floating = r.type == io::element_type::f16 || r.type == io::element_type::bf16 ||
                          r.type == io::element_type::f32 || r.type == io::element_type::f64;
    const bool integral = !floating && r.type != io::element_type::boolean;
    if ((target.type == dtype::i64 && !integral) || (target.type != dtype::i64 && !floating)) {
      found[it->second] = true;
      problems.push_back("key '" + target.name + "': the model expects " + dtype_text(target.type) +
                         " " + shape_string(target.shape) + ", the file has " +
                         io::element_name(r.type) + " " + r.shape_string());
      continue;
    }
    found[it->second] = true;
    matches.push_back({it->second, std::move(r), raw_key});
  }
  for (std::size_t i = 0; i < state.size(); ++i) {
    if (found[i]) continue;
    if (has_prefix(options.skip, state[i].name)) {
      report.skipped.push_back(state[i].name);
    } else {
      report.missing.push_back(state[i].name);
    }
  }
  const auto list = [](const std::vector<std::string>& keys, auto&& describe) {
    std::string text;
    const std::size_t shown = std::min<std::size_t>(keys.size(), 8);
    for (std::size_t i = 0; i < shown; ++i) text += (i ? ", " : "") + describe(keys[i]);
    if (keys.size() > shown) text += ", ... (" + std::to_string(keys.size() - shown) + " more)";
    return text;
  };
  std::string message;
  const std::size_t shown = std::min<std::size_t>(problems.size(), 20);
  for (std::size_t i = 0; i < shown; ++i) message += "\n  " + problems[i];
  if (problems.size() > shown)
    message += "\n  ... and " + std::to_string(problems.size() - shown) + " more";
  if (options.strict && !report.missing.empty())
    message += "\n  " + std::to_string(report.missing.size()) +
               " keys of the model are missing from the file: " +
               list(report.missing, [&](const std::string& k) {
                 return "'" + k + "' " + shape_string(state[model_index[k]].shape);
               });
  if (options.strict && !report.unexpected.empty())
    message += "\n  " + std::to_string(report.unexpected.size()) +
               " keys of the file match no key of the model: " +
               list(report.unexpected, [](const std::string& k) { return "'" + k + "'"; });
  if (!message.empty()) {
    if (options.strict && (!report.missing.empty() || !report.unexpected.empty()))
      message += "\n(use strict = false, skip, strip_prefix or add_prefix to load a subset)";
    throw weights_mismatch(file.source + ": cannot load into the model:" + message);
  }
  for (auto& m : matches) {
    write(state[m.state_index], m.record);
    report.loaded.push_back(state[m.state_index].name);
  }
  return report;
}

}  // namespace detail

/// Loads tensors already read from a file (`io::read_weight_file`) into
/// `model`, on any device: a Cuda model's tensors are converted on the host
/// and copied into device memory.
template <class M>
load_report load_weights(M& model, const io::checkpoint& file, const load_options& options = {}) {
  using device = typename M::device;
  return detail::load_state<typename M::network>(
      file, model.state(), options, M::network::type_name(),
      [](const StateRef& target, const io::tensor_record& r) {
        const auto read = [&]<class V>(V*) {
          if constexpr (std::is_same_v<device, Cpu>) {
            io::read_as<V>(r, static_cast<V*>(target.data));
          } else if (target.on_host) {
            io::read_as<V>(r, static_cast<V*>(target.data));
          } else {
            std::vector<V> staged(static_cast<std::size_t>(target.size));
            io::read_as<V>(r, staged.data());
            copy_from_host(device{}, target.size, staged.data(), static_cast<V*>(target.data));
          }
        };
        switch (target.type) {
          case dtype::f32:
            read(static_cast<float*>(nullptr));
            break;
          case dtype::f64:
            read(static_cast<double*>(nullptr));
            break;
          case dtype::i64:
            read(static_cast<std::int64_t*>(nullptr));
            break;
        }
      });
}

/// Loads a weight file into `model`, on any device.
template <class M>
load_report load_weights(M& model, const std::string& path, const load_options& options = {}) {
  return load_weights(model, io::read_weight_file(path, options.state_dict_key), options);
}

namespace detail {

/// Appends `state`'s tensors, named prefix + name, to `out`; a device
/// tensor is first copied into a host buffer kept in `staged`.
template <class Device>
void append_tensors_to_write(std::vector<io::tensor_to_write>& out,
                             const std::vector<StateRef>& state, const std::string& prefix,
                             std::vector<std::vector<std::byte>>& staged) {
  for (const auto& s : state) {
    const io::element_type type = s.type == dtype::f32   ? io::element_type::f32
                                  : s.type == dtype::f64 ? io::element_type::f64
                                                         : io::element_type::i64;
    const std::size_t bytes = static_cast<std::size_t>(s.size) * io::element_size(type);
    const std::byte* data = static_cast<const std::byte*>(s.data);
    if constexpr (!std::is_same_v<Device, Cpu>) {
      if (!s.on_host) {
        // Moving a vector keeps its buffer: `data` stays valid as staged grows.
        auto& copy = staged.emplace_back(bytes);
        if (s.type == dtype::f32)
          copy_to_host(Device{}, s.size, static_cast<const float*>(s.data),
                       reinterpret_cast<float*>(copy.data()));
        else
          copy_to_host(Device{}, s.size, static_cast<const double*>(s.data),
                       reinterpret_cast<double*>(copy.data()));
        data = copy.data();
      }
    }
    out.push_back({prefix + s.name,
                   type,
                   std::vector<std::int64_t>(s.shape.begin(), s.shape.end()),
                   {data, bytes}});
  }
}

}  // namespace detail

/// Writes every parameter and buffer of `model` as safetensors, with the
/// network's type and typenet's version in the metadata. Atomic. A Cuda
/// model's tensors are copied to the host first.
template <class M>
void save_weights(M& model, const std::string& path) {
  std::vector<io::tensor_to_write> tensors;
  std::vector<std::vector<std::byte>> staged;  // host copies of device tensors
  detail::append_tensors_to_write<typename M::device>(tensors, model.state(), "", staged);
  io::write_safetensors(path, tensors,
                        {{"format", "pt"},
                         {"typenet.network", M::network::type_name()},
                         {"typenet.version", TYPENET_VERSION_STRING}});
}

}  // namespace typenet
