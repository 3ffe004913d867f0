// Datasets and the loader: Debian's real Fashion-MNIST files, hand-made IDX,
// CIFAR, image-folder and CelebA files (good and corrupt), subsets and random
// splits, transforms, and the DataLoader's batches, shuffling, workers,
// targets and error handling.
// Reference data: tools/make_data_fixtures.py --out $TYPENET_FIXTURES.
#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <numeric>
#include <random>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <unistd.h>
#if defined(_OPENMP)
#include <omp.h>
#endif

#include "typenet/backend/cpu/parallel.hpp"
#include "typenet/core/parallel_exceptions.hpp"
#include "typenet/vision.hpp"

#include "fixtures.hpp"

namespace tn = typenet;
namespace td = typenet::data;
namespace T = typenet::data::transforms;
namespace fs = std::filesystem;
using typenet_test::FixtureTensor;

namespace {

fs::path data_dir() {
  return fs::path(typenet_test::fixture_directory()) / "data";
}

const typenet_test::Fixture& reference() {
  static const auto f = typenet_test::Fixture::read_file((data_dir() / "reference.tnfx").string());
  return f;
}

std::vector<std::int64_t> ints(const std::string& name) {
  const auto& t = reference().at(name);
  std::vector<std::int64_t> v;
  for (std::int64_t i = 0; i < t.numel(); ++i) v.push_back(static_cast<std::int64_t>(t.at(i)));
  return v;
}

/// For BOOST_CHECK_EXCEPTION: the message holds every one of `parts`.
auto says(std::vector<std::string> parts) {
  return [parts = std::move(parts)](const std::exception& e) {
    const std::string what = e.what();
    for (const auto& p : parts)
      if (what.find(p) == std::string::npos) {
        BOOST_ERROR("the message \"" << what << "\" does not mention \"" << p << "\"");
        return false;
      }
    return true;
  };
}

/// Sample `n` of an [N, H, W] or [N, H, W, C] array of bytes, as read_image gives it: byte / 255.
tn::image bytes_image(const FixtureTensor& t, std::int64_t n) {
  const int c = t.dims.size() == 4 ? static_cast<int>(t.dims[3]) : 1;
  tn::image img(static_cast<int>(t.dims[2]), static_cast<int>(t.dims[1]), c);
  for (std::int64_t i = 0; i < img.size(); ++i)
    img.data()[i] = static_cast<float>(t.at(n * img.size() + i)) / 255.0f;
  return img;
}

/// `got` against PIL's decoding: exact for lossless files; stb's JPEG decoding is within 2 levels
/// of libjpeg's on these smooth 4:4:4 pictures.
void check_decoded(const std::string& key, const tn::image& got) {
  const auto& want = reference().at(key);
  const std::vector<std::int64_t> dims{got.height(), got.width(), got.channels()};
  BOOST_TEST_REQUIRE(dims == want.dims, key << ": " << tn::describe(got) << " (W x H x C) vs "
                                            << want.describe() << " (H x W x C)");
  std::string ext = fs::path(key).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  const bool jpeg = ext == ".jpg" || ext == ".jpeg";
  typenet_test::check_close(key, got.data(), got.size(), want, {0.0, jpeg ? 4.0 / 255 : 1e-7});
}

/// A width x height RGB example whose pixels differ, with a same-sized 2-channel target.
td::example patterned(int width, int height) {
  td::example ex;
  ex.image = tn::image(width, height, 3);
  ex.target = tn::image(width, height, 2);
  for (std::int64_t i = 0; i < ex.image.size(); ++i)
    ex.image.data()[i] = static_cast<float>((i * 7 + 3) % 251) / 255.0f;
  for (std::int64_t i = 0; i < ex.target.size(); ++i)
    ex.target.data()[i] = static_cast<float>(i + 1);
  return ex;
}

/// n synthetic 6 x 6 RGB examples: pixels and label derived from the index.
struct numbered {
  std::size_t n;
  std::size_t size() const { return n; }
  td::example get(std::size_t i) const {
    td::example ex;
    ex.image = tn::image(6, 6, 3);
    for (std::int64_t k = 0; k < ex.image.size(); ++k)
      ex.image.data()[k] =
          static_cast<float>((static_cast<std::int64_t>(i) * 31 + k * 7) % 256) / 255.0f;
    ex.label = static_cast<int>(i % 10);
    return ex;
  }
};

static_assert(td::Dataset<numbered>);

/// Examples of mixed sizes: example i is (5 + i % 3) wide and 4 + (i % 2) high; pixel values
/// and label give i back.
struct mixed_sizes {
  std::size_t n;
  std::size_t size() const { return n; }
  td::example get(std::size_t i) const {
    td::example ex;
    ex.image = tn::image(5 + static_cast<int>(i % 3), 4 + static_cast<int>(i % 2), 3,
                         static_cast<float>(i));
    ex.label = static_cast<int>(i);
    return ex;
  }
};
static_assert(td::Dataset<td::MNIST> && td::Dataset<td::FashionMNIST> && td::Dataset<td::CIFAR10> &&
              td::Dataset<td::CIFAR100> && td::Dataset<td::ImageFolder> &&
              td::Dataset<td::UnlabeledImageFolder> && td::Dataset<td::CelebA> &&
              td::Dataset<td::Subset<td::MNIST>>);
static_assert(!td::Dataset<int>);

/// Everything an epoch hands out, floats as bits (for bit-identity).
struct epoch_record {
  std::vector<std::uint32_t> inputs;
  std::vector<int> labels;
  std::vector<std::size_t> indices;
  std::vector<int> sizes;
  bool operator==(const epoch_record&) const = default;
};

template <class Loader>
epoch_record record(const Loader& loader, std::uint64_t epoch) {
  epoch_record r;
  for (const auto& b : loader.epoch(epoch)) {
    for (float v : b.inputs.values()) r.inputs.push_back(std::bit_cast<std::uint32_t>(v));
    r.labels.insert(r.labels.end(), b.labels.begin(), b.labels.end());
    r.indices.insert(r.indices.end(), b.indices.begin(), b.indices.end());
    r.sizes.push_back(b.size());
  }
  return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(data)

// ---- IDX: the real Fashion-MNIST and hand-made files -------------------------------------

BOOST_AUTO_TEST_CASE(dynamic_batches_and_grouping_by_size) {
  using Any = tn::Shape<3, tn::dyn, tn::dyn>;
  // Without grouping, a batch takes its first example's size; a resize makes one size.
  td::DataLoader<Any> resized(
      mixed_sizes{7}, {.batch_size = 3},
      [](td::example& ex, std::mt19937_64&) { ex.image = tn::resize(ex.image, 8, 5); });
  int seen = 0;
  for (const auto& b : resized.epoch(0)) {
    BOOST_TEST(b.inputs.extent(1) == 5);
    BOOST_TEST(b.inputs.extent(2) == 8);
    seen += b.size();
  }
  BOOST_TEST(seen == 7);
  td::DataLoader<Any> mixed(mixed_sizes{7}, {.batch_size = 3});
  try {
    for (const auto& b : mixed.epoch(0)) (void)b;
    BOOST_FAIL("a batch of mixed sizes must be refused");
  } catch (const tn::shape_error& e) {
    BOOST_TEST(std::string(e.what()).find("group_by_size") != std::string::npos, e.what());
  }

  // Grouped: 6 sizes (i % 6), batches never mix sizes, every example once.
  for (const bool shuffle : {false, true}) {
    for (const int workers : {0, 2}) {
      td::DataLoader<Any> grouped(mixed_sizes{20}, {.batch_size = 2,
                                                    .shuffle = shuffle,
                                                    .seed = 5,
                                                    .workers = workers,
                                                    .group_by_size = true});
      // sizes i % 6 == 0, 1: 4 examples -> 2 batches; 2..5: 3 -> 2 batches each
      BOOST_TEST(grouped.batches() == 12u);
      std::vector<int> labels;
      std::size_t batches = 0;
      for (const auto& b : grouped.epoch(1)) {
        ++batches;
        for (int k = 0; k < b.size(); ++k) {
          const int i = b.labels[static_cast<std::size_t>(k)];
          labels.push_back(i);
          BOOST_TEST(b.inputs.extent(2) == 5 + i % 3);
          BOOST_TEST(b.inputs.extent(1) == 4 + i % 2);
          BOOST_TEST(b.inputs(k, 2, 0, 0) == static_cast<float>(i));
        }
      }
      BOOST_TEST(batches == grouped.batches());
      std::sort(labels.begin(), labels.end());
      std::vector<int> all(20);
      std::iota(all.begin(), all.end(), 0);
      BOOST_TEST(labels == all, boost::test_tools::per_element());
    }
  }
  td::DataLoader<Any> dropped(mixed_sizes{20},
                              {.batch_size = 2, .drop_last = true, .group_by_size = true});
  BOOST_TEST(dropped.batches() == 8u);  // each group of 3 loses its last example
  using Fixed = td::DataLoader<tn::Shape<3, 4, 5>>;
  BOOST_CHECK_THROW(Fixed(mixed_sizes{3}, {.group_by_size = true}), tn::usage_error);
}

BOOST_AUTO_TEST_CASE(fashion_mnist_real_files) {
  const fs::path root = "/usr/share/datasets/fashion-mnist";
  BOOST_REQUIRE_MESSAGE(fs::exists(root / "train-images-idx3-ubyte.gz"),
                        root << " is missing: install Debian's dataset-fashion-mnist "
                                "(apt-get install dataset-fashion-mnist)");
  BOOST_REQUIRE_MESSAGE(reference().contains("fashion.train.counts"),
                        "reference.tnfx has no Fashion-MNIST values: rerun "
                        "tools/make_data_fixtures.py after installing dataset-fashion-mnist");
  for (const auto& [which, name, n] : {std::tuple{td::split::train, "train", std::size_t{60000}},
                                       std::tuple{td::split::test, "test", std::size_t{10000}}}) {
    BOOST_TEST_CONTEXT(name) {
      const std::string key = std::string("fashion.") + name;
      const td::FashionMNIST ds(root, which);
      BOOST_TEST_REQUIRE(ds.size() == n);
      BOOST_TEST(ds.width() == 28);
      BOOST_TEST(ds.height() == 28);
      std::vector<std::int64_t> counts(10, 0), first_labels;
      for (std::size_t i = 0; i < ds.size(); ++i) ++counts[static_cast<std::size_t>(ds.label(i))];
      for (std::size_t i = 0; i < 20; ++i) first_labels.push_back(ds.label(i));
      BOOST_TEST(counts == ints(key + ".counts"), boost::test_tools::per_element());
      BOOST_TEST(first_labels == ints(key + ".first_labels"), boost::test_tools::per_element());
      for (const auto& [which_image, index] :
           {std::pair{"first", std::size_t{0}}, std::pair{"last", n - 1}}) {
        const auto bytes = ds.pixels(index);
        std::int64_t sum = 0, weighted = 0;
        for (std::size_t i = 0; i < bytes.size(); ++i) {
          sum += bytes[i];
          weighted += static_cast<std::int64_t>(i) * bytes[i];
        }
        const std::string k = key + "." + which_image;
        BOOST_TEST(sum == ints(k + ".sum")[0]);
        BOOST_TEST(weighted == ints(k + ".weighted")[0]);
        const auto ex = ds.get(index);
        BOOST_TEST(tn::describe(ex.image) == "28x28x1");
        BOOST_TEST(ex.label == ds.label(index));
        for (std::size_t i = 0; i < bytes.size(); ++i)
          BOOST_TEST_REQUIRE(ex.image.data()[i] == static_cast<float>(bytes[i]) / 255.0f);
      }
      BOOST_CHECK_THROW(ds.get(n), std::out_of_range);
    }
  }
  BOOST_TEST(td::FashionMNIST::classes[9] == std::string("Ankle boot"));
}

BOOST_AUTO_TEST_CASE(mnist_layout_plain_and_gzipped) {
  for (const char* folder : {"mnist", "mnist_gz"}) {
    for (const auto& [which, name] :
         {std::pair{td::split::train, "train"}, std::pair{td::split::test, "test"}}) {
      BOOST_TEST_CONTEXT(folder << " " << name) {
        const td::MNIST ds(data_dir() / folder, which);
        const auto& images = reference().at(std::string("mnist.") + name + ".images");
        const auto labels = ints(std::string("mnist.") + name + ".labels");
        BOOST_TEST_REQUIRE(ds.size() == labels.size());
        BOOST_TEST(ds.width() == 5);
        BOOST_TEST(ds.height() == 4);
        for (std::size_t i = 0; i < ds.size(); ++i) {
          const auto ex = ds.get(i);
          BOOST_TEST(ex.label == labels[i]);
          BOOST_TEST(tn::describe(ex.image) == "5x4x1");
          BOOST_TEST((ex.image == bytes_image(images, static_cast<std::int64_t>(i))));
        }
      }
    }
  }
  const auto plain = data_dir() / "mnist" / "train-images-idx3-ubyte";
  const auto gzipped = data_dir() / "mnist_gz" / "train-images-idx3-ubyte.gz";
  BOOST_TEST((td::read_file_bytes(gzipped) == td::read_file_bytes(plain)));
  const auto a = td::read_idx(gzipped);
  BOOST_TEST(a.dims == (std::vector<std::size_t>{7, 4, 5}), boost::test_tools::per_element());
  // The two-file constructor, mixing plain and gzip'd.
  const td::MNIST mixed(gzipped, data_dir() / "mnist" / "train-labels-idx1-ubyte");
  BOOST_TEST(mixed.size() == 7u);
}

BOOST_AUTO_TEST_CASE(corrupt_idx_files_throw_naming_the_file) {
  const auto images = data_dir() / "mnist" / "train-images-idx3-ubyte";
  const auto labels = data_dir() / "mnist" / "train-labels-idx1-ubyte";
  const auto bad = data_dir() / "idx_bad";
  struct bad_case {
    const char* file;
    bool is_images;
    const char* why;
  };
  for (const auto& c : {bad_case{"images_bad_magic", true, "not an IDX file"},
                        bad_case{"images_float", true, "element type 13 is not supported"},
                        bad_case{"images_truncated", true, "truncated file"},
                        bad_case{"images_trailing", true, "trailing data"},
                        bad_case{"images_header_cut", true, "truncated IDX header"},
                        bad_case{"images_short", true, "too short"},
                        bad_case{"images_rank2", true, "expected 3 dimensions"},
                        bad_case{"images_rank0", true, "IDX file with 0 dimensions"},
                        bad_case{"images_truncated.gz", true, "truncated gzip data"},
                        bad_case{"images_corrupt.gz", true, "corrupt gzip data"},
                        bad_case{"images_bad_crc.gz", true, "incorrect data check"},
                        bad_case{"labels_6", false, "holds 6 labels"},
                        bad_case{"labels_10", false, "label 10 of example 4 is out of range"},
                        bad_case{"labels_rank2", false, "expected 1 dimension"}}) {
    BOOST_TEST_CONTEXT(c.file) {
      const auto file = bad / c.file;
      BOOST_CHECK_EXCEPTION(
          (void)td::MNIST(c.is_images ? file : images, c.is_images ? labels : file), td::data_error,
          says({file.string(), c.why}));
    }
  }
  BOOST_CHECK_EXCEPTION((void)td::MNIST(images, bad / "labels_6"), td::data_error,
                        says({images.string(), "holds 7 images"}));
  BOOST_CHECK_EXCEPTION((void)td::MNIST(data_dir() / "no_such_folder", td::split::test),
                        td::data_error,
                        says({"no_such_folder", "t10k-images-idx3-ubyte", "no such file"}));
  BOOST_CHECK_EXCEPTION(td::read_file_bytes(bad / "missing"), td::data_error,
                        says({(bad / "missing").string(), "no such file"}));
  BOOST_CHECK_EXCEPTION(td::read_idx(bad), td::data_error, says({bad.string(), "is a directory"}));
  BOOST_CHECK_THROW(td::read_idx(bad / "images_short"), tn::format_error);
}

BOOST_AUTO_TEST_CASE(gzip_inflates_large_ratios_up_to_max_bytes) {
  const auto big = data_dir() / "idx_big.gz";  // 5.5 KB inflating to 470 KB
  const auto a = td::read_idx(big);
  BOOST_TEST(a.dims == (std::vector<std::size_t>{600, 28, 28}), boost::test_tools::per_element());
  bool pattern = a.values.size() == 600u * 28 * 28;
  for (std::size_t i = 0; pattern && i < a.values.size(); ++i)
    pattern = a.values[i] == (i / 784 * 7 + i / 28 % 28 * 3 + i % 28) % 256;
  BOOST_TEST(pattern, "idx_big.gz holds (n * 7 + y * 3 + x) % 256");
  BOOST_CHECK_EXCEPTION(td::read_file_bytes(big, 100000), td::data_error,
                        says({big.string(), "inflates to more than 100000 bytes"}));
  // A limit below the first buffer (4 x the compressed size, at least 1 KB) holds too.
  const auto small = data_dir() / "mnist_gz" / "train-images-idx3-ubyte.gz";  // inflates to 156
  BOOST_TEST(td::read_file_bytes(small, 156).size() == 156u);
  BOOST_CHECK_EXCEPTION(td::read_file_bytes(small, 100), td::data_error,
                        says({small.string(), "inflates to more than 100 bytes"}));
}

// ---- CIFAR -------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(cifar10_planes_become_hwc_images) {
  for (const auto& [which, name] :
       {std::pair{td::split::train, "train"}, std::pair{td::split::test, "test"}}) {
    BOOST_TEST_CONTEXT(name) {
      const td::CIFAR10 ds(data_dir() / "cifar10", which);
      const auto& images = reference().at(std::string("cifar10.") + name + ".images");
      const auto labels = ints(std::string("cifar10.") + name + ".labels");
      BOOST_TEST_REQUIRE(ds.size() == labels.size());
      for (std::size_t i = 0; i < ds.size(); ++i) {
        const auto ex = ds.get(i);
        BOOST_TEST(ds.label(i) == labels[i]);
        BOOST_TEST(ex.label == labels[i]);
        BOOST_TEST(tn::describe(ex.image) == "32x32x3");
        BOOST_TEST((ex.image == bytes_image(images, static_cast<std::int64_t>(i))));
      }
    }
  }
  BOOST_TEST(td::CIFAR10(data_dir() / "cifar10", td::split::train).size() == 8u);
  // Straight from the file: record 1, row 2, column 5 of each colour plane.
  const auto raw = td::read_file_bytes(data_dir() / "cifar10" / "test_batch.bin");
  const auto ex = td::CIFAR10(data_dir() / "cifar10", td::split::test).get(1);
  for (int c = 0; c < 3; ++c)
    BOOST_TEST(ex.image(2, 5, c) ==
               static_cast<float>(raw[3073 + 1 + c * 1024 + 2 * 32 + 5]) / 255.0f);
  const std::vector<fs::path> files{data_dir() / "cifar10" / "data_batch_2.bin",
                                    data_dir() / "cifar10" / "test_batch.bin"};
  const td::CIFAR10 two(files);
  BOOST_TEST(two.size() == 4u);
  BOOST_TEST(two.label(1) == ints("cifar10.test.labels")[0]);
  BOOST_TEST(td::CIFAR10::classes[3] == std::string("cat"));
  BOOST_CHECK_THROW(two.get(4), std::out_of_range);
}

BOOST_AUTO_TEST_CASE(cifar100_fine_and_coarse_labels) {
  for (const auto& [which, name] :
       {std::pair{td::split::train, "train"}, std::pair{td::split::test, "test"}}) {
    const auto& images = reference().at(std::string("cifar100.") + name + ".images");
    for (const auto& [kind, kind_name, classes] :
         {std::tuple{td::cifar100_labels::fine, "fine", 100},
          std::tuple{td::cifar100_labels::coarse, "coarse", 20}}) {
      BOOST_TEST_CONTEXT(name << " " << kind_name) {
        const td::CIFAR100 ds(data_dir() / "cifar100", which, kind);
        const auto labels = ints(std::string("cifar100.") + name + "." + kind_name);
        BOOST_TEST(ds.classes() == classes);
        BOOST_TEST_REQUIRE(ds.size() == labels.size());
        for (std::size_t i = 0; i < ds.size(); ++i) {
          const auto ex = ds.get(i);
          BOOST_TEST(ex.label == labels[i]);
          BOOST_TEST((ex.image == bytes_image(images, static_cast<std::int64_t>(i))));
        }
      }
    }
  }
  const td::CIFAR100 file(data_dir() / "cifar100" / "test.bin", td::cifar100_labels::coarse);
  BOOST_TEST(file.label(1) == ints("cifar100.test.coarse")[1]);
  BOOST_TEST(td::CIFAR100(data_dir() / "cifar100", td::split::test).label(1) ==
             ints("cifar100.test.fine")[1]);  // fine by default
}

BOOST_AUTO_TEST_CASE(corrupt_cifar_files_throw_naming_the_file) {
  const auto bad = data_dir() / "cifar_bad";
  const std::vector<fs::path> cifar100_as_10{data_dir() / "cifar100" / "train.bin"};
  const struct {
    std::function<void()> load;
    fs::path file;
    const char* why;
  } cases[] = {
      {[&] { td::CIFAR10(bad / "cifar10_truncated", td::split::test); },
       bad / "cifar10_truncated" / "test_batch.bin", "not a whole number of 3073-byte"},
      {[&] { td::CIFAR10(bad / "cifar10_label", td::split::test); },
       bad / "cifar10_label" / "test_batch.bin", "record 1 has label 10"},
      {[&] { td::CIFAR10(bad / "cifar10_empty", td::split::test); },
       bad / "cifar10_empty" / "test_batch.bin", "0 bytes"},
      {[&] { td::CIFAR10(bad / "cifar10_missing", td::split::train); },
       bad / "cifar10_missing" / "data_batch_5.bin", "no such file"},
      {[&] { td::CIFAR10(data_dir() / "no_such_folder", td::split::test); },
       data_dir() / "no_such_folder" / "test_batch.bin", "no such file"},
      {[&] { td::CIFAR100(bad / "cifar100_fine", td::split::train); },
       bad / "cifar100_fine" / "train.bin", "record 2 has label 100"},
      {[&] { td::CIFAR100(bad / "cifar100_coarse", td::split::train); },
       bad / "cifar100_coarse" / "train.bin", "record 0 has label 20"},
      {[&] { td::CIFAR10{std::span<const fs::path>(cifar100_as_10)}; }, cifar100_as_10[0],
       "mixed up"},
      {[&] { td::CIFAR100(data_dir() / "cifar10" / "test_batch.bin", td::cifar100_labels::fine); },
       data_dir() / "cifar10" / "test_batch.bin", "3074-byte"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.file) {
      BOOST_CHECK_EXCEPTION(c.load(), td::data_error, says({c.file.string(), c.why}));
    }
  }
}

// ---- image folders -----------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(image_folder_classes_files_and_pixels) {
  const auto root = data_dir() / "folder";
  const td::ImageFolder ds(root);
  BOOST_TEST(ds.classes() == (std::vector<std::string>{"ants", "cats", "dogs"}),
             boost::test_tools::per_element());
  // Sorted by path, nested folders included, extensions in any case; .txt, .webp and
  // the loose root file ignored.
  const std::vector<std::string> files{"ants/q.gif",  "cats/a.png",        "cats/b.jpg",
                                       "cats/c.PNG",  "cats/nested/d.png", "dogs/x.bmp",
                                       "dogs/y.JPEG", "dogs/z.ppm"};
  const std::vector<int> labels{0, 1, 1, 1, 1, 2, 2, 2};
  BOOST_TEST_REQUIRE(ds.size() == files.size());
  for (std::size_t i = 0; i < ds.size(); ++i) {
    BOOST_TEST_CONTEXT(files[i]) {
      BOOST_TEST(ds.path(i).lexically_relative(root).generic_string() == files[i]);
      BOOST_TEST(ds.label(i) == labels[i]);
      const auto ex = ds.get(i);
      BOOST_TEST(ex.label == labels[i]);
      check_decoded("folder." + files[i], ex.image);  // gray and RGBA files as RGB
    }
  }
  const td::ImageFolder as_in_file(root, {.channels = 0});
  BOOST_TEST(as_in_file.get(3).image.channels() == 1);
  BOOST_TEST(as_in_file.get(4).image.channels() == 4);
  BOOST_CHECK_THROW(ds.get(8), std::out_of_range);
}

BOOST_AUTO_TEST_CASE(image_folder_errors_name_the_folder_or_file) {
  const auto dir = data_dir();
  BOOST_CHECK_EXCEPTION(
      (void)td::ImageFolder(dir / "folder_empty_class"), td::data_error,
      says({(dir / "folder_empty_class" / "dogs").string(), "without image files"}));
  BOOST_CHECK_EXCEPTION((void)td::ImageFolder(dir / "folder_no_classes"), td::data_error,
                        says({(dir / "folder_no_classes").string(), "no class folders"}));
  BOOST_CHECK_EXCEPTION((void)td::ImageFolder(dir / "no_such_folder"), td::data_error,
                        says({(dir / "no_such_folder").string(), "does not exist"}));
  BOOST_CHECK_EXCEPTION((void)td::ImageFolder(dir / "reference.tnfx"), td::data_error,
                        says({"reference.tnfx", "not a directory"}));
  // A corrupt image is found when it is read, and only that one fails.
  const td::ImageFolder ds(dir / "folder_corrupt");
  BOOST_TEST_REQUIRE(ds.size() == 8u);
  const auto labels = ints("folder_corrupt.labels");
  for (std::size_t i = 0; i < ds.size(); ++i) BOOST_TEST(ds.label(i) == labels[i]);
  BOOST_TEST(ds.get(5).image.width() == 8);
  BOOST_CHECK_EXCEPTION(ds.get(6), tn::image_error,
                        says({(dir / "folder_corrupt" / "b" / "1_broken.png").string()}));
  BOOST_TEST(ds.get(7).image.width() == 8);
}

BOOST_AUTO_TEST_CASE(unlabeled_image_folder) {
  const auto root = data_dir() / "unlabeled";
  const td::UnlabeledImageFolder ds(root);
  const std::vector<std::string> files{"p1.png", "sub/deeper/p3.PNG", "sub/p2.jpg"};
  BOOST_TEST_REQUIRE(ds.size() == files.size());
  for (std::size_t i = 0; i < ds.size(); ++i) {
    BOOST_TEST_CONTEXT(files[i]) {
      BOOST_TEST(ds.path(i).lexically_relative(root).generic_string() == files[i]);
      const auto ex = ds.get(i);
      BOOST_TEST(ex.label == -1);
      BOOST_TEST(ex.attributes.empty());
      check_decoded("unlabeled." + files[i], ex.image);
    }
  }
  BOOST_CHECK_EXCEPTION((void)td::UnlabeledImageFolder(data_dir() / "unlabeled_empty"),
                        td::data_error, says({"unlabeled_empty", "no image files"}));
  BOOST_CHECK_EXCEPTION((void)td::UnlabeledImageFolder(data_dir() / "no_such_folder"),
                        td::data_error, says({"no_such_folder", "does not exist"}));
}

namespace {

/// A fresh folder under the system's temporary folder, removed with its contents.
struct temp_folder {
  fs::path path;
  explicit temp_folder(const std::string& name)
      : path(fs::temp_directory_path() / ("typenet_" + name + "_" + std::to_string(::getpid()) +
                                          "_" + std::to_string(std::random_device{}()))) {
    fs::create_directories(path);
  }
  ~temp_folder() {
    std::error_code ec;
    fs::permissions(path, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path, ec);
  }
  temp_folder(const temp_folder&) = delete;
  temp_folder& operator=(const temp_folder&) = delete;
};

void write_photo(const fs::path& file) {
  fs::create_directories(file.parent_path());
  tn::write_png(tn::image(4, 3, 3, 0.5f), file);
}

std::vector<std::string> relative_paths(const td::UnlabeledImageFolder& ds, const fs::path& root) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < ds.size(); ++i)
    out.push_back(ds.path(i).lexically_relative(root).generic_string());
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(image_folder_walk_survives_link_loops_and_counts_what_it_skips) {
  temp_folder tmp("folder_loops");
  const fs::path root = tmp.path / "photos";
  for (const char* f : {"a.png", "b.png", "sub/c.png", "sub/d.png"}) write_photo(root / f);
  fs::create_directory_symlink("..", root / "sub" / "up");   // back to the root: a loop
  fs::create_directory_symlink(".", root / "sub" / "here");  // to itself
  fs::create_directory_symlink(root, root / "loop");         // absolute, to the root
  fs::create_symlink("missing.png", root / "gone.png");      // broken
  fs::create_symlink("self.png", root / "self.png");         // a link to itself
  const td::UnlabeledImageFolder ds(root);
  BOOST_TEST(relative_paths(ds, root) ==
                 (std::vector<std::string>{"a.png", "b.png", "sub/c.png", "sub/d.png"}),
             boost::test_tools::per_element());
  const auto& s = ds.skipped();
  BOOST_TEST(s.repeated_folders == 3u);
  BOOST_TEST(s.broken_links == 2u);
  BOOST_TEST(s.unreadable == 0u);
  BOOST_TEST(s.total() == 5u);
  // Entries are walked in sorted order: gone.png is the first problem.
  BOOST_TEST(s.first.find((root / "gone.png").string()) == 0u, s.first);
  BOOST_TEST(s.first.find("broken symbolic link") != std::string::npos, s.first);
  BOOST_TEST(ds.get(3).image.width() == 4);

  // A linked folder outside the tree is followed, once: the second link to it is skipped.
  const fs::path outside = tmp.path / "outside";
  for (const char* f : {"x.png", "y.png"}) write_photo(outside / f);
  const fs::path linked = tmp.path / "linked";
  write_photo(linked / "z.png");
  fs::create_directory_symlink(outside, linked / "first");
  fs::create_directory_symlink(outside, linked / "second");
  const td::UnlabeledImageFolder with_links(linked);
  BOOST_TEST(relative_paths(with_links, linked) ==
                 (std::vector<std::string>{"first/x.png", "first/y.png", "z.png"}),
             boost::test_tools::per_element());
  BOOST_TEST(with_links.skipped().repeated_folders == 1u);
  BOOST_TEST(with_links.skipped().first.find((linked / "second").string()) == 0u,
             with_links.skipped().first);

  // Nothing but broken links: the error says what was skipped.
  const fs::path only_broken = tmp.path / "only_broken";
  fs::create_directories(only_broken);
  fs::create_symlink("nowhere.jpg", only_broken / "a.jpg");
  BOOST_CHECK_EXCEPTION((void)td::UnlabeledImageFolder(only_broken), td::data_error,
                        says({"no image files", "skipped 1 entries", "a.jpg", "broken"}));
}

BOOST_AUTO_TEST_CASE(image_folder_classes_with_broken_links_and_loops) {
  temp_folder tmp("folder_classes_links");
  const fs::path root = tmp.path;
  for (const char* f : {"cats/a.png", "cats/b.png", "dogs/c.png"}) write_photo(root / f);
  fs::create_directory_symlink(".", root / "cats" / "again");
  // Back to the root, which holds both classes: dogs must not become cats too.
  fs::create_directory_symlink("..", root / "cats" / "up");
  fs::create_symlink("nowhere.png", root / "dogs" / "broken.png");
  fs::create_symlink("no_such_class", root / "broken_class");  // no class, and no error
  const td::ImageFolder ds(root);
  BOOST_TEST(ds.classes() == (std::vector<std::string>{"cats", "dogs"}),
             boost::test_tools::per_element());
  BOOST_TEST_REQUIRE(ds.size() == 3u);
  BOOST_TEST(ds.path(2).lexically_relative(root).generic_string() == "dogs/c.png");
  BOOST_TEST(ds.label(0) == 0);
  BOOST_TEST(ds.label(1) == 0);
  BOOST_TEST(ds.label(2) == 1);
  // cats/again, and through cats/up the root's cats and dogs; cats/up/broken_class and
  // dogs/broken.png.
  BOOST_TEST(ds.skipped().repeated_folders == 3u);
  BOOST_TEST(ds.skipped().broken_links == 2u);
  BOOST_TEST(ds.skipped().first.find((root / "cats" / "again").string()) == 0u, ds.skipped().first);
}

BOOST_AUTO_TEST_CASE(image_folder_skips_unreadable_subfolders) {
  if (::geteuid() == 0) {
    BOOST_TEST_MESSAGE("running as root: permissions do not stop reading; not tested");
    return;
  }
  temp_folder tmp("folder_unreadable");
  for (const char* f : {"a.png", "locked/b.png"}) write_photo(tmp.path / f);
  fs::permissions(tmp.path / "locked", fs::perms::none);
  const td::UnlabeledImageFolder ds(tmp.path);
  fs::permissions(tmp.path / "locked", fs::perms::owner_all);
  BOOST_TEST(ds.size() == 1u);
  BOOST_TEST(ds.skipped().unreadable == 1u);
  BOOST_TEST(ds.skipped().first.find("cannot list") != std::string::npos, ds.skipped().first);
}

// ---- CelebA ------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(celeba_splits_attributes_and_images) {
  const auto root = data_dir() / "celeba";
  const auto attributes = ints("celeba.attributes");  // 10 x 40, in {0, 1}
  const auto partition = ints("celeba.partition");
  const auto row = [&](std::size_t k) {
    return std::vector<float>(attributes.begin() + static_cast<std::ptrdiff_t>(k * 40),
                              attributes.begin() + static_cast<std::ptrdiff_t>(k * 40 + 40));
  };
  for (const auto& [which, code, expected_size] :
       {std::tuple{td::celeba_split::train, 0, std::size_t{6}},
        std::tuple{td::celeba_split::valid, 1, std::size_t{2}},
        std::tuple{td::celeba_split::test, 2, std::size_t{2}},
        std::tuple{td::celeba_split::all, -1, std::size_t{10}}}) {
    BOOST_TEST_CONTEXT("split " << code) {
      const td::CelebA ds(root, which);
      std::vector<std::size_t> rows;
      for (std::size_t k = 0; k < partition.size(); ++k)
        if (code == -1 || partition[k] == code) rows.push_back(k);
      BOOST_TEST_REQUIRE(ds.size() == expected_size);
      BOOST_TEST_REQUIRE(ds.size() == rows.size());
      for (std::size_t i = 0; i < ds.size(); ++i) {
        const std::string number = std::to_string(rows[i] + 1);
        const std::string name = std::string(6 - number.size(), '0') + number + ".jpg";
        BOOST_TEST(ds.path(i) == root / "img_align_celeba" / name);
        BOOST_TEST(ds.attributes(i) == row(rows[i]), boost::test_tools::per_element());
        const auto ex = ds.get(i);
        BOOST_TEST(ex.label == -1);
        BOOST_TEST(ex.attributes == row(rows[i]), boost::test_tools::per_element());
        check_decoded("celeba." + name, ex.image);
      }
    }
  }
  const td::CelebA all(root, td::celeba_split::all);
  const auto& names = all.attribute_names();
  BOOST_TEST_REQUIRE(names.size() == 40u);
  BOOST_TEST(names[0] == "5_o_Clock_Shadow");
  BOOST_TEST(names[20] == "Male");
  BOOST_TEST(names[31] == "Smiling");
  BOOST_TEST(names[39] == "Young");
  // Windows line ends read the same.
  const td::CelebA crlf(data_dir() / "celeba_crlf", td::celeba_split::all);
  BOOST_TEST(crlf.attribute_names() == names, boost::test_tools::per_element());
  BOOST_TEST_REQUIRE(crlf.size() == 10u);
  for (std::size_t i = 0; i < crlf.size(); ++i) BOOST_TEST((crlf.attributes(i) == row(i)));
  BOOST_TEST(td::CelebA(data_dir() / "celeba_crlf", td::celeba_split::test).size() == 2u);
}

BOOST_AUTO_TEST_CASE(corrupt_celeba_files_throw_naming_file_and_line) {
  const auto dir = data_dir();
  const std::string attr = "list_attr_celeba.txt", part = "list_eval_partition.txt";
  const std::vector<std::pair<const char*, std::vector<std::string>>> cases{
      {"celeba_bad_count", {attr, "declares 11 images but 10 rows"}},
      {"celeba_bad_value", {attr + ":5:", "'0'", "000003.jpg"}},
      {"celeba_few_values", {attr + ":4:", "000002.jpg has 39 attribute values, expected 40"}},
      {"celeba_no_partition", {part, "no partition for 000007.jpg"}},
      {"celeba_bad_partition", {part + ":4:"}},
      {"celeba_no_count", {attr + ":1:", "number of images"}},
      {"celeba_no_attributes", {attr, "cannot open"}},
      {"no_such_folder", {part, "cannot open"}},
  };
  for (const auto& [folder, parts] : cases) {
    BOOST_TEST_CONTEXT(folder) {
      auto expected = parts;
      expected.push_back((dir / folder).string());
      BOOST_CHECK_EXCEPTION((void)td::CelebA(dir / folder, td::celeba_split::all), td::data_error,
                            says(expected));
    }
  }
  const td::CelebA missing(dir / "celeba_missing_image", td::celeba_split::all);
  BOOST_TEST(missing.get(0).image.width() == 10);
  BOOST_CHECK_EXCEPTION(missing.get(1), tn::image_error, says({"000002.jpg", "no such file"}));
}

// ---- subsets -----------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(subsets_and_random_split) {
  const auto mnist = std::make_shared<const td::MNIST>(data_dir() / "mnist", td::split::train);
  const auto sources = [](const std::vector<td::Subset<td::MNIST>>& parts) {
    std::vector<std::size_t> v;
    for (const auto& p : parts)
      for (std::size_t i = 0; i < p.size(); ++i) v.push_back(p.source_index(i));
    return v;
  };
  const auto parts = td::random_split(mnist, {4, 3}, 42);
  BOOST_TEST_REQUIRE(parts.size() == 2u);
  BOOST_TEST(parts[0].size() == 4u);
  BOOST_TEST(parts[1].size() == 3u);
  auto all = sources(parts);
  std::sort(all.begin(), all.end());
  BOOST_TEST(all == td::first_n(7), boost::test_tools::per_element());  // disjoint and complete
  for (const auto& p : parts)
    for (std::size_t i = 0; i < p.size(); ++i) {
      BOOST_TEST(p.get(i).label == mnist->label(p.source_index(i)));
      BOOST_TEST((p.get(i).image == mnist->get(p.source_index(i)).image));
    }
  BOOST_TEST((sources(td::random_split(mnist, {4, 3}, 42)) == sources(parts)));
  bool differs = false;
  for (std::uint64_t seed = 1; seed <= 5; ++seed)
    differs |= sources(td::random_split(mnist, {4, 3}, seed)) != sources(parts);
  BOOST_TEST(differs);
  BOOST_CHECK_EXCEPTION(td::random_split(mnist, {4, 4}, 1), tn::usage_error,
                        says({"add up to 8", "7 examples"}));
  BOOST_CHECK_THROW(td::random_split(std::shared_ptr<const td::MNIST>{}, {1}, 1), tn::usage_error);

  const td::Subset first3(mnist, td::first_n(3));
  BOOST_TEST(first3.size() == 3u);
  BOOST_TEST(first3.get(2).label == mnist->label(2));
  BOOST_CHECK_THROW(first3.get(3), std::out_of_range);
  BOOST_CHECK_THROW((void)td::Subset(mnist, std::vector<std::size_t>{7}), std::out_of_range);
  std::mt19937_64 rng(3);
  auto perm = td::permutation(50, rng);
  BOOST_TEST((perm != td::first_n(50)));
  std::sort(perm.begin(), perm.end());
  BOOST_TEST(perm == td::first_n(50), boost::test_tools::per_element());
}

// ---- transforms --------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(random_crop_with_padding_matches_a_manual_crop) {
  std::set<int> lefts, tops;
  for (std::uint64_t seed = 0; seed < 300; ++seed) {
    auto ex = patterned(6, 5);
    const auto original = ex;
    std::mt19937_64 rng(seed), manual(seed);
    T::RandomCrop(4, 2)(ex, rng);
    auto box = tn::random_crop_box(6 + 4, 5 + 4, 4, 4, manual);
    box.left -= 2;
    box.top -= 2;
    BOOST_TEST_REQUIRE((ex.image == tn::crop(original.image, box)), "seed " << seed);
    BOOST_TEST_REQUIRE((ex.target == tn::crop(original.target, box)), "seed " << seed);
    BOOST_TEST_REQUIRE(rng() == manual(), "the transform drew more numbers than the box needs");
    lefts.insert(box.left);
    tops.insert(box.top);
    if (box.left == -2 && box.top == -2) {  // the padding is zeros
      BOOST_TEST(ex.image(1, 1, 0) == 0.0f);
      BOOST_TEST(ex.image(2, 2, 1) == original.image(0, 0, 1));
    }
  }
  BOOST_TEST(lefts.size() == 7u);  // -2 .. 4
  BOOST_TEST(tops.size() == 6u);   // -2 .. 3
  auto ex = patterned(6, 5);
  std::mt19937_64 rng(1);
  T::RandomCrop(3, 2, 0)(ex, rng);
  BOOST_TEST(tn::describe(ex.image) == "3x2x3");
  BOOST_TEST(tn::describe(ex.target) == "3x2x2");
}

BOOST_AUTO_TEST_CASE(flips_resizes_and_crops_move_the_target_too) {
  const auto original = patterned(5, 3);
  auto ex = original;
  std::mt19937_64 rng(1);
  T::RandomHorizontalFlip(1.0)(ex, rng);
  BOOST_TEST((ex.image == tn::horizontal_flip(original.image)));
  BOOST_TEST((ex.target == tn::horizontal_flip(original.target)));
  ex = original;
  T::RandomHorizontalFlip(0.0)(ex, rng);
  BOOST_TEST((ex.image == original.image && ex.target == original.target));
  int flips = 0;
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    auto a = original;
    auto b = original.image;
    std::mt19937_64 r1(seed), r2(seed);
    T::RandomHorizontalFlip()(a, r1);
    flips += tn::random_horizontal_flip(b, r2) ? 1 : 0;
    BOOST_TEST_REQUIRE((a.image == b), "seed " << seed);
  }
  BOOST_TEST((flips > 70 && flips < 130));
  // A target of another size is not an image of the input: left alone.
  ex = original;
  ex.target = tn::image(2, 2, 1, 0.5f);
  T::RandomHorizontalFlip(1.0)(ex, rng);
  BOOST_TEST((ex.target == tn::image(2, 2, 1, 0.5f)));

  const auto big = patterned(8, 6);
  ex = big;
  T::Resize(4, 3)(ex, rng);
  BOOST_TEST((ex.image == tn::resize(big.image, 4, 3)));
  BOOST_TEST((ex.target == tn::resize(big.target, 4, 3)));
  ex = big;
  T::Resize(3)(ex, rng);  // the shorter side
  BOOST_TEST(tn::describe(ex.image) == "4x3x3");
  BOOST_TEST(tn::describe(ex.target) == "4x3x2");
  ex = big;
  T::CenterCrop(4, 2)(ex, rng);
  BOOST_TEST((ex.image == tn::center_crop(big.image, 4, 2)));
  BOOST_TEST((ex.target == tn::center_crop(big.target, 4, 2)));
}

BOOST_AUTO_TEST_CASE(colour_transforms_and_compose_order) {
  const auto original = patterned(6, 4);
  std::mt19937_64 rng(1);
  auto ex = original;
  T::ColorizationLab(tn::lab_scaling::centered)(ex, rng);
  const auto pair = tn::colorization_split(original.image, tn::lab_scaling::centered);
  BOOST_TEST(ex.image.channels() == 1);
  BOOST_TEST(ex.target.channels() == 2);
  BOOST_TEST((ex.image == pair.input && ex.target == pair.target));

  const auto times2 = T::Lambda{[](const tn::image& img) {
    auto out = img;
    for (auto& v : out.values()) v *= 2;
    return out;
  }};
  const auto plus1 = T::Lambda{[](const tn::image& img) {
    auto out = img;
    for (auto& v : out.values()) v += 1;
    return out;
  }};
  ex = original;
  T::Compose{times2, plus1}(ex, rng);
  BOOST_TEST(ex.image(1, 2, 0) == original.image(1, 2, 0) * 2 + 1);
  ex = original;
  T::Compose{plus1, times2}(ex, rng);
  BOOST_TEST(ex.image(1, 2, 0) == (original.image(1, 2, 0) + 1) * 2);
  ex = original;
  T::Compose{T::CenterCrop(4, 4), T::Resize(2, 2)}(ex, rng);
  BOOST_TEST(tn::describe(ex.image) == "2x2x3");

  ex = original;
  T::Normalize({0.5f, 0.25f, 0.0f}, {0.5f, 2.0f, 1.0f})(ex, rng);
  BOOST_TEST(ex.image(1, 1, 1) == (original.image(1, 1, 1) - 0.25f) / 2.0f);
  BOOST_TEST((ex.target == original.target));  // colour transforms leave the target
  ex = original;
  T::NormalizeImageNet()(ex, rng);
  auto in = original.image;
  tn::normalize_imagenet(in);
  BOOST_TEST((ex.image == in));
  ex = original;
  T::Grayscale(3)(ex, rng);
  BOOST_TEST(ex.image.channels() == 3);
  BOOST_TEST(ex.image(2, 3, 0) == ex.image(2, 3, 2));
  BOOST_CHECK_THROW(T::Grayscale(2), tn::usage_error);
}

// ---- the loader --------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(loader_batches_in_order_and_drop_last) {
  const auto mnist = std::make_shared<const td::MNIST>(data_dir() / "mnist", td::split::train);
  td::DataLoader<tn::Shape<1, 4, 5>> loader(mnist, {.batch_size = 3});
  BOOST_TEST(loader.size() == 7u);
  BOOST_TEST(loader.batches() == 3u);
  auto run = loader.epoch(0);
  std::vector<int> sizes;
  std::size_t next = 0;
  for (const auto& b : run) {
    sizes.push_back(b.size());
    for (int i = 0; i < b.size(); ++i, ++next) {
      BOOST_TEST(b.indices[static_cast<std::size_t>(i)] == next);
      BOOST_TEST(b.labels[static_cast<std::size_t>(i)] == mnist->label(next));
      BOOST_TEST((tn::from_tensor(b.inputs, i) == mnist->get(next).image));
    }
  }
  BOOST_TEST(sizes == (std::vector<int>{3, 3, 1}), boost::test_tools::per_element());
  BOOST_TEST(run.stats().batches == 3u);
  BOOST_TEST(run.stats().wait_seconds >= 0.0);
  BOOST_CHECK_THROW(run.begin(), tn::usage_error);  // an epoch is iterated once

  for (int workers : {0, 2}) {
    td::DataLoader<tn::Shape<1, 4, 5>> dropping(
        mnist, {.batch_size = 3, .drop_last = true, .workers = workers});
    BOOST_TEST(dropping.batches() == 2u);
    const auto r = record(dropping, 0);
    BOOST_TEST(r.sizes == (std::vector<int>{3, 3}), boost::test_tools::per_element());
    auto e = dropping.epoch(1);
    std::size_t n = 0;
    for (const auto& b : e) n += static_cast<std::size_t>(b.size());
    BOOST_TEST(n == 6u);
    BOOST_TEST(e.stats().batches == 2u);
    BOOST_TEST(e.stats().load_seconds > 0.0);
  }
  const td::Subset<td::MNIST> none(mnist, {});
  td::DataLoader<tn::Shape<1, 4, 5>> empty(none, {.batch_size = 3, .workers = 2});
  BOOST_TEST(empty.batches() == 0u);
  BOOST_TEST(record(empty, 0).sizes.empty());
  using L = td::DataLoader<tn::Shape<1, 4, 5>>;
  BOOST_CHECK_THROW(L(mnist, {.batch_size = 0}), tn::usage_error);
  BOOST_CHECK_THROW(L(mnist, {.workers = -1}), tn::usage_error);
  BOOST_CHECK_THROW(L(mnist, {.prefetch = 0}), tn::usage_error);
  BOOST_CHECK_THROW(L(std::shared_ptr<const td::MNIST>{}, {}), tn::usage_error);
}

BOOST_AUTO_TEST_CASE(loader_shuffles_a_permutation_per_epoch) {
  const td::loader_options options{.batch_size = 8, .shuffle = true, .seed = 5};
  td::DataLoader<tn::Shape<3, 6, 6>> loader(numbered{50}, options);
  const auto o0 = loader.order(0), o1 = loader.order(1);
  auto sorted = o0;
  std::sort(sorted.begin(), sorted.end());
  BOOST_TEST(sorted == td::first_n(50), boost::test_tools::per_element());
  BOOST_TEST((o0 != td::first_n(50)));
  BOOST_TEST((o0 != o1));
  td::DataLoader<tn::Shape<3, 6, 6>> again(numbered{50}, options);
  BOOST_TEST((again.order(0) == o0 && again.order(1) == o1));
  td::DataLoader<tn::Shape<3, 6, 6>> other(numbered{50},
                                           {.batch_size = 8, .shuffle = true, .seed = 6});
  BOOST_TEST((other.order(0) != o0));
  const auto r = record(loader, 1);
  BOOST_TEST(r.indices == o1, boost::test_tools::per_element());
  for (std::size_t i = 0; i < r.indices.size(); ++i)
    BOOST_TEST_REQUIRE(r.labels[i] == static_cast<int>(r.indices[i] % 10));
  BOOST_TEST(r.sizes.size() == 7u);
  BOOST_TEST(r.sizes.back() == 2);
  td::DataLoader<tn::Shape<3, 6, 6>> plain(numbered{50}, {.batch_size = 8});
  BOOST_TEST(plain.order(3) == td::first_n(50), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(loader_batches_do_not_depend_on_workers) {
  const td::transform augment = T::Compose{T::RandomCrop(4, 1), T::RandomHorizontalFlip(),
                                           T::Normalize({0.5f, 0.5f, 0.5f}, {0.25f, 0.5f, 1.0f})};
  epoch_record first[2];
  bool have = false;
  for (int workers : {0, 1, 3}) {
    for (int prefetch : {1, 2}) {
      BOOST_TEST_CONTEXT("workers " << workers << ", prefetch " << prefetch) {
        td::DataLoader<tn::Shape<3, 4, 4>> loader(
            numbered{61},
            {.batch_size = 7, .shuffle = true, .seed = 9, .workers = workers, .prefetch = prefetch},
            augment);
        for (std::uint64_t epoch = 0; epoch < 2; ++epoch) {
          const auto r = record(loader, epoch);
          BOOST_TEST_REQUIRE(r.indices.size() == 61u);
          if (!have) first[epoch] = r;
          BOOST_TEST((r == first[epoch]), "epoch " << epoch << " differs from workers = 0");
        }
        have = true;
      }
    }
  }
  BOOST_TEST((first[0].inputs != first[1].inputs));
  // Each sample is augmented with its own stream, sample_rng(seed, epoch, index).
  td::DataLoader<tn::Shape<3, 4, 4>> loader(numbered{61},
                                            {.batch_size = 7, .shuffle = true, .seed = 9}, augment);
  for (const auto& b : loader.epoch(1)) {
    for (int i = 0; i < b.size(); ++i) {
      const auto index = b.indices[static_cast<std::size_t>(i)];
      auto ex = numbered{61}.get(index);
      auto rng = td::sample_rng(9, 1, index);
      augment(ex, rng);
      BOOST_TEST_REQUIRE((tn::from_tensor(b.inputs, i) == ex.image), "sample " << index);
    }
  }
  // The same on real files.
  const auto cifar = std::make_shared<const td::CIFAR10>(data_dir() / "cifar10", td::split::train);
  const td::transform crop_flip = T::Compose{T::RandomCrop(28, 2), T::RandomHorizontalFlip()};
  td::DataLoader<tn::Shape<3, 28, 28>> serial(cifar, {.batch_size = 3, .shuffle = true, .seed = 2},
                                              crop_flip);
  td::DataLoader<tn::Shape<3, 28, 28>> threaded(
      cifar, {.batch_size = 3, .shuffle = true, .seed = 2, .workers = 3}, crop_flip);
  BOOST_TEST((record(serial, 4) == record(threaded, 4)));
}

BOOST_AUTO_TEST_CASE(loader_targets_from_attributes_and_target_images) {
  const auto celeba =
      std::make_shared<const td::CelebA>(data_dir() / "celeba", td::celeba_split::all);
  td::DataLoader<tn::Shape<3, 12, 10>, tn::Shape<40>> attributes(celeba,
                                                                 {.batch_size = 4, .workers = 2});
  std::size_t seen = 0;
  for (const auto& b : attributes.epoch(0)) {
    for (int i = 0; i < b.size(); ++i, ++seen) {
      const auto index = b.indices[static_cast<std::size_t>(i)];
      BOOST_TEST(b.labels[static_cast<std::size_t>(i)] == -1);
      for (int a = 0; a < 40; ++a)
        BOOST_TEST_REQUIRE(b.targets(i, a) ==
                           celeba->attributes(index)[static_cast<std::size_t>(a)]);
    }
  }
  BOOST_TEST(seen == 10u);
  td::DataLoader<tn::Shape<3, 12, 10>, tn::Shape<39>> narrow(celeba, {.batch_size = 4});
  BOOST_CHECK_EXCEPTION(record(narrow, 0), tn::shape_error, says({"40 attributes", "39 wide"}));

  const auto cifar = std::make_shared<const td::CIFAR10>(data_dir() / "cifar10", td::split::test);
  td::DataLoader<tn::Shape<1, 32, 32>, tn::Shape<2, 32, 32>> colour(
      cifar, {.batch_size = 2, .workers = 1}, T::ColorizationLab(tn::lab_scaling::centered));
  seen = 0;
  for (const auto& b : colour.epoch(0)) {
    for (int i = 0; i < b.size(); ++i, ++seen) {
      const auto pair = tn::colorization_split(
          cifar->get(b.indices[static_cast<std::size_t>(i)]).image, tn::lab_scaling::centered);
      BOOST_TEST((tn::from_tensor(b.inputs, i) == pair.input));
      BOOST_TEST((tn::from_tensor(b.targets, i) == pair.target));
    }
  }
  BOOST_TEST(seen == 3u);
  td::DataLoader<tn::Shape<3, 32, 32>, tn::Shape<2, 32, 32>> no_target(cifar, {.batch_size = 2});
  BOOST_CHECK_EXCEPTION(record(no_target, 0), tn::shape_error, says({"no target image"}));
}

BOOST_AUTO_TEST_CASE(loader_rethrows_a_bad_sample_and_stops_its_threads) {
  const auto folder = std::make_shared<const td::ImageFolder>(data_dir() / "folder_corrupt");
  const auto broken = (data_dir() / "folder_corrupt" / "b" / "1_broken.png").string();
  for (int workers : {0, 1, 3}) {
    BOOST_TEST_CONTEXT("workers " << workers) {
      td::DataLoader<tn::Shape<3, 8, 8>> loader(folder, {.batch_size = 2, .workers = workers});
      std::size_t seen = 0;
      const auto run_all = [&](std::uint64_t epoch) {
        for (const auto& b : loader.epoch(epoch)) seen += static_cast<std::size_t>(b.size());
      };
      BOOST_CHECK_EXCEPTION(run_all(0), tn::image_error, says({broken}));
      BOOST_TEST(seen == 6u);  // batches 0 to 2; the broken file is in batch 3
      // Leaving early while workers fill batches ahead (the bad one among them).
      int n = 0;
      for (const auto& b : loader.epoch(1)) {
        BOOST_TEST(b.size() == 2);
        if (++n == 1) break;
      }
      BOOST_TEST(n == 1);
      { [[maybe_unused]] auto unused = loader.epoch(2); }  // started, never iterated
      seen = 0;
      BOOST_CHECK_EXCEPTION(run_all(3), tn::image_error, says({broken}));  // still usable
      BOOST_TEST(seen == 6u);
    }
  }
  // Without the broken file all is well.
  const td::Subset<td::ImageFolder> good(folder, {0, 1, 2, 3, 4, 5, 7});
  td::DataLoader<tn::Shape<3, 8, 8>> loader(good, {.batch_size = 2, .shuffle = true, .workers = 3});
  auto run = loader.epoch(0);
  std::vector<std::size_t> indices;
  for (const auto& b : run) indices.insert(indices.end(), b.indices.begin(), b.indices.end());
  std::sort(indices.begin(), indices.end());
  BOOST_TEST(indices == td::first_n(7), boost::test_tools::per_element());
  BOOST_TEST(run.stats().batches == 4u);
}

BOOST_AUTO_TEST_CASE(loader_refuses_images_of_the_wrong_size) {
  const auto mnist = std::make_shared<const td::MNIST>(data_dir() / "mnist", td::split::train);
  for (int workers : {0, 2}) {
    td::DataLoader<tn::Shape<1, 4, 4>> loader(mnist, {.batch_size = 2, .workers = workers});
    BOOST_CHECK_EXCEPTION(record(loader, 0), tn::shape_error, says({"to_tensor", "5x4x1"}));
  }
  // Images of different sizes: refused as they are, accepted once resized.
  const auto folder = std::make_shared<const td::ImageFolder>(data_dir() / "folder");
  td::DataLoader<tn::Shape<3, 8, 8>> as_is(folder, {.batch_size = 3, .workers = 2});
  BOOST_CHECK_THROW(record(as_is, 0), tn::shape_error);
  td::DataLoader<tn::Shape<3, 8, 8>> resized(folder, {.batch_size = 3, .workers = 2},
                                             T::Resize(8, 8));
  const auto r = record(resized, 0);
  BOOST_TEST(r.sizes == (std::vector<int>{3, 3, 2}), boost::test_tools::per_element());
  BOOST_TEST(r.labels == (std::vector<int>{0, 1, 1, 1, 1, 2, 2, 2}),
             boost::test_tools::per_element());
}

// ---- exceptions out of OpenMP regions (loaders and kernels run in them) -----------------

BOOST_AUTO_TEST_SUITE(parallel_exceptions)

namespace {

/// An exception type of our own, to see that the one thrown arrives, not a copy as a base.
struct index_error : std::runtime_error {
  std::int64_t index;
  explicit index_error(std::int64_t i)
      : std::runtime_error("failed at " + std::to_string(i)), index(i) {}
};

/// Runs `f` with OpenMP's default team set to `threads`, then restores it.
template <class F>
void with_threads(int threads, F&& f) {
#if defined(_OPENMP)
  const int before = omp_get_max_threads();
  omp_set_num_threads(threads);
  try {
    f();
  } catch (...) {
    omp_set_num_threads(before);
    throw;
  }
  omp_set_num_threads(before);
#else
  (void)threads;
  f();
#endif
}

int thread_number() {
#if defined(_OPENMP)
  return omp_get_thread_num();
#else
  return 0;
#endif
}

}  // namespace

BOOST_AUTO_TEST_CASE(first_exception_carries_the_exception_out_of_a_parallel_for) {
  constexpr std::int64_t n = 64;
  std::vector<int> ran(n, 0), thread_of(n, -1);
  tn::first_exception error;
#pragma omp parallel for num_threads(2) schedule(static)
  for (std::int64_t i = 0; i < n; ++i)
    error.run([&] {
      thread_of[static_cast<std::size_t>(i)] = thread_number();
      ran[static_cast<std::size_t>(i)] = 1;
      if (i == 40) throw index_error(i);  // in the second thread's half
    });
  BOOST_TEST(error.failed());
#if defined(_OPENMP)
  BOOST_TEST(thread_of[40] == 1, "index 40 ran on thread " << thread_of[40] << ", not 1");
#endif
  BOOST_CHECK_EXCEPTION(error.rethrow_if_any(), index_error, [](const index_error& e) {
    return e.index == 40 && std::string(e.what()) == "failed at 40";
  });
  // The thread that threw skips its remaining indices.
  BOOST_TEST(std::count(ran.begin() + 41, ran.end(), 1) == 0);
  // run() reports a skip once failed, and a success otherwise.
  BOOST_TEST(!error.run([] {}));
  tn::first_exception fine;
  BOOST_TEST(fine.run([] {}));
  BOOST_CHECK_NO_THROW(fine.rethrow_if_any());
}

BOOST_AUTO_TEST_CASE(first_exception_keeps_one_when_every_thread_throws) {
  tn::first_exception error;
  int started = 0;
#pragma omp parallel num_threads(2)
  {
    error.run([&] {
#pragma omp atomic
      ++started;
      throw index_error(thread_number());
    });
  }
  BOOST_TEST(started >= 1);
  BOOST_CHECK_EXCEPTION(error.rethrow_if_any(), index_error,
                        [](const index_error& e) { return e.index == 0 || e.index == 1; });
}

BOOST_AUTO_TEST_CASE(cpu_parallel_loops_rethrow_a_body_exception_to_the_caller) {
  namespace cpu = tn::cpu;
  constexpr std::int64_t n = 1000, work = 1 << 20;  // big enough to fork
  with_threads(2, [&] {
    BOOST_TEST_REQUIRE(cpu::available_threads() == 2);
    BOOST_TEST_REQUIRE(cpu::team_size(n, work) == 2);
    std::vector<int> thread_of(n, -1);
    BOOST_CHECK_EXCEPTION(cpu::parallel_for(n, work,
                                            [&](std::int64_t i) {
                                              thread_of[static_cast<std::size_t>(i)] =
                                                  thread_number();
                                              if (i == 700) throw index_error(i);
                                            }),
                          index_error, [](const index_error& e) { return e.index == 700; });
#if defined(_OPENMP)
    BOOST_TEST(thread_of[700] == 1);  // it was thrown in the second thread
#endif
    BOOST_CHECK_EXCEPTION(cpu::parallel_ranges(n, work,
                                               [&](int t, std::int64_t begin, std::int64_t) {
                                                 if (t == 1) throw index_error(begin);
                                               }),
                          index_error, [&](const index_error& e) { return e.index == n / 2; });
    BOOST_CHECK_EXCEPTION(cpu::parallel_chunks(n, 8, work,
                                               [&](std::int64_t begin, std::int64_t) {
                                                 if (begin > 0) throw index_error(begin);
                                               }),
                          index_error, [](const index_error& e) { return e.index > 0; });
    // The library's own image errors keep their type through a region.
    BOOST_CHECK_EXCEPTION(cpu::parallel_for(n, work,
                                            [&](std::int64_t i) {
                                              if (i == n - 1)
                                                throw tn::image_error("photo.jpg: not an image");
                                            }),
                          tn::image_error, says({"photo.jpg"}));
    // And after all that, a loop that does not throw runs every index.
    std::vector<int> ran(n, 0);
    cpu::parallel_for(n, work, [&](std::int64_t i) { ran[static_cast<std::size_t>(i)] = 1; });
    BOOST_TEST(std::count(ran.begin(), ran.end(), 1) == n);
  });
}

BOOST_AUTO_TEST_SUITE_END()  // parallel_exceptions

BOOST_AUTO_TEST_SUITE_END()  // data
