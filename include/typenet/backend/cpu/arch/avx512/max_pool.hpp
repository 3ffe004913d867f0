// typenet/backend/cpu/arch/avx512/max_pool.hpp — sixteen stride-2 max-pooling windows at once.
#pragma once

#include <algorithm>
#include <cstdint>

#include "typenet/backend/cpu/arch/isa.hpp"

namespace typenet::cpu::arch {

/// Output windows max_pool_stride2 computes per call.
inline constexpr int max_pool_stride2_lanes = 16;

/// Up to sixteen interior windows of a K x K (K = 2 or 3), stride-2 max
/// pooling at once, outputs ow .. ow + count - 1 of a row whose windows start
/// at `window` (window[0] is output ow's first tap): the taps' values are the
/// even and odd elements of two 16-float loads per kernel row, masked to the
/// windows' extent, and the same comparisons as the scalar loop decide, lane
/// by lane. Returns whether a NaN was seen (the row is then redone by
/// max_window).
template <int K>
bool max_pool_stride2(const float* window, int in_w, std::int32_t first_index, int count,
                      float* out, std::int32_t* idx) {
  static_assert(K == 2 || K == 3);
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  // Taps 0 and 1 of the last window are elements 2 * count - 2 and - 1; tap 2
  // is element 2 * count - 1 of the loads from window + 1.
  const int used = 2 * count;
  const __mmask16 low = used >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << used) - 1);
  const __mmask16 high =
      used >= 32 ? 0xFFFF : static_cast<__mmask16>((1u << std::max(0, used - 16)) - 1);
  __m512 best = _mm512_setzero_ps();
  __m512i best_at = _mm512_setzero_si512();
  __mmask16 nan = 0;
  for (int ky = 0; ky < K; ++ky) {
    const float* row = window + ky * in_w;
    const __m512 lo = _mm512_maskz_loadu_ps(low, row), hi = _mm512_maskz_loadu_ps(high, row + 16);
    __m512 taps[3] = {_mm512_permutex2var_ps(lo, even, hi), _mm512_permutex2var_ps(lo, odd, hi),
                      _mm512_setzero_ps()};
    if constexpr (K == 3)
      taps[2] = _mm512_permutex2var_ps(_mm512_maskz_loadu_ps(low, row + 1), odd,
                                       _mm512_maskz_loadu_ps(high, row + 17));
    for (int kx = 0; kx < K; ++kx) {
      const __m512 v = taps[kx];
      const __m512i at = _mm512_set1_epi32(ky * in_w + kx);
      nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
      if (ky == 0 && kx == 0) {
        best = v;
        continue;
      }
      const __mmask16 take = _mm512_cmp_ps_mask(v, best, _CMP_GT_OQ);
      best = _mm512_mask_blend_ps(take, best, v);
      best_at = _mm512_mask_blend_epi32(take, best_at, at);
    }
  }
  // Output ow + lane's window starts 2 * lane after output ow's.
  const __m512i origin = _mm512_add_epi32(_mm512_set1_epi32(first_index), even);
  const __mmask16 lanes = count >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << count) - 1);
  _mm512_mask_storeu_ps(out, lanes, best);
  _mm512_mask_storeu_epi32(idx, lanes, _mm512_add_epi32(origin, best_at));
  return nan != 0;
}

}  // namespace typenet::cpu::arch
