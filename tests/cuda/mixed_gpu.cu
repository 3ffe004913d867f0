// The .cu half of cuda_mixed: the LeNet-5 forward on the GPU, next to a
// .cpp file that runs it on the CPU (mixed_main.cpp). Both include typenet;
// the program links only if they agree on every inline definition.
#include <typenet/cuda.cuh>

#include "mixed_program.hpp"

namespace tn = typenet;

int gpu_status() {
  int devices = 0;
  const cudaError_t status = cudaGetDeviceCount(&devices);
  if (status == cudaErrorNoDevice || status == cudaErrorInsufficientDriver ||
      (status == cudaSuccess && devices == 0))
    return mixed::no_device;
  return status == cudaSuccess ? mixed::device_ready : mixed::device_failed;
}

std::vector<float> lenet_on_gpu(tn::Model<mixed::Net, mixed::In>& host_model,
                                const tn::Tensor<mixed::In>& x) {
  tn::Model<mixed::Net, mixed::In, tn::Cuda> gpu;
  tn::copy_parameters(host_model, gpu);
  gpu.eval();
  const auto xd = tn::to<tn::Cuda>(x);
  const auto y = tn::to<tn::Cpu>(gpu.forward(xd));
  return {y.values().begin(), y.values().end()};
}
