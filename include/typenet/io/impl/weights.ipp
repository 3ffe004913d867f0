// typenet/io/impl/weights.ipp — the parts of io/weights.hpp that are not
// templates: included by that header in the header-only default, compiled
// once into typenet::io_compiled (src/io.cpp) under TYPENET_COMPILED_IO.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <mutex>
#include <new>
#include <set>
#include <string>
#include <vector>

#include "typenet/io/weights.hpp"

namespace typenet {

namespace detail {

/// sum_input_channels' result, [out, 1, kh, kw] doubles summed from the
/// file's [out, in, kh, kw] on first access, one output channel at a time.
class channel_sum_storage final : public io::byte_storage {
 public:
  channel_sum_storage(io::tensor_record w, std::size_t count) : w_(std::move(w)), count_(count) {}

  std::size_t size() const override { return count_ * sizeof(double); }
  bool made_on_demand() const override { return true; }
  std::span<const std::byte> prefix(std::size_t) const override { return bytes(); }
  std::span<const std::byte> bytes() const override {
    const std::lock_guard lock(mutex_);
    if (!done_) {
      compute();
      done_ = true;
    }
    return data_;
  }

 private:
  void compute() const {
    const auto out = w_.shape[0], in = w_.shape[1], taps = w_.shape[2] * w_.shape[3];
    data_.assign(size(), std::byte{});
    auto* sums = reinterpret_cast<double*>(data_.data());
    io::tensor_record channel = w_;  // w[o]: [in, kh, kw]
    channel.shape.erase(channel.shape.begin());
    channel.strides.erase(channel.strides.begin());
    std::vector<double> values(static_cast<std::size_t>(in * taps));
    for (std::int64_t o = 0; o < out; ++o) {
      channel.offset = w_.offset + o * w_.strides[0];
      io::read_as<double>(channel, values.data());
      for (std::int64_t c = 0; c < in; ++c)
        for (std::int64_t t = 0; t < taps; ++t)
          sums[o * taps + t] += values[static_cast<std::size_t>(c * taps + t)];
    }
  }

  io::tensor_record w_;
  std::size_t count_;
  mutable std::mutex mutex_;
  mutable bool done_ = false;
  mutable std::vector<std::byte> data_;
};

}  // namespace detail

TYPENET_IO_DECL io::tensor_record sum_input_channels(const io::tensor_record& w) {
  if (w.shape.size() != 4)
    throw weights_mismatch("sum_input_channels: expected a 4-d convolution weight, got shape " +
                           w.shape_string());
  std::uint64_t count = 1;
  for (const auto d : {w.shape[0], w.shape[2], w.shape[3]}) {
    if (d < 0 || (d > 0 && count > (std::uint64_t{1} << 56) / static_cast<std::uint64_t>(d)))
      throw weights_mismatch("sum_input_channels: shape " + w.shape_string() + " is too large");
    count *= static_cast<std::uint64_t>(d);
  }
  io::tensor_record r;
  r.type = dtype::f64;
  r.shape = {w.shape[0], 1, w.shape[2], w.shape[3]};
  r.strides = io::tensor_record::contiguous_strides(r.shape);
  r.storage = std::make_shared<detail::channel_sum_storage>(w, static_cast<std::size_t>(count));
  return r;
}

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

/// Reads (inflates, computes) what the matched records need, before anything
/// is written, so a corrupt record or a limit leaves the model untouched.
/// Deflated storages inflate as far as the furthest record that reads them
/// (their extent), within load_options::max_inflate_bytes.
template <class Match>
void read_matches(const io::checkpoint& file, const std::vector<Match>& matches,
                  const load_options& options) {
  std::map<const io::byte_storage*, std::uint64_t> reach;  // made on demand -> bytes needed
  std::uint64_t held = 0;                                  // bytes the file tensors hold
  const auto note = [&](const io::tensor_record& r) {
    if (!r.storage->made_on_demand()) return;
    auto& need = reach[r.storage.get()];
    need = std::max(need, r.extent());
  };
  for (const auto& m : matches) {
    held += static_cast<std::uint64_t>(m.source.numel()) * dtype_size(m.source.type);
    note(m.source);
  }
  std::uint64_t total = 0;
  for (const auto& [storage, need] : reach) total += need;
  const std::uint64_t limit =
      options.max_inflate_bytes ? options.max_inflate_bytes : (std::uint64_t{64} << 20) + 2 * held;
  // Storages computed by transforms (not the file's own) are model-sized.
  std::uint64_t inflating = 0;
  for (const auto& m : matches)
    if (m.source.storage->made_on_demand() && m.source.storage == m.record.storage)
      inflating = total;
  for (const auto& m : matches)
    if (m.source.storage != m.record.storage && m.source.storage->made_on_demand())
      inflating = total;
  if (inflating > limit)
    throw weights_mismatch(
        file.source + ": reading the matched tensors would inflate " + std::to_string(inflating) +
        " bytes of deflated records, more than the limit of " + std::to_string(limit) +
        (options.max_inflate_bytes ? std::string()
                                   : " (64 MiB plus twice the " + std::to_string(held) +
                                         " bytes the matched tensors hold)") +
        "; load_options::max_inflate_bytes raises it");
  try {
    for (const auto& m : matches)
      if (m.record.storage->made_on_demand()) (void)m.record.storage->prefix(m.record.extent());
  } catch (const std::bad_alloc&) {
    throw format_error(file.source + ": out of memory reading the matched tensors");
  }
}

TYPENET_IO_DECL load_report load_state(const io::checkpoint& file,
                                       const std::vector<StateRef>& state,
                                       const load_options& options,
                                       const std::vector<std::string>& network_names,
                                       const key_alias_list& aliases, const state_writer& write) {
  const std::string& network_name = network_names.front();
  load_report report;
  // Only a strict, unprefixed load without skips claims the file is this
  // network; partial loads (a trunk from a classifier, a new head) cross
  // architectures on purpose.
  if (options.check_architecture && options.strict && options.skip.empty() &&
      options.strip_prefix.empty() && options.add_prefix.empty()) {
    const auto it = file.metadata.find("typenet.network");
    // Files saved before the zoo's models were named types carry the structural name.
    if (it != file.metadata.end() &&
        std::find(network_names.begin(), network_names.end(), it->second) == network_names.end()) {
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
  std::map<std::string, std::size_t> model_index;  // model key or source name -> state index
  for (std::size_t i = 0; i < state.size(); ++i) {
    model_index[state[i].name] = i;
    const std::string alias = source_key(aliases, state[i].name);
    if (alias != state[i].name) model_index.emplace(alias, i);
  }

  struct match {
    std::size_t state_index;
    io::tensor_record record;  ///< transformed
    std::string file_key;
    io::tensor_record source;  ///< as in the file
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
    std::string transformed;  // ", after its transform from the file's <dtype> <shape>"
    if (transform != options.transforms.end()) {
      found[it->second] = true;
      transformed = " after its transform, from the file's " +
                    std::string(dtype_name(record.type)) + " " + record.shape_string();
      // record.numel() < 2^63 (readers check it); the model's is small.
      const std::int64_t limit = std::max<std::int64_t>(target.size, 1);
      const std::int64_t ratio = std::max<std::int64_t>(options.max_transform_ratio, 1);
      if (record.numel() / ratio >= limit && record.numel() > limit * ratio) {
        problems.push_back("key '" + target.name + "': the file's tensor " +
                           dtype_name(record.type) + " " + record.shape_string() + " (file key '" +
                           raw_key + "') has " + std::to_string(record.numel()) +
                           " elements, more than " + std::to_string(ratio) + " times the " +
                           std::to_string(target.size) + " of the model's " +
                           dtype_name(target.type) + " " + shape_string(target.shape) +
                           " that its transform fills (load_options::max_transform_ratio "
                           "raises the limit)");
        continue;
      }
      try {
        r = transform->second(record);
      } catch (const error& e) {
        problems.push_back("key '" + target.name + "' (file key '" + raw_key +
                           "'): its transform fails: " + e.what() + "; the model expects " +
                           dtype_name(target.type) + " " + shape_string(target.shape));
        continue;
      }
      found[it->second] = false;
    }
    std::vector<std::int64_t> expected(target.shape.begin(), target.shape.end());
    if (r.shape != expected) {
      found[it->second] = true;
      problems.push_back("key '" + target.name + "': the model expects " + dtype_name(target.type) +
                         " " + shape_string(target.shape) + ", the file has " + dtype_name(r.type) +
                         " " + r.shape_string() + transformed + " (file key '" + raw_key + "')");
      continue;
    }
    const bool floating = r.type == dtype::f16 || r.type == dtype::bf16 || r.type == dtype::f32 ||
                          r.type == dtype::f64;
    const bool integral = !floating && r.type != dtype::boolean;
    if ((target.type == dtype::i64 && !integral) || (target.type != dtype::i64 && !floating)) {
      found[it->second] = true;
      problems.push_back("key '" + target.name + "': the model expects " + dtype_name(target.type) +
                         " " + shape_string(target.shape) + ", the file has " + dtype_name(r.type) +
                         " " + r.shape_string());
      continue;
    }
    found[it->second] = true;
    matches.push_back({it->second, std::move(r), raw_key, record});
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
  read_matches(file, matches, options);
  for (auto& m : matches) {
    write(state[m.state_index], m.record);
    report.loaded.push_back(state[m.state_index].name);
  }
  return report;
}

}  // namespace detail

}  // namespace typenet
