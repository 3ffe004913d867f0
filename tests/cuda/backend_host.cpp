// The Cuda backend's tests on the host: Thrust's OpenMP device system
// (TYPENET_CUDA_ON_HOST), built and run by every CI build.
#define BOOST_TEST_MODULE typenet_cuda_host
#include "backend_tests.inl"
