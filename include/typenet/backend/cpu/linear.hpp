// typenet/backend/cpu/linear.hpp — fully connected layers as GEMMs.
//
// x [batch x in], weight [out x in] (PyTorch's layout), y = x W^T + b.
#pragma once

#include <algorithm>
#include <cstdint>

#include "typenet/backend/cpu/gemm.hpp"
#include "typenet/backend/cpu/kernels.hpp"
#include "typenet/core/device.hpp"

namespace typenet {

template <class T>
void backend::kernels<Cpu>::linear_forward(int batch, int in, int out, const T* x, const T* w,
                                           const T* bias, T* y) {
  for (int n = 0; n < batch; ++n) {
    T* row = y + std::int64_t{n} * out;
    if (bias) {
      std::copy_n(bias, out, row);
    } else {
      std::fill_n(row, out, T{0});
    }
  }
  // y^T [out x batch] += W [out x in] x^T [in x batch] keeps the large
  // dimension (out) as the split one when the batch is small.
  cpu::gemm(false, true, batch, out, in, T{1}, x, in, w, in, y, out);
}

/// dw += dy^T x, db += column sums of dy, dx = dy W (when dx is not null).
template <class T>
void backend::kernels<Cpu>::linear_backward(int batch, int in, int out, const T* x, const T* w,
                                            const T* dy, T* dx, T* dw, T* db) {
  if (dw) cpu::gemm(true, false, out, in, batch, T{1}, dy, out, x, in, dw, in);
  if (db) {
    for (int n = 0; n < batch; ++n)
      for (int o = 0; o < out; ++o) db[o] += dy[std::int64_t{n} * out + o];
  }
  if (dx) {
    std::fill_n(dx, std::int64_t{batch} * in, T{0});
    cpu::gemm(false, false, batch, in, out, T{1}, dy, out, w, in, dx, in);
  }
}

}  // namespace typenet
