// typenet/metrics/detection.hpp — how well an object detector does: box IoU,
// non-maximum suppression, PASCAL VOC matching, precision, recall, AP and mAP.
//
//   tn::metrics::detection_evaluator eval(20);          // 20 classes, IoU 0.5, VOC rules
//   for (each image) eval.add_image(predicted, ground_truth);
//   double map = *eval.mean_average_precision();
//   auto keep = tn::metrics::batched_nms(boxes, scores, labels, 0.5);
//
// Conventions (tests/metrics/test_metrics.cpp checks each one):
// - Boxes are continuous (x1, y1, x2, y2) corners with x1 <= x2, y1 <= y2;
//   width = x2 - x1 with no "+1" as in the old VOC devkit's pixel-index
//   boxes, so IoU equals torchvision.ops.box_iou. Boxes of zero area are
//   valid and overlap nothing (IoU 0, where torchvision gives 0/0 = NaN for
//   two of them); reversed or NaN corners are a usage_error.
// - nms / batched_nms follow torchvision.ops: a box is suppressed when its IoU
//   with a kept, higher-scoring box is strictly greater than the threshold;
//   kept indices come in decreasing score order. Equal scores keep the lower
//   index first (torchvision leaves that order unspecified).
// - Matching (detection_evaluator): per image and class, predictions are
//   taken by decreasing score (ties: input order), and a prediction is a true
//   positive when IoU >= threshold (0.5), as in the VOC devkit's VOCevaldet.m
//   (`ovmax >= minoverlap`) and COCO; some Python ports (py-faster-rcnn,
//   detectron2) use `>`, available as `strict_threshold`. With
//   match_rule::voc (the default) the prediction is compared with the
//   ground-truth box it overlaps most, matched or not: if that box was
//   already matched the prediction is a false positive (a duplicate), exactly
//   like the devkit; match_rule::best_unmatched instead takes the best
//   still-unmatched box, so a second detection of a crowd can match a
//   neighbour. A prediction matched (at the threshold) to a "difficult" box
//   is neither a true nor a false positive, and difficult boxes do not count
//   as ground truth, unless `ignore_difficult` is false.
// - AP is the area under the precision/recall curve made monotone from the
//   right (all-point interpolation, VOC2010+), or the mean of the best
//   precision at recall >= 0, 0.1, ..., 1 (11-point, VOC2007), with t = i/10.
//   Predictions of all images are ranked together by score (ties: the order
//   of add_image calls, then input order).
// - A class without (non-difficult) ground truth has no recall and no AP
//   (nullopt) and is left out of mAP; a class with ground truth but no
//   predictions has AP 0 and counts. Precision without predictions is nullopt.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "typenet/core/errors.hpp"

namespace typenet::metrics {

/// An axis-aligned box by its corners: top-left (x1, y1), bottom-right (x2, y2).
struct box {
  double x1 = 0, y1 = 0, x2 = 0, y2 = 0;

  double width() const noexcept { return x2 - x1; }
  double height() const noexcept { return y2 - y1; }
  double area() const noexcept { return width() * height(); }
  friend bool operator==(const box&, const box&) = default;
};

/// A box by its top-left corner and size (COCO's and torchvision's "xywh").
struct xywh {
  double x = 0, y = 0, w = 0, h = 0;
  friend bool operator==(const xywh&, const xywh&) = default;
};

/// A box by its centre and size (YOLO's, torchvision's "cxcywh").
struct cxcywh {
  double cx = 0, cy = 0, w = 0, h = 0;
  friend bool operator==(const cxcywh&, const cxcywh&) = default;
};

inline box to_box(const xywh& b) noexcept {
  return {b.x, b.y, b.x + b.w, b.y + b.h};
}
inline box to_box(const cxcywh& b) noexcept {
  return {b.cx - b.w / 2, b.cy - b.h / 2, b.cx + b.w / 2, b.cy + b.h / 2};
}
inline xywh to_xywh(const box& b) noexcept {
  return {b.x1, b.y1, b.width(), b.height()};
}
inline cxcywh to_cxcywh(const box& b) noexcept {
  return {(b.x1 + b.x2) / 2, (b.y1 + b.y2) / 2, b.width(), b.height()};
}

namespace detail {

inline void check_box(const box& b, const char* what) {
  // Written so that NaN fails too.
  if (!(b.x1 <= b.x2 && b.y1 <= b.y2) || !std::isfinite(b.x1) || !std::isfinite(b.y1) ||
      !std::isfinite(b.x2) || !std::isfinite(b.y2))
    throw usage_error(std::string(what) + ": box (" + std::to_string(b.x1) + ", " +
                      std::to_string(b.y1) + ", " + std::to_string(b.x2) + ", " +
                      std::to_string(b.y2) + ") is not x1 <= x2, y1 <= y2 with finite corners");
}

// IoU of boxes already checked.
inline double iou_unchecked(const box& a, const box& b) noexcept {
  const double w = std::min(a.x2, b.x2) - std::max(a.x1, b.x1);
  const double h = std::min(a.y2, b.y2) - std::max(a.y1, b.y1);
  if (w <= 0 || h <= 0) return 0;
  const double inter = w * h;
  return inter / (a.area() + b.area() - inter);
}

}  // namespace detail

/// Intersection over union of two boxes, in [0, 1].
inline double iou(const box& a, const box& b) {
  detail::check_box(a, "iou");
  detail::check_box(b, "iou");
  return detail::iou_unchecked(a, b);
}

/// IoU of every pair, row-major `a.size() x b.size()` (torchvision.ops.box_iou).
inline std::vector<double> box_iou(std::span<const box> a, std::span<const box> b) {
  for (const auto& x : a) detail::check_box(x, "box_iou");
  for (const auto& x : b) detail::check_box(x, "box_iou");
  std::vector<double> result;
  result.reserve(a.size() * b.size());
  for (const auto& x : a)
    for (const auto& y : b) result.push_back(detail::iou_unchecked(x, y));
  return result;
}

namespace detail {

template <class S>
std::vector<std::size_t> score_order(std::span<const S> scores, const char* what) {
  for (std::size_t i = 0; i < scores.size(); ++i)
    if (std::isnan(scores[i]))
      throw usage_error(std::string(what) + ": score " + std::to_string(i) + " is NaN");
  std::vector<std::size_t> order(scores.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return scores[a] > scores[b]; });
  return order;
}

template <class S>
std::vector<std::size_t> nms_impl(std::span<const box> boxes, std::span<const S> scores,
                                  std::span<const int> labels, bool per_class, double iou_threshold,
                                  const char* what) {
  if (boxes.size() != scores.size() || (per_class && labels.size() != boxes.size()))
    throw shape_error(std::string(what) + ": " + std::to_string(boxes.size()) + " boxes, " +
                      std::to_string(scores.size()) + " scores" +
                      (per_class ? ", " + std::to_string(labels.size()) + " labels" : ""));
  for (const auto& b : boxes) check_box(b, what);
  const auto order = score_order(scores, what);
  std::vector<char> suppressed(boxes.size(), 0);
  std::vector<std::size_t> keep;
  // Quadratic like torchvision's CPU kernel; fine for the few thousand boxes
  // a detector proposes per image.
  for (std::size_t i = 0; i < order.size(); ++i) {
    const std::size_t a = order[i];
    if (suppressed[a]) continue;
    keep.push_back(a);
    for (std::size_t j = i + 1; j < order.size(); ++j) {
      const std::size_t b = order[j];
      if (suppressed[b] || (per_class && labels[a] != labels[b])) continue;
      if (iou_unchecked(boxes[a], boxes[b]) > iou_threshold) suppressed[b] = 1;
    }
  }
  return keep;
}

}  // namespace detail

/// Class-agnostic non-maximum suppression (torchvision.ops.nms): indices of
/// the kept boxes, highest score first.
inline std::vector<std::size_t> nms(std::span<const box> boxes, std::span<const float> scores,
                                    double iou_threshold) {
  return detail::nms_impl(boxes, scores, {}, false, iou_threshold, "nms");
}
inline std::vector<std::size_t> nms(std::span<const box> boxes, std::span<const double> scores,
                                    double iou_threshold) {
  return detail::nms_impl(boxes, scores, {}, false, iou_threshold, "nms");
}

/// Non-maximum suppression within each class (torchvision.ops.batched_nms):
/// boxes of different labels never suppress each other; indices of the kept
/// boxes of all classes, highest score first.
inline std::vector<std::size_t> batched_nms(std::span<const box> boxes,
                                            std::span<const float> scores,
                                            std::span<const int> labels, double iou_threshold) {
  return detail::nms_impl(boxes, scores, labels, true, iou_threshold, "batched_nms");
}
inline std::vector<std::size_t> batched_nms(std::span<const box> boxes,
                                            std::span<const double> scores,
                                            std::span<const int> labels, double iou_threshold) {
  return detail::nms_impl(boxes, scores, labels, true, iou_threshold, "batched_nms");
}

/// A predicted box.
struct detection {
  box bbox;
  int label = 0;
  double score = 0;
};

/// A ground-truth box; "difficult" as in the VOC annotations.
struct ground_truth {
  box bbox;
  int label = 0;
  bool difficult = false;
};

enum class match_rule {
  voc,             ///< best-overlapping box; a duplicate is a false positive
  best_unmatched,  ///< best-overlapping box among those not yet matched
};

enum class ap_interpolation {
  all_points,   ///< VOC2010 and later
  eleven_point  ///< VOC2007
};

struct detection_options {
  double iou_threshold = 0.5;
  /// Needs IoU > threshold instead of IoU >= threshold.
  bool strict_threshold = false;
  match_rule matching = match_rule::voc;
  bool ignore_difficult = true;
  ap_interpolation interpolation = ap_interpolation::all_points;
};

/// What was matched for one class over every image added, and the curve.
struct class_detection_result {
  /// Ground-truth boxes that count (not difficult, when those are ignored).
  std::int64_t ground_truths = 0;
  std::int64_t true_positives = 0;
  std::int64_t false_positives = 0;
  /// After each counted prediction in decreasing score order (predictions
  /// matched to difficult boxes are left out: they move neither value).
  std::vector<double> precision, recall;
  std::optional<double> average_precision;

  std::int64_t predictions() const noexcept { return true_positives + false_positives; }
  /// TP / (TP + FP) over all predictions; nullopt without predictions.
  std::optional<double> final_precision() const {
    if (predictions() == 0) return std::nullopt;
    return static_cast<double>(true_positives) / static_cast<double>(predictions());
  }
  /// TP / ground truths; nullopt without ground truth.
  std::optional<double> final_recall() const {
    if (ground_truths == 0) return std::nullopt;
    return static_cast<double>(true_positives) / static_cast<double>(ground_truths);
  }
};

/// Area under a precision/recall curve given point by point in decreasing
/// score order (recall non-decreasing), as the VOC devkit computes it.
inline double average_precision(std::span<const double> precision, std::span<const double> recall,
                                ap_interpolation how = ap_interpolation::all_points) {
  if (precision.size() != recall.size())
    throw shape_error("average_precision: " + std::to_string(precision.size()) +
                      " precisions but " + std::to_string(recall.size()) + " recalls");
  const std::size_t n = precision.size();
  if (how == ap_interpolation::eleven_point) {
    double ap = 0;
    for (int i = 0; i <= 10; ++i) {
      const double t = i / 10.0;
      double p = 0;
      for (std::size_t j = 0; j < n; ++j)
        if (recall[j] >= t) p = std::max(p, precision[j]);
      ap += p / 11;
    }
    return ap;
  }
  // VOCap.m: mrec = [0; rec; 1], mpre = [0; prec; 0], mpre made
  // non-increasing from the right, summed where recall changes.
  std::vector<double> mrec(n + 2), mpre(n + 2);
  mrec[0] = 0;
  mpre[0] = 0;
  for (std::size_t i = 0; i < n; ++i) {
    mrec[i + 1] = recall[i];
    mpre[i + 1] = precision[i];
  }
  mrec[n + 1] = 1;
  mpre[n + 1] = 0;
  for (std::size_t i = n + 1; i-- > 0;) mpre[i] = std::max(mpre[i], mpre[i + 1]);
  double ap = 0;
  for (std::size_t i = 1; i < n + 2; ++i)
    if (mrec[i] != mrec[i - 1]) ap += (mrec[i] - mrec[i - 1]) * mpre[i];
  return ap;
}

/// Accumulates images and evaluates each class as PASCAL VOC does.
class detection_evaluator {
 public:
  explicit detection_evaluator(int classes, detection_options options = {})
      : options_(options), classes_(static_cast<std::size_t>(classes < 0 ? 0 : classes)) {
    if (classes < 1)
      throw usage_error("detection_evaluator: needs at least one class, got " +
                        std::to_string(classes));
    if (!(options.iou_threshold >= 0 && options.iou_threshold <= 1))
      throw usage_error("detection_evaluator: IoU threshold " +
                        std::to_string(options.iou_threshold) + " is outside [0, 1]");
  }

  int classes() const noexcept { return static_cast<int>(classes_.size()); }
  const detection_options& options() const noexcept { return options_; }

  /// Matches one image's predictions with its ground truth. Validates all
  /// input first, so a bad box or label leaves the evaluator unchanged.
  void add_image(std::span<const detection> predictions, std::span<const ground_truth> truths) {
    for (const auto& d : predictions) {
      detail::check_box(d.bbox, "detection_evaluator");
      check_label(d.label, "prediction");
      if (std::isnan(d.score))
        throw usage_error("detection_evaluator: a prediction's score is NaN");
    }
    for (const auto& g : truths) {
      detail::check_box(g.bbox, "detection_evaluator");
      check_label(g.label, "ground truth");
    }
    std::vector<double> scores(predictions.size());
    for (std::size_t i = 0; i < predictions.size(); ++i) scores[i] = predictions[i].score;
    const auto order = detail::score_order(std::span<const double>(scores), "detection_evaluator");

    for (const auto& g : truths)
      if (!(g.difficult && options_.ignore_difficult))
        ++classes_[static_cast<std::size_t>(g.label)].ground_truths;

    std::vector<char> matched(truths.size(), 0);
    for (const std::size_t d : order) {
      const auto& p = predictions[d];
      const auto verdict = match(p, truths, matched);
      if (verdict == outcome::ignored) continue;
      classes_[static_cast<std::size_t>(p.label)].ranked.push_back(
          {p.score, next_sequence_++, verdict == outcome::true_positive});
    }
  }

  void reset() {
    for (auto& c : classes_) c = {};
    next_sequence_ = 0;
  }

  /// Counts, precision/recall curve and AP of class `c`.
  class_detection_result result(int c) const {
    check_label(c, "class");
    const auto& acc = classes_[static_cast<std::size_t>(c)];
    auto ranked = acc.ranked;
    std::sort(ranked.begin(), ranked.end(), [](const scored& a, const scored& b) {
      return a.score > b.score || (a.score == b.score && a.sequence < b.sequence);
    });
    class_detection_result r;
    r.ground_truths = acc.ground_truths;
    for (const auto& s : ranked) {
      (s.true_positive ? r.true_positives : r.false_positives) += 1;
      r.precision.push_back(static_cast<double>(r.true_positives) /
                            static_cast<double>(r.predictions()));
      r.recall.push_back(acc.ground_truths == 0 ? 0.0
                                                : static_cast<double>(r.true_positives) /
                                                      static_cast<double>(acc.ground_truths));
    }
    if (acc.ground_truths > 0)
      r.average_precision = average_precision(r.precision, r.recall, options_.interpolation);
    return r;
  }

  std::vector<class_detection_result> results() const {
    std::vector<class_detection_result> r;
    for (int c = 0; c < classes(); ++c) r.push_back(result(c));
    return r;
  }

  /// Mean AP over the classes that have ground truth; nullopt if none has.
  std::optional<double> mean_average_precision() const {
    double sum = 0;
    int counted = 0;
    for (int c = 0; c < classes(); ++c)
      if (const auto ap = result(c).average_precision) {
        sum += *ap;
        ++counted;
      }
    if (counted == 0) return std::nullopt;
    return sum / counted;
  }

 private:
  enum class outcome { true_positive, false_positive, ignored };

  struct scored {
    double score;
    std::int64_t sequence;  // ranks ties by arrival
    bool true_positive;
  };
  struct accumulator {
    std::int64_t ground_truths = 0;
    std::vector<scored> ranked;
  };

  bool passes(double overlap) const noexcept {
    return options_.strict_threshold ? overlap > options_.iou_threshold
                                     : overlap >= options_.iou_threshold;
  }

  outcome match(const detection& p, std::span<const ground_truth> truths,
                std::vector<char>& matched) const {
    const bool use_difficult = options_.ignore_difficult;
    // Only overlapping boxes are candidates (the devkit's `iw>0 & ih>0`), so
    // a threshold of 0 does not match disjoint boxes.
    std::optional<std::size_t> best;
    double best_iou = 0;
    if (options_.matching == match_rule::voc) {
      for (std::size_t j = 0; j < truths.size(); ++j) {
        if (truths[j].label != p.label) continue;
        const double o = detail::iou_unchecked(p.bbox, truths[j].bbox);
        if (o > 0 && o > best_iou) {
          best_iou = o;
          best = j;
        }
      }
      if (!best || !passes(best_iou)) return outcome::false_positive;
      if (use_difficult && truths[*best].difficult) return outcome::ignored;
      if (matched[*best]) return outcome::false_positive;
      matched[*best] = 1;
      return outcome::true_positive;
    }
    // best_unmatched: prefer a countable box; a difficult one only excuses.
    bool overlaps_difficult = false;
    for (std::size_t j = 0; j < truths.size(); ++j) {
      if (truths[j].label != p.label) continue;
      const double o = detail::iou_unchecked(p.bbox, truths[j].bbox);
      if (o <= 0 || !passes(o)) continue;
      if (use_difficult && truths[j].difficult) {
        overlaps_difficult = true;
      } else if (!matched[j] && o > best_iou) {
        best_iou = o;
        best = j;
      }
    }
    if (best) {
      matched[*best] = 1;
      return outcome::true_positive;
    }
    return overlaps_difficult ? outcome::ignored : outcome::false_positive;
  }

  void check_label(int label, const char* what) const {
    if (label < 0 || label >= classes())
      throw usage_error(std::string("detection_evaluator: ") + what + " label " +
                        std::to_string(label) + " is outside [0, " + std::to_string(classes()) +
                        ")");
  }

  detection_options options_;
  std::vector<accumulator> classes_;
  std::int64_t next_sequence_ = 0;
};

}  // namespace typenet::metrics
