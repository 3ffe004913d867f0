// typenet/backend/cpu/arch/avx2/max_pool.hpp — eight stride-2 max-pooling windows at once.
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "typenet/backend/cpu/arch/isa.hpp"

namespace typenet::cpu::arch {

/// Output windows max_pool_stride2 computes per call.
inline constexpr int max_pool_stride2_lanes = 8;

/// max_pool_stride2 for AVX2: up to eight windows at once, the taps'
/// values the even and odd elements of two 8-float loads per kernel row
/// (shuffled within 128-bit lanes, then the lanes' halves put in order),
/// masked loads and stores for a partial group.
template <int K>
bool max_pool_stride2(const float* window, int in_w, std::int32_t first_index, int count,
                      float* out, std::int32_t* idx) {
  static_assert(K == 2 || K == 3);
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  // Taps 0 and 1 of the last window are elements 2 * count - 2 and - 1; tap 2
  // is element 2 * count - 1 of the loads from window + 1.
  const int used = 2 * count;
  const __m256i low = _mm256_cmpgt_epi32(_mm256_set1_epi32(used), lane);
  const __m256i high = _mm256_cmpgt_epi32(_mm256_set1_epi32(used - 8), lane);
  const auto deinterleave = [](__m256 lo, __m256 hi, auto odd) {
    constexpr int order = decltype(odd)::value ? _MM_SHUFFLE(3, 1, 3, 1) : _MM_SHUFFLE(2, 0, 2, 0);
    const __m256 mixed = _mm256_shuffle_ps(lo, hi, order);  // lo0 lo2 hi0 hi2 | lo4 lo6 hi4 hi6
    return _mm256_castpd_ps(
        _mm256_permute4x64_pd(_mm256_castps_pd(mixed), _MM_SHUFFLE(3, 1, 2, 0)));
  };
  __m256 best = _mm256_setzero_ps();
  __m256i best_at = _mm256_setzero_si256();
  int nan = 0;
  for (int ky = 0; ky < K; ++ky) {
    const float* row = window + ky * in_w;
    const __m256 lo = _mm256_maskload_ps(row, low), hi = _mm256_maskload_ps(row + 8, high);
    __m256 taps[3] = {deinterleave(lo, hi, std::false_type{}),
                      deinterleave(lo, hi, std::true_type{}), _mm256_setzero_ps()};
    if constexpr (K == 3)
      taps[2] = deinterleave(_mm256_maskload_ps(row + 1, low), _mm256_maskload_ps(row + 9, high),
                             std::true_type{});
    for (int kx = 0; kx < K; ++kx) {
      const __m256 v = taps[kx];
      nan |= _mm256_movemask_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q));
      if (ky == 0 && kx == 0) {
        best = v;
        continue;
      }
      const __m256 take = _mm256_cmp_ps(v, best, _CMP_GT_OQ);
      best = _mm256_blendv_ps(best, v, take);
      best_at = _mm256_castps_si256(
          _mm256_blendv_ps(_mm256_castsi256_ps(best_at),
                           _mm256_castsi256_ps(_mm256_set1_epi32(ky * in_w + kx)), take));
    }
  }
  // Output ow + lane's window starts 2 * lane after output ow's.
  const __m256i origin =
      _mm256_add_epi32(_mm256_set1_epi32(first_index), _mm256_add_epi32(lane, lane));
  const __m256i lanes = _mm256_cmpgt_epi32(_mm256_set1_epi32(count), lane);
  _mm256_maskstore_ps(out, lanes, best);
  _mm256_maskstore_epi32(idx, lanes, _mm256_add_epi32(origin, best_at));
  return nan != 0;
}

}  // namespace typenet::cpu::arch
