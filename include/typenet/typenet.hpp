// typenet/typenet.hpp — everything typenet offers on the CPU (and, under nvcc, the GPU).
//
// Include this one header. Networks are types: `Sequential<Conv2d<6, 5>,
// ReLU, ...>`; `Model<Net, Shape<C, H, W>>` runs them. See docs/guide.md.
#pragma once

#include "typenet/config.hpp"

#include "typenet/core/context.hpp"
#include "typenet/core/device.hpp"
#include "typenet/core/diagnostics.hpp"
#include "typenet/core/errors.hpp"
#include "typenet/core/fixed_string.hpp"
#include "typenet/core/geometry.hpp"
#include "typenet/core/layer.hpp"
#include "typenet/core/options.hpp"
#include "typenet/core/parameter.hpp"
#include "typenet/core/shape.hpp"
#include "typenet/core/storage.hpp"
#include "typenet/core/tensor.hpp"
#include "typenet/core/update_rules.hpp"

#include "typenet/backend/cpu/batch_norm.hpp"
#include "typenet/backend/cpu/convolution.hpp"
#include "typenet/backend/cpu/elementwise.hpp"
#include "typenet/backend/cpu/linear.hpp"
#include "typenet/backend/cpu/optimizers.hpp"
#include "typenet/backend/cpu/pooling.hpp"
#include "typenet/backend/cpu/softmax.hpp"
#include "typenet/backend/cpu/upsample.hpp"

#include "typenet/layers/activations.hpp"
#include "typenet/layers/batch_norm.hpp"
#include "typenet/layers/conv2d.hpp"
#include "typenet/layers/conv_transpose2d.hpp"
#include "typenet/layers/dropout.hpp"
#include "typenet/layers/flatten.hpp"
#include "typenet/layers/identity.hpp"
#include "typenet/layers/linear.hpp"
#include "typenet/layers/pooling.hpp"
#include "typenet/layers/softmax.hpp"
#include "typenet/layers/upsample.hpp"

#include "typenet/models/alexnet.hpp"
#include "typenet/models/colorization.hpp"
#include "typenet/models/lenet.hpp"
#include "typenet/models/resnet.hpp"
#include "typenet/models/vgg.hpp"

#include "typenet/nn/first_children.hpp"
#include "typenet/nn/model.hpp"
#include "typenet/nn/named.hpp"
#include "typenet/nn/predict.hpp"
#include "typenet/nn/residual.hpp"
#include "typenet/nn/sequential.hpp"
#include "typenet/nn/state.hpp"
#include "typenet/nn/summary.hpp"

#include "typenet/io/weights.hpp"

#include "typenet/image/color.hpp"
#include "typenet/image/grid.hpp"
#include "typenet/image/image.hpp"
#include "typenet/image/transforms.hpp"

#include "typenet/metrics/classification.hpp"
#include "typenet/metrics/detection.hpp"
#include "typenet/metrics/segmentation.hpp"

#include "typenet/train/losses.hpp"
#include "typenet/train/sgd.hpp"
