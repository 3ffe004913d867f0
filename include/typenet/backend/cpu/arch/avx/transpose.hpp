// typenet/backend/cpu/arch/avx/transpose.hpp — an 8 x 8 float block transposed in registers (24
// shuffles for 64 floats).
#pragma once

#include <cstdint>

#include "typenet/backend/cpu/arch/isa.hpp"

namespace typenet::cpu::arch {

/// dst[p * dst_step + j] = src[j * src_step + p] for j, p < 8: one 8 x 8 block transposed.
inline void transpose_8x8(const float* src, std::int64_t src_step, float* dst,
                          std::int64_t dst_step) {
  __m256 r[8], t[8];
  for (int j = 0; j < 8; ++j) r[j] = _mm256_loadu_ps(src + j * src_step);
  for (int j = 0; j < 8; j += 2) {
    t[j] = _mm256_unpacklo_ps(r[j], r[j + 1]);  // r_j0 r_j+1,0 r_j1 r_j+1,1 (each lane)
    t[j + 1] = _mm256_unpackhi_ps(r[j], r[j + 1]);
  }
  for (int j = 0; j < 8; j += 4) {
    r[j] = _mm256_shuffle_ps(t[j], t[j + 2], _MM_SHUFFLE(1, 0, 1, 0));
    r[j + 1] = _mm256_shuffle_ps(t[j], t[j + 2], _MM_SHUFFLE(3, 2, 3, 2));
    r[j + 2] = _mm256_shuffle_ps(t[j + 1], t[j + 3], _MM_SHUFFLE(1, 0, 1, 0));
    r[j + 3] = _mm256_shuffle_ps(t[j + 1], t[j + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  // r[0..3] hold columns 0-3 (low lane) and 4-7 (high lane) of rows 0-3, r[4..7] of rows 4-7.
  for (int p = 0; p < 4; ++p) {
    _mm256_storeu_ps(dst + p * dst_step, _mm256_permute2f128_ps(r[p], r[p + 4], 0x20));
    _mm256_storeu_ps(dst + (p + 4) * dst_step, _mm256_permute2f128_ps(r[p], r[p + 4], 0x31));
  }
}

}  // namespace typenet::cpu::arch
