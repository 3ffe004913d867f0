// What the two halves of cuda_mixed share.
#pragma once

#include <vector>

#include <typenet/typenet.hpp>

namespace mixed {
using Net = typenet::models::LeNet5<>;
using In = typenet::Shape<1, 28, 28>;
enum status { device_ready = 0, no_device = 1, device_failed = 2 };
}  // namespace mixed

/// mixed::status of the CUDA runtime (mixed_gpu.cu).
int gpu_status();
/// The logits of `host_model` (copied to the GPU) for `x` (mixed_gpu.cu).
std::vector<float> lenet_on_gpu(typenet::Model<mixed::Net, mixed::In>& host_model,
                                const typenet::Tensor<mixed::In>& x);
