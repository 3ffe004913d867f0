// typenet/data/example.hpp — what a dataset hands out, and the Dataset concept.
//
//   struct MyData {
//     std::size_t size() const;
//     tn::data::example get(std::size_t index) const;   // thread-safe: loaders call it
//     concurrently
//   };
//   static_assert(tn::data::Dataset<MyData>);
//
// An example is an image (values in [0, 1], interleaved HWC as read from a
// file) and its targets: a class label, multi-label attributes (CelebA), or a
// target image (colorization's ab channels). Transforms (data/transforms.hpp)
// and the DataLoader (data/loader.hpp) work on examples.
//
// Random augmentation draws from sample_rng(seed, epoch, index): a stream of
// its own per sample, so results do not depend on which thread decoded which
// sample or in what order.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "typenet/core/context.hpp"
#include "typenet/image/image.hpp"

namespace typenet::data {

/// A file of a dataset is missing, malformed or inconsistent (wrong magic
/// number, truncated, a label out of range). The message names the file.
struct data_error : format_error {
  using format_error::format_error;
};

struct example {
  typenet::image image;
  int label = -1;                 ///< class index; -1 when the dataset has none
  std::vector<float> attributes;  ///< multi-label targets in {0, 1} (CelebA)
  typenet::image target;          ///< a target image (e.g. colorization's ab); empty if none
};

template <class D>
concept Dataset = requires(const D& d, std::size_t i) {
  { d.size() } -> std::convertible_to<std::size_t>;
  { d.get(i) } -> std::same_as<example>;
};

/// The random stream of sample `index` in `epoch` under `seed`.
inline std::mt19937_64 sample_rng(std::uint64_t seed, std::uint64_t epoch, std::uint64_t index) {
  return std::mt19937_64(mix64(mix64(seed ^ mix64(epoch + 1)) ^ (index + 1)));
}

namespace detail {

inline void check_index(std::size_t index, std::size_t size, const std::string& what) {
  if (index >= size)
    throw std::out_of_range(what + ": index " + std::to_string(index) + " out of range for " +
                            std::to_string(size) + " examples");
}

}  // namespace detail

}  // namespace typenet::data
