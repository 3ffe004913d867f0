// typenet/io/durable_file.hpp — writing a file so that a crash or a power loss never half-writes
// it.
//
//   std::span<const std::byte> parts[] = {header_bytes, tensor_bytes};
//   io::write_file_durably("run/last.safetensors", parts);
//
// The bytes go to `<path>.tmp`, which is fsync'ed, renamed over `path` and
// then the directory is fsync'ed, so the rename itself is on disk. The
// guarantee (on a file system that honours fsync, e.g. ext4, xfs, btrfs):
// once the call returns, `path` holds the new bytes even after a power
// loss; if the process or the machine dies before, `path` holds the old
// file (or none) and never a mix. A failure throws file_error naming the
// file, the step and the system's reason (strerror), and removes the
// temporary file, so a full disk is not kept full by a failed save.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <span>
#include <string>

#include "typenet/io/errors.hpp"

namespace typenet::io {

namespace detail {

/// A file descriptor closed on every path out.
class unique_fd {
 public:
  explicit unique_fd(int fd) : fd_(fd) {}
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;
  ~unique_fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const noexcept { return fd_; }
  /// Closes now and reports close's own error (NFS reports write errors there).
  int close() noexcept {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

inline std::string system_reason(int error_number) {
  return std::strerror(error_number);
}

inline void write_all(int fd, std::span<const std::byte> bytes, const std::string& name) {
  while (!bytes.empty()) {
    const ::ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw file_error(name + ": write failed: " + system_reason(errno));
    }
    bytes = bytes.subspan(static_cast<std::size_t>(n));
  }
}

inline void sync_directory_of(const std::filesystem::path& path) {
  const std::filesystem::path parent =
      path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  const int fd = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  // The new file is in place by now: the message says what is not yet certain.
  if (fd < 0)
    throw file_error(path.string() + " was written, but its directory cannot be opened to sync " +
                     "the rename, which a power loss could undo: " + system_reason(errno));
  unique_fd directory(fd);
  if (::fsync(directory.get()) != 0 && errno != EINVAL)  // EINVAL: a file system without it
    throw file_error(path.string() + " was written, but syncing its directory failed, so a " +
                     "power loss could undo the rename: " + system_reason(errno));
}

}  // namespace detail

/// Writes `parts` one after another into `path`, durably and atomically (see above).
inline void write_file_durably(const std::filesystem::path& path,
                               std::span<const std::span<const std::byte>> parts) {
  const std::filesystem::path temporary = path.string() + ".tmp";
  const std::string name = temporary.string();
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) throw file_error(name + ": cannot open for writing: " + detail::system_reason(errno));
  try {
    detail::unique_fd file(fd);
    for (const auto part : parts) detail::write_all(file.get(), part, name);
    if (::fsync(file.get()) != 0)
      throw file_error(name + ": cannot sync to disk: " + detail::system_reason(errno));
    if (file.close() != 0)
      throw file_error(name + ": write failed on close: " + detail::system_reason(errno));
    if (::rename(temporary.c_str(), path.c_str()) != 0)
      throw file_error(path.string() + ": cannot rename the temporary file into place: " +
                       detail::system_reason(errno));
  } catch (...) {
    ::unlink(temporary.c_str());  // a partial file must not keep a full disk full
    throw;
  }
  detail::sync_directory_of(path);
}

/// Fails now, with the system's reason, unless files can be created in
/// `directory` (created if missing): a long run checks where it will save
/// before it starts, not after its first epoch.
inline void check_writable_directory(const std::filesystem::path& directory) {
  std::error_code ec;
  std::filesystem::create_directories(directory, ec);
  if (ec) throw file_error(directory.string() + ": cannot create the directory: " + ec.message());
  const std::filesystem::path probe = directory / ".typenet-write-probe";
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    throw file_error(directory.string() +
                     ": cannot create files there: " + detail::system_reason(errno));
  ::close(fd);
  ::unlink(probe.c_str());
}

}  // namespace typenet::io
