// typenet/core/parallel_exceptions.hpp — carrying exceptions out of OpenMP regions.
//
// An exception that leaves an OpenMP structured block (a `parallel` region or
// one iteration of `parallel for`) calls std::terminate: the program dies
// without saying which file or value was wrong. first_exception catches
// inside the region and rethrows after it:
//
//   typenet::first_exception error;
//   #pragma omp parallel for
//   for (std::int64_t i = 0; i < n; ++i)
//     error.run([&] { decode(files[i]); });  // skipped once an iteration has thrown
//   error.rethrow_if_any();                  // the first exception, as it was thrown
//
// Guarantees: run() never throws. The exception rethrown is the first one
// caught (first in time when several threads throw; the others are
// dropped) and keeps its dynamic type, so `catch (const image_error&)`
// still matches. Iterations that start after a failure are skipped
// (run() returns false without calling f); those already running finish.
// Without a failure, run() costs one relaxed atomic load and allocates
// nothing, so kernels that must not allocate can use it.
//
// Requirements: rethrow_if_any() is called once every thread that calls
// run() has finished, i.e. after the region (its closing barrier orders the
// threads' writes before it). The class is neither copyable nor movable.
#pragma once

#include <atomic>
#include <exception>
#include <utility>

namespace typenet {

class first_exception {
 public:
  first_exception() = default;
  first_exception(const first_exception&) = delete;
  first_exception& operator=(const first_exception&) = delete;

  /// Calls f() unless an earlier call has thrown; keeps f's exception if it
  /// is the first. Returns whether f ran and returned normally.
  template <class F>
  bool run(F&& f) noexcept {
    if (failed()) return false;
    try {
      std::forward<F>(f)();
      return true;
    } catch (...) {
      capture(std::current_exception());
      return false;
    }
  }

  /// Keeps `e` if no exception has been kept yet (for a catch block of one's own).
  void capture(std::exception_ptr e) noexcept {
    if (claimed_.exchange(true, std::memory_order_acq_rel)) return;  // not the first
    error_ = std::move(e);
    failed_.store(true, std::memory_order_release);
  }

  /// Whether an exception has been caught (cheap enough to test per iteration).
  bool failed() const noexcept { return claimed_.load(std::memory_order_relaxed); }

  /// Rethrows the first exception caught, if any; call it after the region.
  void rethrow_if_any() const {
    if (failed_.load(std::memory_order_acquire)) std::rethrow_exception(error_);
  }

 private:
  std::atomic<bool> claimed_{false};  ///< set by the first thread to catch
  std::atomic<bool> failed_{false};   ///< set once error_ holds that thread's exception
  std::exception_ptr error_;
};

}  // namespace typenet
