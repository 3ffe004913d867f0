// typenet/io/mapped_file.hpp — a read-only memory mapping of a whole file.
//
// Weight files are mapped rather than read: tensors are copied once, from
// the page cache straight into the model, and a 500 MB VGG checkpoint never
// exists twice in memory. The mapping is a byte_storage, so checkpoint
// records keep it alive.
#pragma once

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <span>
#include <string>

#include "typenet/io/checkpoint.hpp"
#include "typenet/io/errors.hpp"

namespace typenet::io {

class mapped_file final : public byte_storage {
 public:
  explicit mapped_file(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw format_error(path + ": cannot open: " + std::strerror(errno));
    struct stat info {};
    if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
      ::close(fd);
      throw format_error(path + ": not a regular file");
    }
    size_ = static_cast<std::size_t>(info.st_size);
    if (size_ > 0) {
      void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
      if (p == MAP_FAILED) {
        const int e = errno;
        ::close(fd);
        throw format_error(path + ": cannot map: " + std::strerror(e));
      }
      data_ = static_cast<const std::byte*>(p);
    }
    ::close(fd);
  }
  mapped_file(const mapped_file&) = delete;
  mapped_file& operator=(const mapped_file&) = delete;
  ~mapped_file() override {
    if (data_) ::munmap(const_cast<std::byte*>(data_), size_);
  }

  std::span<const std::byte> bytes() const override { return {data_, size_}; }

 private:
  const std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

/// A storage that is a window [offset, offset + size) of another storage.
class storage_slice final : public byte_storage {
 public:
  storage_slice(std::shared_ptr<const byte_storage> whole, std::size_t offset, std::size_t size)
      : whole_(std::move(whole)), offset_(offset), size_(size) {}
  std::span<const std::byte> bytes() const override {
    return whole_->prefix(offset_ + size_).subspan(offset_, size_);
  }
  std::size_t size() const override { return size_; }
  std::span<const std::byte> prefix(std::size_t n) const override {
    return whole_->prefix(offset_ + std::min(n, size_)).subspan(offset_, std::min(n, size_));
  }
  bool made_on_demand() const override { return whole_->made_on_demand(); }

 private:
  std::shared_ptr<const byte_storage> whole_;
  std::size_t offset_, size_;
};

}  // namespace typenet::io
