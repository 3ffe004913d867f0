// typenet::io::read_torch against files that torch.save wrote, and against
// files crafted to be wrong.
//
// `tools/make_torch_files.py --out $TYPENET_FIXTURES` writes the files and
// expected.txt (its format is documented at the top of that script) into
// $TYPENET_FIXTURES/torch. Good
// files must give PyTorch's tensors exactly (dtype, shape, strides, offset,
// every value); bad ones must fail with a format_error whose message names the
// file and says what is wrong; every good file cut short anywhere must fail
// with a format_error too, never crash (this suite also runs under ASan+UBSan).
//
// The memory-limit cases load the hostile files of $TYPENET_FIXTURES/torch_limits
// (zip bombs, stride-0 views; see make_torch_files.py) into small models and
// check the error, that the model is untouched, and that peak resident memory
// grows by less than 256 MB (tests/peak_memory.hpp).
#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include <boost/test/unit_test.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <typenet/io.hpp>
#include <typenet/io/unpickler.hpp>  // the restricted unpickler, tested on its own
#include <typenet/nn.hpp>

#include "peak_memory.hpp"

namespace {

namespace io = typenet::io;
namespace fs = std::filesystem;

struct expected_tensor {
  std::string name, dtype;
  std::vector<std::int64_t> shape, strides;
  std::int64_t offset = 0, numel = 0;
  std::vector<std::string> values;
};

struct expected_file {
  std::string name, key;
  std::vector<expected_tensor> tensors;
  std::vector<std::pair<std::string, std::string>> shares;
  std::vector<std::pair<std::string, std::string>> errors;  // key, substring
};

struct expected_bad {
  std::string name, key, substring;
};

struct expectations {
  fs::path dir;
  std::vector<expected_file> files;
  std::vector<expected_bad> bad;
};

/// Reads $TYPENET_FIXTURES/torch/expected.txt, once.
const expectations& expected() {
  static const expectations e = [] {
    expectations e;
    const char* root = std::getenv("TYPENET_FIXTURES");
    BOOST_TEST_REQUIRE(root != nullptr,
                       "TYPENET_FIXTURES is not set; run tools/make_torch_files.py --out <dir> "
                       "and set TYPENET_FIXTURES=<dir>");
    e.dir = fs::path(root) / "torch";
    std::ifstream in(e.dir / "expected.txt");
    BOOST_TEST_REQUIRE(in.good(), "cannot read " << (e.dir / "expected.txt").string()
                                                 << "; run tools/make_torch_files.py --out "
                                                 << root);
    std::string line;
    while (std::getline(in, line)) {
      std::string head, tail;
      if (const auto tab = line.find('\t'); tab != std::string::npos) {
        tail = line.substr(tab + 1);
        line.resize(tab);
      }
      std::istringstream s(line);
      s >> head;
      if (head == "file") {
        expected_file f;
        s >> f.name >> f.key;
        e.files.push_back(std::move(f));
      } else if (head == "tensor") {
        expected_tensor t;
        std::size_t rank = 0;
        s >> t.name >> t.dtype >> rank;
        t.shape.resize(rank);
        t.strides.resize(rank);
        for (auto& d : t.shape) s >> d;
        for (auto& d : t.strides) s >> d;
        s >> t.offset >> t.numel;
        t.values.assign(std::istream_iterator<std::string>(s), {});
        e.files.back().tensors.push_back(std::move(t));
      } else if (head == "shares") {
        std::string file, a, b;
        s >> file >> a >> b;
        e.files.back().shares.emplace_back(a, b);
      } else if (head == "error") {
        std::string file, key;
        s >> file >> key;
        e.files.back().errors.emplace_back(key, tail);
      } else if (head == "bad") {
        expected_bad b;
        s >> b.name >> b.key;
        b.substring = tail;
        e.bad.push_back(std::move(b));
      }
    }
    BOOST_TEST_REQUIRE(!e.files.empty(), "no good files listed in expected.txt");
    return e;
  }();
  return e;
}

io::torch_read_options options_for(const std::string& key) {
  io::torch_read_options o;
  o.state_dict_key = key == "-" ? "" : key == "*" ? io::torch_read_options::automatic : key;
  return o;
}

std::vector<std::byte> file_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> chars((std::istreambuf_iterator<char>(in)), {});
  std::vector<std::byte> bytes(chars.size());
  for (std::size_t i = 0; i < chars.size(); ++i) bytes[i] = static_cast<std::byte>(chars[i]);
  return bytes;
}

bool is_integer(const std::string& dtype) {
  return dtype != "F32" && dtype != "F64" && dtype != "F16" && dtype != "BF16";
}

/// Compares a checkpoint with PyTorch's tensors, exactly.
void check_tensors(const io::checkpoint& c, const expected_file& f, const std::string& how) {
  BOOST_TEST_CONTEXT(f.name << " (" << how << ")") {
    BOOST_TEST_REQUIRE(c.tensors.size() == f.tensors.size());
    for (std::size_t i = 0; i < f.tensors.size(); ++i) {
      const auto& want = f.tensors[i];
      const auto& [name, r] = c.tensors[i];
      BOOST_TEST_CONTEXT("tensor " << want.name) {
        BOOST_TEST(name == want.name);
        BOOST_TEST(dtype_name(r.type) == want.dtype);
        BOOST_TEST(r.shape == want.shape, boost::test_tools::per_element());
        BOOST_TEST(r.strides == want.strides, boost::test_tools::per_element());
        BOOST_TEST(r.offset == want.offset);
        BOOST_TEST_REQUIRE(r.numel() == want.numel);
        BOOST_TEST_REQUIRE(want.values.size() == static_cast<std::size_t>(want.numel));
        std::size_t wrong = 0;
        if (is_integer(want.dtype)) {
          std::vector<std::int64_t> got(static_cast<std::size_t>(r.numel()));
          io::read_as(r, got.data());
          for (std::size_t k = 0; k < got.size(); ++k)
            if (got[k] != std::stoll(want.values[k]) && wrong++ == 0)
              BOOST_ERROR("element " << k << ": " << got[k] << " != " << want.values[k]);
        } else {
          std::vector<double> got(static_cast<std::size_t>(r.numel()));
          io::read_as(r, got.data());
          for (std::size_t k = 0; k < got.size(); ++k)
            if (got[k] != std::strtod(want.values[k].c_str(), nullptr) && wrong++ == 0)
              BOOST_ERROR("element " << k << ": " << got[k] << " != " << want.values[k]);
        }
        BOOST_TEST(wrong == 0u);
      }
    }
  }
}

const io::tensor_record& record(const io::checkpoint& c, const std::string& name) {
  const auto* r = c.find(name);
  BOOST_TEST_REQUIRE(r != nullptr, "no tensor " << name);
  return *r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(io_torch)

BOOST_AUTO_TEST_CASE(good_files_give_pytorchs_tensors) {
  for (const auto& f : expected().files) {
    const auto path = (expected().dir / f.name).string();
    const auto c = io::read_torch(path, options_for(f.key));
    BOOST_TEST(c.source == path);
    BOOST_TEST(c.metadata.empty());
    check_tensors(c, f, "mapped");
    check_tensors(
        io::read_torch(std::make_shared<io::mapped_file>(path), f.name, options_for(f.key)), f,
        "mapped by the caller");
    const auto bytes = file_bytes(path);
    check_tensors(io::read_torch_bytes(bytes, f.name, options_for(f.key)), f, "from memory");
  }
}

BOOST_AUTO_TEST_CASE(views_share_one_storage_that_outlives_the_checkpoint) {
  std::size_t checked = 0;
  for (const auto& f : expected().files) {
    if (f.shares.empty()) continue;
    io::tensor_record kept;
    {
      const auto c = io::read_torch((expected().dir / f.name).string(), options_for(f.key));
      for (const auto& [a, b] : f.shares) {
        BOOST_TEST(record(c, a).storage.get() == record(c, b).storage.get(),
                   f.name << ": " << a << " and " << b << " do not share a storage");
        ++checked;
      }
      kept = record(c, f.shares.front().second);
    }
    // The mapping lives as long as a record refers to it.
    std::vector<double> values(static_cast<std::size_t>(kept.numel()));
    io::read_as(kept, values.data());
    BOOST_TEST(values.size() > 0u);
  }
  BOOST_TEST(checked > 0u);
}

BOOST_AUTO_TEST_CASE(good_files_with_the_wrong_options_fail) {
  std::size_t checked = 0;
  for (const auto& f : expected().files)
    for (const auto& error : f.errors) {
      const std::string& key = error.first;  // clang 14 cannot capture structured bindings
      const std::string& substring = error.second;
      BOOST_TEST_CONTEXT(f.name << " read with state_dict_key " << key) {
        const auto path = (expected().dir / f.name).string();
        BOOST_CHECK_EXCEPTION(io::read_torch(path, options_for(key)), typenet::format_error,
                              [&](const typenet::format_error& e) {
                                const std::string what = e.what();
                                BOOST_TEST_INFO("message: " << what);
                                return what.find(substring) != std::string::npos &&
                                       what.find(path) != std::string::npos;
                              });
        ++checked;
      }
    }
  BOOST_TEST(checked > 0u);
}

BOOST_AUTO_TEST_CASE(bad_files_fail_with_a_specific_message) {
  BOOST_TEST_REQUIRE(!expected().bad.empty());
  for (const auto& b : expected().bad) {
    const auto path = (expected().dir / b.name).string();
    BOOST_TEST_CONTEXT(b.name << ", expecting \"" << b.substring << "\"") {
      try {
        io::read_torch(path, options_for(b.key));
        BOOST_ERROR("no exception");
      } catch (const typenet::format_error& e) {
        const std::string what = e.what();
        BOOST_TEST(what.find(b.substring) != std::string::npos, "message: " << what);
        BOOST_TEST(what.find(path) != std::string::npos, "message: " << what);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(truncated_files_fail_cleanly) {
  std::mt19937_64 random(20240611);
  for (const auto& f : expected().files) {
    const auto bytes = file_bytes(expected().dir / f.name);
    BOOST_TEST_REQUIRE(bytes.size() > 1u);
    std::vector<std::size_t> cuts = {0, 1, bytes.size() - 1};
    std::uniform_int_distribution<std::size_t> at(0, bytes.size() - 1);
    for (int i = 0; i < 20; ++i) cuts.push_back(at(random));
    for (const auto cut : cuts)
      BOOST_CHECK_THROW(
          io::read_torch_bytes(std::span(bytes.data(), cut),
                               f.name + " cut at " + std::to_string(cut), options_for(f.key)),
          typenet::format_error);
  }
}

BOOST_AUTO_TEST_CASE(files_that_cannot_be_opened) {
  BOOST_CHECK_EXCEPTION(io::read_torch((expected().dir / "no_such_file.pth").string()),
                        typenet::format_error, [](const typenet::format_error& e) {
                          return std::string(e.what()).find("cannot open") != std::string::npos;
                        });
  BOOST_CHECK_EXCEPTION(io::read_torch(expected().dir.string()), typenet::format_error,
                        [](const typenet::format_error& e) {
                          return std::string(e.what()).find("not a regular file") !=
                                 std::string::npos;
                        });
}

BOOST_AUTO_TEST_CASE(unpickler_bounds_and_aliasing) {
  namespace pk = io::pickle;
  using namespace std::string_view_literals;
  const auto bytes = [](std::string_view s) {
    return std::vector<std::byte>(reinterpret_cast<const std::byte*>(s.data()),
                                  reinterpret_cast<const std::byte*>(s.data() + s.size()));
  };
  const auto fails = [&](std::string_view pickle, const pk::limits& bounds, const char* needle) {
    const auto data = bytes(pickle);
    BOOST_CHECK_EXCEPTION(pk::unpickle(data, "p", 0, bounds), typenet::format_error,
                          [&](const typenet::format_error& e) {
                            BOOST_TEST_INFO("message: " << e.what());
                            return std::string(e.what()).find(needle) != std::string::npos;
                          });
  };
  pk::limits small;
  small.max_objects = 3;
  small.max_memo = 2;
  small.max_stack = 4;
  small.max_marks = 2;
  fails("\x80\x02]]]]."sv, small, "more than 3 objects");
  fails("\x80\x02Nq\x00q\x01q\x02."sv, small, "memo larger than 2");
  fails(
      "\x80\x02Nq\x00h\x00h\x00h\x00h\x00."sv,
      [] {
        pk::limits l;
        l.max_stack = 4;
        return l;
      }(),
      "stack deeper than 4");
  fails("\x80\x02(((."sv, small, "nested deeper than 2");
  fails(
      "\x80\x02NNN\x87."sv,
      [] {
        pk::limits l;
        l.max_items = 2;
        return l;
      }(),
      "more than 2 container items");
  fails("\x80\x02X\xff\xff\xff\x7f"sv, {}, "pickle truncated");
  fails("\x80\x02\x8b\xff\xff\xff\xff."sv, {}, "LONG4 of negative length");
  // Offsets in messages count from `base`, the pickle's place in its file.
  const auto data = bytes("\x80\x02\x81"sv);
  BOOST_CHECK_EXCEPTION(pk::unpickle(data, "p", 100), typenet::format_error,
                        [](const typenet::format_error& e) {
                          return std::string(e.what()).find("p at byte 102") != std::string::npos;
                        });

  // A list that contains itself is fine to read; nothing walks it recursively.
  const auto cyclic = bytes(
      "\x80\x02]q\x00h\x00"
      "a."sv);
  const auto doc = pk::unpickle(cyclic, "p");
  const auto* list = doc.get<pk::py_list>(doc.root);
  BOOST_TEST_REQUIRE(list != nullptr);
  BOOST_TEST(list->items.size() == 1u);
  BOOST_TEST(list->items[0] == doc.root);
  BOOST_TEST(doc.end == cyclic.size());

  // Ints: BININT is signed, LONG1 sign-extends, and beyond 64 bits stays a py_long.
  const auto ints = bytes(
      "\x80\x02(J\xfe\xff\xff\xff\x8a\x01\xff\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x80\x00"
      "\x8a\x09\xff\xff\xff\xff\xff\xff\xff\xff\xfft."sv);
  const auto idoc = pk::unpickle(ints, "p");
  const auto& items = idoc.get<pk::py_tuple>(idoc.root)->items;
  BOOST_TEST_REQUIRE(items.size() == 4u);
  BOOST_TEST(idoc.get<pk::py_int>(items[0])->value == -2);
  BOOST_TEST(idoc.get<pk::py_int>(items[1])->value == -1);
  BOOST_TEST(idoc.get<pk::py_long>(items[2]) != nullptr);  // 2**63
  BOOST_TEST(idoc.get<pk::py_int>(items[3])->value == -1);
}

// ---- memory limits: hostile files against small models ----------------------------------

namespace {

namespace tn = typenet;
constexpr std::size_t peak_limit = std::size_t{256} << 20;

fs::path limits_dir() {
  return expected().dir.parent_path() / "torch_limits";
}

using Small = tn::Model<tn::Sequential<tn::Linear<4>>, tn::Shape<3>>;          // 0.weight [4, 3]
using Gray = tn::Model<tn::Sequential<tn::Conv2d<4, 3>>, tn::Shape<1, 5, 5>>;  // [4, 1, 3, 3]

/// Every parameter and buffer of a model, as doubles.
template <class M>
std::vector<double> snapshot(M& model) {
  std::vector<double> out;
  for (const auto& s : model.state())
    for (std::int64_t i = 0; i < s.size; ++i) {
      if (s.type == tn::dtype::f32) out.push_back(static_cast<const float*>(s.data)[i]);
      if (s.type == tn::dtype::f64) out.push_back(static_cast<const double*>(s.data)[i]);
      if (s.type == tn::dtype::i64)
        out.push_back(static_cast<double>(static_cast<const std::int64_t*>(s.data)[i]));
    }
  return out;
}

/// Loads `file` into `model`, expecting a failure of type E whose message holds
/// every needle, the model untouched and peak memory growth under peak_limit.
template <class E, class M>
void expect_refused(M& model, const std::string& file, const tn::load_options& options,
                    std::initializer_list<std::string> needles) {
  const auto before = snapshot(model);
  const auto path = (limits_dir() / file).string();
  const auto grown = typenet_test::peak_growth([&] { tn::load_weights(model, path, options); });
  const auto message = typenet_test::error_message(grown);
  BOOST_TEST_CONTEXT(file << ": " << message) {
    BOOST_TEST_REQUIRE(static_cast<bool>(grown.error), "no exception");
    bool right_type = false;
    try {
      std::rethrow_exception(grown.error);
    } catch (const E&) {
      right_type = true;
    } catch (...) {
    }
    BOOST_TEST(right_type);
    BOOST_TEST(message.find(path) != std::string::npos);
    for (const auto& needle : needles)
      BOOST_TEST(message.find(needle) != std::string::npos, "missing: " << needle);
    BOOST_TEST(grown.bytes < peak_limit, "peak growth " << grown.bytes << " bytes");
    BOOST_TEST((snapshot(model) == before), "the model changed");
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(zip_bomb_whose_keys_match_nothing_is_never_inflated) {
  Small model(1);
  expect_refused<tn::weights_mismatch>(
      model, "bomb_unmatched.pth", {},
      {"2 keys of the model are missing from the file: '0.weight' [4, 3], '0.bias' [4]",
       "10 keys of the file match no key of the model: 'bomb.0', 'bomb.1'"});
  // Reading the file alone inflates nothing either: sizes are the records' declared ones.
  const auto path = (limits_dir() / "bomb_unmatched.pth").string();
  const auto grown = typenet_test::peak_growth([&] {
    const auto c = io::read_torch(path);
    BOOST_TEST(c.tensors.size() == 10u);
    BOOST_TEST(c.tensors[0].second.storage->size() == std::size_t{256} << 20);
  });
  BOOST_TEST(typenet_test::error_message(grown) == "");
  BOOST_TEST(grown.bytes < peak_limit, "peak growth " << grown.bytes << " bytes");
}

BOOST_AUTO_TEST_CASE(zip_bomb_storage_is_inflated_only_as_far_as_the_matched_views) {
  Small model(1);
  tn::load_report report;
  const auto path = (limits_dir() / "bomb_prefix.pth").string();
  const auto grown =
      typenet_test::peak_growth([&] { report = tn::load_weights(model, path, {.strict = false}); });
  BOOST_TEST_REQUIRE(typenet_test::error_message(grown) == "");
  BOOST_TEST(grown.bytes < peak_limit, "peak growth " << grown.bytes << " bytes");
  BOOST_TEST(report.loaded.size() == 2u);
  BOOST_TEST(report.unexpected.size() == 10u);
  std::vector<double> want(16);
  for (int i = 0; i < 16; ++i) want[static_cast<std::size_t>(i)] = i + 1;
  BOOST_TEST(snapshot(model) == want, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(views_deep_into_a_deflated_storage_hit_max_inflate_bytes) {
  Small model(1);
  expect_refused<tn::weights_mismatch>(
      model, "bomb_tail.pth", {},
      {"reading the matched tensors would inflate 268435456 bytes of deflated records, more than "
       "the limit of 67108992",
       "load_options::max_inflate_bytes raises it"});
  // Raised, the same file loads: the last 16 floats are 1 ... 16.
  Small raised(1);
  tn::load_weights(raised, (limits_dir() / "bomb_tail.pth").string(),
                   {.max_inflate_bytes = std::uint64_t{300} << 20});
  std::vector<double> want(16);
  for (int i = 0; i < 16; ++i) want[static_cast<std::size_t>(i)] = i + 1;
  BOOST_TEST(snapshot(raised) == want, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(stride0_view_under_sum_input_channels_is_refused_before_expanding) {
  Gray model(1);
  expect_refused<tn::weights_mismatch>(
      model, "stride0_huge.pth", {.transforms = {{"0.weight", tn::sum_input_channels}}},
      {"key '0.weight': the file's tensor F32 [4, 1000000000, 3, 3] (file key '0.weight') has "
       "36000000000 elements, more than 64 times the 36 of the model's F32 [4, 1, 3, 3]",
       "load_options::max_transform_ratio raises the limit"});
  // Without the transform the shapes differ, and nothing is read.
  expect_refused<tn::weights_mismatch>(
      model, "stride0_huge.pth", {},
      {"key '0.weight': the model expects F32 [4, 1, 3, 3], the file has F32 [4, 1000000000, 3, "
       "3]"});
  // A legitimate stride-0 view: three equal channels, summed.
  tn::load_weights(model, (limits_dir() / "stride0_rgb.pth").string(),
                   {.transforms = {{"0.weight", tn::sum_input_channels}}});
  std::vector<double> want;
  for (int i = 1; i <= 36; ++i) want.push_back(3.0 * i);
  for (const double b : {0.5, 1.5, 2.5, 3.5}) want.push_back(b);
  BOOST_TEST(snapshot(model) == want, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(deflated_storages_inflate_lazily_and_fail_alike) {
  // A deflated record's storage knows its size, inflates a prefix on request,
  // and checks its CRC when read whole.
  const auto path = (expected().dir / "dtypes.deflate.pth").string();
  const auto c = io::read_torch(path);
  for (const auto& [name, r] : c.tensors) {
    BOOST_TEST(r.storage->made_on_demand());
    BOOST_TEST(r.storage->prefix(0).size() <= r.storage->size());
    BOOST_TEST(r.storage->bytes().size() == r.storage->size());
  }
  // A pickle that would inflate past max_pickle_bytes is refused before inflating.
  io::torch_read_options small;
  small.max_pickle_bytes = 10;
  BOOST_CHECK_EXCEPTION(
      io::read_torch(path, small), typenet::format_error, [&](const typenet::format_error& e) {
        const std::string what = e.what();
        BOOST_TEST_INFO("message: " << what);
        return what.find(path) != std::string::npos &&
               what.find(
                   "more than the limit of 10 "
                   "(torch_read_options::max_pickle_bytes raises it)") != std::string::npos;
      });
}

BOOST_AUTO_TEST_SUITE_END()
