// typenet/train.hpp — the train component: losses, optimizers, schedules, fit.
//
// PyTorch's losses, SGD / Adam / AdamW with parameter groups, learning-rate
// schedulers, gradient clipping, training checkpoints, the fit loop with its
// progress bar, and the image-classifier recipe. Builds on every other
// component (nn, io, vision, metrics). CMake target: typenet::train.
#pragma once

#include "typenet/io.hpp"
#include "typenet/metrics.hpp"
#include "typenet/nn.hpp"
#include "typenet/vision.hpp"

#include "typenet/train/adam.hpp"
#include "typenet/train/checkpoint.hpp"
#include "typenet/train/clip_grad.hpp"
#include "typenet/train/fit.hpp"
#include "typenet/train/image_classifier.hpp"
#include "typenet/train/losses.hpp"
#include "typenet/train/lr_scheduler.hpp"
#include "typenet/train/param_groups.hpp"
#include "typenet/train/precompute.hpp"
#include "typenet/train/progress.hpp"
#include "typenet/train/sgd.hpp"
