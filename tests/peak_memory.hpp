// tests/peak_memory.hpp — how much resident memory a piece of work added at its peak.
//
//   const auto grown = typenet_test::peak_growth([&] { tn::read_image(bomb); });
//   BOOST_TEST(grown.bytes < 256u << 20);
//
// Linux only: writing 5 to /proc/self/clear_refs resets the process's
// high-water mark (VmHWM) to its current resident size, so the growth is
// VmHWM after the work minus VmRSS at the reset. The work may throw: the
// exception is kept and returned, so a test asserts on both the error and
// the memory. Resident memory counts pages touched, which is what a bomb
// costs; sanitizer shadow pages count too, which only makes the check
// stricter.
#pragma once

#include <cstddef>
#include <exception>
#include <fstream>
#include <stdexcept>
#include <string>

namespace typenet_test {

/// A field of /proc/self/status ("VmHWM", "VmRSS") in bytes.
inline std::size_t proc_status_bytes(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind(field + ":", 0) == 0) return std::stoull(line.substr(field.size() + 1)) * 1024;
  throw std::runtime_error("/proc/self/status has no " + field);
}

struct peak_measurement {
  std::size_t bytes = 0;       ///< peak resident growth during the work
  std::exception_ptr error{};  ///< what the work threw, if anything
};

template <class Work>
peak_measurement peak_growth(Work&& work) {
  {
    std::ofstream reset("/proc/self/clear_refs");
    reset << "5";
    if (!reset) throw std::runtime_error("cannot reset the peak RSS (/proc/self/clear_refs)");
  }
  const std::size_t before = proc_status_bytes("VmRSS");
  peak_measurement m;
  try {
    work();
  } catch (...) {
    m.error = std::current_exception();
  }
  const std::size_t peak = proc_status_bytes("VmHWM");
  m.bytes = peak > before ? peak - before : 0;
  return m;
}

/// The message of the exception kept by peak_growth ("" when none was thrown).
inline std::string error_message(const peak_measurement& m) {
  if (!m.error) return "";
  try {
    std::rethrow_exception(m.error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "<not a std::exception>";
  }
}

}  // namespace typenet_test
