// typenet/backend/cpu/arch/avx2/float_vector.hpp — one vector register of floats, AVX2 + FMA.
//
// Eight floats per ymm register: the few operations the GEMM micro-tile and the direct
// convolutions need. backend/cpu/arch/float_vector.hpp picks this file.
#pragma once

#include "typenet/backend/cpu/arch/isa.hpp"

namespace typenet::cpu::arch {

using vec = __m256;
inline constexpr int vec_floats = 8;
inline constexpr int vector_registers = 16;
inline constexpr int micro_rows = 6;  // 12 accumulators of 16 ymm registers
inline vec vec_zero() {
  return _mm256_setzero_ps();
}
inline vec vec_broadcast(float x) {
  return _mm256_set1_ps(x);
}
inline vec vec_load(const float* p) {
  return _mm256_loadu_ps(p);
}
inline void vec_store(float* p, vec v) {
  _mm256_storeu_ps(p, v);
}
inline vec vec_fmadd(vec a, vec b, vec c) {
  return _mm256_fmadd_ps(a, b, c);
}

}  // namespace typenet::cpu::arch
