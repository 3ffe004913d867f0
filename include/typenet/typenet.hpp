// typenet/typenet.hpp — everything typenet offers on the CPU (and, under nvcc, the GPU).
//
// Networks are types: `Sequential<Conv2d<6, 5>, ReLU, ...>`; `Model<Net,
// Shape<C, H, W>>` runs them. See docs/guide.md. This header gathers the
// components; a program that needs less includes less (docs/architecture.md):
//
//   typenet/nn.hpp       shapes, layers, containers, Model, zoo, Cpu kernels
//   typenet/io.hpp       weight files: safetensors, PyTorch .pth
//   typenet/vision.hpp   images, transforms, datasets, DataLoader
//   typenet/metrics.hpp  classification, detection, segmentation metrics
//   typenet/train.hpp    losses, optimizers, schedulers, fit, checkpoints
#pragma once

#include "typenet/io.hpp"
#include "typenet/metrics.hpp"
#include "typenet/nn.hpp"
#include "typenet/train.hpp"
#include "typenet/vision.hpp"
