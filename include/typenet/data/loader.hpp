// typenet/data/loader.hpp — batches of Tensors from a dataset, decoded on background threads.
//
//   tn::data::DataLoader<tn::Shape<3, 224, 224>> loader(
//       tn::data::ImageFolder("dogscats/train"),
//       {.batch_size = 64, .shuffle = true, .seed = 1, .workers = 4},
//       T::Compose{T::Resize(256), T::RandomCrop(224), T::RandomHorizontalFlip(),
//                  T::NormalizeImageNet()});
//   for (std::uint64_t epoch = 0; epoch < 10; ++epoch)
//     for (const auto& b : loader.epoch(epoch)) {   // b.inputs: Tensor<Shape<3, 224, 224>>
//       const auto& logits = model.forward(b.inputs);
//       double loss = tn::cross_entropy_loss(logits, b.labels, grad);
//       ...
//     }
//
// DataLoader<InShape, TargetShape = void>: inputs are Tensor<InShape> (C, H,
// W; each example's image must have that size after the transform) with
// class labels; TargetShape adds `targets`, a Tensor<Shape<K>> filled from
// example.attributes (CelebA) or a Tensor<Shape<C, H, W>> filled from
// example.target (colorization's ab).
//
// With dynamic extents (`DataLoader<Shape<3, dyn, dyn>>`) a batch takes the
// size of its first example and every example of the batch must share it:
// resize or crop in the transform for training, or set `group_by_size` to
// batch images of equal size together (inference over a folder of mixed
// sizes). Grouping reads every example once when the loader is made, to
// learn its size after the transform (which must not depend on the random
// draw); an epoch then takes the groups in the order their first example
// comes in the epoch's order, and no batch mixes two sizes.
//
// Guarantees:
// - The order of an epoch is a permutation drawn from (seed, epoch) when
//   shuffling, 0 .. n-1 otherwise; the last batch is smaller unless drop_last.
// - Augmentation draws from sample_rng(seed, epoch, dataset index), so the
//   batches are the same for any number of workers.
// - With workers > 0, that many threads build batches ahead (up to
//   workers x prefetch batches in flight), so decoding overlaps the
//   consumer's work; stats() reports how long the consumer waited.
// - An exception while loading (a corrupt file, a wrong size) is rethrown to
//   the consumer at that batch; leaving the loop early stops the threads.
// - The dataset's get() is called concurrently from the workers: it must be
//   thread-safe (the datasets of typenet::data are).
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "typenet/core/errors.hpp"
#include "typenet/core/shape.hpp"
#include "typenet/core/tensor.hpp"
#include "typenet/data/example.hpp"
#include "typenet/data/subset.hpp"
#include "typenet/data/transforms.hpp"
#include "typenet/image/transforms.hpp"

namespace typenet::data {

struct loader_options {
  int batch_size = 1;
  bool shuffle = false;
  bool drop_last = false;
  std::uint64_t seed = 0;
  /// Background threads building batches; 0 loads in the consumer's thread.
  int workers = 0;
  /// Batches each worker may have ready ahead of the consumer.
  int prefetch = 2;
  /// Dynamic extents only: batch together the examples whose images have the
  /// same size after the transform (a batch otherwise takes its first example's).
  bool group_by_size = false;
};

/// The order of the examples in `epoch`: a permutation drawn from (seed,
/// epoch) when shuffling, 0 .. size-1 otherwise.
inline std::vector<std::size_t> epoch_order(std::size_t size, const loader_options& options,
                                            std::uint64_t epoch) {
  if (!options.shuffle) return first_n(size);
  std::mt19937_64 rng(mix64(mix64(options.seed) ^ mix64(epoch + 1)));
  return permutation(size, rng);
}

namespace detail {

/// Input iterator over an epoch: `Run::next()` gives the next batch or nullptr.
template <class Run, class Batch>
class batch_iterator {
 public:
  using value_type = Batch;
  using difference_type = std::ptrdiff_t;
  batch_iterator() = default;
  batch_iterator(Run* run, const Batch* current) : run_(run), current_(current) {}
  const Batch& operator*() const { return *current_; }
  const Batch* operator->() const { return current_; }
  batch_iterator& operator++() {
    current_ = run_->next();
    return *this;
  }
  void operator++(int) { ++*this; }
  bool operator==(std::default_sentinel_t) const { return current_ == nullptr; }

 private:
  Run* run_ = nullptr;
  const Batch* current_ = nullptr;
};

template <class S>
struct batch_targets {
  Tensor<S> targets;  ///< from example.attributes (Shape<K>) or example.target (Shape<C, H, W>)
};
template <>
struct batch_targets<void> {};

}  // namespace detail

template <ImageShape InShape, class TargetShape = void>
struct batch : detail::batch_targets<TargetShape> {
  Tensor<InShape> inputs;
  std::vector<int> labels;           ///< -1 for examples without a label
  std::vector<std::size_t> indices;  ///< dataset index of each sample
  int size() const noexcept { return inputs.batch(); }
};

/// How an epoch went: the consumer's waiting time is what background loading
/// failed to hide.
struct epoch_stats {
  std::size_t batches = 0;
  double wait_seconds = 0;  ///< consumer blocked waiting for batches
  double load_seconds = 0;  ///< summed over workers: reading, decoding, transforming, copying
};

template <ImageShape InShape, class TargetShape = void>
class DataLoader {
  static_assert(std::is_void_v<TargetShape> || ShapeType<TargetShape>,
                "DataLoader: TargetShape is void or a Shape<K> / Shape<C, H, W>");

 public:
  using batch_type = batch<InShape, TargetShape>;

  template <Dataset D>
  DataLoader(std::shared_ptr<const D> dataset, loader_options options, transform tf = {})
      : options_(options), transform_(std::move(tf)) {
    if (!dataset) throw usage_error("DataLoader: null dataset");
    if (options.batch_size < 1)
      throw usage_error("DataLoader: batch_size must be at least 1, not " +
                        std::to_string(options.batch_size));
    if (options.workers < 0 || options.prefetch < 1)
      throw usage_error("DataLoader: workers must be >= 0 and prefetch >= 1");
    size_ = dataset->size();
    get_ = [d = std::move(dataset)](std::size_t i) { return d->get(i); };
    if (options.group_by_size) {
      if constexpr (InShape::is_static)
        throw usage_error("DataLoader: group_by_size needs an input shape of dynamic extents; " +
                          InShape::str() + " fixes the size of every image");
      measure_sizes();
    }
  }
  template <Dataset D>
  DataLoader(std::shared_ptr<D> dataset, loader_options options, transform tf = {})
      : DataLoader(std::shared_ptr<const D>(std::move(dataset)), options, std::move(tf)) {}
  template <Dataset D>
  DataLoader(D dataset, loader_options options, transform tf = {})
      : DataLoader(std::make_shared<const D>(std::move(dataset)), options, std::move(tf)) {}

  std::size_t size() const noexcept { return size_; }
  std::size_t batches() const noexcept {
    if (!options_.group_by_size) return batches_of(size_);
    std::size_t total = 0;
    for (const auto& [size, count] : group_counts_) total += batches_of(count);
    return total;
  }
  const loader_options& options() const noexcept { return options_; }

  /// The examples' order in `epoch` (grouped by size with group_by_size).
  std::vector<std::size_t> order(std::uint64_t epoch) const {
    auto order = epoch_order(size_, options_, epoch);
    if (options_.group_by_size) {
      // Each size's rank by first appearance, looked up once per example
      // (a search per comparison cost O(sizes) in the sort).
      std::map<std::pair<int, int>, std::size_t> rank_of_size;
      std::vector<std::size_t> rank(size_);
      for (std::size_t i : order)
        rank[i] = rank_of_size.try_emplace(sizes_[i], rank_of_size.size()).first->second;
      std::stable_sort(order.begin(), order.end(),
                       [&](std::size_t a, std::size_t b) { return rank[a] < rank[b]; });
    }
    return order;
  }

  /// Batches of an epoch as (first position in its order, count).
  std::vector<std::pair<std::size_t, int>> batch_ranges(
      const std::vector<std::size_t>& order) const {
    std::vector<std::pair<std::size_t, int>> ranges;
    const auto bs = static_cast<std::size_t>(options_.batch_size);
    std::size_t begin = 0;
    while (begin < order.size()) {
      std::size_t end = begin + 1;  // the run of one size (the whole order without grouping)
      while (end < order.size() &&
             (!options_.group_by_size || sizes_[order[end]] == sizes_[order[begin]]))
        ++end;
      for (std::size_t first = begin; first < end; first += bs) {
        const std::size_t n = std::min(bs, end - first);
        if (n < bs && options_.drop_last) break;
        ranges.emplace_back(first, static_cast<int>(n));
      }
      begin = end;
    }
    return ranges;
  }

  class epoch_run {
   public:
    epoch_run(const DataLoader& loader, std::uint64_t epoch)
        : loader_(loader),
          epoch_(epoch),
          order_(loader.order(epoch)),
          ranges_(loader.batch_ranges(order_)),
          count_(ranges_.size()) {
      const int workers = loader.options_.workers;
      slots_.resize(workers == 0 ? 1
                                 : static_cast<std::size_t>(workers * loader.options_.prefetch));
      for (std::size_t s = 0; s < slots_.size(); ++s)
        slots_[s].expect = static_cast<std::int64_t>(s);
      threads_.reserve(static_cast<std::size_t>(workers));
      try {
        for (int w = 0; w < workers; ++w) threads_.emplace_back([this] { work(); });
      } catch (...) {  // a thread could not start: stop those that did
        shut_down();
        throw;
      }
    }
    epoch_run(const epoch_run&) = delete;
    epoch_run& operator=(const epoch_run&) = delete;
    ~epoch_run() { shut_down(); }

    /// The next batch, valid until the next call; nullptr after the last.
    const batch_type* next() {
      if (position_ >= 0) release(position_);
      ++position_;
      if (static_cast<std::size_t>(position_) >= count_) return nullptr;
      const auto b = position_;
      slot& s = slots_[static_cast<std::size_t>(b) % slots_.size()];
      const auto start = std::chrono::steady_clock::now();
      if (threads_.empty()) {
        fill(s, b);
      } else {
        std::unique_lock lock(mutex_);
        slot_ready_.wait(lock, [&] { return s.ready && s.expect == b; });
      }
      stats_.wait_seconds += seconds_since(start);
      if (s.error) std::rethrow_exception(s.error);
      ++stats_.batches;
      return &s.data;
    }

    /// Wait and load times so far (load time of the consumer thread when workers = 0).
    epoch_stats stats() const {
      std::lock_guard lock(mutex_);
      epoch_stats st = stats_;
      st.load_seconds = load_seconds_;
      if (threads_.empty()) st.wait_seconds = load_seconds_;
      return st;
    }

    using iterator = detail::batch_iterator<epoch_run, batch_type>;
    iterator begin() {
      if (position_ != -1)
        throw usage_error("DataLoader: an epoch is iterated once; call epoch() again");
      return iterator(this, next());
    }
    std::default_sentinel_t end() const { return {}; }

   private:
    struct slot {
      batch_type data;
      std::int64_t expect = 0;  // the batch this slot holds next
      bool ready = false;
      std::exception_ptr error;
    };

    void shut_down() {
      {
        std::lock_guard lock(mutex_);
        stop_ = true;
      }
      slot_free_.notify_all();
      slot_ready_.notify_all();
      for (auto& t : threads_) t.join();
      threads_.clear();
    }

    static double seconds_since(std::chrono::steady_clock::time_point t) {
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
    }

    void release(std::int64_t b) {
      slot& s = slots_[static_cast<std::size_t>(b) % slots_.size()];
      if (threads_.empty()) {
        s.expect += static_cast<std::int64_t>(slots_.size());
        s.error = nullptr;
        return;
      }
      {
        std::lock_guard lock(mutex_);
        s.ready = false;
        s.error = nullptr;
        s.expect += static_cast<std::int64_t>(slots_.size());
      }
      slot_free_.notify_all();
    }

    void work() {
      for (;;) {
        const std::int64_t b = next_to_fill_.fetch_add(1);
        if (b >= static_cast<std::int64_t>(count_)) return;
        slot& s = slots_[static_cast<std::size_t>(b) % slots_.size()];
        {
          std::unique_lock lock(mutex_);
          slot_free_.wait(lock, [&] { return stop_ || (s.expect == b && !s.ready); });
          if (stop_) return;
        }
        fill(s, b);
        {
          std::lock_guard lock(mutex_);
          s.ready = true;
        }
        slot_ready_.notify_all();
      }
    }

    void fill(slot& s, std::int64_t b) {
      const auto start = std::chrono::steady_clock::now();
      try {
        const auto& opt = loader_.options_;
        const auto [first, n] = ranges_[static_cast<std::size_t>(b)];
        auto& out = s.data;
        out.labels.assign(static_cast<std::size_t>(n), -1);
        out.indices.assign(order_.begin() + static_cast<std::ptrdiff_t>(first),
                           order_.begin() + static_cast<std::ptrdiff_t>(first) + n);
        for (int i = 0; i < n; ++i) {
          const std::size_t index = out.indices[static_cast<std::size_t>(i)];
          example ex = loader_.get_(index);
          if (loader_.transform_) {
            auto rng = sample_rng(opt.seed, epoch_, index);
            loader_.transform_(ex, rng);
          }
          if (i == 0) {
            size_batch(out.inputs, n, ex.image);
            if constexpr (!std::is_void_v<TargetShape>) {
              if constexpr (TargetShape::rank == 3) {
                size_batch(out.targets, n, ex.target);
              } else {
                out.targets.resize(n);
              }
            }
          } else if (!InShape::is_static && (ex.image.width() != out.inputs.extent(2) ||
                                             ex.image.height() != out.inputs.extent(1))) {
            throw shape_error(
                "DataLoader: example " + std::to_string(index) + " is " +
                std::to_string(ex.image.width()) + "x" + std::to_string(ex.image.height()) +
                " but its batch is " + std::to_string(out.inputs.extent(2)) + "x" +
                std::to_string(out.inputs.extent(1)) +
                " (its first example's): the examples of a batch share one size; resize or "
                "crop them in the transform, or set loader_options::group_by_size");
          }
          to_tensor(ex.image, out.inputs, i);
          out.labels[static_cast<std::size_t>(i)] = ex.label;
          if constexpr (!std::is_void_v<TargetShape>) put_target(ex, out.targets, i, index);
        }
      } catch (...) {
        s.error = std::current_exception();
      }
      const double t = seconds_since(start);
      std::lock_guard lock(mutex_);
      load_seconds_ += t;
    }

    /// `n` samples; a dynamic shape takes the extents of the batch's first image.
    template <class S>
    static void size_batch(Tensor<S>& t, int n, const image& first) {
      if constexpr (S::is_static) {
        t.resize(n);
      } else {
        t.resize(n, {S::dims[0], std::max(first.height(), 1), std::max(first.width(), 1)});
      }
    }

    template <class Targets>
    static void put_target(const example& ex, Targets& t, int i, std::size_t index) {
      if constexpr (TargetShape::rank == 1) {
        if (ex.attributes.size() != static_cast<std::size_t>(TargetShape::size))
          throw shape_error("DataLoader: example " + std::to_string(index) + " has " +
                            std::to_string(ex.attributes.size()) +
                            " attributes but the targets are " + std::to_string(TargetShape::size) +
                            " wide");
        std::copy(ex.attributes.begin(), ex.attributes.end(),
                  t.data() + std::int64_t{i} * TargetShape::size);
      } else {
        static_assert(TargetShape::rank == 3, "DataLoader: targets are Shape<K> or Shape<C, H, W>");
        if (ex.target.empty())
          throw shape_error("DataLoader: example " + std::to_string(index) +
                            " has no target image (a transform such as ColorizationLab makes one)");
        to_tensor(ex.target, t, i);
      }
    }

    const DataLoader& loader_;
    std::uint64_t epoch_;
    std::vector<std::size_t> order_;
    std::vector<std::pair<std::size_t, int>> ranges_;
    std::size_t count_;
    std::vector<slot> slots_;
    std::vector<std::thread> threads_;
    mutable std::mutex mutex_;
    std::condition_variable slot_free_, slot_ready_;
    std::atomic<std::int64_t> next_to_fill_{0};
    bool stop_ = false;
    std::int64_t position_ = -1;
    epoch_stats stats_;
    double load_seconds_ = 0;
  };

  /// One pass over the data; iterate it once. Workers start now.
  epoch_run epoch(std::uint64_t e) const& { return epoch_run(*this, e); }
  /// An epoch refers to its loader: a temporary loader would be gone before the loop.
  void epoch(std::uint64_t) const&& = delete;

 private:
  std::size_t batches_of(std::size_t n) const noexcept {
    const auto bs = static_cast<std::size_t>(options_.batch_size);
    return options_.drop_last ? n / bs : (n + bs - 1) / bs;
  }

  /// Every example's (width, height) after the transform, read once, on
  /// `workers` threads; the first error is rethrown.
  void measure_sizes() {
    sizes_.assign(size_, {0, 0});
    std::atomic<std::size_t> next{0};
    std::exception_ptr error;
    std::mutex error_mutex;
    const auto work = [&] {
      for (std::size_t i = next++; i < size_; i = next++) {
        try {
          example ex = get_(i);
          if (transform_) {
            auto rng = sample_rng(options_.seed, 0, i);
            transform_(ex, rng);
          }
          sizes_[i] = {ex.image.width(), ex.image.height()};
        } catch (...) {
          std::lock_guard lock(error_mutex);
          if (!error) error = std::current_exception();
          next = size_;
        }
      }
    };
    std::vector<std::thread> threads;
    for (int w = 1; w < options_.workers; ++w) threads.emplace_back(work);
    work();
    for (auto& t : threads) t.join();
    if (error) std::rethrow_exception(error);
    for (const auto& s : sizes_) {
      auto it = std::find_if(group_counts_.begin(), group_counts_.end(),
                             [&](const auto& g) { return g.first == s; });
      if (it == group_counts_.end()) {
        group_counts_.emplace_back(s, 1);
      } else {
        ++it->second;
      }
    }
  }

  loader_options options_;
  transform transform_;
  std::size_t size_ = 0;
  std::function<example(std::size_t)> get_;
  std::vector<std::pair<int, int>> sizes_;  ///< group_by_size: (width, height) of each example
  std::vector<std::pair<std::pair<int, int>, std::size_t>> group_counts_;  ///< size, examples
};

}  // namespace typenet::data
