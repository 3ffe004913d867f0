// typenet/data/subset.hpp — part of a dataset: chosen indices, a random split.
//
//   auto all = std::make_shared<const tn::data::FashionMNIST>(root, tn::data::split::train);
//   auto parts = tn::data::random_split(all, {55000, 5000}, /*seed=*/42);  // two Subsets
//   const auto& train = parts[0];
//   tn::data::Subset first_100(all, tn::data::first_n(100));
//
// A Subset shares its dataset (shared_ptr) and is itself a Dataset, so it
// goes wherever a dataset goes. random_split permutes with its own
// Fisher-Yates on std::mt19937_64 (std::shuffle's algorithm differs between
// standard libraries), so a seed gives the same split everywhere.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "typenet/core/errors.hpp"
#include "typenet/data/example.hpp"
#include "typenet/image/transforms.hpp"

namespace typenet::data {

/// Indices 0 .. n-1.
inline std::vector<std::size_t> first_n(std::size_t n) {
  std::vector<std::size_t> v(n);
  std::iota(v.begin(), v.end(), std::size_t{0});
  return v;
}

/// 0 .. n-1 in a random order drawn from `rng` (Fisher-Yates).
inline std::vector<std::size_t> permutation(std::size_t n, std::mt19937_64& rng) {
  auto v = first_n(n);
  for (std::size_t i = n; i > 1; --i)
    std::swap(v[i - 1], v[typenet::detail::uniform_below(rng, i)]);
  return v;
}

template <Dataset D>
class Subset {
 public:
  Subset(std::shared_ptr<const D> dataset, std::vector<std::size_t> indices)
      : dataset_(std::move(dataset)), indices_(std::move(indices)) {
    if (!dataset_) throw usage_error("Subset: null dataset");
    for (const auto i : indices_)
      if (i >= dataset_->size())
        throw std::out_of_range("Subset: index " + std::to_string(i) + " out of range for " +
                                std::to_string(dataset_->size()) + " examples");
  }
  Subset(std::shared_ptr<D> dataset, std::vector<std::size_t> indices)
      : Subset(std::shared_ptr<const D>(std::move(dataset)), std::move(indices)) {}
  Subset(D dataset, std::vector<std::size_t> indices)
      : Subset(std::make_shared<const D>(std::move(dataset)), std::move(indices)) {}

  std::size_t size() const noexcept { return indices_.size(); }
  /// The index in the underlying dataset of example `i`.
  std::size_t source_index(std::size_t i) const {
    detail::check_index(i, size(), "Subset");
    return indices_[i];
  }
  example get(std::size_t i) const { return dataset_->get(source_index(i)); }
  const D& dataset() const noexcept { return *dataset_; }

 private:
  std::shared_ptr<const D> dataset_;
  std::vector<std::size_t> indices_;
};

template <Dataset D>
Subset(std::shared_ptr<D>, std::vector<std::size_t>) -> Subset<D>;
template <Dataset D>
Subset(std::shared_ptr<const D>, std::vector<std::size_t>) -> Subset<D>;

/// Disjoint random subsets of the given sizes, which must add up to the
/// dataset's size (torch.utils.data.random_split with lengths).
template <Dataset D>
std::vector<Subset<D>> random_split(std::shared_ptr<const D> dataset,
                                    std::initializer_list<std::size_t> sizes, std::uint64_t seed) {
  if (!dataset) throw usage_error("random_split: null dataset");
  const std::size_t total = std::accumulate(sizes.begin(), sizes.end(), std::size_t{0});
  if (total != dataset->size())
    throw usage_error("random_split: the sizes add up to " + std::to_string(total) +
                      " but the dataset has " + std::to_string(dataset->size()) + " examples");
  std::mt19937_64 rng(mix64(seed));
  const auto order = permutation(total, rng);
  std::vector<Subset<D>> parts;
  std::size_t at = 0;
  for (const auto n : sizes) {
    parts.emplace_back(
        dataset, std::vector<std::size_t>(order.begin() + static_cast<std::ptrdiff_t>(at),
                                          order.begin() + static_cast<std::ptrdiff_t>(at + n)));
    at += n;
  }
  return parts;
}

template <Dataset D>
std::vector<Subset<D>> random_split(std::shared_ptr<D> dataset,
                                    std::initializer_list<std::size_t> sizes, std::uint64_t seed) {
  return random_split(std::shared_ptr<const D>(std::move(dataset)), sizes, seed);
}

}  // namespace typenet::data
