// Evaluation metrics on a small example annotated by hand: box IoU, detection
// precision / recall / average precision (PASCAL VOC rules, IoU >= 0.5) and
// segmentation pixel accuracy / per-class IoU / mean IoU.
//
//   metrics_demo                    # print the tables, check every value
//   metrics_demo --tolerance 1e-9   # how far a value may stray from the hand value
//
// Every number the library computes is printed beside the value worked out by
// hand (the arithmetic is in the comments below and in the "by hand" column),
// and the exit status is 1 if any of them differs, 0 if all agree, 2 on an
// error. It uses only include/typenet/metrics/ (see docs/metrics.md), so it
// needs neither Eigen nor the rest of the library.
#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "command_line.hpp"
#include "typenet/metrics/detection.hpp"
#include "typenet/metrics/segmentation.hpp"

namespace tnm = typenet::metrics;  // not `tm`: <ctime> has ::tm

namespace {

/// Prints "computed | by hand | arithmetic | ok" rows and counts mismatches.
/// A nullopt ("n/a") is expected where the value is 0/0.
class checker {
 public:
  explicit checker(double tolerance) : tolerance_(tolerance) {}

  void header() const {
    std::printf("  %-40s %10s %10s  %s\n", "quantity", "computed", "by hand", "worked out");
  }

  void row(const std::string& what, std::optional<double> got, std::optional<double> expected,
           const std::string& by_hand) {
    const bool ok = got.has_value() == expected.has_value() &&
                    (!got || std::fabs(*got - *expected) <= tolerance_);
    if (!ok) ++failures_;
    std::printf("  %-40s %10s %10s  %-34s %s\n", what.c_str(), format(got).c_str(),
                format(expected).c_str(), by_hand.c_str(), ok ? "ok" : "MISMATCH");
  }

  /// An exact count.
  void count(const std::string& what, std::int64_t got, std::int64_t expected,
             const std::string& by_hand) {
    const bool ok = got == expected;
    if (!ok) ++failures_;
    std::printf("  %-40s %10lld %10lld  %-34s %s\n", what.c_str(), static_cast<long long>(got),
                static_cast<long long>(expected), by_hand.c_str(), ok ? "ok" : "MISMATCH");
  }

  /// A point check without its own row (marks the row the caller prints).
  bool same(double got, double expected) {
    const bool ok = std::fabs(got - expected) <= tolerance_;
    if (!ok) ++failures_;
    return ok;
  }
  void fail() { ++failures_; }

  int failures() const noexcept { return failures_; }

  static std::string format(std::optional<double> v) {
    if (!v) return "n/a";
    char s[32];
    std::snprintf(s, sizeof s, "%.6f", *v);
    return s;
  }

 private:
  double tolerance_;
  int failures_ = 0;
};

std::string str(const tnm::box& b) {
  char s[64];
  std::snprintf(s, sizeof s, "(%g, %g, %g, %g)", b.x1, b.y1, b.x2, b.y2);
  return s;
}

// ---- 1. Box IoU ---------------------------------------------------------------------------

void box_iou_section(checker& check) {
  std::printf(
      "1. Box IoU = area(A and B) / area(A or B); boxes are corners (x1, y1, x2, y2),\n"
      "   width = x2 - x1 (no \"+1\"), as torchvision.ops.box_iou\n\n");
  struct pair {
    const char* what;
    tnm::box a, b;
    double expected;
    const char* by_hand;
  };
  const pair pairs[] = {
      // Intersection [1,2] x [1,2] = 1; union 4 + 4 - 1 = 7.
      {"overlapping corners", {0, 0, 2, 2}, {1, 1, 3, 3}, 1.0 / 7, "1 / (4 + 4 - 1) = 1/7"},
      // Intersection [0.5,1] x [0.5,1] = 0.25; union 1 + 1 - 0.25 = 1.75.
      {"unit squares, shifted (0.5, 0.5)",
       {0, 0, 1, 1},
       {0.5, 0.5, 1.5, 1.5},
       0.25 / 1.75,
       "0.25 / 1.75 = 1/7"},
      // Intersection [0.5,1] x [0,1] = 0.5; union 1 + 1 - 0.5 = 1.5.
      {"unit squares, shifted (0.5, 0)",
       {0, 0, 1, 1},
       {0.5, 0, 1.5, 1},
       1.0 / 3,
       "0.5 / 1.5 = 1/3"},
      // B lies inside A: intersection = area(B) = 4, union = area(A) = 16.
      {"one inside the other", {0, 0, 4, 4}, {1, 1, 3, 3}, 0.25, "4 / 16 = 1/4"},
      // Intersection 10 x 10 = 100; union 100 + 200 - 100 = 200.
      {"exactly at the 0.5 threshold", {0, 0, 10, 10}, {0, 0, 10, 20}, 0.5, "100 / 200 = 1/2"},
      {"identical", {2, 3, 5, 7}, {2, 3, 5, 7}, 1, "12 / 12 = 1"},
      // They touch along x = 1: the intersection has width 0.
      {"sharing an edge", {0, 0, 1, 1}, {1, 0, 2, 1}, 0, "0 / 2 = 0"},
      {"disjoint", {0, 0, 1, 1}, {2, 2, 3, 3}, 0, "0 / 2 = 0"},
      // Both formats describe the corners (10, 20, 40, 60).
      {"xywh(10,20,30,40) vs cxcywh(25,40,30,40)", tnm::to_box(tnm::xywh{10, 20, 30, 40}),
       tnm::to_box(tnm::cxcywh{25, 40, 30, 40}), 1, "same box (10, 20, 40, 60) = 1"},
  };
  std::printf("  %-40s %-22s %s\n", "pair", "A", "B");
  for (const auto& p : pairs)
    std::printf("  %-40s %-22s %s\n", p.what, str(p.a).c_str(), str(p.b).c_str());
  std::printf("\n");
  check.header();
  for (const auto& p : pairs) check.row(p.what, tnm::iou(p.a, p.b), p.expected, p.by_hand);
  std::printf("\n");
}

// ---- 2. Detection -------------------------------------------------------------------------

constexpr int cat = 0, dog = 1, bird = 2;
constexpr const char* class_names[] = {"cat", "dog", "bird"};

/// One image: its annotation and what a detector predicted, each prediction
/// with the verdict worked out by hand.
struct image {
  std::vector<tnm::ground_truth> truth;
  std::vector<tnm::detection> predicted;
  std::vector<const char*> verdict;  // one per prediction
};

std::vector<image> detection_scene() {
  // Ground truth (G1..G6) and predictions. IoU by hand:
  //   image 1: cat 0.9 = G1 exactly -> IoU 1, true positive.
  //            cat 0.6 (1,0,11,10) vs G1: 9*10 / (100 + 100 - 90) = 90/110 = 9/11 >= 0.5,
  //              but G1 is already taken by the 0.9 -> duplicate, false positive.
  //            dog 0.8 (22,0,32,10) vs G2 (20,0,30,10): 8*10 / (100 + 100 - 80) = 2/3 -> TP.
  //   image 2: cat 0.8 (30,30,40,40) overlaps nothing -> false positive.
  //            cat 0.7 (0,0,10,8) vs G3: 80 / (100 + 80 - 80) = 0.8 -> TP.
  //            G4 (50,50,60,60) is never found -> a miss (lowers recall).
  //            bird 0.3: no bird anywhere -> false positive of a class without ground truth.
  //   image 3: dog 0.5 (40,40,50,50) overlaps nothing -> false positive.
  //            dog 0.4 (0,0,10,20) vs G5 (0,0,10,10): 100 / 200 = 0.5 exactly ->
  //              TP under VOC's IoU >= 0.5 (a false positive with the strict IoU > 0.5).
  //            cat 0.95 = G6, which is marked difficult -> ignored (neither TP nor FP),
  //              and G6 does not count as ground truth.
  std::vector<image> images(3);
  images[0].truth = {{.bbox = {0, 0, 10, 10}, .label = cat},    // G1
                     {.bbox = {20, 0, 30, 10}, .label = dog}};  // G2
  // The duplicate comes first in the input: matching goes by score, not input order.
  images[0].predicted = {{.bbox = {1, 0, 11, 10}, .label = cat, .score = 0.6},
                         {.bbox = {0, 0, 10, 10}, .label = cat, .score = 0.9},
                         {.bbox = {22, 0, 32, 10}, .label = dog, .score = 0.8}};
  images[0].verdict = {"FP: duplicate of G1 (IoU 9/11)", "TP: G1 (IoU 1)", "TP: G2 (IoU 2/3)"};

  images[1].truth = {{.bbox = {0, 0, 10, 10}, .label = cat},     // G3
                     {.bbox = {50, 50, 60, 60}, .label = cat}};  // G4, missed
  images[1].predicted = {{.bbox = {30, 30, 40, 40}, .label = cat, .score = 0.8},
                         {.bbox = {0, 0, 10, 8}, .label = cat, .score = 0.7},
                         {.bbox = {5, 5, 9, 9}, .label = bird, .score = 0.3}};
  images[1].verdict = {"FP: background, overlaps nothing", "TP: G3 (IoU 0.8)",
                       "FP: no bird in any image"};

  images[2].truth = {{.bbox = {0, 0, 10, 10}, .label = dog},                        // G5
                     {.bbox = {20, 20, 30, 30}, .label = cat, .difficult = true}};  // G6
  images[2].predicted = {{.bbox = {40, 40, 50, 50}, .label = dog, .score = 0.5},
                         {.bbox = {0, 0, 10, 20}, .label = dog, .score = 0.4},
                         {.bbox = {20, 20, 30, 30}, .label = cat, .score = 0.95}};
  images[2].verdict = {"FP: background, overlaps nothing", "TP: G5 (IoU exactly 1/2)",
                       "ignored: G6 is difficult"};
  return images;
}

/// One point of a class's precision/recall curve, as worked out by hand.
struct curve_point {
  double score;
  int image;
  const char* verdict;
  double precision, recall;
  const char* by_hand;  // "P = TP/(TP+FP), R = TP/GT"
};

void print_curve(checker& check, int c, const tnm::class_detection_result& r,
                 const std::vector<curve_point>& expected) {
  std::printf("  %s: %lld ground-truth boxes, predictions ranked by score over all images\n",
              class_names[c], static_cast<long long>(r.ground_truths));
  std::printf("    %5s %5s  %-26s %9s %9s  %s\n", "score", "image", "verdict", "precision",
              "recall", "by hand");
  if (r.precision.size() != expected.size()) {
    std::printf("    MISMATCH: %zu counted predictions, %zu by hand\n", r.precision.size(),
                expected.size());
    check.fail();
    return;
  }
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto& e = expected[i];
    const bool ok = check.same(r.precision[i], e.precision) && check.same(r.recall[i], e.recall);
    std::printf("    %5.2f %5d  %-26s %9.6f %9.6f  %-22s %s\n", e.score, e.image, e.verdict,
                r.precision[i], r.recall[i], e.by_hand, ok ? "ok" : "MISMATCH");
  }
  std::printf("\n");
}

void detection_section(checker& check) {
  std::printf(
      "2. Detection: 3 images, classes cat / dog / bird, PASCAL VOC matching at IoU >= 0.5\n"
      "   (each prediction, best score first, takes the ground-truth box of its class it\n"
      "   overlaps most; a second hit on a taken box is a false positive)\n\n");
  const auto images = detection_scene();
  tnm::detection_evaluator eval(3);                                // IoU >= 0.5, all-point AP
  tnm::detection_evaluator strict(3, {.strict_threshold = true});  // IoU > 0.5
  tnm::detection_evaluator voc2007(3, {.interpolation = tnm::ap_interpolation::eleven_point});
  int g_number = 0;  // G1, G2, ... in the order of the images
  for (std::size_t i = 0; i < images.size(); ++i) {
    const auto& im = images[i];
    std::printf("  image %zu\n", i + 1);
    for (const auto& g : im.truth)
      std::printf("    truth    G%d %-5s %s%s\n", ++g_number, class_names[g.label],
                  str(g.bbox).c_str(), g.difficult ? "  difficult" : "");
    for (std::size_t j = 0; j < im.predicted.size(); ++j) {
      const auto& d = im.predicted[j];
      std::printf("    predicted   %-5s %-22s score %.2f  %s\n", class_names[d.label],
                  str(d.bbox).c_str(), d.score, im.verdict[j]);
    }
    eval.add_image(im.predicted, im.truth);
    strict.add_image(im.predicted, im.truth);
    voc2007.add_image(im.predicted, im.truth);
  }
  std::printf("\n");

  // cat: 3 countable boxes (G1, G3, G4; G6 is difficult). Ranked, the ignored
  // 0.95 left out: TP, FP, TP, FP.
  const auto rc = eval.result(cat);
  print_curve(check, cat, rc,
              {{0.9, 1, "TP", 1.0 / 1, 1.0 / 3, "P = 1/1, R = 1/3"},
               {0.8, 2, "FP (background)", 1.0 / 2, 1.0 / 3, "P = 1/2, R = 1/3"},
               {0.7, 2, "TP", 2.0 / 3, 2.0 / 3, "P = 2/3, R = 2/3"},
               {0.6, 1, "FP (duplicate)", 2.0 / 4, 2.0 / 3, "P = 2/4, R = 2/3"}});
  // dog: 2 boxes (G2, G5). Ranked: TP, FP, TP.
  const auto rd = eval.result(dog);
  print_curve(check, dog, rd,
              {{0.8, 1, "TP", 1.0 / 1, 1.0 / 2, "P = 1/1, R = 1/2"},
               {0.5, 3, "FP (background)", 1.0 / 2, 1.0 / 2, "P = 1/2, R = 1/2"},
               {0.4, 3, "TP (IoU = 0.5)", 2.0 / 3, 2.0 / 2, "P = 2/3, R = 2/2"}});
  const auto rb = eval.result(bird);

  // All-point AP (VOC2010+): precision made non-increasing from the right,
  // summed over the steps in recall.
  //   cat: recall 0 -> 1/3 at precision max(1, 1/2, 2/3, 1/2) = 1,
  //        1/3 -> 2/3 at max(2/3, 1/2) = 2/3, then no more recall:
  //        AP = 1/3 * 1 + 1/3 * 2/3 = 3/9 + 2/9 = 5/9.
  //   dog: 0 -> 1/2 at 1, 1/2 -> 1 at 2/3: AP = 1/2 + 1/3 = 5/6.
  //   bird: no ground truth -> no recall, no AP, left out of the mean.
  //   mAP = (5/9 + 5/6) / 2 = (10/18 + 15/18) / 2 = 25/36.
  check.header();
  check.count("cat  ground truths (G6 difficult)", rc.ground_truths, 3, "G1, G3, G4");
  check.count("cat  true positives", rc.true_positives, 2, "scores 0.9, 0.7");
  check.count("cat  false positives", rc.false_positives, 2, "0.8 background, 0.6 duplicate");
  check.row("cat  precision", rc.final_precision(), 0.5, "2 / (2 + 2) = 1/2");
  check.row("cat  recall", rc.final_recall(), 2.0 / 3, "2 / 3 (G4 missed)");
  check.row("cat  AP", rc.average_precision, 5.0 / 9, "1/3 * 1 + 1/3 * 2/3 = 5/9");
  check.row("dog  precision", rd.final_precision(), 2.0 / 3, "2 / (2 + 1) = 2/3");
  check.row("dog  recall", rd.final_recall(), 1, "2 / 2");
  check.row("dog  AP", rd.average_precision, 5.0 / 6, "1/2 * 1 + 1/2 * 2/3 = 5/6");
  check.row("bird precision", rb.final_precision(), 0, "0 / (0 + 1) = 0");
  check.row("bird recall", rb.final_recall(), std::nullopt, "0 / 0: no bird in truth");
  check.row("bird AP", rb.average_precision, std::nullopt, "none, left out of mAP");
  check.row("mAP (cat, dog)", eval.mean_average_precision(), 25.0 / 36, "(5/9 + 5/6) / 2 = 25/36");

  // Strict IoU > 0.5 (py-faster-rcnn, detectron2): dog 0.4 (IoU exactly 0.5)
  // becomes a false positive; dog curve P 1, 1/2, 1/3 at R 1/2, 1/2, 1/2:
  // AP = 1/2 * 1 = 1/2. cat has no IoU at exactly 0.5, so keeps 5/9.
  // mAP = (5/9 + 1/2) / 2 = (10/18 + 9/18) / 2 = 19/36.
  const auto sd = strict.result(dog);
  check.row("strict IoU > 0.5: dog recall", sd.final_recall(), 0.5, "1 / 2 (G5 now missed)");
  check.row("strict IoU > 0.5: dog AP", sd.average_precision, 0.5, "1/2 * 1 = 1/2");
  check.row("strict IoU > 0.5: mAP", strict.mean_average_precision(), 19.0 / 36,
            "(5/9 + 1/2) / 2 = 19/36");

  // 11-point AP (VOC2007): mean over t = 0, 0.1, ..., 1 of the best precision
  // at recall >= t.
  //   cat: t = 0..0.3 (4 values): 1; t = 0.4..0.6 (3): 2/3; t = 0.7..1 (4): 0.
  //        AP = (4 + 2) / 11 = 6/11.
  //   dog: t = 0..0.5 (6 values): 1; t = 0.6..1 (5): 2/3.
  //        AP = (6 + 10/3) / 11 = 28/33.
  //   mAP = (6/11 + 28/33) / 2 = (18/33 + 28/33) / 2 = 23/33.
  check.row("11-point: cat AP", voc2007.result(cat).average_precision, 6.0 / 11,
            "(4 * 1 + 3 * 2/3) / 11 = 6/11");
  check.row("11-point: dog AP", voc2007.result(dog).average_precision, 28.0 / 33,
            "(6 * 1 + 5 * 2/3) / 11 = 28/33");
  check.row("11-point: mAP", voc2007.mean_average_precision(), 23.0 / 33,
            "(6/11 + 28/33) / 2 = 23/33");
  std::printf("\n");
}

// ---- 3. Segmentation ----------------------------------------------------------------------

void segmentation_section(checker& check) {
  constexpr int height = 4, width = 6, classes = 4;
  constexpr std::uint8_t X = 255;  // VOC's "ignore" label (object boundaries)
  constexpr const char* names[] = {"background", "cat", "dog", "bird"};
  // A cat (1) on the left, a dog (2) on the right, a boundary column between
  // them that the annotator marked "ignore" (255), and no bird (3).
  const std::uint8_t truth[height * width] = {
      0, 0, 0, 0, 0, 0,  //
      0, 1, 1, X, 2, 2,  //
      0, 1, 1, X, 2, 2,  //
      0, 0, 0, 0, 0, 0,  //
  };
  const std::uint8_t predicted[height * width] = {
      0, 0, 0, 0, 0, 0,  //
      0, 1, 1, 1, 2, 0,  //
      0, 1, 0, 2, 2, 2,  //
      0, 0, 0, 0, 0, 1,  //
  };
  std::printf(
      "3. Segmentation: a %dx%d label map, classes 0 background, 1 cat, 2 dog, 3 bird;\n"
      "   # = 255, ignored (whatever is predicted there)\n\n",
      height, width);
  std::printf("    truth          predicted\n");
  for (int y = 0; y < height; ++y) {
    std::printf("    ");
    for (int x = 0; x < width; ++x) {
      const int v = truth[y * width + x];
      if (v == X)
        std::printf("# ");
      else
        std::printf("%d ", v);
    }
    std::printf("  ");
    for (int x = 0; x < width; ++x) std::printf(" %d", predicted[y * width + x]);
    std::printf("\n");
  }

  tnm::segmentation_evaluator eval(classes);  // ignores 255
  eval.update(truth, predicted);
  const auto& cm = eval.confusion();
  std::printf("\n  confusion matrix of the 22 counted pixels (rows: true, columns: predicted)\n");
  std::printf("    %-12s", "");
  for (int p = 0; p < classes; ++p) std::printf("%6d", p);
  std::printf("\n");
  for (int t = 0; t < classes; ++t) {
    std::printf("    %d %-10s", t, names[t]);
    for (int p = 0; p < classes; ++p) std::printf("%6lld", static_cast<long long>(cm(t, p)));
    std::printf("\n");
  }
  std::printf("\n");

  // Counted pixels: 24 - 2 ignored = 22 (14 background, 4 cat, 4 dog).
  //   background: 13 right, 1 predicted cat (bottom-right corner).
  //   cat: 3 right, 1 predicted background.  dog: 3 right, 1 predicted background.
  // SA = (13 + 3 + 3) / 22 = 19/22.
  // IoU = TP / (true + predicted - TP):
  //   background: predicted 13 + 1 (cat pixel) + 1 (dog pixel) = 15,
  //               IoU = 13 / (14 + 15 - 13) = 13/16;
  //   cat: predicted 3 + 1 (background pixel) = 4, IoU = 3 / (4 + 4 - 3) = 3/5;
  //   dog: predicted 3, IoU = 3 / (4 + 3 - 3) = 3/4;
  //   bird: in neither map -> no IoU, left out of the mean.
  // mean IoU = (13/16 + 3/5 + 3/4) / 3 = (65 + 48 + 60) / 80 / 3 = 173/240.
  check.header();
  check.count("correct pixels n", eval.correct_pixels(), 19, "13 + 3 + 3");
  check.count("wrong pixels e", eval.wrong_pixels(), 3, "1 + 1 + 1, ignored pixels skipped");
  check.row("pixel accuracy n / (n + e)", eval.pixel_accuracy(), 19.0 / 22, "19 / 22");
  const auto iou = eval.class_iou();
  const std::optional<double> expected_iou[] = {13.0 / 16, 3.0 / 5, 3.0 / 4, std::nullopt};
  const char* by_hand[] = {"13 / (14 + 15 - 13) = 13/16", "3 / (4 + 4 - 3) = 3/5",
                           "3 / (4 + 3 - 3) = 3/4", "0 / 0: in neither map"};
  for (int c = 0; c < classes; ++c)
    check.row(std::string("IoU ") + names[c], iou[static_cast<std::size_t>(c)], expected_iou[c],
              by_hand[c]);
  check.row("mean IoU (3 classes)", eval.mean_iou(), 173.0 / 240, "(13/16 + 3/5 + 3/4) / 3");
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  double tolerance = 1e-12;
  CLI::App app{
      "Box IoU, detection precision / recall / AP and segmentation accuracy / IoU on a small "
      "example, each checked against the value worked out by hand"};
  app.add_option("--tolerance", tolerance, "largest accepted |computed - by hand|")
      ->check(examples::at_least(0))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    checker check(tolerance);
    box_iou_section(check);
    detection_section(check);
    segmentation_section(check);
    if (check.failures() > 0) {
      std::printf("FAILED: %d values differ from the hand computation\n", check.failures());
      return 1;
    }
    std::printf("all values agree with the hand computation\n");
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "metrics_demo: %s\n", e.what());
    return 2;
  }
}
