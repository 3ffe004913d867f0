// typenet/backend/cpu/arch/scalar/float_vector.hpp — one vector register of floats, no vector
// instructions.
//
// One float: the same loops on scalars, for other architectures: the few operations the GEMM
// micro-tile and the direct convolutions need. backend/cpu/arch/float_vector.hpp picks this file.
#pragma once

#include "typenet/backend/cpu/arch/isa.hpp"

namespace typenet::cpu::arch {

using vec = float;
inline constexpr int vec_floats = 1;
inline constexpr int vector_registers = 16;
inline constexpr int micro_rows = 4;
inline vec vec_zero() {
  return 0.0f;
}
inline vec vec_broadcast(float x) {
  return x;
}
inline vec vec_load(const float* p) {
  return *p;
}
inline void vec_store(float* p, vec v) {
  *p = v;
}
inline vec vec_fmadd(vec a, vec b, vec c) {
  return a * b + c;
}

}  // namespace typenet::cpu::arch
