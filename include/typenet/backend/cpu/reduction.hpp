// typenet/backend/cpu/reduction.hpp — sums that vectorize and stay accurate.
//
// A float sum written as `for (...) sum += p[i]` cannot vectorize (the
// compiler may not reorder float additions) and loses digits on long
// arrays. These sums take 16 lanes over blocks of 256 values in T (exact to
// a few ulps) and add the block sums in double, so they run at vector speed
// and stay within a few ulps of the exact sum for any length.
#pragma once

#include <algorithm>
#include <cstdint>
#include <utility>

// GCC vectorizes a lane loop holding one accumulation by itself but not one
// holding two (it unrolls the lanes and gives up on the outer loop: five
// times slower for BatchNorm's backward); OpenMP's simd directive makes it.
#if defined(_OPENMP)
#define TYPENET_VECTORIZE _Pragma("omp simd")
#else
#define TYPENET_VECTORIZE
#endif

namespace typenet::cpu {

namespace reduction {
inline constexpr int lanes = 16;
inline constexpr int block = lanes * 16;
}  // namespace reduction

/// The sum of f(p[i], i) for i in [0, n).
template <class T, class F>
double blocked_sum(const T* p, std::int64_t n, F f) {
  using reduction::block, reduction::lanes;
  double total = 0;
  for (std::int64_t start = 0; start < n; start += block) {
    const std::int64_t size = std::min<std::int64_t>(block, n - start);
    const std::int64_t vector_part = size / lanes * lanes;
    T acc[lanes] = {};
    for (std::int64_t step = 0; step < vector_part; step += lanes)
      for (int j = 0; j < lanes; ++j) acc[j] += f(p[start + step + j], start + step + j);
    T sum{0};
    for (int j = 0; j < lanes; ++j) sum += acc[j];
    for (std::int64_t i = start + vector_part; i < start + size; ++i) sum += f(p[i], i);
    total += sum;
  }
  return total;
}

/// The sum of p[i] for i in [0, n).
template <class T>
double blocked_sum(const T* p, std::int64_t n) {
  return blocked_sum(p, n, [](T v, std::int64_t) { return v; });
}

/// The sums of f(p[i], i) and g(p[i], i) for i in [0, n), in one pass over p.
template <class T, class F, class G>
std::pair<double, double> blocked_sums(const T* p, std::int64_t n, F f, G g) {
  using reduction::block, reduction::lanes;
  double total_f = 0, total_g = 0;
  for (std::int64_t start = 0; start < n; start += block) {
    const std::int64_t size = std::min<std::int64_t>(block, n - start);
    const std::int64_t vector_part = size / lanes * lanes;
    T acc_f[lanes] = {}, acc_g[lanes] = {};
    for (std::int64_t step = 0; step < vector_part; step += lanes) {
      TYPENET_VECTORIZE
      for (int j = 0; j < lanes; ++j) {
        const std::int64_t i = start + step + j;
        acc_f[j] += f(p[i], i);
        acc_g[j] += g(p[i], i);
      }
    }
    T sum_f{0}, sum_g{0};
    for (int j = 0; j < lanes; ++j) sum_f += acc_f[j], sum_g += acc_g[j];
    for (std::int64_t i = start + vector_part; i < start + size; ++i)
      sum_f += f(p[i], i), sum_g += g(p[i], i);
    total_f += sum_f;
    total_g += sum_g;
  }
  return {total_f, total_g};
}

}  // namespace typenet::cpu
