// tests/fixtures.hpp — PyTorch reference data for the parity and training tests.
//
// tools/make_fixtures.py writes one `<case>.tnfx` file per case into the
// directory named by the environment variable TYPENET_FIXTURES (CTest sets
// it and runs the script first, as the `fixtures` test). The format is
// documented at the top of that script. This header reads the files, copies
// a fixture's state_dict into a Model by name (which also checks that our
// state_dict names and shapes are PyTorch's), and compares results the way
// DESIGN.md §4b says: element-wise |a - b| <= atol + rtol * |b|, printing
// the worst element and its index when that fails.
#pragma once

#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <typenet/nn.hpp>

namespace typenet_test {

// ---- reading fixtures -------------------------------------------------------------------

/// Element types of the file format (the dtype byte).
enum class fixture_dtype : std::uint8_t { f32 = 0, f64 = 1, i64 = 2 };

inline const char* fixture_dtype_name(fixture_dtype d) {
  switch (d) {
    case fixture_dtype::f32:
      return "float32";
    case fixture_dtype::f64:
      return "float64";
    case fixture_dtype::i64:
      return "int64";
  }
  return "?";
}

inline std::string dims_string(const std::vector<std::int64_t>& dims) {
  std::string s = "[";
  for (std::size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

/// One named tensor of a fixture; the values are kept in the file's type.
struct FixtureTensor {
  std::string name;
  fixture_dtype type = fixture_dtype::f32;
  std::vector<std::int64_t> dims;  ///< empty for a 0-d tensor
  std::vector<float> f32;
  std::vector<double> f64;
  std::vector<std::int64_t> i64;

  std::int64_t numel() const {
    std::int64_t n = 1;
    for (auto d : dims) n *= d;
    return n;
  }
  /// Element `i` as a double, whatever the stored type.
  double at(std::int64_t i) const {
    const auto k = static_cast<std::size_t>(i);
    switch (type) {
      case fixture_dtype::f32:
        return f32[k];
      case fixture_dtype::f64:
        return f64[k];
      case fixture_dtype::i64:
        return static_cast<double>(i64[k]);
    }
    return 0;
  }
  /// The value of a tensor holding exactly one element.
  double scalar() const {
    if (numel() != 1)
      throw std::runtime_error("fixture tensor '" + name + "' of shape " + dims_string(dims) +
                               " is not a scalar");
    return at(0);
  }
  std::string describe() const {
    return "'" + name + "' (" + fixture_dtype_name(type) + " " + dims_string(dims) + ")";
  }
};

/// The directory of the fixture files, from TYPENET_FIXTURES.
inline std::string fixture_directory() {
  const char* dir = std::getenv("TYPENET_FIXTURES");
  if (!dir || !*dir)
    throw std::runtime_error(
        "TYPENET_FIXTURES is not set: the parity and training tests need PyTorch's reference "
        "data. Run them through ctest (which generates it first, as the `fixtures` test), or run "
        "`/usr/bin/python3 tools/make_fixtures.py --out DIR` and set TYPENET_FIXTURES=DIR.");
  return dir;
}

/// All tensors of one case, by name.
class Fixture {
 public:
  /// Reads `<TYPENET_FIXTURES>/<case_name>.tnfx`.
  static Fixture load(const std::string& case_name) {
    return read_file(fixture_directory() + "/" + case_name + ".tnfx");
  }

  static Fixture read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
      throw std::runtime_error("cannot open fixture " + path +
                               " (is TYPENET_FIXTURES the --out directory of "
                               "tools/make_fixtures.py, and is the case generated there?)");
    const std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)),
                                           std::istreambuf_iterator<char>());
    Fixture f;
    f.path_ = path;
    reader r{bytes, 0, path};
    if (r.take(4) != std::string("TNFX")) r.fail("not a TNFX file (bad magic)");
    const auto version = r.u32();
    if (version != 1) r.fail("unsupported version " + std::to_string(version));
    const auto count = r.u32();
    for (std::uint32_t i = 0; i < count; ++i) {
      FixtureTensor t;
      t.name = r.take(r.u32());
      const auto code = r.u8();
      if (code > 2) r.fail("tensor '" + t.name + "': unknown dtype code " + std::to_string(code));
      t.type = static_cast<fixture_dtype>(code);
      const auto ndim = r.u8();
      for (int d = 0; d < ndim; ++d) {
        t.dims.push_back(r.i64());
        if (t.dims.back() < 0) r.fail("tensor '" + t.name + "': negative dimension");
      }
      const auto n = static_cast<std::size_t>(t.numel());
      switch (t.type) {
        case fixture_dtype::f32:
          r.array(t.f32, n);
          break;
        case fixture_dtype::f64:
          r.array(t.f64, n);
          break;
        case fixture_dtype::i64:
          r.array(t.i64, n);
          break;
      }
      if (f.index_.count(t.name)) r.fail("duplicate tensor '" + t.name + "'");
      f.index_[t.name] = f.tensors_.size();
      f.tensors_.push_back(std::move(t));
    }
    if (r.pos != bytes.size()) r.fail("trailing bytes after the last tensor");
    return f;
  }

  const std::string& path() const { return path_; }
  bool contains(const std::string& name) const { return index_.count(name) != 0; }
  const FixtureTensor* find(const std::string& name) const {
    const auto it = index_.find(name);
    return it == index_.end() ? nullptr : &tensors_[it->second];
  }
  const FixtureTensor& at(const std::string& name) const {
    if (const auto* t = find(name)) return *t;
    throw std::runtime_error("fixture " + path_ + " has no tensor '" + name + "'");
  }
  /// Names starting with `prefix`, without it, in file order.
  std::vector<std::string> keys_with_prefix(const std::string& prefix) const {
    std::vector<std::string> keys;
    for (const auto& t : tensors_)
      if (t.name.starts_with(prefix)) keys.push_back(t.name.substr(prefix.size()));
    return keys;
  }

 private:
  struct reader {
    const std::vector<unsigned char>& bytes;
    std::size_t pos;
    const std::string& path;

    [[noreturn]] void fail(const std::string& why) const {
      throw std::runtime_error("fixture " + path + ": " + why + " (at byte " + std::to_string(pos) +
                               ")");
    }
    const unsigned char* need(std::size_t n) {
      if (n > bytes.size() - pos) fail("truncated file");
      const unsigned char* p = bytes.data() + pos;
      pos += n;
      return p;
    }
    std::string take(std::size_t n) {
      const auto* p = need(n);
      return std::string(reinterpret_cast<const char*>(p), n);
    }
    // The format is little-endian, as is every machine typenet builds for.
    template <class V>
    V scalar() {
      static_assert(std::endian::native == std::endian::little);
      V v;
      std::memcpy(&v, need(sizeof(V)), sizeof(V));
      return v;
    }
    std::uint8_t u8() { return scalar<std::uint8_t>(); }
    std::uint32_t u32() { return scalar<std::uint32_t>(); }
    std::int64_t i64() { return scalar<std::int64_t>(); }
    template <class V>
    void array(std::vector<V>& out, std::size_t n) {
      if (n > (bytes.size() - pos) / sizeof(V)) fail("truncated tensor data");
      out.resize(n);
      if (n) std::memcpy(out.data(), need(n * sizeof(V)), n * sizeof(V));
    }
  };

  std::string path_;
  std::vector<FixtureTensor> tensors_;
  std::map<std::string, std::size_t> index_;
};

// ---- comparing -------------------------------------------------------------------------

/// |a - b| <= atol + rtol * max(|b|, scale_floor * max|B|), b the PyTorch value
/// and B its tensor (DESIGN.md §4b). A gradient element is a sum over the
/// batch and every position, whose terms may cancel: its float error scales
/// with the terms, not with the sum, so for gradients an element much
/// smaller than its tensor's largest is judged against a tenth of that.
struct Tolerance {
  double rtol;
  double atol;
  double scale_floor = 0;
};
inline constexpr Tolerance forward_tolerance{1e-4, 1e-5};
inline constexpr Tolerance gradient_tolerance{1e-3, 1e-4, 0.1};
inline constexpr Tolerance weight_tolerance{1e-4, 1e-5};

/// "[n, c, h, w]" of flat index `flat` in a tensor of dims `dims`.
inline std::string index_string(std::int64_t flat, const std::vector<std::int64_t>& dims) {
  std::vector<std::int64_t> index(dims.size());
  for (std::size_t d = dims.size(); d-- > 0;) {
    index[d] = dims[d] ? flat % dims[d] : 0;
    flat = dims[d] ? flat / dims[d] : 0;
  }
  return dims_string(index);
}

/// Compares `got` with the fixture tensor `expected` element-wise; a
/// failure names `what`, how many elements are off, and the worst of them.
/// Returns whether all matched.
template <class T>
bool check_close(const std::string& what, const T* got, std::int64_t got_size,
                 const FixtureTensor& expected, Tolerance tol) {
  if (got_size != expected.numel()) {
    BOOST_ERROR(what << ": typenet has " << got_size << " elements, PyTorch " << expected.describe()
                     << " has " << expected.numel());
    return false;
  }
  double floor = 0;  // the smallest |b| the relative term uses
  if (tol.scale_floor > 0) {
    for (std::int64_t i = 0; i < got_size; ++i) floor = std::max(floor, std::abs(expected.at(i)));
    floor *= tol.scale_floor;
  }
  const auto allowed_at = [&](double b) {
    return tol.atol + tol.rtol * std::max(std::abs(b), floor);
  };
  std::int64_t bad = 0, worst = -1;
  double worst_excess = -1;
  for (std::int64_t i = 0; i < got_size; ++i) {
    const double a = static_cast<double>(got[i]);
    const double b = expected.at(i);
    const double allowed = allowed_at(b);
    const double diff = std::abs(a - b);
    // NaN compares false: a NaN on either side is an infinitely bad element.
    const double excess = diff <= allowed       ? 0.0
                          : std::isfinite(diff) ? diff / allowed
                                                : std::numeric_limits<double>::infinity();
    if (excess > 0) {
      ++bad;
      if (excess > worst_excess) worst_excess = excess, worst = i;
    }
  }
  if (bad == 0) return true;
  const double a = static_cast<double>(got[worst]), b = expected.at(worst);
  std::ostringstream msg;
  msg.precision(9);
  msg << what << ": " << bad << " of " << got_size
      << " elements differ from PyTorch beyond |a - b| <= " << tol.atol << " + " << tol.rtol
      << " * max(|b|, " << floor << "); worst at " << index_string(worst, expected.dims) << " of "
      << dims_string(expected.dims) << ": typenet " << a << ", PyTorch " << b << ", |a - b| "
      << std::abs(a - b) << " (allowed " << allowed_at(b) << ")";
  BOOST_ERROR(msg.str());
  return false;
}

template <class S, class T>
bool check_close(const std::string& what, const typenet::Tensor<S, typenet::Cpu, T>& got,
                 const FixtureTensor& expected, Tolerance tol) {
  std::vector<std::int64_t> dims{got.batch()};
  for (int d : got.extents()) dims.push_back(d);
  if (dims != expected.dims) {
    BOOST_ERROR(what << ": typenet's shape " << dims_string(dims) << " differs from PyTorch's "
                     << expected.describe());
    return false;
  }
  return check_close(what, got.data(), got.size(), expected, tol);
}

// ---- tensors and state from fixtures ------------------------------------------------------

/// A batch of Shape S from a fixture tensor of dims [N, S...]; a dynamic
/// extent of S takes the fixture's.
template <class S, class T = float>
typenet::Tensor<S, typenet::Cpu, T> tensor_from_fixture(const FixtureTensor& t) {
  std::vector<std::int64_t> want;
  typenet::extents_t<S> extents{};
  for (int d = 0; d < S::rank; ++d) {
    const bool dynamic = S::dims[d] == typenet::dyn && t.dims.size() == std::size_t(S::rank) + 1;
    extents[d] = dynamic ? static_cast<int>(t.dims[d + 1]) : S::dims[d];
    want.push_back(extents[d]);
  }
  if (t.dims.size() != want.size() + 1 || !std::equal(want.begin(), want.end(), t.dims.begin() + 1))
    throw std::runtime_error("fixture tensor " + t.describe() +
                             " does not hold a batch of sample shape " + S::str());
  typenet::Tensor<S, typenet::Cpu, T> out(static_cast<int>(t.dims[0]), extents);
  for (std::int64_t i = 0; i < out.size(); ++i) out.data()[i] = static_cast<T>(t.at(i));
  return out;
}

inline std::vector<std::int64_t> state_dims(const typenet::StateRef& s) {
  return std::vector<std::int64_t>(s.shape.begin(), s.shape.end());
}

/// Checks that the names of `state` are exactly the fixture's `prefix` keys,
/// with the same shapes; reports every difference. PyTorch's state_dict of
/// the reference module is the specification of our names.
inline bool check_state_names(const std::vector<typenet::StateRef>& state, const Fixture& f,
                              const std::string& prefix) {
  bool ok = true;
  std::set<std::string> ours;
  for (const auto& s : state) {
    ours.insert(s.name);
    const auto* t = f.find(prefix + s.name);
    if (!t) {
      BOOST_ERROR("typenet's state entry '" << s.name << "' has no PyTorch counterpart '" << prefix
                                            << s.name << "' in " << f.path());
      ok = false;
    } else if (t->dims != state_dims(s)) {
      BOOST_ERROR("state entry '" << s.name << "': typenet's shape " << dims_string(state_dims(s))
                                  << " differs from PyTorch's " << t->describe());
      ok = false;
    }
  }
  for (const auto& key : f.keys_with_prefix(prefix)) {
    if (!ours.count(key)) {
      BOOST_ERROR("PyTorch's state_dict key '" << key << "' (" << f.path()
                                               << ") is missing from typenet's state");
      ok = false;
    }
  }
  return ok;
}

/// Copies every entry of `model.state()` from the fixture tensor named
/// `prefix` + its name. Fails the test (and returns false) if a name is
/// missing on either side or a shape differs.
template <class Model>
bool copy_state_from_fixture(Model& model, const Fixture& f, const std::string& prefix = "state.") {
  auto state = model.state();
  if (!check_state_names(state, f, prefix)) return false;
  for (const auto& s : state) {
    const auto& t = f.at(prefix + s.name);
    BOOST_REQUIRE_MESSAGE(s.on_host,
                          "copy_state_from_fixture: '" << s.name << "' is not on the host");
    for (std::int64_t i = 0; i < s.size; ++i) {
      switch (s.type) {
        case typenet::dtype::f32:
          static_cast<float*>(s.data)[i] = static_cast<float>(t.at(i));
          break;
        case typenet::dtype::f64:
          static_cast<double*>(s.data)[i] = t.at(i);
          break;
        case typenet::dtype::i64:
          if (t.type != fixture_dtype::i64) {
            BOOST_ERROR("state entry '" << s.name << "' is int64 in typenet, PyTorch has "
                                        << t.describe());
            return false;
          }
          static_cast<std::int64_t*>(s.data)[i] = t.i64[static_cast<std::size_t>(i)];
          break;
        default:
          BOOST_ERROR("state entry '" << s.name << "' has dtype " << typenet::dtype_name(s.type));
          return false;
      }
    }
  }
  return true;
}

/// Compares state entries of `model` with the fixture's `prefix` tensors:
/// all of them, or only the buffers (what a forward in train mode changes).
/// Integer counters must match exactly. Returns whether all matched.
template <class Model>
bool check_state(Model& model, const Fixture& f, const std::string& prefix, Tolerance tol,
                 bool buffers_only = false) {
  bool ok = true;
  for (const auto& s : model.state()) {
    if (buffers_only && s.is_parameter) continue;
    const auto* t = f.find(prefix + s.name);
    if (!t) {
      BOOST_ERROR("no PyTorch value '" << prefix << s.name << "' in " << f.path());
      ok = false;
      continue;
    }
    const std::string what = prefix + s.name;
    switch (s.type) {
      case typenet::dtype::f32:
        ok &= check_close(what, static_cast<const float*>(s.data), s.size, *t, tol);
        break;
      case typenet::dtype::f64:
        ok &= check_close(what, static_cast<const double*>(s.data), s.size, *t, tol);
        break;
      case typenet::dtype::i64: {
        const auto got = *static_cast<const std::int64_t*>(s.data);
        const auto want = static_cast<std::int64_t>(t->scalar());
        if (got != want) {
          BOOST_ERROR(what << ": typenet " << got << ", PyTorch " << want);
          ok = false;
        }
        break;
      }
      default:
        BOOST_ERROR(what << ": unexpected dtype " << typenet::dtype_name(s.type));
        ok = false;
    }
  }
  return ok;
}

}  // namespace typenet_test
