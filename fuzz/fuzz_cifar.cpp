// fuzz/fuzz_cifar.cpp — libFuzzer target for typenet's CIFAR-10/100 batch readers.
//
// Feeds arbitrary bytes, plain or gzip'd, to the in-memory constructors of
// data::CIFAR10 and data::CIFAR100 (fine and coarse labels) and reads the
// first and last examples. The only acceptable failure is
// typenet::data::data_error: anything else is a bug. Seeds: fuzz/corpus/cifar.
#include <cstddef>
#include <cstdint>
#include <span>

#include "typenet/data/cifar.hpp"

namespace {

template <class Dataset>
void touch(const Dataset& d) {
  if (d.size() == 0) return;
  (void)d.get(0);
  (void)d.get(d.size() - 1);
  (void)d.label(d.size() - 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace td = typenet::data;
  const std::span bytes(data, size);
  const td::cifar_options options{.max_file_bytes = std::size_t{1} << 22};
  try {
    touch(td::CIFAR10(bytes, "fuzz", options));
  } catch (const td::data_error&) {
  }
  for (const auto labels : {td::cifar100_labels::fine, td::cifar100_labels::coarse}) {
    try {
      touch(td::CIFAR100(bytes, "fuzz", labels, options));
    } catch (const td::data_error&) {
    }
  }
  return 0;
}
