// typenet/backend/cpu/arch/max_pool.hpp — stride-2 max pooling, several windows per instruction.
//
// arch::max_pool_stride2<K>(window, in_w, first_index, count, out, idx):
// up to max_pool_stride2_lanes interior windows of a K x K (K = 2 or 3),
// stride-2 max pooling of one output row, with their argmax; returns
// whether a NaN was seen (the caller then redoes the row with the scalar
// loop). Sixteen windows with AVX-512, eight with AVX2, none otherwise.
#pragma once

#include "typenet/backend/cpu/arch/isa.hpp"

#if TYPENET_CPU_AVX512
#include "typenet/backend/cpu/arch/avx512/max_pool.hpp"
#elif TYPENET_CPU_AVX2
#include "typenet/backend/cpu/arch/avx2/max_pool.hpp"
#else
#include "typenet/backend/cpu/arch/scalar/max_pool.hpp"
#endif
