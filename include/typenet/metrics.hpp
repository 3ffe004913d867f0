// typenet/metrics.hpp — the metrics component: how well a model does.
//
// Classification (accuracy, confusion matrix, balanced error rate, top-k),
// detection (IoU, non-maximum suppression, average precision) and
// segmentation (per-class IoU, Dice). Builds on nn.hpp only. CMake target:
// typenet::metrics.
#pragma once

#include "typenet/nn.hpp"

#include "typenet/metrics/classification.hpp"
#include "typenet/metrics/detection.hpp"
#include "typenet/metrics/segmentation.hpp"
#include "typenet/metrics/top_k.hpp"
