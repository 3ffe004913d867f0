// typenet/metrics/classification.hpp — how well a classifier does: accuracy,
// error rate, per-class accuracy, balanced error rate, confusion matrix, top-k.
//
//   tn::metrics::confusion_matrix cm(10);
//   cm.update(labels, tn::metrics::argmax(logits));     // once per batch
//   double acc = *tn::metrics::accuracy(cm);
//   double ber = *tn::metrics::balanced_error_rate(cm); // 1 - mean per-class recall
//   auto top5 = tn::metrics::top_k_accuracy(logits, labels, 5);
//
// Labels are class indices in [0, classes); anything else is a usage_error,
// and inputs of different lengths are a shape_error. A quantity that is 0/0
// (the accuracy of no samples, the recall of a class without samples) is
// std::nullopt rather than NaN or a made-up 0: per-class values of classes
// without samples are nullopt and those classes are left out of the mean
// per-class recall and so of the balanced error rate.
//
// Rankings break ties by class index, lower first (as typenet::top_k and a
// stable sort do): argmax returns the first maximal class, and a sample is a
// top-k hit when fewer than k classes rank above its label, where class j
// ranks above label y if z_j > z_y, or z_j == z_y and j < y. A NaN logit is a
// usage_error, since it has no rank.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "typenet/core/errors.hpp"
#include "typenet/core/tensor.hpp"

namespace typenet::metrics {

/// Counts of (true class, predicted class) pairs: rows are the true class,
/// columns the predicted class, as in scikit-learn and torchmetrics.
class confusion_matrix {
 public:
  explicit confusion_matrix(int classes) : classes_(classes) {
    if (classes < 1)
      throw usage_error("confusion_matrix: needs at least one class, got " +
                        std::to_string(classes));
    counts_.assign(static_cast<std::size_t>(classes) * static_cast<std::size_t>(classes), 0);
  }

  /// The matrix of one set of labels and predictions.
  confusion_matrix(int classes, std::span<const int> truth, std::span<const int> predicted)
      : confusion_matrix(classes) {
    update(truth, predicted);
  }

  int classes() const noexcept { return classes_; }

  /// Adds `count` samples of class `truth` predicted as `predicted`.
  void add(int truth, int predicted, std::int64_t count = 1) {
    check_label("true label", truth);
    check_label("predicted label", predicted);
    counts_[index(truth, predicted)] += count;
  }

  /// Adds one sample per position; nothing is added if any label is invalid.
  void update(std::span<const int> truth, std::span<const int> predicted) {
    if (truth.size() != predicted.size())
      throw shape_error("confusion_matrix: " + std::to_string(truth.size()) + " true labels but " +
                        std::to_string(predicted.size()) + " predictions");
    for (std::size_t i = 0; i < truth.size(); ++i) {
      check_label("true label", truth[i], i);
      check_label("predicted label", predicted[i], i);
    }
    for (std::size_t i = 0; i < truth.size(); ++i) ++counts_[index(truth[i], predicted[i])];
  }

  /// Adds another matrix of the same size (e.g. from another thread).
  confusion_matrix& operator+=(const confusion_matrix& other) {
    if (other.classes_ != classes_)
      throw shape_error("confusion_matrix: cannot add a " + std::to_string(other.classes_) +
                        "-class matrix to a " + std::to_string(classes_) + "-class one");
    for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
    return *this;
  }

  void reset() noexcept {
    for (auto& c : counts_) c = 0;
  }

  /// Number of samples of class `truth` predicted as `predicted`.
  std::int64_t operator()(int truth, int predicted) const {
    check_label("true label", truth);
    check_label("predicted label", predicted);
    return counts_[index(truth, predicted)];
  }

  /// All counts, row-major (`counts()[t * classes() + p]`).
  std::span<const std::int64_t> counts() const noexcept { return counts_; }

  std::int64_t total() const noexcept {
    std::int64_t n = 0;
    for (auto c : counts_) n += c;
    return n;
  }
  /// Samples on the diagonal.
  std::int64_t correct() const noexcept {
    std::int64_t n = 0;
    for (int c = 0; c < classes_; ++c) n += counts_[index(c, c)];
    return n;
  }
  /// Samples whose true class is `c` (its support).
  std::int64_t true_count(int c) const {
    check_label("class", c);
    std::int64_t n = 0;
    for (int p = 0; p < classes_; ++p) n += counts_[index(c, p)];
    return n;
  }
  /// Samples predicted as class `c`.
  std::int64_t predicted_count(int c) const {
    check_label("class", c);
    std::int64_t n = 0;
    for (int t = 0; t < classes_; ++t) n += counts_[index(t, c)];
    return n;
  }

  friend bool operator==(const confusion_matrix&, const confusion_matrix&) = default;

 private:
  std::size_t index(int t, int p) const noexcept {
    return static_cast<std::size_t>(t) * static_cast<std::size_t>(classes_) +
           static_cast<std::size_t>(p);
  }
  void check_label(const char* what, int label) const {
    if (label < 0 || label >= classes_)
      throw usage_error(std::string("confusion_matrix: ") + what + " " + std::to_string(label) +
                        " is outside [0, " + std::to_string(classes_) + ")");
  }
  void check_label(const char* what, int label, std::size_t position) const {
    if (label < 0 || label >= classes_)
      throw usage_error(std::string("confusion_matrix: ") + what + " " + std::to_string(label) +
                        " at position " + std::to_string(position) + " is outside [0, " +
                        std::to_string(classes_) + ")");
  }

  int classes_;
  std::vector<std::int64_t> counts_;
};

/// Fraction of samples on the diagonal; nullopt for an empty matrix.
inline std::optional<double> accuracy(const confusion_matrix& cm) {
  const auto n = cm.total();
  if (n == 0) return std::nullopt;
  return static_cast<double>(cm.correct()) / static_cast<double>(n);
}

/// 1 - accuracy; nullopt for an empty matrix.
inline std::optional<double> error_rate(const confusion_matrix& cm) {
  const auto a = accuracy(cm);
  if (!a) return std::nullopt;
  return 1.0 - *a;
}

/// Fraction of positions where the labels agree; nullopt for no samples.
/// Labels are compared as they are: no class range is needed or checked.
inline std::optional<double> accuracy(std::span<const int> truth, std::span<const int> predicted) {
  if (truth.size() != predicted.size())
    throw shape_error("accuracy: " + std::to_string(truth.size()) + " true labels but " +
                      std::to_string(predicted.size()) + " predictions");
  if (truth.empty()) return std::nullopt;
  std::size_t hits = 0;
  for (std::size_t i = 0; i < truth.size(); ++i) hits += truth[i] == predicted[i] ? 1u : 0u;
  return static_cast<double>(hits) / static_cast<double>(truth.size());
}

/// 1 - accuracy(truth, predicted).
inline std::optional<double> error_rate(std::span<const int> truth,
                                        std::span<const int> predicted) {
  const auto a = accuracy(truth, predicted);
  if (!a) return std::nullopt;
  return 1.0 - *a;
}

/// Per class c: the fraction of samples of class c predicted as c (the recall
/// of c); nullopt for a class without samples.
inline std::vector<std::optional<double>> per_class_accuracy(const confusion_matrix& cm) {
  std::vector<std::optional<double>> result(static_cast<std::size_t>(cm.classes()));
  for (int c = 0; c < cm.classes(); ++c)
    if (const auto n = cm.true_count(c); n > 0)
      result[static_cast<std::size_t>(c)] = static_cast<double>(cm(c, c)) / static_cast<double>(n);
  return result;
}

/// Per-class recall is per-class accuracy under its other name.
inline std::vector<std::optional<double>> per_class_recall(const confusion_matrix& cm) {
  return per_class_accuracy(cm);
}

/// Mean of the per-class recalls over the classes that have samples (also
/// called balanced accuracy); nullopt when no class has any.
inline std::optional<double> mean_per_class_recall(const confusion_matrix& cm) {
  double sum = 0;
  int present = 0;
  for (const auto& r : per_class_accuracy(cm))
    if (r) {
      sum += *r;
      ++present;
    }
  if (present == 0) return std::nullopt;
  return sum / present;
}

/// 1 - mean_per_class_recall: the error rate as if every class (that has
/// samples) were equally frequent.
inline std::optional<double> balanced_error_rate(const confusion_matrix& cm) {
  const auto r = mean_per_class_recall(cm);
  if (!r) return std::nullopt;
  return 1.0 - *r;
}

namespace detail {

template <class T>
void check_logits(std::span<const T> logits, int classes, std::size_t samples, const char* what) {
  if (classes < 1)
    throw usage_error(std::string(what) + ": needs at least one class, got " +
                      std::to_string(classes));
  if (logits.size() != samples * static_cast<std::size_t>(classes))
    throw shape_error(std::string(what) + ": " + std::to_string(logits.size()) + " logits for " +
                      std::to_string(samples) + " samples of " + std::to_string(classes) +
                      " classes (needs " +
                      std::to_string(samples * static_cast<std::size_t>(classes)) + ")");
  for (std::size_t i = 0; i < logits.size(); ++i)
    if (std::isnan(logits[i]))
      throw usage_error(std::string(what) + ": logit of sample " +
                        std::to_string(i / static_cast<std::size_t>(classes)) + ", class " +
                        std::to_string(i % static_cast<std::size_t>(classes)) + " is NaN");
}

template <class T>
std::vector<int> argmax_impl(std::span<const T> logits, int classes) {
  if (classes < 1)
    throw usage_error("argmax: needs at least one class, got " + std::to_string(classes));
  const auto k = static_cast<std::size_t>(classes);
  if (logits.size() % k != 0)
    throw shape_error("argmax: " + std::to_string(logits.size()) +
                      " logits are not a whole number of rows of " + std::to_string(classes));
  check_logits(logits, classes, logits.size() / k, "argmax");
  std::vector<int> result(logits.size() / k);
  for (std::size_t n = 0; n < result.size(); ++n) {
    const T* z = logits.data() + n * k;
    int best = 0;
    for (int c = 1; c < classes; ++c)
      if (z[c] > z[best]) best = c;  // strict: the first maximum wins
    result[n] = best;
  }
  return result;
}

template <class T>
std::int64_t top_k_hits_impl(std::span<const T> logits, int classes, std::span<const int> labels,
                             int k) {
  check_logits(logits, classes, labels.size(), "top_k_accuracy");
  if (k < 1 || k > classes)
    throw usage_error("top_k_accuracy: k = " + std::to_string(k) + " is outside [1, " +
                      std::to_string(classes) + "]");
  std::int64_t hits = 0;
  for (std::size_t n = 0; n < labels.size(); ++n) {
    const int y = labels[n];
    if (y < 0 || y >= classes)
      throw usage_error("top_k_accuracy: label " + std::to_string(y) + " of sample " +
                        std::to_string(n) + " is outside [0, " + std::to_string(classes) + ")");
    const T* z = logits.data() + n * static_cast<std::size_t>(classes);
    int above = 0;
    for (int j = 0; j < classes; ++j) above += (z[j] > z[y] || (z[j] == z[y] && j < y)) ? 1 : 0;
    hits += above < k ? 1 : 0;
  }
  return hits;
}

}  // namespace detail

/// The predicted class of each row of a row-major `samples x classes` array
/// (the first maximal one on ties).
inline std::vector<int> argmax(std::span<const float> logits, int classes) {
  return detail::argmax_impl(logits, classes);
}
inline std::vector<int> argmax(std::span<const double> logits, int classes) {
  return detail::argmax_impl(logits, classes);
}
template <int Classes, class T>
std::vector<int> argmax(const Tensor<Shape<Classes>, Cpu, T>& logits) {
  return detail::argmax_impl(std::span<const T>(logits.values()), Classes);
}

/// Number of samples whose label is among the k best-ranked classes; adds up
/// over batches where a ratio would not.
inline std::int64_t top_k_hits(std::span<const float> logits, int classes,
                               std::span<const int> labels, int k) {
  return detail::top_k_hits_impl(logits, classes, labels, k);
}
inline std::int64_t top_k_hits(std::span<const double> logits, int classes,
                               std::span<const int> labels, int k) {
  return detail::top_k_hits_impl(logits, classes, labels, k);
}
template <int Classes, class T>
std::int64_t top_k_hits(const Tensor<Shape<Classes>, Cpu, T>& logits, std::span<const int> labels,
                        int k) {
  if (static_cast<std::size_t>(logits.batch()) != labels.size())
    throw shape_error("top_k_accuracy: a batch of " + std::to_string(logits.batch()) +
                      " logits but " + std::to_string(labels.size()) + " labels");
  return detail::top_k_hits_impl(std::span<const T>(logits.values()), Classes, labels, k);
}

/// Fraction of samples whose label is among the k best-ranked classes of its
/// row of logits (ties: see the top of this file); nullopt for no samples.
inline std::optional<double> top_k_accuracy(std::span<const float> logits, int classes,
                                            std::span<const int> labels, int k) {
  const auto hits = top_k_hits(logits, classes, labels, k);
  if (labels.empty()) return std::nullopt;
  return static_cast<double>(hits) / static_cast<double>(labels.size());
}
inline std::optional<double> top_k_accuracy(std::span<const double> logits, int classes,
                                            std::span<const int> labels, int k) {
  const auto hits = top_k_hits(logits, classes, labels, k);
  if (labels.empty()) return std::nullopt;
  return static_cast<double>(hits) / static_cast<double>(labels.size());
}
template <int Classes, class T>
std::optional<double> top_k_accuracy(const Tensor<Shape<Classes>, Cpu, T>& logits,
                                     std::span<const int> labels, int k) {
  const auto hits = top_k_hits(logits, labels, k);
  if (labels.empty()) return std::nullopt;
  return static_cast<double>(hits) / static_cast<double>(labels.size());
}

}  // namespace typenet::metrics
