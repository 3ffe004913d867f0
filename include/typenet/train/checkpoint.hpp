// typenet/train/checkpoint.hpp — training checkpoints: model, optimizer, epoch, RNG position.
//
//   tn::save_training_checkpoint("run/last.safetensors", model, optimizer, {.epoch = 3});
//   auto state = tn::load_training_checkpoint("run/last.safetensors", model, optimizer);
//   // continue with epoch state.epoch + 1
//
// One safetensors file: the model's state dict under its own keys (so
// load_weights(model, path, {.skip = {"optimizer."}}) reads the weights
// alone), the optimizer's state() under "optimizer.", and in the metadata
// the epoch, the global step, the best validation metric so far and the
// model's seed and forward count (its random stream's position). Written
// atomically and durably (io/durable_file.hpp): a crash or power loss
// leaves the previous checkpoint. Loading reads the file once and checks
// everything before changing anything: a file of another network, an
// epoch, step or best epoch out of range, or a mismatched optimizer state
// throws and leaves model and optimizer as they were. A Cuda model's and optimizer's tensors are
// staged through host memory both ways.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "typenet/io/checkpoint.hpp"
#include "typenet/io/safetensors.hpp"
#include "typenet/io/weight_file.hpp"
#include "typenet/io/weights.hpp"
#include "typenet/nn/nominal.hpp"
#include "typenet/nn/state.hpp"

namespace typenet {

/// Where training stood when a checkpoint was written.
struct training_state {
  int epoch = -1;         ///< the last completed epoch (from 0)
  std::int64_t step = 0;  ///< optimizer steps so far
  int best_epoch = -1;
  double best_metric = -std::numeric_limits<double>::infinity();
};

namespace detail {

inline std::string exact(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

inline const std::string& metadata_value(const io::checkpoint& file, const std::string& key) {
  const auto it = file.metadata.find(key);
  if (it == file.metadata.end())
    throw format_error(file.source + ": not a training checkpoint (no '" + key +
                       "' in the metadata; weights alone load with load_weights)");
  return it->second;
}

inline std::int64_t metadata_int(const io::checkpoint& file, const std::string& key) {
  const std::string& v = metadata_value(file, key);
  char* end = nullptr;
  const long long n = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0')
    throw format_error(file.source + ": metadata '" + key + "' = '" + v + "' is not an integer");
  return n;
}

inline std::uint64_t metadata_uint(const io::checkpoint& file, const std::string& key) {
  const std::string& v = metadata_value(file, key);
  char* end = nullptr;
  const unsigned long long n = std::strtoull(v.c_str(), &end, 10);
  if (v.empty() || v[0] == '-' || *end != '\0')
    throw format_error(file.source + ": metadata '" + key + "' = '" + v +
                       "' is not an unsigned integer");
  return n;
}

inline double metadata_double(const io::checkpoint& file, const std::string& key) {
  const std::string& v = metadata_value(file, key);
  char* end = nullptr;
  const double d = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0')
    throw format_error(file.source + ": metadata '" + key + "' = '" + v + "' is not a number");
  return d;
}

/// The epoch, step and best-so-far of a checkpoint, each range-checked: a
/// resume must neither overflow an int nor start from a negative step.
inline training_state read_training_state(const io::checkpoint& file) {
  const auto in_range = [&](const std::string& key, std::int64_t low, std::int64_t high) {
    const std::int64_t v = metadata_int(file, key);
    if (v < low || v > high)
      throw format_error(file.source + ": metadata '" + key + "' = " + std::to_string(v) +
                         " is outside [" + std::to_string(low) + ", " + std::to_string(high) + "]");
    return v;
  };
  training_state state;
  // An epoch one below INT_MAX still lets fit count the next one.
  state.epoch =
      static_cast<int>(in_range("typenet.epoch", -1, std::numeric_limits<int>::max() - 2));
  state.step = in_range("typenet.step", 0, std::numeric_limits<std::int64_t>::max() - 1);
  state.best_epoch = static_cast<int>(in_range("typenet.best_epoch", -1, state.epoch));
  state.best_metric = metadata_double(file, "typenet.best_metric");
  if (std::isnan(state.best_metric) || state.best_metric == std::numeric_limits<double>::infinity())
    throw format_error(file.source + ": metadata 'typenet.best_metric' is " +
                       file.metadata.at("typenet.best_metric") +
                       ", not a number a later epoch could beat");
  return state;
}

/// The optimizer's entries of a checkpoint (keys under `prefix`, without
/// it), converted into host buffers that `buffers` keeps alive. Not a
/// template: one copy serves every model and optimizer.
inline std::vector<StateRef> optimizer_entries(const io::checkpoint& file,
                                               const std::string& prefix,
                                               std::vector<std::vector<std::byte>>& buffers) {
  const std::string& path = file.source;
  std::vector<StateRef> entries;
  for (const auto& [key, record] : file.tensors) {
    if (!key.starts_with(prefix)) continue;
    const dtype type = record.type;
    if (type != dtype::f32 && type != dtype::f64 && type != dtype::i64)
      throw format_error(path + ": optimizer entry '" + key + "' has an unsupported dtype");
    const std::int64_t n = record.numel();
    auto& bytes = buffers.emplace_back(static_cast<std::size_t>(n) * dtype_size(type));
    switch (type) {
      case dtype::f32:
        io::read_as<float>(record, reinterpret_cast<float*>(bytes.data()));
        break;
      case dtype::f64:
        io::read_as<double>(record, reinterpret_cast<double*>(bytes.data()));
        break;
      default:  // i64, checked above
        io::read_as<std::int64_t>(record, reinterpret_cast<std::int64_t*>(bytes.data()));
        break;
    }
    entries.push_back({key.substr(prefix.size()),
                       std::vector<int>(record.shape.begin(), record.shape.end()), type,
                       bytes.data(), n, false, true});
  }
  return entries;
}

}  // namespace detail

template <class M, class Optimizer>
void save_training_checkpoint(const std::string& path, M& model, Optimizer& optimizer,
                              const training_state& state) {
  using device = typename M::device;
  std::vector<io::tensor_to_write> tensors;
  std::vector<std::vector<std::byte>> staged;  // host copies of device tensors
  detail::append_tensors_to_write<device>(tensors, model.state(), "", staged);
  detail::append_tensors_to_write<device>(tensors, optimizer.state(), "optimizer.", staged);
  io::write_safetensors(path, tensors,
                        {{"format", "pt"},
                         {"typenet.network", M::network::type_name()},
                         {"typenet.version", TYPENET_VERSION_STRING},
                         {"typenet.epoch", std::to_string(state.epoch)},
                         {"typenet.step", std::to_string(state.step)},
                         {"typenet.best_epoch", std::to_string(state.best_epoch)},
                         {"typenet.best_metric", detail::exact(state.best_metric)},
                         {"typenet.seed", std::to_string(model.seed())},
                         {"typenet.forward_count", std::to_string(model.forward_count())}});
}

/// Restores model and optimizer from a checkpoint already read
/// (io::read_safetensors); nothing changes unless all of it is valid.
template <class M, class Optimizer>
training_state load_training_checkpoint(const io::checkpoint& file, M& model,
                                        Optimizer& optimizer) {
  const std::string& path = file.source;
  const std::string& network = detail::metadata_value(file, "typenet.network");
  if (network != M::network::type_name() &&
      network != structural_type_name<typename M::network>())  // saved before named zoo types
    throw weights_mismatch(path + " is a checkpoint of another network:\n  file:  " + network +
                           "\n  model: " + M::network::type_name());
  const training_state state = detail::read_training_state(file);
  const auto seed = detail::metadata_uint(file, "typenet.seed");
  const auto forward_count = detail::metadata_uint(file, "typenet.forward_count");

  // The optimizer's entries, copied to host buffers it can read.
  std::vector<std::vector<std::byte>> buffers;
  const std::vector<StateRef> entries = detail::optimizer_entries(file, "optimizer.", buffers);

  // Check the model's part first without writing, then the optimizer (which
  // checks before it writes), then write the model.
  const load_options options{.skip = {"optimizer."}};
  detail::load_state(file, model.state(), options, detail::network_names<typename M::network>(),
                     key_aliases<typename M::network>(),
                     [](const StateRef&, const io::tensor_record&) {});
  optimizer.load_state(entries);
  load_weights(model, file, options);
  model.restore_random_stream(seed, forward_count);
  return state;
}

/// Restores model and optimizer from the checkpoint file at `path`, read once.
template <class M, class Optimizer>
training_state load_training_checkpoint(const std::string& path, M& model, Optimizer& optimizer) {
  return load_training_checkpoint(io::read_safetensors(path), model, optimizer);
}

}  // namespace typenet
