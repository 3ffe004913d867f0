// typenet/backend/cpu/arch/avx512/float_vector.hpp — one vector register of floats, AVX-512.
//
// Sixteen floats per zmm register: the few operations the GEMM micro-tile and the direct
// convolutions need. backend/cpu/arch/float_vector.hpp picks this file.
#pragma once

#include "typenet/backend/cpu/arch/isa.hpp"

namespace typenet::cpu::arch {

using vec = __m512;
inline constexpr int vec_floats = 16;
inline constexpr int vector_registers = 32;
inline constexpr int micro_rows = 12;  // 24 accumulators of 32 zmm registers
inline vec vec_zero() {
  return _mm512_setzero_ps();
}
inline vec vec_broadcast(float x) {
  return _mm512_set1_ps(x);
}
inline vec vec_load(const float* p) {
  return _mm512_loadu_ps(p);
}
inline void vec_store(float* p, vec v) {
  _mm512_storeu_ps(p, v);
}
inline vec vec_fmadd(vec a, vec b, vec c) {
  return _mm512_fmadd_ps(a, b, c);
}

}  // namespace typenet::cpu::arch
