// typenet/backend/cpu/arch/scalar/transpose.hpp — an 8 x 8 float block transposed element by
// element.
#pragma once

#include <cstdint>

#include "typenet/backend/cpu/arch/isa.hpp"

namespace typenet::cpu::arch {

/// dst[p * dst_step + j] = src[j * src_step + p] for j, p < 8: one 8 x 8 block transposed.
inline void transpose_8x8(const float* src, std::int64_t src_step, float* dst,
                          std::int64_t dst_step) {
  for (int p = 0; p < 8; ++p)
    for (int j = 0; j < 8; ++j) dst[p * dst_step + j] = src[j * src_step + p];
}

}  // namespace typenet::cpu::arch
