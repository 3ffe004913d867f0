// typenet/metrics/segmentation.hpp — how well a semantic segmentation does:
// pixel accuracy, per-class IoU and mean IoU, accumulated over images.
//
//   tn::metrics::segmentation_evaluator eval(21);      // VOC: 21 classes, 255 ignored
//   for (each image) eval.update(truth_pixels, predicted_pixels);
//   double sa = *eval.pixel_accuracy();                // n / (n + e)
//   double miou = *eval.mean_iou();
//
// The evaluator keeps one running confusion matrix over every pixel of every
// image (rows: true class, columns: predicted class), so the scores are those
// of the whole set, not a mean of per-image scores, as in the VOC devkit.
// Pixels whose ground truth is the ignore label (255 by default, VOC's object
// boundaries; pass no_ignore_label to count everything) are left out
// entirely, whatever was predicted there. Any other true or predicted label
// outside [0, classes) is a usage_error, and the whole image is then skipped.
//
// Pixel accuracy SA = n / (n + e), n correctly and e wrongly labelled pixels.
// IoU of class c = TP / (TP + FP + FN). Undefined values are std::nullopt:
// SA when every pixel was ignored, the IoU of a class that appears in neither
// ground truth nor prediction; such classes are left out of the mean IoU.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "typenet/core/errors.hpp"
#include "typenet/metrics/classification.hpp"

namespace typenet::metrics {

/// Passed as the ignore label (as is any negative value), counts every pixel.
inline constexpr int no_ignore_label = -1;

class segmentation_evaluator {
 public:
  explicit segmentation_evaluator(int classes, int ignore_label = 255)
      : confusion_(classes), ignore_label_(ignore_label) {}

  int classes() const noexcept { return confusion_.classes(); }
  int ignore_label() const noexcept { return ignore_label_; }

  /// Adds one image (or a batch): label maps of equal size, any layout.
  void update(std::span<const std::uint8_t> truth, std::span<const std::uint8_t> predicted) {
    update_impl(truth, predicted);
  }
  void update(std::span<const int> truth, std::span<const int> predicted) {
    update_impl(truth, predicted);
  }
  void update(std::span<const std::int64_t> truth, std::span<const std::int64_t> predicted) {
    update_impl(truth, predicted);
  }

  void reset() noexcept { confusion_.reset(); }

  /// The running matrix of the pixels that count.
  const confusion_matrix& confusion() const noexcept { return confusion_; }

  /// Correctly labelled pixels (n).
  std::int64_t correct_pixels() const noexcept { return confusion_.correct(); }
  /// Wrongly labelled pixels (e).
  std::int64_t wrong_pixels() const noexcept { return confusion_.total() - confusion_.correct(); }

  /// SA = n / (n + e); nullopt when no pixel counted.
  std::optional<double> pixel_accuracy() const { return accuracy(confusion_); }

  /// TP / (TP + FP + FN) per class; nullopt for a class that is in neither
  /// the ground truth nor the prediction.
  std::vector<std::optional<double>> class_iou() const {
    std::vector<std::optional<double>> result(static_cast<std::size_t>(classes()));
    for (int c = 0; c < classes(); ++c) {
      const std::int64_t tp = confusion_(c, c);
      const std::int64_t uni = confusion_.true_count(c) + confusion_.predicted_count(c) - tp;
      if (uni > 0)
        result[static_cast<std::size_t>(c)] = static_cast<double>(tp) / static_cast<double>(uni);
    }
    return result;
  }

  /// Mean of class_iou over the classes that have one; nullopt if none has.
  std::optional<double> mean_iou() const {
    double sum = 0;
    int counted = 0;
    for (const auto& v : class_iou())
      if (v) {
        sum += *v;
        ++counted;
      }
    if (counted == 0) return std::nullopt;
    return sum / counted;
  }

 private:
  template <class L>
  void update_impl(std::span<const L> truth, std::span<const L> predicted) {
    if (truth.size() != predicted.size())
      throw shape_error("segmentation_evaluator: " + std::to_string(truth.size()) +
                        " true pixels but " + std::to_string(predicted.size()) + " predicted");
    const auto k = static_cast<std::int64_t>(classes());
    // A negative ignore label never matches: negative labels are errors.
    const bool ignoring = ignore_label_ >= 0;
    const auto ignore = static_cast<std::int64_t>(ignore_label_);
    for (std::size_t i = 0; i < truth.size(); ++i) {
      const auto t = static_cast<std::int64_t>(truth[i]);
      const auto p = static_cast<std::int64_t>(predicted[i]);
      if (ignoring && t == ignore) continue;
      if (t < 0 || t >= k || p < 0 || p >= k)
        throw usage_error("segmentation_evaluator: pixel " + std::to_string(i) + " has " +
                          (t < 0 || t >= k ? "true label " + std::to_string(t)
                                           : "predicted label " + std::to_string(p)) +
                          ", outside [0, " + std::to_string(k) + ") and not the ignore label " +
                          std::to_string(ignore_label_));
    }
    for (std::size_t i = 0; i < truth.size(); ++i)
      if (!ignoring || static_cast<std::int64_t>(truth[i]) != ignore)
        confusion_.add(static_cast<int>(truth[i]), static_cast<int>(predicted[i]));
  }

  confusion_matrix confusion_;
  int ignore_label_;
};

}  // namespace typenet::metrics
