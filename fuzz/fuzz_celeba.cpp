// fuzz/fuzz_celeba.cpp — libFuzzer target for typenet's CelebA list readers.
//
// The input is list_eval_partition.txt, a NUL byte, then list_attr_celeba.txt
// (no NUL: everything is the attribute list, the partition list is empty).
// Both go to data::CelebA's in-memory constructor, for every split, with small
// bounds (line length, attributes, images). The only acceptable failure is
// typenet::data::data_error: anything else is a bug. Seeds: fuzz/corpus/celeba.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>

#include "typenet/data/celeba.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace td = typenet::data;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto nul = text.find('\0');
  const std::string partitions(nul == std::string_view::npos ? std::string_view{}
                                                             : text.substr(0, nul));
  const std::string attributes(nul == std::string_view::npos ? text : text.substr(nul + 1));
  const td::celeba_options limits{.max_line_bytes = 4096, .max_attributes = 64, .max_images = 4096};
  for (const auto split : {td::celeba_split::train, td::celeba_split::valid, td::celeba_split::test,
                           td::celeba_split::all}) {
    std::istringstream a(attributes), p(partitions);
    try {
      const td::CelebA d(".", split, a, "attr", p, "part", {.channels = 3}, limits);
      for (std::size_t i = 0; i < d.size(); ++i)
        if (d.attributes(i).size() != d.attribute_names().size()) __builtin_trap();
    } catch (const td::data_error&) {
    }
  }
  return 0;
}
