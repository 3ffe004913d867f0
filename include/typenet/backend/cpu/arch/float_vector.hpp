// typenet/backend/cpu/arch/float_vector.hpp — the widest vector register of floats available.
//
// `vec` (one register), `vec_floats` (its lanes), `vector_registers` (how
// many the instruction set has), `micro_rows` (the GEMM micro-tile's rows:
// accumulators fill three quarters of the registers) and vec_zero,
// vec_broadcast, vec_load, vec_store, vec_fmadd, for the widest instruction
// set this translation unit is compiled for: AVX-512, AVX2 + FMA, SSE2, or
// scalars on other architectures.
#pragma once

#include "typenet/backend/cpu/arch/isa.hpp"

#if TYPENET_CPU_AVX512
#include "typenet/backend/cpu/arch/avx512/float_vector.hpp"
#elif TYPENET_CPU_AVX2 && TYPENET_CPU_FMA
#include "typenet/backend/cpu/arch/avx2/float_vector.hpp"
#elif TYPENET_CPU_SSE2
#include "typenet/backend/cpu/arch/sse2/float_vector.hpp"
#else
#include "typenet/backend/cpu/arch/scalar/float_vector.hpp"
#endif
