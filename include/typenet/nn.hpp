// typenet/nn.hpp — the nn component: networks as types, on the CPU.
//
// Shapes, tensors, layers, containers (Sequential, Named, Residual), Model,
// the model zoo and the Cpu backend's kernels. Everything else builds on it:
// io.hpp (weight files), vision.hpp (images, datasets), metrics.hpp,
// train.hpp; typenet.hpp gathers them all. CMake target: typenet::nn.
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
#include "typenet/core/outputs.hpp"
#include "typenet/core/parallel_exceptions.hpp"
#include "typenet/core/parameter.hpp"
#include "typenet/core/shape.hpp"
#include "typenet/core/storage.hpp"
#include "typenet/core/tensor.hpp"
#include "typenet/core/windows.hpp"

// The backend interface: every kernel, typed views, and the per-element
// maths both backends share.
#include "typenet/backend/interface.hpp"
#include "typenet/backend/shared/loss_math.hpp"
#include "typenet/backend/shared/softmax_math.hpp"
#include "typenet/backend/shared/update_rules.hpp"
#include "typenet/backend/view.hpp"

// The Cpu backend (backend::kernels<Cpu>): every kernel declared; the light
// ones defined here, the heavy ones (convolutions, GEMM, pooling, ...) only
// when they are not taken from the typenet::kernels library
// (TYPENET_COMPILED_KERNELS).
#include "typenet/backend/cpu/elementwise.hpp"
#include "typenet/backend/cpu/kernel_instances.hpp"
#include "typenet/backend/cpu/kernels.hpp"
#include "typenet/backend/cpu/losses.hpp"
#include "typenet/backend/cpu/memory.hpp"
#if !defined(TYPENET_COMPILED_KERNELS)
#include "typenet/backend/cpu/batch_norm.hpp"
#include "typenet/backend/cpu/convolution.hpp"
#include "typenet/backend/cpu/linear.hpp"
#include "typenet/backend/cpu/optimizers.hpp"
#include "typenet/backend/cpu/pooling.hpp"
#include "typenet/backend/cpu/softmax.hpp"
#include "typenet/backend/cpu/upsample.hpp"
#endif

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

#include "typenet/nn/copy_parameters.hpp"
#include "typenet/nn/edit.hpp"
#include "typenet/nn/first_children.hpp"
#include "typenet/nn/from.hpp"
#include "typenet/nn/key_aliases.hpp"
#include "typenet/nn/merge.hpp"
#include "typenet/nn/model.hpp"
#include "typenet/nn/named.hpp"
#include "typenet/nn/nominal.hpp"
#include "typenet/nn/predict.hpp"
#include "typenet/nn/residual.hpp"
#include "typenet/nn/scope.hpp"
#include "typenet/nn/sequential.hpp"
#include "typenet/nn/state.hpp"
#include "typenet/nn/summary.hpp"

#include "typenet/models/alexnet.hpp"
#include "typenet/models/colorization.hpp"
#include "typenet/models/lenet.hpp"
#include "typenet/models/resnet.hpp"
#include "typenet/models/unet.hpp"
#include "typenet/models/vgg.hpp"
