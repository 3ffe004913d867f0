// typenet/backend/cpu/arch/scalar/kernel_rows.hpp — no kernel-row variant of the weight-gradient
// packer.
//
// Without AVX-512's masked loads and stores, gathering taps and transposing
// 8 x 8 blocks (im2col_transposed_panels) is the packer for every kernel.
#pragma once

#include <cstdint>

#include "typenet/core/geometry.hpp"

namespace typenet::cpu::arch {

/// Packs nothing and returns false: the caller's packer does the work.
inline bool pack_kernel_rows_where_faster(const window_geometry&, const float*, std::int64_t,
                                          std::int64_t, std::int64_t, std::int64_t, float*) {
  return false;
}

}  // namespace typenet::cpu::arch
