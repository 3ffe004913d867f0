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
//
// Nothing is read from the file until every key, shape and dtype has been
// checked: transforms are lazy (sum_input_channels' sums are computed when
// read), a deflated zip record inflates only as far as its matched tensors
// reach, and a transform may not read more than `max_transform_ratio` file
// elements per element of the model tensor it fills, so a stride-0 view of
// astronomical size is refused before it is expanded. Then the matched
// tensors are read (inflated, summed), within `max_inflate_bytes`, and only
// then written. Every limit, when hit, is an error naming the file, the key
// and the option that raises it; running out of memory anyway is a
// format_error naming the file, never a bare std::bad_alloc.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "typenet/backend/interface.hpp"
#include "typenet/config.hpp"
#include "typenet/io/checkpoint.hpp"
#include "typenet/io/errors.hpp"
#include "typenet/io/safetensors.hpp"
#include "typenet/io/weight_file.hpp"
#include "typenet/nn/key_aliases.hpp"
#include "typenet/nn/nominal.hpp"
#include "typenet/nn/state.hpp"

namespace typenet {

/// Reshapes a file tensor before it is matched against the model.
using weight_transform = std::function<io::tensor_record(const io::tensor_record&)>;

/// Sums a convolution weight [out, in, kh, kw] over its input channels,
/// giving [out, 1, kh, kw]: a pretrained RGB first layer for a grayscale
/// input, as the lecture does (`conv1.weight.sum(dim=1).unsqueeze(1)`).
/// Lazy: the shape is known at once, the sums are computed (reading the
/// file's tensor) when the result is first read, which load_weights does
/// only after every key and shape has been checked.
TYPENET_IO_DECL io::tensor_record sum_input_channels(const io::tensor_record& w);

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
  /// A transform may read at most this many file elements per element of
  /// the model tensor it fills (sum_input_channels reads one per input
  /// channel); checked before it runs, so a huge stride-0 view is refused
  /// rather than expanded.
  std::int64_t max_transform_ratio = 64;
  /// The most bytes that reading the matched tensors may inflate from
  /// deflated zip records, all together. 0 (default): 64 MiB plus twice the
  /// bytes the matched file tensors hold.
  std::uint64_t max_inflate_bytes = 0;
  /// The readers' own limits: safetensors header size and JSON nesting,
  /// PyTorch pickle size and contents (io/weight_file.hpp).
  io::weight_file_limits file_limits{};
};

struct load_report {
  std::vector<std::string> loaded;      ///< model keys written
  std::vector<std::string> skipped;     ///< keys excused by `skip` (model or file)
  std::vector<std::string> missing;     ///< model keys the file lacks (non-strict only)
  std::vector<std::string> unexpected;  ///< file keys the model lacks (non-strict only)
};

namespace detail {

/// Writes one matched record into one state entry (on the entry's device).
using state_writer = std::function<void(const StateRef&, const io::tensor_record&)>;

/// Validates and writes a checkpoint into a model's state. Nothing is
/// written unless everything matches. `network_names` are the names the
/// file's "typenet.network" may carry (the model's type_name() first, then
/// its structural name); `aliases` the keys' other names (key_aliases<Net>).
/// Not a template: one copy serves every network (compile time).
TYPENET_IO_DECL load_report load_state(const io::checkpoint& file,
                                       const std::vector<StateRef>& state,
                                       const load_options& options,
                                       const std::vector<std::string>& network_names,
                                       const key_alias_list& aliases, const state_writer& write);

/// The names a file saved from Net may carry as its "typenet.network".
template <class Net>
std::vector<std::string> network_names() {
  return {Net::type_name(), structural_type_name<Net>()};
}

/// load_weights' work: check, read, then write into the model's state.
template <class M>
load_report load_state_into(M& model, const io::checkpoint& file, const load_options& options) {
  using device = typename M::device;
  using Net = typename M::network;
  return detail::load_state(
      file, model.state(), options, network_names<Net>(), key_aliases<Net>(),
      [](const StateRef& target, const io::tensor_record& r) {
        const auto read = [&]<class V>(V*) {
          if constexpr (std::is_same_v<device, Cpu>) {
            io::read_as<V>(r, static_cast<V*>(target.data));
          } else if (target.on_host) {
            io::read_as<V>(r, static_cast<V*>(target.data));
          } else {
            std::vector<V> staged(static_cast<std::size_t>(target.size));
            io::read_as<V>(r, staged.data());
            backend::copy_from_host(
                device{}, backend::vector_view<const V>(staged.data(), target.size),
                backend::vector_view(static_cast<V*>(target.data), target.size));
          }
        };
        switch (target.type) {
          case dtype::f32:
            read(static_cast<float*>(nullptr));
            break;
          case dtype::f64:
            read(static_cast<double*>(nullptr));
            break;
          default:  // a model's state holds f32, f64 and i64 only
            read(static_cast<std::int64_t*>(nullptr));
            break;
        }
      });
}

}  // namespace detail

/// Loads tensors already read from a file (`io::read_weight_file`) into
/// `model`, on any device: a Cuda model's tensors are converted on the host
/// and copied into device memory.
template <class M>
load_report load_weights(M& model, const io::checkpoint& file, const load_options& options = {}) {
  try {
    return detail::load_state_into(model, file, options);
  } catch (const std::bad_alloc&) {
    throw format_error(file.source + ": out of memory while loading it into the model");
  }
}

/// Loads a weight file into `model`, on any device.
template <class M>
load_report load_weights(M& model, const std::string& path, const load_options& options = {}) {
  try {
    return load_weights(
        model, io::read_weight_file(path, options.state_dict_key, options.file_limits), options);
  } catch (const std::bad_alloc&) {
    throw format_error(path + ": out of memory while loading it into the model");
  }
}

namespace detail {

/// Appends `state`'s tensors, named prefix + name, to `out`; a device
/// tensor is first copied into a host buffer kept in `staged`.
template <class Device>
void append_tensors_to_write(std::vector<io::tensor_to_write>& out,
                             const std::vector<StateRef>& state, const std::string& prefix,
                             std::vector<std::vector<std::byte>>& staged) {
  for (const auto& s : state) {
    const dtype type = s.type;
    const std::size_t bytes = static_cast<std::size_t>(s.size) * dtype_size(type);
    const std::byte* data = static_cast<const std::byte*>(s.data);
    if constexpr (!std::is_same_v<Device, Cpu>) {
      if (!s.on_host) {
        // Moving a vector keeps its buffer: `data` stays valid as staged grows.
        auto& copy = staged.emplace_back(bytes);
        if (s.type == dtype::f32)
          backend::copy_to_host(
              Device{}, backend::vector_view(static_cast<const float*>(s.data), s.size),
              backend::vector_view(reinterpret_cast<float*>(copy.data()), s.size));
        else
          backend::copy_to_host(
              Device{}, backend::vector_view(static_cast<const double*>(s.data), s.size),
              backend::vector_view(reinterpret_cast<double*>(copy.data()), s.size));
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

#if !defined(TYPENET_COMPILED_IO)
#include "typenet/io/impl/weights.ipp"
#endif
