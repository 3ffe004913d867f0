// typenet/backend/cuda/reduction.cuh — sums per channel of [batch][channels][plane] data.
//
// Batch norm and convolution biases need, per channel, a sum over every
// sample and position: up to 10^6 values for one of 64 channels. One thread
// per channel would leave a GPU idle, so the sum runs in two passes: every
// block of `chunk` consecutive values of a (sample, channel) plane is summed
// by one thread, then each channel's blocks are added in a fixed order.
// Sums are in double, like the Cpu backend's, and do not depend on timing.
#pragma once

#include <cstdint>

#include "typenet/backend/cuda/launch.cuh"
#include "typenet/backend/cuda/memory.cuh"

namespace typenet::cuda {

/// out[c] = sum over n and i of value(n * channels + c, i), in double, for
/// i in [0, plane); `value(plane_index, i)` is a __host__ __device__ functor
/// returning double. `slot` is the scratch slot for the block sums.
template <class Value>
void channel_sums(int batch, int channels, std::int64_t plane, Value value, double* out,
                  scratch_slot slot = scratch_slot::partial_sums) {
  constexpr std::int64_t chunk = 1024;
  const std::int64_t blocks = (plane + chunk - 1) / chunk;
  const std::int64_t planes = std::int64_t{batch} * channels;
  double* partial = scratch<double>(slot, static_cast<std::size_t>(planes * blocks));
  for_each_index(planes * blocks, [=] TYPENET_HOST_DEVICE(std::int64_t t) {
    const std::int64_t p = t / blocks, first = t % blocks * chunk;
    const std::int64_t last = first + chunk < plane ? first + chunk : plane;
    double sum = 0;
    for (std::int64_t i = first; i < last; ++i) sum += value(p, i);
    partial[t] = sum;
  });
  for_each_index(channels, [=] TYPENET_HOST_DEVICE(std::int64_t c) {
    double sum = 0;
    for (int n = 0; n < batch; ++n) {
      const double* row = partial + (std::int64_t{n} * channels + c) * blocks;
      for (std::int64_t b = 0; b < blocks; ++b) sum += row[b];
    }
    out[c] = sum;
  });
}

}  // namespace typenet::cuda
