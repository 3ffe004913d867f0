// typenet/train/precompute.hpp — run a frozen trunk once, train the head on its cached outputs.
//
// fast.ai's `precompute=True`: when the trunk is frozen, its output for an
// image never changes, so compute it once and train only the head.
//
//   using Trunk = tn::DropLast<tn::models::ResNet34<>, 1>;              // up to avgpool:
//   Shape<512> tn::Model<Trunk, tn::Shape<3, 224, 224>> trunk(1); tn::load_weights(trunk,
//   "resnet34.safetensors", {.skip = {"fc."}}); auto cache =
//   tn::FeatureCache<tn::Shape<512>>::compute(trunk, eval_loader);
//   tn::FeatureLoader<tn::Shape<512>> train(cache, {.batch_size = 64, .shuffle = true, .seed = 1});
//   tn::Model<tn::Linear<2>, tn::Shape<512>> head(1);
//   tn::fit(head, loss, sgd, train, {.epochs = 5});
//
// compute() runs the trunk in eval mode (BatchNorm's running statistics, no
// Dropout) over one epoch of the loader and stores each example's output
// under its dataset index, so the loader may shuffle; every example must
// appear (no drop_last). Augmentation is drawn once (epoch 0): like fast.ai,
// precomputed features train without augmentation. FeatureLoader batches
// the cache like DataLoader batches a dataset (same options, same
// seed-determined order) and works with fit().
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "typenet/core/context.hpp"
#include "typenet/core/errors.hpp"
#include "typenet/core/shape.hpp"
#include "typenet/core/tensor.hpp"
#include "typenet/data/loader.hpp"
#include "typenet/data/subset.hpp"

namespace typenet {

/// Per-example outputs of a trunk, with the examples' labels.
template <ShapeType S>
class FeatureCache {
 public:
  using shape = S;

  FeatureCache(std::size_t size, std::vector<float> values, std::vector<int> labels)
      : size_(size), values_(std::move(values)), labels_(std::move(labels)) {
    if (values_.size() != size_ * static_cast<std::size_t>(S::size) || labels_.size() != size_)
      throw shape_error("FeatureCache: " + std::to_string(values_.size()) + " values and " +
                        std::to_string(labels_.size()) + " labels for " + std::to_string(size_) +
                        " examples of " + S::str());
  }

  /// The trunk's outputs for every example of one epoch (0) of `loader`.
  template <class Trunk, class Loader>
  static std::shared_ptr<const FeatureCache> compute(Trunk& trunk, const Loader& loader) {
    static_assert(std::is_same_v<typename Trunk::output_shape, S>,
                  "FeatureCache<S>::compute: the trunk's output shape is not S");
    const std::size_t n = loader.size();
    std::vector<float> values(n * static_cast<std::size_t>(S::size));
    std::vector<int> labels(n, -1);
    std::vector<bool> seen(n, false);
    const bool was_training = trunk.is_training();
    trunk.eval();
    for (const auto& b : loader.epoch(0)) {
      const auto& y = trunk.forward(b.inputs);
      for (int i = 0; i < b.size(); ++i) {
        const std::size_t index = b.indices[static_cast<std::size_t>(i)];
        const auto* from = y.data() + std::int64_t{i} * S::size;
        std::copy(from, from + S::size,
                  values.begin() + static_cast<std::ptrdiff_t>(index * S::size));
        labels[index] = b.labels[static_cast<std::size_t>(i)];
        seen[index] = true;
      }
    }
    trunk.train(was_training);
    const auto missing = static_cast<std::size_t>(std::count(seen.begin(), seen.end(), false));
    if (missing != 0)
      throw usage_error("FeatureCache::compute: the loader skipped " + std::to_string(missing) +
                        " examples (drop_last?); every example needs its features");
    return std::make_shared<const FeatureCache>(n, std::move(values), std::move(labels));
  }

  std::size_t size() const noexcept { return size_; }
  int label(std::size_t i) const { return labels_.at(i); }
  std::span<const float> features(std::size_t i) const {
    if (i >= size_)
      throw std::out_of_range("FeatureCache: index " + std::to_string(i) + " of " +
                              std::to_string(size_));
    return {values_.data() + i * static_cast<std::size_t>(S::size),
            static_cast<std::size_t>(S::size)};
  }

 private:
  std::size_t size_;
  std::vector<float> values_;
  std::vector<int> labels_;
};

/// Batches of cached features: DataLoader's interface and order, in memory.
template <ShapeType S>
class FeatureLoader {
 public:
  struct batch {
    Tensor<S> inputs;
    std::vector<int> labels;
    std::vector<std::size_t> indices;
    int size() const noexcept { return inputs.batch(); }
  };

  FeatureLoader(std::shared_ptr<const FeatureCache<S>> cache, data::loader_options options)
      : cache_(std::move(cache)), options_(options) {
    if (!cache_) throw usage_error("FeatureLoader: null cache");
    if (options.batch_size < 1) throw usage_error("FeatureLoader: batch_size must be at least 1");
  }

  std::size_t size() const noexcept { return cache_->size(); }
  std::size_t batches() const noexcept {
    const auto bs = static_cast<std::size_t>(options_.batch_size);
    return options_.drop_last ? size() / bs : (size() + bs - 1) / bs;
  }

  class epoch_run {
   public:
    epoch_run(const FeatureLoader& loader, std::uint64_t epoch)
        : loader_(loader), order_(data::epoch_order(loader.size(), loader.options_, epoch)) {}
    const batch* next() {
      if (position_ >= loader_.batches()) return nullptr;
      const auto bs = static_cast<std::size_t>(loader_.options_.batch_size);
      const std::size_t first = position_++ * bs;
      const auto n = static_cast<int>(std::min(bs, order_.size() - first));
      current_.inputs.resize(n);
      current_.labels.resize(static_cast<std::size_t>(n));
      current_.indices.assign(order_.begin() + static_cast<std::ptrdiff_t>(first),
                              order_.begin() + static_cast<std::ptrdiff_t>(first) + n);
      for (int i = 0; i < n; ++i) {
        const std::size_t index = current_.indices[static_cast<std::size_t>(i)];
        const auto f = loader_.cache_->features(index);
        std::copy(f.begin(), f.end(), current_.inputs.data() + std::int64_t{i} * S::size);
        current_.labels[static_cast<std::size_t>(i)] = loader_.cache_->label(index);
      }
      return &current_;
    }

    using iterator = data::detail::batch_iterator<epoch_run, batch>;
    iterator begin() { return iterator(this, next()); }
    std::default_sentinel_t end() const { return {}; }

   private:
    const FeatureLoader& loader_;
    std::vector<std::size_t> order_;
    std::size_t position_ = 0;
    batch current_;
  };

  epoch_run epoch(std::uint64_t e) const& { return epoch_run(*this, e); }
  void epoch(std::uint64_t) const&& = delete;

 private:
  std::shared_ptr<const FeatureCache<S>> cache_;
  data::loader_options options_;
};

}  // namespace typenet
