// examples/command_line.hpp — what the example programs check before any work.
//
// Numbers: CLI11 validators with messages that say what is expected,
//
//   app.add_option("--limit", s.limit, "...")->check(examples::at_least(0));
//   --limit -5  ->  "--limit: must be a number >= 0, got -5" (exit status 105)
//
// CLI11's own PositiveNumber / NonNegativeNumber say "not in range 0.000000
// to 1797693134862315708145274237317043567980705675258449965989174768031572607800285387..."
// (the double's limits, printed with std::to_string), and without a check an
// unsigned option takes -5 as 2^64 - 5 (strtoull). The value is checked as
// text before CLI11 converts it, so -5 is rejected for an unsigned option
// and 2.5 for an integer one is then refused by the conversion. NaN and
// infinities are refused.
//
// Output paths: require_writable_folder() and require_writable_file() create
// the folder (and its parents) and create and delete a probe file in it, so
// an unwritable --out fails in the first second, not after the training run.
#pragma once

#include <CLI/CLI.hpp>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>

#include <unistd.h>

namespace examples {

namespace detail {

/// A bound as a person would write it: 1000000, 0.5, 1e-12.
inline std::string shortest(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
  std::ostringstream out;
  out << v;
  return out.str();
}

/// A validator accepting finite numbers for which `ok(value)` holds.
template <class Ok>
CLI::Validator number_check(Ok ok, const std::string& expected) {
  return CLI::Validator(
      [ok, expected](std::string& text) -> std::string {
        double value = 0;
        if (!CLI::detail::lexical_cast(text, value) || !std::isfinite(value) || !ok(value))
          return "must be a number " + expected + ", got " + text;
        return {};
      },
      expected, "");
}

}  // namespace detail

/// value >= min (counts: steps, epochs, batch sizes >= 1; limits, seeds >= 0).
inline CLI::Validator at_least(double min) {
  return detail::number_check([min](double v) { return v >= min; }, ">= " + detail::shortest(min));
}

/// value > min (learning rates: greater_than(0)).
inline CLI::Validator greater_than(double min) {
  return detail::number_check([min](double v) { return v > min; }, "> " + detail::shortest(min));
}

/// lo <= value <= hi (fractions: between(0, 1); thread counts).
inline CLI::Validator between(double lo, double hi) {
  return detail::number_check([lo, hi](double v) { return v >= lo && v <= hi; },
                              "in [" + detail::shortest(lo) + ", " + detail::shortest(hi) + "]");
}

/// Loader threads: 0 (load in the training thread) to 64.
inline CLI::Validator workers() {
  return between(0, 64);
}

namespace detail {

/// The folder part of require_writable_*: `label` starts every message.
inline void probe_folder(const std::filesystem::path& folder, const std::string& label) {
  namespace fs = std::filesystem;
  const fs::path dir = folder.empty() ? fs::path(".") : folder;
  const auto fail = [&](const std::string& what, const std::string& why) {
    throw std::runtime_error(label + ": " + what + " " + dir.string() + ": " + why);
  };
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) fail("cannot create the folder", ec.message());
  if (!fs::is_directory(dir, ec)) fail("cannot use", "it exists and is not a folder");
  const fs::path probe =
      dir / (".typenet-write-probe-" + std::to_string(static_cast<long long>(::getpid())));
  std::FILE* f = std::fopen(probe.c_str(), "wb");
  if (!f) fail("cannot write in the folder", std::strerror(errno));
  const bool closed = std::fclose(f) == 0;
  const int close_errno = errno;
  fs::remove(probe, ec);
  if (!closed) fail("cannot write in the folder", std::strerror(close_errno));
  if (ec) fail("cannot delete a file in the folder", ec.message());
}

}  // namespace detail

/// Creates `folder` (and its parents) if needed, then creates and deletes a
/// probe file in it. Throws std::runtime_error naming `flag`, the folder and
/// the system's reason (strerror) when either fails:
/// "--out /proc/x: cannot create the folder /proc/x: No such file or directory".
inline void require_writable_folder(const std::filesystem::path& folder, const std::string& flag) {
  detail::probe_folder(folder, flag + " " + folder.string());
}

/// The same for a file to be written: its folder must be writable, and the
/// file, if it exists, must be a file that can be opened for writing (it is
/// opened to append, so it is not changed).
inline void require_writable_file(const std::filesystem::path& file, const std::string& flag) {
  namespace fs = std::filesystem;
  const std::string label = flag + " " + file.string();
  detail::probe_folder(file.parent_path(), label);
  std::error_code ec;
  if (fs::is_directory(file, ec)) throw std::runtime_error(label + ": is a folder, not a file");
  if (fs::exists(file, ec)) {
    std::FILE* f = std::fopen(file.c_str(), "ab");
    if (!f) throw std::runtime_error(label + ": cannot write the file: " + std::strerror(errno));
    std::fclose(f);
  }
}

}  // namespace examples
