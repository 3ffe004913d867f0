// typenet/backend/cpu/arch/store_tile.hpp — a direct convolution's tile to its output planes.
//
// arch::store_tile for the instruction set at hand: compressed masked stores
// with AVX-512, plain loops otherwise.
#pragma once

#include "typenet/backend/cpu/arch/isa.hpp"

#if TYPENET_CPU_AVX512
#include "typenet/backend/cpu/arch/avx512/store_tile.hpp"
#else
#include "typenet/backend/cpu/arch/scalar/store_tile.hpp"
#endif
