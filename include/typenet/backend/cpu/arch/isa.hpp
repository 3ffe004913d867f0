// typenet/backend/cpu/arch/isa.hpp — the instruction sets this translation unit is compiled for.
//
// The one place in typenet that reads the compiler's instruction-set macros
// (-march, -mavx2, ...). The Cpu kernels' instruction-set variants live in
// one folder per instruction set under backend/cpu/arch/ (avx512, avx2,
// avx, sse2, scalar); the headers of backend/cpu/arch/ pick one with these
// TYPENET_CPU_* macros, and the kernel families include only those, so no
// other header tests an instruction set. All are 0 or 1.
#pragma once

#if defined(__AVX512F__)
#define TYPENET_CPU_AVX512 1
#else
#define TYPENET_CPU_AVX512 0
#endif

#if defined(__AVX2__)
#define TYPENET_CPU_AVX2 1
#else
#define TYPENET_CPU_AVX2 0
#endif

#if defined(__AVX__)
#define TYPENET_CPU_AVX 1
#else
#define TYPENET_CPU_AVX 0
#endif

#if defined(__FMA__)
#define TYPENET_CPU_FMA 1
#else
#define TYPENET_CPU_FMA 0
#endif

#if defined(__SSE2__)
#define TYPENET_CPU_SSE2 1
#else
#define TYPENET_CPU_SSE2 0
#endif

#if TYPENET_CPU_AVX512 || TYPENET_CPU_AVX2 || TYPENET_CPU_AVX || TYPENET_CPU_SSE2
#include <immintrin.h>
#endif

namespace typenet::cpu::arch {

/// The widest instruction set the float kernels use in this translation unit.
inline constexpr const char* instruction_set = TYPENET_CPU_AVX512                    ? "avx512"
                                               : TYPENET_CPU_AVX2 && TYPENET_CPU_FMA ? "avx2"
                                               : TYPENET_CPU_AVX                     ? "avx"
                                               : TYPENET_CPU_SSE2                    ? "sse2"
                                                                                     : "scalar";

}  // namespace typenet::cpu::arch
