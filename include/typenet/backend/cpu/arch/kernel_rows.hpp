// typenet/backend/cpu/arch/kernel_rows.hpp — weight-gradient panels packed by kernel rows.
//
// arch::pack_kernel_rows_where_faster(g, image, pc, kc, jc, nc, out): packs
// a panel block of im2col(image)^T and returns true where the instruction
// set has a faster way than im2col_transposed_panels' transposes (AVX-512,
// some kernel widths); returns false, packing nothing, otherwise.
#pragma once

#include "typenet/backend/cpu/arch/isa.hpp"

#if TYPENET_CPU_AVX512
#include "typenet/backend/cpu/arch/avx512/kernel_rows.hpp"
#else
#include "typenet/backend/cpu/arch/scalar/kernel_rows.hpp"
#endif
