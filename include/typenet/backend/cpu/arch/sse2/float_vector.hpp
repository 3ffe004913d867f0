// typenet/backend/cpu/arch/sse2/float_vector.hpp — one vector register of floats, SSE2.
//
// Four floats per xmm register, no FMA (a multiply and an add): the few operations the GEMM
// micro-tile and the direct convolutions need. backend/cpu/arch/float_vector.hpp picks this file.
#pragma once

#include "typenet/backend/cpu/arch/isa.hpp"

namespace typenet::cpu::arch {

using vec = __m128;
inline constexpr int vec_floats = 4;
inline constexpr int vector_registers = 16;
inline constexpr int micro_rows = 6;
inline vec vec_zero() {
  return _mm_setzero_ps();
}
inline vec vec_broadcast(float x) {
  return _mm_set1_ps(x);
}
inline vec vec_load(const float* p) {
  return _mm_loadu_ps(p);
}
inline void vec_store(float* p, vec v) {
  _mm_storeu_ps(p, v);
}
inline vec vec_fmadd(vec a, vec b, vec c) {
  return _mm_add_ps(_mm_mul_ps(a, b), c);
}

}  // namespace typenet::cpu::arch
