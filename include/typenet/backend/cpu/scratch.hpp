// typenet/backend/cpu/scratch.hpp — per-thread scratch memory that only grows.
//
// Kernels need temporary buffers (im2col columns, GEMM packing panels). Each
// thread keeps a few slots that grow to the largest request seen and are then
// reused, so a training step that has run once never allocates again.
#pragma once

#include <cstddef>
#include <new>

namespace typenet::cpu {

// winograd: the transformed weights, which a convolution's adjoint computes
// while `extra` holds the flipped kernel it was given. phase_output: a
// strided adjoint's phase, computed by a forward convolution (which may use
// every other slot) while `extra` holds the phases' sub-kernels.
// transposed_weights: a forward convolution's weights, output channel
// fastest, for the kernels that keep output channels in a vector.
// packed_weights: conv2d_direct's weights in blocks of output channels.
enum class scratch_slot : int {
  gemm = 0,
  columns = 1,
  extra = 2,
  winograd = 3,
  phase_output = 4,
  transposed_weights = 5,
  packed_weights = 6,
  count = 7
};

namespace detail {
struct scratch_block {
  void* data = nullptr;
  std::size_t bytes = 0;
  ~scratch_block() {
    if (data) ::operator delete (data, std::align_val_t{64});
  }
};
inline scratch_block& scratch_for(scratch_slot slot) {
  thread_local scratch_block blocks[static_cast<int>(scratch_slot::count)];
  return blocks[static_cast<int>(slot)];
}
}  // namespace detail

/// At least `count` elements of T, 64-byte aligned, valid until the calling
/// thread asks the same slot again. Contents are unspecified.
template <class T>
T* scratch(scratch_slot slot, std::size_t count) {
  auto& block = detail::scratch_for(slot);
  const std::size_t bytes = count * sizeof(T);
  if (bytes > block.bytes) {
    if (block.data) ::operator delete (block.data, std::align_val_t{64});
    block.data = nullptr;
    block.data = ::operator new (bytes, std::align_val_t{64});
    block.bytes = bytes;
  }
  return static_cast<T*>(block.data);
}

}  // namespace typenet::cpu
