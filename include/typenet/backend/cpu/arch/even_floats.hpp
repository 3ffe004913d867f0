// typenet/backend/cpu/arch/even_floats.hpp — every other float of a row, for stride-2 packing.
//
// arch::copy_even_floats(src, dst, begin, end): dst[i] = src[2 * i] for as
// many whole vectors from `begin` as fit before `end` (eight floats per step
// with AVX2, none otherwise); returns the first i not copied, where the
// caller's scalar loop goes on.
#pragma once

#include "typenet/backend/cpu/arch/isa.hpp"

#if TYPENET_CPU_AVX2
#include "typenet/backend/cpu/arch/avx2/even_floats.hpp"
#else
#include "typenet/backend/cpu/arch/scalar/even_floats.hpp"
#endif
