// The Cuda backend's tests on a GPU. Without a device (no GPU, or no driver)
// the program says so and exits with 77, which CTest reports as skipped;
// any other CUDA failure fails.
#define BOOST_TEST_MODULE typenet_cuda_gpu
#define BOOST_TEST_NO_MAIN
#include "backend_tests.inl"

#include <cstdio>

int main(int argc, char* argv[]) {
  int devices = 0;
  const cudaError_t status = cudaGetDeviceCount(&devices);
  if (status == cudaErrorNoDevice || status == cudaErrorInsufficientDriver ||
      (status == cudaSuccess && devices == 0)) {
    std::printf("no CUDA device (%s): the GPU tests are skipped\n", cudaGetErrorName(status));
    return 77;
  }
  if (status != cudaSuccess) {
    std::printf("cudaGetDeviceCount failed: %s (%s)\n", cudaGetErrorName(status),
                cudaGetErrorString(status));
    return 1;
  }
  return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
