// typenet/cuda.cuh — typenet with its Cuda backend: include this from a .cu file.
//
//   #include <typenet/cuda.cuh>
//   tn::Model<Net, tn::Shape<3, 224, 224>, tn::Cuda> net;   // parameters in GPU memory
//   auto x = tn::to<tn::Cuda>(host_batch);                  // Tensor<..., tn::Cuda>
//   const auto& y = net.forward(x);
//
// Everything of typenet.hpp, plus the Cuda kernels of every layer, the
// optimizers' updates, host <-> device transfers (tn::to, tn::copy,
// tn::copy_parameters) and weights loaded into device parameters. See
// docs/gpu.md. A program may mix .cpp files including typenet.hpp and .cu
// files including this header.
#pragma once

#include "typenet/typenet.hpp"

#include "typenet/backend/cuda/config.cuh"
#include "typenet/backend/cuda/kernels.cuh"

#include "typenet/backend/cuda/batch_norm.cuh"
#include "typenet/backend/cuda/blas.cuh"
#include "typenet/backend/cuda/convolution.cuh"
#include "typenet/backend/cuda/elementwise.cuh"
#include "typenet/backend/cuda/errors.cuh"
#include "typenet/backend/cuda/launch.cuh"
#include "typenet/backend/cuda/linear.cuh"
#include "typenet/backend/cuda/losses.cuh"
#include "typenet/backend/cuda/memory.cuh"
#include "typenet/backend/cuda/optimizers.cuh"
#include "typenet/backend/cuda/pooling.cuh"
#include "typenet/backend/cuda/reduction.cuh"
#include "typenet/backend/cuda/softmax.cuh"
#include "typenet/backend/cuda/transfer.cuh"
#include "typenet/backend/cuda/upsample.cuh"
