// Dataset readers against hostile files: gzip bombs, absurd headers, endless
// lines. `tools/make_data_limit_fixtures.py --out $TYPENET_FIXTURES` writes the
// files into $TYPENET_FIXTURES/data_limits (their contents are documented
// there). Every limit, when hit, throws data_error naming the file, the limit
// and the option that raises it, and peak resident memory grows by less than
// 256 MB (tests/peak_memory.hpp), whatever the file would inflate to.
#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include <boost/test/unit_test.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <initializer_list>
#include <sstream>
#include <string>
#include <vector>

#include <typenet/data/celeba.hpp>
#include <typenet/data/cifar.hpp>
#include <typenet/data/file_bytes.hpp>
#include <typenet/data/idx.hpp>

#include "peak_memory.hpp"

namespace {

namespace td = typenet::data;
namespace fs = std::filesystem;
constexpr std::size_t peak_limit = std::size_t{256} << 20;

fs::path dir() {
  const char* root = std::getenv("TYPENET_FIXTURES");
  BOOST_TEST_REQUIRE(root != nullptr,
                     "TYPENET_FIXTURES is not set; run tools/make_data_limit_fixtures.py --out "
                     "<dir> and set TYPENET_FIXTURES=<dir>");
  const auto d = fs::path(root) / "data_limits";
  BOOST_TEST_REQUIRE(fs::is_directory(d),
                     "no " << d.string() << "; run tools/make_data_limit_fixtures.py");
  return d;
}

/// Runs `work`, expecting a data_error whose message holds every needle, and
/// peak memory growth under peak_limit.
template <class Work>
void expect_error(const std::string& what, Work&& work,
                  std::initializer_list<std::string> needles) {
  const auto grown = typenet_test::peak_growth(work);
  const auto message = typenet_test::error_message(grown);
  BOOST_TEST_CONTEXT(what << ": " << message) {
    BOOST_TEST_REQUIRE(static_cast<bool>(grown.error), "no exception");
    bool data_error = false;
    try {
      std::rethrow_exception(grown.error);
    } catch (const td::data_error&) {
      data_error = true;
    } catch (...) {
    }
    BOOST_TEST(data_error);
    for (const auto& needle : needles)
      BOOST_TEST(message.find(needle) != std::string::npos, "missing: " << needle);
    BOOST_TEST(grown.bytes < peak_limit, "peak growth " << grown.bytes << " bytes");
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(data_limits)

BOOST_AUTO_TEST_CASE(idx_gzip_is_inflated_no_further_than_its_header_declares) {
  const auto file = (dir() / "idx_overflow.gz").string();
  expect_error(
      "idx_overflow.gz", [&] { td::read_idx(file); },
      {file, "inflates to more than the 176 bytes its IDX header declares (trailing data)"});
  // A well-formed gzip'd file reads, through the path and from memory.
  const auto good = td::read_idx(dir() / "idx_good.gz");
  BOOST_TEST(good.dims == (std::vector<std::size_t>{3, 2, 2}), boost::test_tools::per_element());
  std::vector<std::uint8_t> want(12);
  for (std::size_t i = 0; i < want.size(); ++i) want[i] = static_cast<std::uint8_t>(i);
  BOOST_TEST(good.values == want, boost::test_tools::per_element());
  const auto raw = td::detail::read_raw(dir() / "idx_good.gz");
  BOOST_TEST(td::read_idx_bytes(raw, "memory").values == want, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(idx_header_declaring_an_absurd_size_is_refused) {
  for (const char* name : {"idx_absurd.gz", "idx_absurd"}) {
    const auto file = (dir() / name).string();
    expect_error(
        name, [&] { td::read_idx(file); },
        {file,
         "IDX header declares 4294967295 x 4294967295 x 4294967295 values, more than the limit "
         "of 2147483648 (idx_options::max_values raises it)"});
  }
  // A declaration within the limit costs only what the stream holds.
  const auto promise = (dir() / "idx_promise.gz").string();
  expect_error("idx_promise.gz", [&] { td::read_idx(promise); },
               {promise, "IDX header promises 2147483648 values but 16 follow (truncated file)"});
  // A lower limit, named in the message.
  expect_error("idx_good.gz with max_values 11",
               [&] { td::read_idx(dir() / "idx_good.gz", {.max_values = 11}); },
               {"idx_good.gz", "declares 3 x 2 x 2 values, more than the limit of 11",
                "idx_options::max_values"});
}

BOOST_AUTO_TEST_CASE(gzip_bomb_in_a_cifar_batch_stops_at_max_file_bytes) {
  const auto root = dir() / "cifar10_bomb";
  const auto file = (root / "test_batch.bin").string();
  expect_error(
      "cifar10_bomb",
      [&] { td::CIFAR10(root, td::split::test, {.max_file_bytes = std::size_t{64} << 20}); },
      {file, "inflates to more than 67108864 bytes",
       "the limit for a CIFAR file; cifar_options::max_file_bytes raises it"});
  // From memory, with the first record only allowed: the same limit.
  const auto raw = td::detail::read_raw(file);
  expect_error("cifar10_bomb from memory",
               [&] { td::CIFAR10(raw, "batch", {.max_file_bytes = 3073}); },
               {"batch: inflates to more than 3073 bytes", "cifar_options::max_file_bytes"});
}

BOOST_AUTO_TEST_CASE(celeba_lists_are_bounded) {
  const auto attr = [](const char* folder) {
    return (dir() / folder / "list_attr_celeba.txt").string();
  };
  expect_error("celeba_long_line",
               [&] { td::CelebA(dir() / "celeba_long_line", td::celeba_split::all); },
               {attr("celeba_long_line") + ":2: line longer than 65536 bytes",
                "celeba_options::max_line_bytes raises the limit"});
  expect_error("celeba_many_images",
               [&] { td::CelebA(dir() / "celeba_many_images", td::celeba_split::all); },
               {attr("celeba_many_images") +
                    ":1: declares 1000000000000 images, more than the limit of 16777216",
                "celeba_options::max_images raises it"});
  expect_error("celeba_many_names",
               [&] { td::CelebA(dir() / "celeba_many_names", td::celeba_split::all); },
               {attr("celeba_many_names") + ":2: more than 1024 attribute names",
                "celeba_options::max_attributes raises the limit"});
  const auto partition = (dir() / "celeba_partition_line" / "list_eval_partition.txt").string();
  expect_error("celeba_partition_line",
               [&] { td::CelebA(dir() / "celeba_partition_line", td::celeba_split::all); },
               {partition + ":1: line longer than 65536 bytes", "celeba_options::max_line_bytes"});
  // The good lists read, from files and from memory, with and without a final newline.
  const td::CelebA good(dir() / "celeba_good", td::celeba_split::all);
  BOOST_TEST_REQUIRE(good.size() == 2u);
  BOOST_TEST(good.attributes(0) == (std::vector<float>{1, 0}), boost::test_tools::per_element());
  std::istringstream attributes("2\nSmiling Male\n000001.jpg  1 -1\n000002.jpg -1  1");
  std::istringstream partitions("000001.jpg 0\n000002.jpg 1");
  const td::CelebA memory(".", td::celeba_split::valid, attributes, "attr", partitions, "part");
  BOOST_TEST_REQUIRE(memory.size() == 1u);
  BOOST_TEST(memory.attributes(0) == (std::vector<float>{0, 1}), boost::test_tools::per_element());
  // A lower line limit, from memory.
  std::istringstream long_attributes("2\nSmiling Male\n");
  std::istringstream short_partitions("000001.jpg 0\n");
  expect_error("max_line_bytes 5",
               [&] {
                 td::CelebA(".", td::celeba_split::all, long_attributes, "attr", short_partitions,
                            "part", {.channels = 3}, {.max_line_bytes = 5});
               },
               {"part:1: line longer than 5 bytes", "celeba_options::max_line_bytes"});
}

BOOST_AUTO_TEST_SUITE_END()
