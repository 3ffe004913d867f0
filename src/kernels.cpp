// The Cpu kernels of typenet, instantiated once for float and double: the
// typenet::kernels library (CMake option TYPENET_COMPILED_KERNELS). Programs
// linked with it compile with TYPENET_COMPILED_KERNELS defined, see
// include/typenet/backend/cpu/kernel_instances.hpp.
#define TYPENET_INSTANTIATING_KERNELS
#include "typenet/backend/cpu/kernel_instances.hpp"

namespace typenet {
TYPENET_CPU_KERNEL_INSTANCES(, float)
TYPENET_CPU_KERNEL_INSTANCES(, double)
}  // namespace typenet
