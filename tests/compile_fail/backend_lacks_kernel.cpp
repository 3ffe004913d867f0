// expect: static assertion failed: typenet::backend: this device's backend lacks the kernel
// .conv2d_forward. A backend for a new device declares kernels<Device> and implements what it can;
// the interface names the kernel it lacks (here it offers copy_values only).
#include <cstdint>

#include "typenet/nn.hpp"

namespace tn = typenet;

struct Accelerator {};

template <>
struct tn::backend::kernels<Accelerator> {
  template <class T>
  static void copy_values(std::int64_t n, const T* in, T* out) {
    for (std::int64_t i = 0; i < n; ++i) out[i] = in[i];
  }
};

int main() {
  float x[16] = {}, w[9] = {}, y[4] = {};
  tn::backend::copy_values(Accelerator{}, tn::backend::vector_view<const float>(x, 16),
                           tn::backend::vector_view(y, 4 * 4));  // provided: compiles
  constexpr tn::window_geometry g{.in_c = 1,
                                  .in_h = 4,
                                  .in_w = 4,
                                  .out_c = 1,
                                  .out_h = 2,
                                  .out_w = 2,
                                  .kernel_h = 3,
                                  .kernel_w = 3};
  tn::backend::conv2d_forward(
      Accelerator{}, g, tn::backend::contiguous_view<const float, 4>(x, {1, 1, 4, 4}),
      tn::backend::contiguous_view<const float, 4>(w, {1, 1, 3, 3}),
      tn::backend::no_view<const float>(), tn::backend::contiguous_view<float, 4>(y, {1, 1, 2, 2}));
}
