// typenet/backend/cpu/arch/avx2/even_floats.hpp — every other float, eight per instruction.
#pragma once

#include "typenet/backend/cpu/arch/isa.hpp"

namespace typenet::cpu::arch {

/// Elements copy_even_floats moves per step.
inline constexpr int even_float_lanes = 8;

/// dst[i] = src[2 * i] for i from `begin` in steps of eight while i + 8 <=
/// end; returns the first i not copied. Eight even floats of sixteen: the
/// even lanes of each 128-bit half by vshufps, the halves put in order by
/// vpermpd. Reads src[2 * i + 1] too (the odd float after the last one).
inline int copy_even_floats(const float* src, float* dst, int begin, int end) {
  int i = begin;
  for (; i + 8 <= end; i += 8) {
    const float* p = src + 2 * i;
    const __m256 evens =
        _mm256_shuffle_ps(_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8), _MM_SHUFFLE(2, 0, 2, 0));
    _mm256_storeu_ps(dst + i, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(evens),
                                                                     _MM_SHUFFLE(3, 1, 2, 0))));
  }
  return i;
}

}  // namespace typenet::cpu::arch
