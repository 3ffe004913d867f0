// typenet/core/device.hpp — device tags.
//
// A device is a tag type chosen in a Model's type. Layers pass it to the
// backend interface (backend/interface.hpp), which runs the kernels of
// `backend::kernels<Device>` (backend/cpu, backend/cuda), so a layer's code
// never names a backend.
#pragma once

#include <concepts>

namespace typenet {

/// The host: Eigen for matrix products, OpenMP for parallel loops.
struct Cpu {
  static constexpr const char* name = "Cpu";
};
/// An NVIDIA GPU: Thrust, cuBLAS and CUDA kernels (backend/cuda, nvcc only).
struct Cuda {
  static constexpr const char* name = "Cuda";
};

template <class D>
concept Device = std::same_as<D, Cpu> || std::same_as<D, Cuda>;

}  // namespace typenet
