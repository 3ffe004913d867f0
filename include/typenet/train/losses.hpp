// typenet/train/losses.hpp — the losses, with PyTorch 1.13's semantics and reductions.
//
//   MSELoss, L1Loss, SmoothL1Loss   prediction vs target, Tensor<S> of any shape
//   CrossEntropyLoss                logits Tensor<Shape<C, D...>> vs class labels (one per
//                                   sample, or per sample and pixel); weight, ignore_index,
//                                   label_smoothing
//   BCEWithLogitsLoss               logits vs targets in [0, 1], Tensor<S>; weight, pos_weight
//   mse_loss, cross_entropy_loss    the mean-reduced defaults as free functions
//
// Each loss is a small object built from an options struct with PyTorch's
// names (`tn::CrossEntropyLoss loss({.ignore_index = 255});`). Calling it as
// `loss(prediction, target, grad)` returns the loss and writes
// d(loss)/d(prediction) into `grad`, resized to the batch, ready for
// Model::backward; `loss(prediction, target)` returns the loss alone. They
// take tensors of either device (the sums run on it: backend/*/losses) and
// compute in double for float and double tensors, check shapes and
// labels before writing anything, throw non_finite_loss (naming the loss)
// when the result is NaN or infinite, and do not allocate once `grad` has the
// capacity. docs/training.md has the formulas.
#pragma once

#include "typenet/train/losses/bce_with_logits_loss.hpp"
#include "typenet/train/losses/cross_entropy_loss.hpp"
#include "typenet/train/losses/l1_loss.hpp"
#include "typenet/train/losses/mse_loss.hpp"
#include "typenet/train/losses/reduction.hpp"
#include "typenet/train/losses/smooth_l1_loss.hpp"
