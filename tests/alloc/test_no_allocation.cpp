// No heap allocation in a steady-state training step.
//
// Replaces the C allocator (malloc, calloc, realloc, posix_memalign,
// aligned_alloc, memalign) and operator new with counting versions that
// forward to glibc, then runs forward + loss + backward + SGD step with two
// OpenMP threads. The first steps at a batch size may allocate (activation
// plan, per-thread scratch, the OpenMP thread pool); later steps must not,
// nor may a dynamic model that alternates between two sizes it has seen.
// Built without sanitizers: they replace the allocator themselves.
#include <omp.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <typenet/typenet.hpp>
#include <vector>

extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void __libc_free(void*);
}

namespace {
std::atomic<bool> counting{false};
std::atomic<long> allocations{0};
void count() {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1);
}
}  // namespace

extern "C" {
void* malloc(std::size_t n) {
  count();
  return __libc_malloc(n);
}
void* calloc(std::size_t n, std::size_t size) {
  count();
  return __libc_calloc(n, size);
}
void* realloc(void* p, std::size_t n) {
  count();
  return __libc_realloc(p, n);
}
void free(void* p) {
  __libc_free(p);
}
int posix_memalign(void** out, std::size_t alignment, std::size_t n) {
  count();
  *out = __libc_memalign(alignment, n);
  return *out ? 0 : ENOMEM;
}
void* aligned_alloc(std::size_t alignment, std::size_t n) {
  count();
  return __libc_memalign(alignment, n);
}
void* memalign(std::size_t alignment, std::size_t n) {
  count();
  return __libc_memalign(alignment, n);
}
}

void* operator new(std::size_t n) {
  count();
  if (void* p = __libc_malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  return operator new(n);
}
void* operator new(std::size_t n, std::align_val_t a) {
  count();
  if (void* p = __libc_memalign(static_cast<std::size_t>(a), n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) {
  return operator new(n, a);
}
void operator delete(void* p) noexcept {
  __libc_free(p);
}
void operator delete[](void* p) noexcept {
  __libc_free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  __libc_free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  __libc_free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  __libc_free(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
  __libc_free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  __libc_free(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  __libc_free(p);
}

namespace tn = typenet;

using LeNet5 = tn::Sequential<tn::Conv2d<6, 5, tn::Padding<2>>, tn::ReLU, tn::MaxPool2d<2>,
                              tn::Conv2d<16, 5>, tn::ReLU, tn::MaxPool2d<2>, tn::Flatten,
                              tn::Linear<120>, tn::ReLU, tn::Linear<84>, tn::ReLU, tn::Linear<10>>;

// Every other layer family, with shapes large enough that Eigen's GEMM
// would allocate its packing panels (beyond its 128 KiB stack limit).
using Mixed = tn::Sequential<
    tn::Conv2d<32, 3, tn::Padding<1>>, tn::BatchNorm2d, tn::ReLU,
    tn::Residual<tn::Sequential<tn::Conv2d<64, 3, tn::Stride<2>, tn::Padding<1>, tn::NoBias>,
                                tn::BatchNorm2d>,
                 tn::Named<"downsample", tn::Sequential<tn::Conv2d<64, 1, tn::Stride<2>>>>,
                 tn::ReLU>,
    tn::ConvTranspose2d<32, 4, tn::Stride<2>, tn::Padding<1>>, tn::Upsample<2, 2, tn::Bilinear>,
    tn::Dropout<>, tn::AvgPool2d<2>, tn::Conv2d<2, 3, tn::Padding<1>>, tn::Upsample<2>>;

/// SGD as in the lecture: momentum and weight decay.
struct use_sgd {
  template <class Model>
  struct optimizer {
    tn::SGD<float> sgd;
    explicit optimizer(Model& m)
        : sgd(m.parameters(), {.lr = 0.01, .momentum = 0.9, .weight_decay = 1e-4}) {}
    void step() { sgd.step(); }
  };
};

/// AdamW with amsgrad, a one-cycle schedule and gradient clipping.
struct use_adamw_one_cycle {
  template <class Model>
  struct optimizer {
    Model& model;
    tn::AdamW<float> adamw;
    tn::OneCycleLR<tn::AdamW<float>> schedule;
    explicit optimizer(Model& m)
        : model(m),
          adamw(m.parameters(), {.lr = 1e-3, .amsgrad = true}),
          schedule(adamw, {.max_lr = 1e-2, .total_steps = 100}) {}
    void step() {
      tn::clip_grad_norm(model.parameters(), 1.0);
      adamw.step();
      schedule.step();
    }
  };
};

/// Allocations in 3 steady-state steps per input size, the sizes taken in
/// turn (a dynamic model alternating sizes), after 3 warm-up rounds.
template <class Net, class In, class Optimizer = use_sgd, class Step>
long allocations_in_steady_state(const char* name, Step&& step_body,
                                 std::vector<tn::extents_t<In>> sizes = {In::dims}) {
  tn::Model<Net, In> model(7);
  typename Optimizer::template optimizer<tn::Model<Net, In>> sgd(model);
  std::vector<tn::Tensor<In>> inputs;
  for (const auto& size : sizes) {
    tn::Tensor<In>& x = inputs.emplace_back(8, size);
    for (std::int64_t i = 0; i < x.size(); ++i)
      x.data()[i] = static_cast<float>((i * 37 % 101) - 50) / 50.f;
  }
  tn::Tensor<typename decltype(model)::output_shape> grad;
  auto step = [&](const tn::Tensor<In>& x) {
    model.zero_grad();
    const auto& y = model.forward(x);
    grad.resize(y.batch(), y.extents());
    step_body(y, grad);
    model.backward(grad);
    sgd.step();
  };
  auto round = [&] {
    for (int i = 0; i < 3; ++i)
      for (const auto& x : inputs) step(x);
  };
  round();
  allocations = 0;
  counting = true;
  round();
  counting = false;
  std::printf("%-8s allocations in 3 steady-state steps at %zu size(s): %ld\n", name, sizes.size(),
              allocations.load());
  return allocations.load();
}

// The interception itself must work, or the test below proves nothing. The
// pointers escape through a volatile global so the compiler cannot elide the
// allocations (clang removes unused malloc/free and new/delete pairs).
void* volatile escaped = nullptr;
bool allocator_is_intercepted() {
  allocations = 0;
  counting = true;
  escaped = std::malloc(64);
  std::free(escaped);
  auto* q = new std::vector<float>(1000);
  escaped = q;
  counting = false;
  const long seen = allocations.load();
  delete q;
  return seen >= 3;
}

int main() {
  if (!allocator_is_intercepted()) {
    std::printf("FAILED: malloc/operator new are not intercepted\n");
    return 1;
  }
  omp_set_num_threads(2);
  long total = 0;
  const int labels[8] = {0, 1, 2, 3, 4, 5, 6, 7};
  total += allocations_in_steady_state<LeNet5, tn::Shape<1, 28, 28>>(
      "LeNet5", [&](const auto& y, auto& grad) {
        tn::cross_entropy_loss(y, std::span<const int>(labels, 8), grad);
      });
  const tn::CrossEntropyLoss smoothed(
      {.weight = std::vector<float>(10, 0.5f), .label_smoothing = 0.1});
  total += allocations_in_steady_state<LeNet5, tn::Shape<1, 28, 28>, use_adamw_one_cycle>(
      "AdamW",
      [&](const auto& y, auto& grad) { smoothed(y, std::span<const int>(labels, 8), grad); });
  total += allocations_in_steady_state<Mixed, tn::Shape<3, 32, 32>>(
      "Mixed", [&](const auto& y, auto& grad) {
        for (std::int64_t i = 0; i < grad.size(); ++i) grad.data()[i] = y.data()[i] * 1e-3f;
      });
  // A dynamic model alternating two sizes: buffers keep the largest size seen.
  total += allocations_in_steady_state<Mixed, tn::Shape<3, tn::dyn, tn::dyn>>(
      "Dynamic",
      [&](const auto& y, auto& grad) {
        for (std::int64_t i = 0; i < grad.size(); ++i) grad.data()[i] = y.data()[i] * 1e-3f;
      },
      {{3, 32, 32}, {3, 24, 40}});
  // U-Net (skip connections: From, PadLike, Concat) at two sizes, one of
  // which pads at every level of the decoder.
  total += allocations_in_steady_state<tn::models::UNet<2, 8>, tn::Shape<3, tn::dyn, tn::dyn>>(
      "UNet",
      [&](const auto& y, auto& grad) {
        for (std::int64_t i = 0; i < grad.size(); ++i) grad.data()[i] = y.data()[i] * 1e-3f;
      },
      {{3, 64, 64}, {3, 45, 71}});
  if (total != 0) {
    std::printf("FAILED: a training step allocated\n");
    return 1;
  }
  std::printf("1 passed, 0 failed\n");
  return 0;
}
