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

#include <typenet/io/torch_file.hpp>

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
        BOOST_TEST(io::element_name(r.type) == want.dtype);
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

BOOST_AUTO_TEST_SUITE_END()
