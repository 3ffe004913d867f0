// typenet/backend/cuda/linear.cuh — fully connected layers as cuBLAS products.
//
// x [batch x in], weight [out x in] (PyTorch's layout), y = x W^T + b.
#pragma once

#include <cstdint>

#include "typenet/backend/cuda/blas.cuh"
#include "typenet/backend/cuda/kernels.cuh"
#include "typenet/backend/cuda/launch.cuh"
#include "typenet/core/device.hpp"

namespace typenet {

template <class T>
void backend::kernels<Cuda>::linear_forward(int batch, int in, int out, const T* x, const T* w,
                                            const T* bias, T* y) {
  if (bias) {
    cuda::for_each_index(std::int64_t{batch} * out,
                         [=] TYPENET_HOST_DEVICE(std::int64_t i) { y[i] = bias[i % out]; });
  }
  cuda::gemm(false, true, batch, out, in, T{1}, x, in, w, in, bias ? T{1} : T{0}, y, out);
}

/// dw += dy^T x, db += column sums of dy, dx = dy W (each when not null).
template <class T>
void backend::kernels<Cuda>::linear_backward(int batch, int in, int out, const T* x, const T* w,
                                             const T* dy, T* dx, T* dw, T* db) {
  if (dw) cuda::gemm(true, false, out, in, batch, T{1}, dy, out, x, in, T{1}, dw, in);
  if (db) {
    cuda::for_each_index(out, [=] TYPENET_HOST_DEVICE(std::int64_t o) {
      T sum = db[o];
      for (int n = 0; n < batch; ++n) sum += dy[std::int64_t{n} * out + o];
      db[o] = sum;
    });
  }
  if (dx) cuda::gemm(false, false, batch, in, out, T{1}, dy, out, w, in, T{0}, dx, in);
}

}  // namespace typenet
