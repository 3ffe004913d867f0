// typenet/backend/cpu/parallel.hpp — OpenMP loops that know when not to fork.
//
// Every CPU kernel parallelises through parallel_for. It forks only when the
// loop is worth it and no parallel region is already active, so kernels can
// be nested (a GEMM inside a per-sample loop) without oversubscription. The
// static partition gives each index the same thread for a fixed thread count,
// which keeps results bit-identical from run to run.
//
// An exception thrown by a body inside a region (std::bad_alloc from the
// per-thread scratch, or anything a caller's body throws) does not reach
// std::terminate: the first one is kept, the threads skip their remaining
// indices, and it is rethrown to the caller after the region, as thrown.
#pragma once

#include <algorithm>
#include <cstdint>

#include "typenet/core/parallel_exceptions.hpp"

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace typenet::cpu {

/// Threads the next parallel region would use (1 without OpenMP or inside a region).
inline int available_threads() {
#if defined(_OPENMP)
  return omp_in_parallel() ? 1 : omp_get_max_threads();
#else
  return 1;
#endif
}

/// Calls `body(i)` for i in [0, n). `work_per_item` is a rough count of
/// floating-point operations per index, used to skip forking tiny loops.
template <class Body>
void parallel_for(std::int64_t n, std::int64_t work_per_item, Body&& body) {
  constexpr std::int64_t min_work_to_fork = 1 << 15;
  const int threads = available_threads();
  if (threads > 1 && n > 1 && n * std::max<std::int64_t>(work_per_item, 1) >= min_work_to_fork) {
#if defined(_OPENMP)
    // A plain region with a hand-made static partition: `omp for` costs an
    // allocation per loop in LLVM's libomp, and a training step must not allocate.
    const int team = static_cast<int>(std::min<std::int64_t>(threads, n));
    first_exception error;
#pragma omp parallel num_threads(team)
    {
      const std::int64_t t = omp_get_thread_num(), size = omp_get_num_threads();
      const std::int64_t begin = n * t / size, end = n * (t + 1) / size;
      error.run([&] {
        for (std::int64_t i = begin; i < end && !error.failed(); ++i) body(i);
      });
    }
    error.rethrow_if_any();
    return;
#endif
  }
  for (std::int64_t i = 0; i < n; ++i) body(i);
}

/// Threads parallel_ranges(n, work, ...) would use: 1 when the loop is too
/// small to fork or a region is already active, else at most n.
inline int team_size(std::int64_t n, std::int64_t work) {
  constexpr std::int64_t min_work_to_fork = 1 << 16;
  if (work < min_work_to_fork) return 1;
  return static_cast<int>(
      std::min<std::int64_t>(available_threads(), std::max<std::int64_t>(n, 1)));
}

/// Calls `body(thread, begin, end)` once per thread of a team of
/// team_size(n, work) threads, with [begin, end) a static partition of
/// [0, n): thread t always gets the same range, so per-thread partial
/// results can be combined in a fixed order.
template <class Body>
void parallel_ranges(std::int64_t n, std::int64_t work, Body&& body) {
  const int team = team_size(n, work);
  if (team <= 1) {
    body(0, std::int64_t{0}, n);
    return;
  }
#if defined(_OPENMP)
  first_exception error;
#pragma omp parallel num_threads(team)
  {
    const std::int64_t t = omp_get_thread_num(), size = omp_get_num_threads();
    error.run([&] {
      // A team smaller than asked for leaves the missing threads' ranges to thread 0.
      if (t == 0)
        for (std::int64_t missing = size; missing < team && !error.failed(); ++missing)
          body(static_cast<int>(missing), n * missing / team, n * (missing + 1) / team);
      if (!error.failed()) body(static_cast<int>(t), n * t / team, n * (t + 1) / team);
    });
  }
  error.rethrow_if_any();
#endif
}

/// Calls `body(begin, end)` on `threads` contiguous, nearly equal chunks of
/// [0, n) whose boundaries are multiples of `align` (except the last).
template <class Body>
void parallel_chunks(std::int64_t n, std::int64_t align, std::int64_t work, Body&& body) {
  constexpr std::int64_t min_work_to_fork = 1 << 16;
  int threads = available_threads();
  if (work < min_work_to_fork) threads = 1;
  const std::int64_t units = (n + align - 1) / align;
  threads = static_cast<int>(std::min<std::int64_t>(threads, units));
  if (threads <= 1) {
    body(std::int64_t{0}, n);
    return;
  }
#if defined(_OPENMP)
  first_exception error;
#pragma omp parallel num_threads(threads)
  {
    const std::int64_t t = omp_get_thread_num(), size = omp_get_num_threads();
    const std::int64_t begin = std::min(n, units * t / size * align);
    const std::int64_t end = std::min(n, units * (t + 1) / size * align);
    if (begin < end) error.run([&] { body(begin, end); });
  }
  error.rethrow_if_any();
#else
  body(std::int64_t{0}, n);
#endif
}

}  // namespace typenet::cpu
