// typenet/backend/cpu/arch/scalar/max_pool.hpp — no vector variant of stride-2 max pooling.
//
// Without AVX2 the pooling loop of backend/cpu/pooling.hpp handles every
// window (the compiler vectorizes it where it can); max_pool_stride2 is
// declared so that loop compiles, and never called.
#pragma once

#include <cstdint>

namespace typenet::cpu::arch {

/// Output windows max_pool_stride2 computes per call: none here.
inline constexpr int max_pool_stride2_lanes = 0;

template <int K>
bool max_pool_stride2(const float* window, int in_w, std::int32_t first_index, int count,
                      float* out, std::int32_t* idx);

}  // namespace typenet::cpu::arch
