// typenet/train/progress.hpp — a one-line progress bar on stderr for training loops.
//
//   tn::progress_bar bar;                        // shown only when stderr is a terminal
//   bar.update("epoch 2/10", batch, batches, loss, samples_per_second);
//   bar.finish("epoch 2/10  loss 0.3121  val_acc 0.912  12.3 s");
//
// The line is redrawn in place ("\r") at most ten times a second and shows
// the batch, the running loss, the throughput and the time left in the
// epoch. When stderr is not a terminal (a log file, CI) nothing is drawn
// and only finish() lines are written, so logs stay readable.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

namespace typenet {

enum class progress_mode { automatic, always, never };

class progress_bar {
 public:
  explicit progress_bar(progress_mode mode = progress_mode::automatic, std::FILE* out = stderr)
      : out_(out),
        live_(mode == progress_mode::always ||
              (mode == progress_mode::automatic && ::isatty(::fileno(out)) != 0)),
        quiet_(mode == progress_mode::never) {}

  bool live() const noexcept { return live_; }

  /// Redraws the line (throttled); `batch` counts from 1.
  void update(const std::string& label, std::size_t batch, std::size_t batches, double loss,
              double samples_per_second) {
    if (!live_) return;
    const auto now = std::chrono::steady_clock::now();
    if (batch != batches && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    const int width = 24;
    const int filled = batches ? static_cast<int>(width * batch / batches) : width;
    std::string bar(static_cast<std::size_t>(filled), '=');
    bar.resize(static_cast<std::size_t>(width), ' ');
    const double eta = samples_per_second > 0 && batches > batch
                           ? static_cast<double>(batches - batch) * seconds_per_batch(batch)
                           : 0.0;
    std::fprintf(out_, "\r%s [%s] %zu/%zu  loss %.4f  %.0f samples/s  ETA %s   ", label.c_str(),
                 bar.c_str(), batch, batches, loss, samples_per_second,
                 format_seconds(eta).c_str());
    std::fflush(out_);
    drawn_ = true;
  }

  /// Starts timing an epoch (for the ETA).
  void start() {
    start_ = std::chrono::steady_clock::now();
    last_draw_ = {};
  }

  /// Ends the line with a summary (also when not live, unless the mode is
  /// never); an empty summary only clears the line.
  void finish(const std::string& summary) {
    if (quiet_) return;
    if (drawn_) std::fputs("\r\033[K", out_);
    if (!summary.empty()) std::fprintf(out_, "%s\n", summary.c_str());
    std::fflush(out_);
    drawn_ = false;
  }

  static std::string format_seconds(double s) {
    const auto total = static_cast<long long>(s + 0.5);
    char buf[32];
    if (total >= 3600)
      std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", total / 3600, total / 60 % 60,
                    total % 60);
    else
      std::snprintf(buf, sizeof buf, "%lld:%02lld", total / 60, total % 60);
    return buf;
  }

 private:
  double seconds_per_batch(std::size_t batch) const {
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    return batch ? elapsed / static_cast<double>(batch) : 0.0;
  }

  std::FILE* out_;
  bool live_;
  bool quiet_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace typenet
