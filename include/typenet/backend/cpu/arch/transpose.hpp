// typenet/backend/cpu/arch/transpose.hpp — 8 x 8 float blocks transposed.
//
// arch::transpose_8x8(src, src_step, dst, dst_step): in registers where AVX
// is available (24 shuffles for 64 floats instead of 64 scalar stores to 8
// cache lines), element by element otherwise.
#pragma once

#include "typenet/backend/cpu/arch/isa.hpp"

#if TYPENET_CPU_AVX
#include "typenet/backend/cpu/arch/avx/transpose.hpp"
#else
#include "typenet/backend/cpu/arch/scalar/transpose.hpp"
#endif
