// The Cpu kernels of typenet, instantiated once for float and double: the
// typenet::kernels library (CMake option TYPENET_COMPILED_KERNELS). Programs
// linked with it compile with TYPENET_COMPILED_KERNELS defined and see only
// the kernels' declarations (include/typenet/backend/cpu/kernels.hpp).
#define TYPENET_INSTANTIATING_KERNELS
#include "typenet/backend/cpu/batch_norm.hpp"
#include "typenet/backend/cpu/convolution.hpp"
#include "typenet/backend/cpu/elementwise.hpp"
#include "typenet/backend/cpu/kernel_instances.hpp"
#include "typenet/backend/cpu/linear.hpp"
#include "typenet/backend/cpu/losses.hpp"
#include "typenet/backend/cpu/memory.hpp"
#include "typenet/backend/cpu/optimizers.hpp"
#include "typenet/backend/cpu/pooling.hpp"
#include "typenet/backend/cpu/softmax.hpp"
#include "typenet/backend/cpu/upsample.hpp"

namespace typenet {
TYPENET_CPU_KERNEL_INSTANCES(, float)
TYPENET_CPU_KERNEL_INSTANCES(, double)
}  // namespace typenet
