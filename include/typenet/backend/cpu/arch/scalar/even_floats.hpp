// typenet/backend/cpu/arch/scalar/even_floats.hpp — no vector copy of every other float.
//
// Without AVX2 the caller's scalar loop copies every element;
// copy_even_floats copies none and returns where it started.
#pragma once

namespace typenet::cpu::arch {

/// Elements copy_even_floats moves per step: none here.
inline constexpr int even_float_lanes = 0;

inline int copy_even_floats(const float*, float*, int begin, int) {
  return begin;
}

}  // namespace typenet::cpu::arch
