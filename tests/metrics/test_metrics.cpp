// Metrics: classification, detection (IoU, NMS, VOC matching and AP) and
// segmentation, on small cases computed by hand (the arithmetic is in the
// comments) and on reference values from torchvision 0.14 (the Python that
// produced them is quoted next to them), plus the edge cases: nothing to
// measure, all pixels ignored, ties, exact thresholds, bad input.
#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <vector>

#include <typenet/metrics.hpp>

namespace {

namespace tn = typenet;
namespace tnm = typenet::metrics;
namespace tt = boost::test_tools;

constexpr double eps = 1e-12;

bool close(const std::optional<double>& a, double b) {
  return a && std::abs(*a - b) <= eps;
}

std::vector<std::size_t> indices(std::initializer_list<std::size_t> v) {
  return v;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(metrics)

// ---- classification ------------------------------------------------------------------------

// truth 0 0 0 1 1 2 2 2 2 2, predicted 0 1 0 1 1 2 0 2 1 3, 4 classes:
//            pred 0  1  2  3
//   true 0      2  1  0  0     recall 2/3
//   true 1      0  2  0  0     recall 2/2
//   true 2      1  1  2  1     recall 2/5
//   true 3      0  0  0  0     no samples: left out
// accuracy 6/10; mean per-class recall (2/3 + 1 + 2/5) / 3 = (31/15) / 3 = 31/45.
const std::vector<int> truth10{0, 0, 0, 1, 1, 2, 2, 2, 2, 2};
const std::vector<int> pred10{0, 1, 0, 1, 1, 2, 0, 2, 1, 3};

BOOST_AUTO_TEST_CASE(confusion_matrix_counts) {
  tnm::confusion_matrix cm(4, truth10, pred10);
  const std::vector<std::int64_t> expected{2, 1, 0, 0, 0, 2, 0, 0, 1, 1, 2, 1, 0, 0, 0, 0};
  BOOST_TEST(std::vector<std::int64_t>(cm.counts().begin(), cm.counts().end()) == expected,
             tt::per_element());
  BOOST_TEST(cm(2, 3) == 1);
  BOOST_TEST(cm.total() == 10);
  BOOST_TEST(cm.correct() == 6);
  BOOST_TEST(cm.true_count(2) == 5);
  BOOST_TEST(cm.predicted_count(0) == 3);
  BOOST_TEST(cm.true_count(3) == 0);

  // Accumulating in two halves gives the same matrix.
  tnm::confusion_matrix halves(4);
  halves.update(std::span(truth10).first(4), std::span(pred10).first(4));
  tnm::confusion_matrix rest(4, std::span(truth10).subspan(4), std::span(pred10).subspan(4));
  halves += rest;
  BOOST_TEST((halves == cm));
  halves.reset();
  BOOST_TEST(halves.total() == 0);
}

BOOST_AUTO_TEST_CASE(accuracy_and_balanced_error_rate) {
  const tnm::confusion_matrix cm(4, truth10, pred10);
  BOOST_TEST(close(tnm::accuracy(cm), 0.6));
  BOOST_TEST(close(tnm::error_rate(cm), 0.4));
  BOOST_TEST(close(tnm::accuracy(truth10, pred10), 0.6));
  BOOST_TEST(close(tnm::error_rate(truth10, pred10), 0.4));

  const auto per_class = tnm::per_class_accuracy(cm);
  BOOST_TEST_REQUIRE(per_class.size() == 4u);
  BOOST_TEST(close(per_class[0], 2.0 / 3));
  BOOST_TEST(close(per_class[1], 1.0));
  BOOST_TEST(close(per_class[2], 0.4));
  BOOST_TEST(!per_class[3].has_value());
  BOOST_TEST(tnm::per_class_recall(cm) == per_class);
  BOOST_TEST(close(tnm::mean_per_class_recall(cm), 31.0 / 45));
  BOOST_TEST(close(tnm::balanced_error_rate(cm), 14.0 / 45));
}

BOOST_AUTO_TEST_CASE(balanced_error_rate_of_an_imbalanced_set) {
  // 9 samples of class 0, 1 of class 1, always "0": accuracy 0.9, but the
  // mean recall is (1 + 0) / 2, so BER = 0.5.
  const std::vector<int> truth{0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  const std::vector<int> pred(10, 0);
  const tnm::confusion_matrix cm(2, truth, pred);
  BOOST_TEST(close(tnm::accuracy(cm), 0.9));
  BOOST_TEST(close(tnm::balanced_error_rate(cm), 0.5));
}

BOOST_AUTO_TEST_CASE(classification_of_nothing) {
  const std::vector<int> none;
  BOOST_TEST(!tnm::accuracy(none, none).has_value());
  BOOST_TEST(!tnm::error_rate(none, none).has_value());
  const tnm::confusion_matrix cm(3, none, none);
  BOOST_TEST(!tnm::accuracy(cm).has_value());
  BOOST_TEST(!tnm::mean_per_class_recall(cm).has_value());
  BOOST_TEST(!tnm::balanced_error_rate(cm).has_value());
  for (const auto& r : tnm::per_class_accuracy(cm)) BOOST_TEST(!r.has_value());
}

BOOST_AUTO_TEST_CASE(classification_errors) {
  const std::vector<int> a{0, 1, 2}, b{0, 1};
  BOOST_CHECK_THROW(tnm::accuracy(a, b), tn::shape_error);
  BOOST_CHECK_THROW(tnm::confusion_matrix(3, a, b), tn::shape_error);
  BOOST_CHECK_THROW(tnm::confusion_matrix(0), tn::usage_error);
  tnm::confusion_matrix cm(3);
  const std::vector<int> bad{0, 3, 1}, negative{0, -1, 1};
  BOOST_CHECK_THROW(cm.update(bad, a), tn::usage_error);
  BOOST_CHECK_THROW(cm.update(a, negative), tn::usage_error);
  BOOST_TEST(cm.total() == 0);  // nothing half-added
  BOOST_CHECK_THROW(cm.add(0, 3), tn::usage_error);
  BOOST_CHECK_THROW(cm(3, 0), tn::usage_error);
  BOOST_CHECK_THROW(cm += tnm::confusion_matrix(2), tn::shape_error);
}

// Three samples, four classes:
//   s0 [0.1, 2.0, 0.5, 1.0] label 2: classes 1 and 3 rank above -> hit for k >= 3
//   s1 [1, 1, 1, 0]         label 1: tie with class 0, lower index ranks first -> k >= 2
//   s2 [3, -1, 0, 2]        label 0: the best -> k >= 1
// top-1 1/3, top-2 2/3, top-3 3/3; argmax 1, 0 (first of the tied maxima), 0.
const std::vector<float> logits3x4{0.1f, 2.0f, 0.5f, 1.0f, 1, 1, 1, 0, 3, -1, 0, 2};
const std::vector<int> labels3{2, 1, 0};

BOOST_AUTO_TEST_CASE(top_k_from_spans_and_tensors) {
  BOOST_TEST(close(tnm::top_k_accuracy(logits3x4, 4, labels3, 1), 1.0 / 3));
  BOOST_TEST(close(tnm::top_k_accuracy(logits3x4, 4, labels3, 2), 2.0 / 3));
  BOOST_TEST(close(tnm::top_k_accuracy(logits3x4, 4, labels3, 3), 1.0));
  BOOST_TEST(close(tnm::top_k_accuracy(logits3x4, 4, labels3, 4), 1.0));
  BOOST_TEST(tnm::top_k_hits(logits3x4, 4, labels3, 2) == 2);
  BOOST_TEST(tnm::argmax(logits3x4, 4) == (std::vector<int>{1, 0, 0}), tt::per_element());

  const std::vector<double> as_double(logits3x4.begin(), logits3x4.end());
  BOOST_TEST(close(tnm::top_k_accuracy(as_double, 4, labels3, 2), 2.0 / 3));

  tn::Tensor<tn::Shape<4>> logits(3);
  std::copy(logits3x4.begin(), logits3x4.end(), logits.data());
  BOOST_TEST(close(tnm::top_k_accuracy(logits, labels3, 1), 1.0 / 3));
  BOOST_TEST(close(tnm::top_k_accuracy(logits, labels3, 2), 2.0 / 3));
  BOOST_TEST(tnm::argmax(logits) == (std::vector<int>{1, 0, 0}), tt::per_element());
  // Top-1 accuracy is the accuracy of argmax.
  BOOST_TEST(*tnm::top_k_accuracy(logits, labels3, 1) ==
             *tnm::accuracy(labels3, tnm::argmax(logits)));
}

BOOST_AUTO_TEST_CASE(top_k_edge_cases_and_errors) {
  const std::vector<float> none;
  const std::vector<int> no_labels;
  BOOST_TEST(!tnm::top_k_accuracy(none, 4, no_labels, 1).has_value());
  BOOST_TEST(tnm::argmax(none, 4).empty());
  tn::Tensor<tn::Shape<4>> empty(0);
  BOOST_TEST(!tnm::top_k_accuracy(empty, no_labels, 1).has_value());

  BOOST_CHECK_THROW(tnm::top_k_accuracy(logits3x4, 4, labels3, 0), tn::usage_error);
  BOOST_CHECK_THROW(tnm::top_k_accuracy(logits3x4, 4, labels3, 5), tn::usage_error);
  BOOST_CHECK_THROW(tnm::top_k_accuracy(logits3x4, 3, labels3, 1), tn::shape_error);
  BOOST_CHECK_THROW(tnm::top_k_accuracy(logits3x4, 4, std::vector<int>{2, 1}, 1), tn::shape_error);
  BOOST_CHECK_THROW(tnm::top_k_accuracy(logits3x4, 4, std::vector<int>{2, 4, 0}, 1),
                    tn::usage_error);
  BOOST_CHECK_THROW(tnm::argmax(logits3x4, 5), tn::shape_error);
  tn::Tensor<tn::Shape<4>> logits(2);
  logits.fill(0);
  BOOST_CHECK_THROW(tnm::top_k_accuracy(logits, labels3, 1), tn::shape_error);
  auto with_nan = logits3x4;
  with_nan[5] = std::numeric_limits<float>::quiet_NaN();
  BOOST_CHECK_THROW(tnm::top_k_accuracy(with_nan, 4, labels3, 1), tn::usage_error);
  BOOST_CHECK_THROW(tnm::argmax(with_nan, 4), tn::usage_error);
}

// ---- detection: boxes and IoU --------------------------------------------------------------

BOOST_AUTO_TEST_CASE(box_formats) {
  const tnm::box b{2, 3, 6, 8};
  BOOST_TEST(b.width() == 4);
  BOOST_TEST(b.height() == 5);
  BOOST_TEST(b.area() == 20);
  BOOST_TEST((tnm::to_xywh(b) == tnm::xywh{2, 3, 4, 5}));
  BOOST_TEST((tnm::to_cxcywh(b) == tnm::cxcywh{4, 5.5, 4, 5}));
  BOOST_TEST((tnm::to_box(tnm::xywh{2, 3, 4, 5}) == b));
  BOOST_TEST((tnm::to_box(tnm::cxcywh{4, 5.5, 4, 5}) == b));
}

BOOST_AUTO_TEST_CASE(iou_by_hand) {
  // Two 10x10 squares offset by 5 in x and y: intersection 5*5 = 25, union
  // 100 + 100 - 25 = 175, IoU 1/7 (continuous corners, no +1).
  BOOST_TEST(tnm::iou({0, 0, 10, 10}, {5, 5, 15, 15}) == 1.0 / 7, tt::tolerance(eps));
  // Same box: 1. Touching edges: 0. Inside: 4*4 / 10*10.
  BOOST_TEST(tnm::iou({0, 0, 10, 10}, {0, 0, 10, 10}) == 1.0);
  BOOST_TEST(tnm::iou({0, 0, 10, 10}, {10, 0, 20, 10}) == 0.0);
  BOOST_TEST(tnm::iou({0, 0, 10, 10}, {3, 3, 7, 7}) == 0.16, tt::tolerance(eps));
  // Zero-area boxes overlap nothing, even themselves (torchvision: NaN).
  BOOST_TEST(tnm::iou({3, 3, 3, 8}, {3, 3, 3, 8}) == 0.0);
  BOOST_CHECK_THROW(tnm::iou({0, 0, -1, 10}, {0, 0, 1, 1}), tn::usage_error);
  BOOST_CHECK_THROW(tnm::iou({0, std::numeric_limits<double>::quiet_NaN(), 1, 1}, {0, 0, 1, 1}),
                    tn::usage_error);
}

BOOST_AUTO_TEST_CASE(box_iou_matches_torchvision) {
  // import torch; from torchvision.ops import box_iou
  // A = torch.tensor([[0,0,10,10],[5,5,15,15],[2.5,1.5,7.25,9.75],[20,20,30,40],[3,3,3,8]],
  //                  dtype=torch.float64)
  // B = torch.tensor([[0,0,10,10],[1,2,11,12],[6,0,16,4],[25,30,26,50]], dtype=torch.float64)
  // print(box_iou(A, B).tolist())
  const std::vector<tnm::box> a{
      {0, 0, 10, 10}, {5, 5, 15, 15}, {2.5, 1.5, 7.25, 9.75}, {20, 20, 30, 40}, {3, 3, 3, 8}};
  const std::vector<tnm::box> b{{0, 0, 10, 10}, {1, 2, 11, 12}, {6, 0, 16, 4}, {25, 30, 26, 50}};
  const std::vector<double> torchvision{1.0,
                                        0.5625,
                                        0.12903225806451613,
                                        0.0,  //
                                        0.14285714285714285,
                                        0.26582278481012656,
                                        0.0,
                                        0.0,  //
                                        0.391875,
                                        0.3595848595848596,
                                        0.041084634346754315,
                                        0.0,  //
                                        0.0,
                                        0.0,
                                        0.0,
                                        0.047619047619047616,  //
                                        0.0,
                                        0.0,
                                        0.0,
                                        0.0};
  const auto ours = tnm::box_iou(a, b);
  BOOST_TEST_REQUIRE(ours.size() == torchvision.size());
  for (std::size_t i = 0; i < ours.size(); ++i)
    BOOST_TEST(ours[i] == torchvision[i], tt::tolerance(eps));
  BOOST_TEST(tnm::box_iou({}, b).empty());
}

// ---- detection: non-maximum suppression ----------------------------------------------------

// import torch; from torchvision.ops import nms, batched_nms
// g = torch.Generator().manual_seed(7)
// xy = torch.randint(0, 80, (12, 2), generator=g).double() / 4
// wh = torch.randint(8, 60, (12, 2), generator=g).double() / 4
// boxes = torch.cat([xy, xy + wh], 1)
// scores = torch.randperm(12, generator=g).double() / 16 + 0.03125
// labels = torch.randint(0, 3, (12,), generator=g)
// for t in (0.1, 0.3, 0.5):
//   print(t, nms(boxes, scores, t).tolist(), batched_nms(boxes, scores, labels, t).tolist())
const std::vector<tnm::box> nms_boxes{
    {3.75, 13.0, 16.75, 19.0}, {10.25, 1.5, 25.0, 10.25}, {0.75, 16.75, 4.25, 27.25},
    {1.75, 9.75, 14.5, 20.75}, {7.0, 10.25, 13.0, 20.0},  {19.5, 17.75, 27.75, 29.75},
    {2.0, 14.25, 8.0, 26.0},   {15.5, 2.5, 26.75, 11.5},  {6.5, 18.0, 14.25, 31.25},
    {5.75, 9.5, 11.75, 13.0},  {9.0, 0.0, 18.0, 5.25},    {3.75, 17.75, 13.25, 31.25}};
const std::vector<double> nms_scores{0.53125, 0.28125, 0.71875, 0.34375, 0.46875, 0.09375,
                                     0.40625, 0.59375, 0.03125, 0.65625, 0.21875, 0.15625};
const std::vector<int> nms_labels{0, 1, 0, 2, 2, 2, 0, 1, 2, 2, 2, 2};

BOOST_AUTO_TEST_CASE(nms_matches_torchvision) {
  BOOST_TEST(tnm::nms(nms_boxes, nms_scores, 0.1) == indices({2, 9, 7, 0, 10, 11, 5}),
             tt::per_element());
  BOOST_TEST(tnm::nms(nms_boxes, nms_scores, 0.3) == indices({2, 9, 7, 0, 6, 10, 11, 5}),
             tt::per_element());
  BOOST_TEST(tnm::nms(nms_boxes, nms_scores, 0.5) == indices({2, 9, 7, 0, 4, 6, 3, 1, 10, 11, 5}),
             tt::per_element());
  BOOST_TEST(
      tnm::batched_nms(nms_boxes, nms_scores, nms_labels, 0.1) == indices({2, 9, 7, 0, 10, 11, 5}),
      tt::per_element());
  BOOST_TEST(tnm::batched_nms(nms_boxes, nms_scores, nms_labels, 0.3) ==
                 indices({2, 9, 7, 0, 4, 6, 10, 11, 5}),
             tt::per_element());
  BOOST_TEST(tnm::batched_nms(nms_boxes, nms_scores, nms_labels, 0.5) ==
                 indices({2, 9, 7, 0, 4, 6, 3, 1, 10, 11, 5}),
             tt::per_element());
  // float scores give the same order.
  const std::vector<float> as_float(nms_scores.begin(), nms_scores.end());
  BOOST_TEST(tnm::nms(nms_boxes, as_float, 0.3) == indices({2, 9, 7, 0, 6, 10, 11, 5}),
             tt::per_element());
}

BOOST_AUTO_TEST_CASE(nms_threshold_ties_and_edges) {
  // IoU of these two is 72/128 = 0.5625 exactly; suppression needs IoU >
  // threshold: torchvision's nms(b, s, 0.5625) keeps [0, 1], nms(b, s, 0.5624) keeps [0].
  const std::vector<tnm::box> two{{0, 0, 10, 10}, {1, 2, 11, 12}};
  BOOST_TEST(tnm::nms(two, std::vector<double>{0.9, 0.8}, 0.5625) == indices({0, 1}),
             tt::per_element());
  BOOST_TEST(tnm::nms(two, std::vector<double>{0.9, 0.8}, 0.5624) == indices({0}),
             tt::per_element());
  // Lower score first in the input: the result is still in score order.
  BOOST_TEST(tnm::nms(two, std::vector<double>{0.1, 0.8}, 0.9) == indices({1, 0}),
             tt::per_element());
  // Equal scores: the lower index is taken first and suppresses the other.
  BOOST_TEST(tnm::nms(two, std::vector<double>{0.5, 0.5}, 0.5) == indices({0}), tt::per_element());
  // Different classes never suppress each other.
  BOOST_TEST(tnm::batched_nms(two, std::vector<double>{0.5, 0.5}, std::vector<int>{0, 1}, 0.5) ==
                 indices({0, 1}),
             tt::per_element());
  BOOST_TEST(tnm::nms({}, std::vector<double>{}, 0.5).empty());
  BOOST_CHECK_THROW(tnm::nms(two, std::vector<double>{0.5}, 0.5), tn::shape_error);
  BOOST_CHECK_THROW(tnm::batched_nms(two, std::vector<double>{0.5, 0.4}, std::vector<int>{0}, 0.5),
                    tn::shape_error);
  BOOST_CHECK_THROW(
      tnm::nms(two, std::vector<double>{0.5, std::numeric_limits<double>::quiet_NaN()}, 0.5),
      tn::usage_error);
}

// ---- detection: VOC matching and average precision -----------------------------------------

// One class, two images; G3 is difficult, so 3 ground truths count.
//   image 1: G1 (0,0,10,10)  G2 (20,20,30,30)  G3 (40,40,50,50) difficult
//     P1 .9 (0,0,10,10)   IoU(G1) = 1             TP
//     P2 .8 (1,1,10,10)   IoU(G1) = 81/100, but G1 is taken   FP (duplicate)
//     P3 .6 (40,40,50,50) best box is difficult    ignored
//     P4 .5 (20,20,30,40) IoU(G2) = 100/200 = 0.5 >= 0.5   TP
//   image 2: G4 (0,0,10,10)
//     P5 .7 (50,50,60,60) overlaps nothing         FP
//     P6 .3 (0,0,10,6)    IoU(G4) = 60/100         TP
// In score order (P3 left out):
//   score  TP/FP  cumTP  cumFP  precision  recall
//    .9     TP      1      0      1         1/3
//    .8     FP      1      1      1/2       1/3
//    .7     FP      1      2      1/3       1/3
//    .5     TP      2      2      1/2       2/3
//    .3     TP      3      2      3/5       1
// All points: precision made non-increasing from the right is 1, .6, .6, .6, .6;
//   AP = 1/3 * 1 + 1/3 * .6 + 1/3 * .6 = 11/15.
// 11 points: t = 0, .1, .2, .3 -> 1 (recall 1/3 >= .3); t = .4 ... 1 -> .6 (7 values);
//   AP = (4 + 7 * .6) / 11 = 8.2 / 11.
// py-faster-rcnn's / detectron2's voc_ap(rec, prec[, use_07_metric=True]) on
// this table gives the same: 0.7333333333333334 and 0.7454545454545456.
const std::vector<tnm::ground_truth> image1_truth{
    {{0, 0, 10, 10}, 0, false}, {{20, 20, 30, 30}, 0, false}, {{40, 40, 50, 50}, 0, true}};
const std::vector<tnm::detection> image1_pred{{{0, 0, 10, 10}, 0, 0.9},
                                              {{1, 1, 10, 10}, 0, 0.8},
                                              {{40, 40, 50, 50}, 0, 0.6},
                                              {{20, 20, 30, 40}, 0, 0.5}};
const std::vector<tnm::ground_truth> image2_truth{{{0, 0, 10, 10}, 0, false}};
const std::vector<tnm::detection> image2_pred{{{50, 50, 60, 60}, 0, 0.7}, {{0, 0, 10, 6}, 0, 0.3}};

BOOST_AUTO_TEST_CASE(voc_average_precision_by_hand) {
  tnm::detection_evaluator eval(1);
  eval.add_image(image1_pred, image1_truth);
  eval.add_image(image2_pred, image2_truth);
  const auto r = eval.result(0);
  BOOST_TEST(r.ground_truths == 3);
  BOOST_TEST(r.true_positives == 3);
  BOOST_TEST(r.false_positives == 2);
  const std::vector<double> precision{1, 0.5, 1.0 / 3, 0.5, 0.6};
  const std::vector<double> recall{1.0 / 3, 1.0 / 3, 1.0 / 3, 2.0 / 3, 1};
  BOOST_TEST_REQUIRE(r.precision.size() == 5u);
  BOOST_TEST_REQUIRE(r.recall.size() == 5u);
  for (std::size_t i = 0; i < 5; ++i) {
    BOOST_TEST(r.precision[i] == precision[i], tt::tolerance(eps));
    BOOST_TEST(r.recall[i] == recall[i], tt::tolerance(eps));
  }
  BOOST_TEST(close(r.final_precision(), 0.6));
  BOOST_TEST(close(r.final_recall(), 1.0));
  BOOST_TEST(close(r.average_precision, 11.0 / 15));
  BOOST_TEST(close(eval.mean_average_precision(), 11.0 / 15));

  tnm::detection_evaluator eleven(1, {.interpolation = tnm::ap_interpolation::eleven_point});
  eleven.add_image(image1_pred, image1_truth);
  eleven.add_image(image2_pred, image2_truth);
  BOOST_TEST(close(eleven.result(0).average_precision, 8.2 / 11));

  // The free function gives the same from the table.
  BOOST_TEST(tnm::average_precision(precision, recall) == 11.0 / 15, tt::tolerance(eps));
  BOOST_TEST(
      tnm::average_precision(precision, recall, tnm::ap_interpolation::eleven_point) == 8.2 / 11,
      tt::tolerance(eps));
}

BOOST_AUTO_TEST_CASE(voc_threshold_is_at_least) {
  // P4's IoU is exactly 0.5. With `>` it becomes a false positive:
  //   TP FP FP FP TP: precision 1, 1/2, 1/3, 1/4, 2/5; recall 1/3 x4, 2/3
  //   AP = 1/3 * 1 + 1/3 * 2/5 = 7/15.
  tnm::detection_evaluator strict(1, {.strict_threshold = true});
  strict.add_image(image1_pred, image1_truth);
  strict.add_image(image2_pred, image2_truth);
  BOOST_TEST(strict.result(0).true_positives == 2);
  BOOST_TEST(close(strict.result(0).average_precision, 7.0 / 15));
}

BOOST_AUTO_TEST_CASE(voc_difficult_boxes_counted_when_asked) {
  // ignore_difficult = false: 4 ground truths and P3 is a true positive.
  //   .9 TP .8 FP .7 FP .6 TP .5 TP .3 TP
  //   precision 1, 1/2, 1/3, 1/2, 3/5, 2/3; recall 1/4, 1/4, 1/4, 1/2, 3/4, 1
  //   monotone precision 1, 2/3, 2/3, 2/3, 2/3, 2/3
  //   AP = 1/4 * 1 + 3 * (1/4 * 2/3) = 3/4.
  tnm::detection_evaluator eval(1, {.ignore_difficult = false});
  eval.add_image(image1_pred, image1_truth);
  eval.add_image(image2_pred, image2_truth);
  const auto r = eval.result(0);
  BOOST_TEST(r.ground_truths == 4);
  BOOST_TEST(r.true_positives == 4);
  BOOST_TEST(close(r.average_precision, 0.75));
}

BOOST_AUTO_TEST_CASE(voc_duplicate_versus_best_unmatched) {
  // A (0,0,10,10) and B (2,0,12,10); P1 .9 = A; P2 .8 (0.5,0,10.5,10):
  //   IoU(P2, A) = 95/105 ~ .905, IoU(P2, B) = 85/115 ~ .739.
  // VOC: P2's best box A is taken -> FP; precision 1, 1/2, recall 1/2, 1/2; AP 1/2.
  // best_unmatched: P2 takes B -> TP; precision 1, 1, recall 1/2, 1; AP 1.
  const std::vector<tnm::ground_truth> truth{{{0, 0, 10, 10}, 0, false},
                                             {{2, 0, 12, 10}, 0, false}};
  const std::vector<tnm::detection> pred{{{0, 0, 10, 10}, 0, 0.9}, {{0.5, 0, 10.5, 10}, 0, 0.8}};
  tnm::detection_evaluator voc(1);
  voc.add_image(pred, truth);
  BOOST_TEST(voc.result(0).false_positives == 1);
  BOOST_TEST(close(voc.result(0).average_precision, 0.5));
  tnm::detection_evaluator unmatched(1, {.matching = tnm::match_rule::best_unmatched});
  unmatched.add_image(pred, truth);
  BOOST_TEST(unmatched.result(0).true_positives == 2);
  BOOST_TEST(close(unmatched.result(0).average_precision, 1.0));
}

BOOST_AUTO_TEST_CASE(mean_average_precision_over_classes) {
  // Class 0: the hand example (AP 11/15). Class 1: one box, never predicted
  // (AP 0, counts). Class 2: predicted, but no ground truth (no AP, left out).
  // mAP = (11/15 + 0) / 2 = 11/30.
  tnm::detection_evaluator eval(3);
  auto pred1 = image1_pred;
  pred1.push_back({{70, 70, 80, 80}, 2, 0.95});
  auto truth2 = image2_truth;
  truth2.push_back({{30, 30, 40, 40}, 1, false});
  eval.add_image(pred1, image1_truth);
  eval.add_image(image2_pred, truth2);
  const auto r = eval.results();
  BOOST_TEST_REQUIRE(r.size() == 3u);
  BOOST_TEST(close(r[0].average_precision, 11.0 / 15));
  BOOST_TEST(close(r[1].average_precision, 0.0));
  BOOST_TEST(!r[1].final_precision().has_value());
  BOOST_TEST(close(r[1].final_recall(), 0.0));
  BOOST_TEST(!r[2].average_precision.has_value());
  BOOST_TEST(!r[2].final_recall().has_value());
  BOOST_TEST(close(r[2].final_precision(), 0.0));
  BOOST_TEST(close(eval.mean_average_precision(), 11.0 / 30));
  // A prediction of another class never matches: class 2 at G1's place is FP.
  tnm::detection_evaluator other(3);
  other.add_image(std::vector<tnm::detection>{{{0, 0, 10, 10}, 2, 0.9}}, image1_truth);
  BOOST_TEST(other.result(2).false_positives == 1);
  BOOST_TEST(close(other.result(0).average_precision, 0.0));
}

BOOST_AUTO_TEST_CASE(detection_edge_cases) {
  tnm::detection_evaluator eval(2);
  BOOST_TEST(!eval.mean_average_precision().has_value());  // nothing added
  eval.add_image({}, {});
  BOOST_TEST(!eval.mean_average_precision().has_value());
  // No predictions at all: AP 0.
  eval.add_image({}, image2_truth);
  BOOST_TEST(close(eval.mean_average_precision(), 0.0));
  BOOST_TEST(eval.result(0).precision.empty());
  // Only a difficult ground truth: no AP.
  tnm::detection_evaluator difficult_only(1);
  difficult_only.add_image(std::vector<tnm::detection>{{{40, 40, 50, 50}, 0, 0.6}},
                           std::vector<tnm::ground_truth>{{{40, 40, 50, 50}, 0, true}});
  BOOST_TEST(!difficult_only.result(0).average_precision.has_value());
  BOOST_TEST(difficult_only.result(0).predictions() == 0);
  eval.reset();
  BOOST_TEST(!eval.mean_average_precision().has_value());
}

BOOST_AUTO_TEST_CASE(detection_score_ties) {
  // Within an image, equal scores are taken in input order: the first of two
  // identical predictions gets the box.
  const std::vector<tnm::ground_truth> g{{{0, 0, 10, 10}, 0, false}};
  tnm::detection_evaluator within(1);
  within.add_image(
      std::vector<tnm::detection>{{{50, 50, 60, 60}, 0, 0.5}, {{0, 0, 10, 10}, 0, 0.5}}, g);
  // Ranked FP then TP: precision 0, 1/2; recall 0, 1; AP = 1 * 1/2.
  const auto r = within.result(0);
  BOOST_TEST(r.precision == (std::vector<double>{0.0, 0.5}), tt::per_element());
  BOOST_TEST(close(r.average_precision, 0.5));
  // Across images, equal scores keep the order of add_image: TP then FP; AP 1.
  tnm::detection_evaluator across(1);
  across.add_image(std::vector<tnm::detection>{{{0, 0, 10, 10}, 0, 0.5}}, g);
  across.add_image(std::vector<tnm::detection>{{{50, 50, 60, 60}, 0, 0.5}}, {});
  BOOST_TEST(across.result(0).precision == (std::vector<double>{1.0, 0.5}), tt::per_element());
  BOOST_TEST(close(across.result(0).average_precision, 1.0));
}

BOOST_AUTO_TEST_CASE(detection_errors) {
  BOOST_CHECK_THROW(tnm::detection_evaluator(0), tn::usage_error);
  BOOST_CHECK_THROW(tnm::detection_evaluator(1, {.iou_threshold = 1.5}), tn::usage_error);
  tnm::detection_evaluator eval(2);
  BOOST_CHECK_THROW(eval.add_image(std::vector<tnm::detection>{{{0, 0, 1, 1}, 2, 0.5}}, {}),
                    tn::usage_error);
  BOOST_CHECK_THROW(eval.add_image({}, std::vector<tnm::ground_truth>{{{0, 0, 1, 1}, -1, false}}),
                    tn::usage_error);
  // A bad box after good input leaves the evaluator untouched.
  BOOST_CHECK_THROW(eval.add_image(std::vector<tnm::detection>{{{0, 0, 1, 1}, 0, 0.5}},
                                   std::vector<tnm::ground_truth>{{{0, 0, 1, 1}, 0, false},
                                                                  {{5, 0, 1, 1}, 0, false}}),
                    tn::usage_error);
  BOOST_TEST(eval.result(0).ground_truths == 0);
  BOOST_TEST(eval.result(0).predictions() == 0);
  BOOST_CHECK_THROW(eval.result(2), tn::usage_error);
  BOOST_CHECK_THROW(tnm::average_precision(std::vector<double>{1}, std::vector<double>{}),
                    tn::shape_error);
}

// ---- segmentation --------------------------------------------------------------------------

// 4 classes, ignore label 255:
//   truth      0 0 1 1 255 2 0 255
//   predicted  0 1 1 1  2  2 0  0
// Six pixels count (the two 255s do not, whatever was predicted there):
// n = 5, e = 1 (a 0 taken for 1), SA = 5/6.
//   class 0: TP 2, FP 0, FN 1 -> 2/3
//   class 1: TP 2, FP 1, FN 0 -> 2/3
//   class 2: TP 1, FP 0, FN 0 -> 1
//   class 3: absent from both -> none, left out
// mean IoU = (2/3 + 2/3 + 1) / 3 = 7/9.
const std::vector<int> seg_truth{0, 0, 1, 1, 255, 2, 0, 255};
const std::vector<int> seg_pred{0, 1, 1, 1, 2, 2, 0, 0};

BOOST_AUTO_TEST_CASE(segmentation_by_hand) {
  tnm::segmentation_evaluator eval(4);
  eval.update(seg_truth, seg_pred);
  BOOST_TEST(eval.correct_pixels() == 5);
  BOOST_TEST(eval.wrong_pixels() == 1);
  BOOST_TEST(close(eval.pixel_accuracy(), 5.0 / 6));
  const auto iou = eval.class_iou();
  BOOST_TEST_REQUIRE(iou.size() == 4u);
  BOOST_TEST(close(iou[0], 2.0 / 3));
  BOOST_TEST(close(iou[1], 2.0 / 3));
  BOOST_TEST(close(iou[2], 1.0));
  BOOST_TEST(!iou[3].has_value());
  BOOST_TEST(close(eval.mean_iou(), 7.0 / 9));

  // The same as bytes, as label PNGs hold them.
  const std::vector<std::uint8_t> truth8(seg_truth.begin(), seg_truth.end());
  const std::vector<std::uint8_t> pred8(seg_pred.begin(), seg_pred.end());
  tnm::segmentation_evaluator bytes(4);
  bytes.update(truth8, pred8);
  BOOST_TEST((bytes.confusion() == eval.confusion()));
}

BOOST_AUTO_TEST_CASE(segmentation_accumulates_over_images) {
  // A second image, truth 3 3, predicted 3 0, adds class 3 (TP 1, FN 1) and
  // an FP to class 0. Totals: n = 6, e = 2, SA = 6/8;
  //   IoU 0 = 2/(2+1+1) = 1/2, 1 = 2/3, 2 = 1, 3 = 1/2; mean = (1/2 + 2/3 + 1 + 1/2) / 4 = 2/3.
  // That is the score of all pixels together, not the mean of per-image scores.
  tnm::segmentation_evaluator eval(4);
  eval.update(seg_truth, seg_pred);
  eval.update(std::vector<int>{3, 3}, std::vector<int>{3, 0});
  BOOST_TEST(close(eval.pixel_accuracy(), 0.75));
  BOOST_TEST(close(eval.mean_iou(), 2.0 / 3));

  tnm::segmentation_evaluator once(4);
  std::vector<int> t = seg_truth, p = seg_pred;
  t.insert(t.end(), {3, 3});
  p.insert(p.end(), {3, 0});
  once.update(t, p);
  BOOST_TEST((once.confusion() == eval.confusion()));
  eval.reset();
  BOOST_TEST(!eval.pixel_accuracy().has_value());
}

BOOST_AUTO_TEST_CASE(segmentation_edge_cases_and_errors) {
  tnm::segmentation_evaluator eval(3);
  BOOST_TEST(!eval.pixel_accuracy().has_value());  // no pixels
  BOOST_TEST(!eval.mean_iou().has_value());
  eval.update(std::vector<int>{255, 255}, std::vector<int>{0, 255});  // all ignored
  BOOST_TEST(!eval.pixel_accuracy().has_value());
  BOOST_TEST(!eval.mean_iou().has_value());
  BOOST_TEST(eval.confusion().total() == 0);

  // Errors leave the running matrix unchanged.
  BOOST_CHECK_THROW(eval.update(std::vector<int>{0, 1}, std::vector<int>{0}), tn::shape_error);
  BOOST_CHECK_THROW(eval.update(std::vector<int>{0, 3}, std::vector<int>{0, 1}), tn::usage_error);
  BOOST_CHECK_THROW(eval.update(std::vector<int>{0, 1}, std::vector<int>{0, 255}), tn::usage_error);
  BOOST_TEST(eval.confusion().total() == 0);

  // Without an ignore label, 255 is just out of range; another ignore label works too.
  tnm::segmentation_evaluator all(3, tnm::no_ignore_label);
  BOOST_CHECK_THROW(all.update(std::vector<int>{255}, std::vector<int>{0}), tn::usage_error);
  tnm::segmentation_evaluator minus_one(3, -1);
  BOOST_CHECK_THROW(minus_one.update(std::vector<int>{-1}, std::vector<int>{0}), tn::usage_error);
  tnm::segmentation_evaluator ignore_zero(3, 0);
  ignore_zero.update(std::vector<int>{0, 1, 2}, std::vector<int>{1, 1, 1});
  // Pixel 0 ignored; 1 right, 2 wrong: SA 1/2; IoU 0 = 0/(0+0+0) none,
  // IoU 1 = 1/(1+1+0) = 1/2, IoU 2 = 0/(0+0+1) = 0; mean 1/4.
  BOOST_TEST(close(ignore_zero.pixel_accuracy(), 0.5));
  BOOST_TEST(close(ignore_zero.mean_iou(), 0.25));
}

BOOST_AUTO_TEST_SUITE_END()
