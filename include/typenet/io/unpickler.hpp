// typenet/io/unpickler.hpp — the part of Python's pickle that torch.save writes, and no more.
//
// `pickle::unpickle(bytes, where)` reads one pickle (up to its STOP opcode) into
// a `pickle::document`: an arena of plain values (None, bool, int, float, str,
// bytes, tuple, list, dict), the allow-listed globals, and two torch-specific
// kinds: `torch_storage` (a persistent id naming a storage record) and
// `torch_tensor` (a strided view into one). Nothing is executed: REDUCE is
// interpreted only for the callables torch.save emits in a state dict or a
// checkpoint around one (collections.OrderedDict,
// torch._utils._rebuild_tensor{,_v2}, torch._utils._rebuild_parameter{,_with_state},
// and _codecs.encode and bytes() for bytes objects); any other GLOBAL is refused
// with a format_error that names it, before anything refers to it. Opcodes:
// those of protocols 2 to 5 that carry data (PROTO, FRAME, MARK, STOP, the
// int/float/str/bytes/bool/None ones, tuples, lists, dicts, the memo,
// GLOBAL/STACK_GLOBAL, REDUCE, BUILD, BINPERSID, POP, POP_MARK); object-building
// ones (INST, OBJ, NEWOBJ, EXT*, sets) and the text protocol's are refused.
//
// Guarantees: every read is bounds-checked, stack/mark/memo/object counts are
// bounded by `pickle::limits`, the reader is iterative (no recursion), and
// every failure is a typenet::format_error of the form
// "<where> at byte <offset>: <what>". Values may alias each other (BINGET), and
// may even form cycles; the document is an arena, so that costs nothing, but
// consumers must not walk it recursively without a bound.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "typenet/io/checkpoint.hpp"
#include "typenet/io/errors.hpp"
#include "typenet/io/pickle_limits.hpp"

namespace typenet::io::pickle {

using object_id = std::uint32_t;

struct py_none {};
struct py_bool {
  bool value;
};
struct py_int {
  std::int64_t value;
};
/// An int beyond int64 (torch's legacy magic number is one): little-endian
/// two's complement bytes, as LONG1/LONG4 carry them.
struct py_long {
  std::vector<std::uint8_t> bytes;
};
struct py_float {
  double value;
};
/// str, and Python 2's byte strings (BINSTRING), which torch used as str.
struct py_str {
  std::string text;
};
struct py_bytes {
  std::string data;
};
struct py_tuple {
  std::vector<object_id> items;
};
struct py_list {
  std::vector<object_id> items;
};
/// dict and OrderedDict: items in insertion order. A repeated key is kept
/// twice; readers apply Python's rule (the last value, at the first position).
struct py_dict {
  std::vector<std::pair<object_id, object_id>> items;
};
/// An allow-listed global (only those are ever created).
struct py_global {
  std::string module, name;
};

/// A storage named by a persistent id:
/// ('storage', torch.<T>Storage, key, location, numel[, (view_key, offset, view_numel)]).
struct torch_storage {
  std::string type_name;         ///< e.g. "FloatStorage"
  std::optional<dtype> type;     ///< nullopt: a dtype typenet does not read (complex, quantized)
  std::size_t element_size = 1;  ///< bytes per element, known even without `type`
  std::string key;               ///< the root storage: zip record data/<key>, legacy key
  std::string location;          ///< "cpu", "cuda:0": ignored, everything is read to memory
  std::int64_t numel = 0;        ///< elements of the root storage
  std::string view_key;          ///< legacy storage views: empty when the whole root
  std::int64_t view_offset = 0;  ///< elements into the root
  std::int64_t view_numel = 0;   ///< elements of the view
  std::size_t position = 0;      ///< where its BINPERSID is, for messages
};

/// torch._utils._rebuild_tensor{,_v2}(storage, storage_offset, size, stride, ...).
struct torch_tensor {
  object_id storage = 0;
  std::int64_t storage_offset = 0;
  std::vector<std::int64_t> shape;
  std::vector<std::int64_t> strides;
  std::size_t position = 0;  ///< where its REDUCE is, for messages
};

using object = std::variant<py_none, py_bool, py_int, py_long, py_float, py_str, py_bytes, py_tuple,
                            py_list, py_dict, py_global, torch_storage, torch_tensor>;

/// One unpickled object graph.
struct document {
  std::vector<object> objects;
  object_id root = 0;
  std::size_t end = 0;  ///< bytes read, STOP included

  const object& operator[](object_id id) const { return objects.at(id); }
  template <class T>
  const T* get(object_id id) const {
    return std::get_if<T>(&objects.at(id));
  }
};

/// What torch.save names a storage type, its element type and size.
struct storage_kind {
  std::string_view name;
  std::optional<dtype> type;
  std::size_t element_size;
};

inline constexpr storage_kind storage_kinds[] = {
    {"FloatStorage", dtype::f32, 4},
    {"DoubleStorage", dtype::f64, 8},
    {"HalfStorage", dtype::f16, 2},
    {"BFloat16Storage", dtype::bf16, 2},
    {"LongStorage", dtype::i64, 8},
    {"IntStorage", dtype::i32, 4},
    {"ShortStorage", dtype::i16, 2},
    {"CharStorage", dtype::i8, 1},
    {"ByteStorage", dtype::u8, 1},
    {"BoolStorage", dtype::boolean, 1},
    {"UntypedStorage", dtype::u8, 1},
    {"ComplexFloatStorage", std::nullopt, 8},
    {"ComplexDoubleStorage", std::nullopt, 16},
    {"QInt8Storage", std::nullopt, 1},
    {"QUInt8Storage", std::nullopt, 1},
    {"QInt32Storage", std::nullopt, 4},
    {"QUInt4x2Storage", std::nullopt, 1},
    {"QUInt2x4Storage", std::nullopt, 1},
};

/// The storage kind of a global, if it is one. torch.load matches storage
/// types by name; torch.cuda's appear in files saved from a GPU before 1.6.
inline const storage_kind* find_storage_kind(std::string_view module, std::string_view name) {
  if (module != "torch" && module != "torch.cuda") return nullptr;
  for (const auto& kind : storage_kinds)
    if (kind.name == name) return &kind;
  return nullptr;
}

/// The callables that may appear in a state dict pickle, besides storage types.
inline constexpr std::string_view allowed_callables[] = {
    "collections.OrderedDict",
    "torch._utils._rebuild_tensor_v2",
    "torch._utils._rebuild_tensor",
    "torch._utils._rebuild_parameter",
    "torch._utils._rebuild_parameter_with_state",
    "_codecs.encode",
    "__builtin__.bytes",
    "builtins.bytes",
};

/// A short description of a value for messages: "int 3", "str 'epoch'", "list of 2".
inline std::string describe(const document& doc, object_id id) {
  const auto quote = [](const std::string& s) {
    std::string out = "'";
    for (std::size_t i = 0; i < s.size() && i < 60; ++i) {
      const auto c = static_cast<unsigned char>(s[i]);
      if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\') {
        out += static_cast<char>(c);
      } else {
        static constexpr char hex[] = "0123456789abcdef";
        out += "\\x";
        out += hex[c >> 4];
        out += hex[c & 15];
      }
    }
    return out + (s.size() > 60 ? "...'" : "'");
  };
  return std::visit(
      [&](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, py_none>) return "None";
        if constexpr (std::is_same_v<T, py_bool>) return v.value ? "True" : "False";
        if constexpr (std::is_same_v<T, py_int>) return "int " + std::to_string(v.value);
        if constexpr (std::is_same_v<T, py_long>) return "int beyond 64 bits";
        if constexpr (std::is_same_v<T, py_float>) return "float " + std::to_string(v.value);
        if constexpr (std::is_same_v<T, py_str>) return "str " + quote(v.text);
        if constexpr (std::is_same_v<T, py_bytes>)
          return "bytes of length " + std::to_string(v.data.size());
        if constexpr (std::is_same_v<T, py_tuple>)
          return "tuple of " + std::to_string(v.items.size());
        if constexpr (std::is_same_v<T, py_list>)
          return "list of " + std::to_string(v.items.size());
        if constexpr (std::is_same_v<T, py_dict>)
          return "dict of " + std::to_string(v.items.size()) + " entries";
        if constexpr (std::is_same_v<T, py_global>) return "global " + v.module + "." + v.name;
        if constexpr (std::is_same_v<T, torch_storage>) return "torch." + v.type_name;
        if constexpr (std::is_same_v<T, torch_tensor>) {
          std::string s = "tensor of shape [";
          for (std::size_t i = 0; i < v.shape.size(); ++i)
            s += (i ? ", " : "") + std::to_string(v.shape[i]);
          return s + "]";
        }
      },
      doc[id]);
}

namespace detail {

/// The unpickling machine: a stack of object ids, a mark stack, a memo.
class machine {
 public:
  machine(std::span<const std::byte> data, const std::string& where, std::size_t base,
          const limits& bounds)
      : data_(data), where_(where), base_(base), limits_(bounds) {}

  document run() {
    for (;;) {
      if (pos_ >= data_.size()) {
        op_ = pos_;
        fail("pickle truncated: it ends before its STOP opcode");
      }
      op_ = pos_;
      const auto code = next_u8();
      if (step(code)) break;
    }
    doc_.end = pos_;
    return std::move(doc_);
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw format_error(where_ + " at byte " + std::to_string(base_ + op_) + ": " + what);
  }

  // ---- reading the byte stream ---------------------------------------------------------

  void need(std::uint64_t n) const {
    if (n > data_.size() - pos_)
      fail("pickle truncated: needs " + std::to_string(n) + " more bytes, " +
           std::to_string(data_.size() - pos_) + " left");
  }
  std::uint8_t next_u8() {
    need(1);
    return static_cast<std::uint8_t>(data_[pos_++]);
  }
  template <class T>
  T next_le() {
    need(sizeof(T));
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i)
      v |= std::uint64_t{static_cast<std::uint8_t>(data_[pos_ + i])} << (8 * i);
    pos_ += sizeof(T);
    return static_cast<T>(v);
  }
  std::string next_bytes(std::uint64_t n) {
    need(n);
    std::string s(reinterpret_cast<const char*>(data_.data() + pos_), static_cast<std::size_t>(n));
    pos_ += static_cast<std::size_t>(n);
    return s;
  }
  std::string next_line() {
    const auto* begin = reinterpret_cast<const char*>(data_.data() + pos_);
    const auto* newline = static_cast<const char*>(std::memchr(begin, '\n', data_.size() - pos_));
    if (!newline) fail("pickle truncated inside a GLOBAL opcode");
    std::string s(begin, newline);
    pos_ += s.size() + 1;
    return s;
  }

  // ---- the stacks ----------------------------------------------------------------------

  object_id make(object value) {
    if (doc_.objects.size() >= limits_.max_objects)
      fail("more than " + std::to_string(limits_.max_objects) + " objects");
    doc_.objects.push_back(std::move(value));
    return static_cast<object_id>(doc_.objects.size() - 1);
  }
  void push_id(object_id id) {
    if (stack_.size() >= limits_.max_stack)
      fail("stack deeper than " + std::to_string(limits_.max_stack));
    stack_.push_back(id);
  }
  void push(object value) { push_id(make(std::move(value))); }
  void spend(std::size_t n) {
    if (n > limits_.max_items - spent_)
      fail("more than " + std::to_string(limits_.max_items) + " container items");
    spent_ += n;
  }
  // Like Python's unpickler, a MARK hides what lies below it.
  std::size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  object_id pop() {
    if (stack_.size() <= floor()) fail("stack underflow");
    const auto id = stack_.back();
    stack_.pop_back();
    return id;
  }
  object_id top() const {
    if (stack_.size() <= floor()) fail("stack underflow");
    return stack_.back();
  }
  std::vector<object_id> pop_mark() {
    if (marks_.empty()) fail("no MARK to pop to");
    std::vector<object_id> items(stack_.begin() + static_cast<std::ptrdiff_t>(marks_.back()),
                                 stack_.end());
    stack_.resize(marks_.back());
    marks_.pop_back();
    return items;
  }
  void memo_put(std::uint64_t index) {
    const auto id = top();
    if (memo_.size() >= limits_.max_memo && !memo_.count(index))
      fail("memo larger than " + std::to_string(limits_.max_memo));
    memo_[index] = id;
  }
  void memo_get(std::uint64_t index) {
    const auto it = memo_.find(index);
    if (it == memo_.end()) fail("memo entry " + std::to_string(index) + " was never stored");
    push_id(it->second);
  }
  template <class T>
  T& top_as(const char* opcode, const char* expected) {
    const auto id = top();
    if (auto* v = std::get_if<T>(&doc_.objects[id])) return *v;
    fail(std::string(opcode) + " needs a " + expected + " below it, found " + describe(doc_, id));
  }

  // ---- values --------------------------------------------------------------------------

  void push_long(std::string raw) {
    const auto n = raw.size();
    const auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(raw[i]); };
    const bool negative = n > 0 && (byte(n - 1) & 0x80);
    bool fits = true;
    for (std::size_t i = 8; i < n; ++i)
      if (byte(i) != (negative ? 0xff : 0x00)) fits = false;
    if (n > 8 && ((byte(7) & 0x80) != 0) != negative) fits = false;
    if (!fits) {
      push(py_long{std::vector<std::uint8_t>(raw.begin(), raw.end())});
      return;
    }
    std::uint64_t v = negative ? ~std::uint64_t{0} : 0;
    for (std::size_t i = 0; i < n && i < 8; ++i) {
      v &= ~(std::uint64_t{0xff} << (8 * i));
      v |= std::uint64_t{byte(i)} << (8 * i);
    }
    push(py_int{static_cast<std::int64_t>(v)});
  }

  void push_global(std::string module, std::string name) {
    const auto full = module + "." + name;
    bool allowed = find_storage_kind(module, name) != nullptr;
    for (auto callable : allowed_callables)
      if (callable == full) allowed = true;
    if (!allowed) {
      std::string msg = "global '" + full + "' is not allowed: a state dict pickle holds only ";
      for (auto callable : allowed_callables) msg += std::string(callable) + ", ";
      msg += "and torch.<Type>Storage";
      if (module.rfind("torch.nn", 0) == 0 || module.rfind("torchvision", 0) == 0)
        msg += " (this file pickles a whole module; save model.state_dict() instead)";
      fail(msg);
    }
    push(py_global{std::move(module), std::move(name)});
  }

  const std::vector<object_id>& tuple_items(object_id id, const char* what) const {
    if (const auto* t = std::get_if<py_tuple>(&doc_.objects[id])) return t->items;
    fail(std::string(what) + " must be a tuple, found " + describe(doc_, id));
  }
  std::int64_t int_arg(object_id id, const char* what) const {
    if (const auto* v = std::get_if<py_int>(&doc_.objects[id])) return v->value;
    fail(std::string(what) + " must be an int, found " + describe(doc_, id));
  }
  std::int64_t count_arg(object_id id, const char* what) const {
    const auto v = int_arg(id, what);
    if (v < 0) fail(std::string(what) + " is negative (" + std::to_string(v) + ")");
    return v;
  }
  const std::string& str_arg(object_id id, const char* what) const {
    if (const auto* v = std::get_if<py_str>(&doc_.objects[id])) return v->text;
    fail(std::string(what) + " must be a str, found " + describe(doc_, id));
  }
  std::vector<std::int64_t> dims_arg(object_id id, const char* what) {
    const auto& items = tuple_items(id, what);
    if (items.size() > limits_.max_rank)
      fail(std::string(what) + " has " + std::to_string(items.size()) + " dimensions, more than " +
           std::to_string(limits_.max_rank));
    std::vector<std::int64_t> dims;
    spend(items.size());
    dims.reserve(items.size());
    for (auto item : items) dims.push_back(count_arg(item, what));
    return dims;
  }

  // BINPERSID: torch.save's persistent ids name storages.
  void persistent_load(object_id pid) {
    const auto& items = tuple_items(pid, "a persistent id");
    if (items.empty()) fail("empty persistent id");
    const auto* tag = std::get_if<py_str>(&doc_.objects[items[0]]);
    if (tag && tag->text == "module")
      fail(
          "persistent id 'module': this file pickles a whole nn.Module (torch.save(model)); "
          "save model.state_dict() instead");
    if (!tag || tag->text != "storage")
      fail("persistent id " + describe(doc_, items[0]) + " is not 'storage'");
    if (items.size() != 5 && items.size() != 6)
      fail("storage persistent id of " + std::to_string(items.size()) +
           " items (torch.save writes 5, or 6 in the legacy format)");
    const auto* type = std::get_if<py_global>(&doc_.objects[items[1]]);
    const storage_kind* kind = type ? find_storage_kind(type->module, type->name) : nullptr;
    if (!kind) fail("storage type " + describe(doc_, items[1]) + " is not a torch storage type");
    torch_storage s;
    s.type_name = std::string(kind->name);
    s.type = kind->type;
    s.element_size = kind->element_size;
    s.key = str_arg(items[2], "a storage key");
    s.location = str_arg(items[3], "a storage location");
    s.numel = count_arg(items[4], "a storage size");
    if (s.numel >
        std::numeric_limits<std::int64_t>::max() / static_cast<std::int64_t>(s.element_size))
      fail("storage '" + s.key + "' of " + std::to_string(s.numel) + " elements overflows");
    s.view_numel = s.numel;
    if (items.size() == 6 && !std::holds_alternative<py_none>(doc_.objects[items[5]])) {
      const auto& view = tuple_items(items[5], "storage view metadata");
      if (view.size() != 3) fail("storage view metadata must be (key, offset, size)");
      s.view_key = str_arg(view[0], "a storage view key");
      s.view_offset = count_arg(view[1], "a storage view offset");
      s.view_numel = count_arg(view[2], "a storage view size");
      if (s.view_offset > s.numel || s.view_numel > s.numel - s.view_offset)
        fail("storage view '" + s.view_key + "' (" + std::to_string(s.view_numel) +
             " elements at " + std::to_string(s.view_offset) + ") lies outside its storage '" +
             s.key + "' of " + std::to_string(s.numel) + " elements");
    }
    spend(s.key.size() + s.location.size() + s.view_key.size());
    s.position = base_ + op_;
    push(std::move(s));
  }

  // REDUCE: interpret the few callables torch.save emits, never call anything.
  void reduce(object_id callable, object_id args_id) {
    const auto* fn = std::get_if<py_global>(&doc_.objects[callable]);
    if (!fn) fail("REDUCE of " + describe(doc_, callable) + ", which is not callable");
    const auto name = fn->module + "." + fn->name;
    const auto args = tuple_items(args_id, ("the arguments of " + name).c_str());
    const auto arity = [&](std::size_t lo, std::size_t hi) {
      if (args.size() < lo || args.size() > hi)
        fail(name + " called with " + std::to_string(args.size()) + " arguments");
    };
    if (name == "collections.OrderedDict") {
      arity(0, 1);
      py_dict d;
      if (!args.empty()) {
        const auto& init = doc_.objects[args[0]];
        if (const auto* src = std::get_if<py_dict>(&init)) {
          spend(src->items.size());
          d.items = src->items;
        } else {
          // Python 2's OrderedDict.__reduce__ passes [[key, value], ...].
          const std::vector<object_id>* pairs = nullptr;
          if (const auto* l = std::get_if<py_list>(&init)) pairs = &l->items;
          if (const auto* t = std::get_if<py_tuple>(&init)) pairs = &t->items;
          if (!pairs) fail("OrderedDict of " + describe(doc_, args[0]));
          spend(pairs->size());
          for (auto pair : *pairs) {
            const std::vector<object_id>* kv = nullptr;
            if (const auto* l = std::get_if<py_list>(&doc_.objects[pair])) kv = &l->items;
            if (const auto* t = std::get_if<py_tuple>(&doc_.objects[pair])) kv = &t->items;
            if (!kv || kv->size() != 2) fail("OrderedDict item " + describe(doc_, pair));
            d.items.emplace_back((*kv)[0], (*kv)[1]);
          }
        }
      }
      push(std::move(d));
    } else if (name == "torch._utils._rebuild_tensor_v2" ||
               name == "torch._utils._rebuild_tensor") {
      // (storage, storage_offset, size, stride[, requires_grad, backward_hooks[, metadata]])
      if (name.back() == '2')
        arity(6, 7);
      else
        arity(4, 4);
      if (!std::holds_alternative<torch_storage>(doc_.objects[args[0]]))
        fail(name + " of " + describe(doc_, args[0]) + " instead of a storage");
      torch_tensor t;
      t.storage = args[0];
      t.storage_offset = count_arg(args[1], "a storage offset");
      t.shape = dims_arg(args[2], "a tensor size");
      t.strides = dims_arg(args[3], "a tensor stride");
      if (t.shape.size() != t.strides.size())
        fail("tensor of " + std::to_string(t.shape.size()) + " dimensions with " +
             std::to_string(t.strides.size()) + " strides");
      t.position = base_ + op_;
      push(std::move(t));
    } else if (name == "torch._utils._rebuild_parameter" ||
               name == "torch._utils._rebuild_parameter_with_state") {
      // (data, requires_grad, backward_hooks[, state]): a Parameter is its tensor.
      if (name.back() == 'e')
        arity(4, 4);
      else
        arity(3, 3);
      if (!std::holds_alternative<torch_tensor>(doc_.objects[args[0]]))
        fail(name + " of " + describe(doc_, args[0]) + " instead of a tensor");
      push_id(args[0]);
    } else if (name == "_codecs.encode") {
      // Protocol 2 writes bytes as _codecs.encode(text, 'latin1').
      arity(2, 2);
      const auto& text = str_arg(args[0], "the text of _codecs.encode");
      const auto& encoding = str_arg(args[1], "the encoding of _codecs.encode");
      spend(text.size());
      if (encoding != "latin1" && encoding != "latin-1")
        fail("_codecs.encode with encoding '" + encoding + "'");
      push(py_bytes{latin1(text)});
    } else if (name == "__builtin__.bytes" || name == "builtins.bytes") {
      arity(0, 0);  // protocol 2 writes b'' as bytes()
      push(py_bytes{});
    } else {
      fail(name + " is not callable in a state dict");
    }
  }

  // UTF-8 code points below 256, one byte each.
  std::string latin1(const std::string& utf8) const {
    std::string out;
    for (std::size_t i = 0; i < utf8.size(); ++i) {
      const auto c = static_cast<unsigned char>(utf8[i]);
      if (c < 0x80) {
        out += static_cast<char>(c);
      } else if ((c & 0xe0) == 0xc0 && c <= 0xc3 && i + 1 < utf8.size() &&
                 (static_cast<unsigned char>(utf8[i + 1]) & 0xc0) == 0x80) {
        out +=
            static_cast<char>(((c & 0x03) << 6) | (static_cast<unsigned char>(utf8[++i]) & 0x3f));
      } else {
        fail("_codecs.encode of text that is not latin-1");
      }
    }
    return out;
  }

  // ---- one opcode; true at STOP ----------------------------------------------------------

  bool step(std::uint8_t code) {
    switch (code) {
      case 0x80: {  // PROTO
        const auto protocol = next_u8();
        if (protocol < 2 || protocol > 5)
          fail("pickle protocol " + std::to_string(protocol) + " (torch.save writes 2 to 5)");
        return false;
      }
      case 0x95:  // FRAME: a length hint only
        next_le<std::uint64_t>();
        return false;
      case '.':  // STOP
        doc_.root = pop();
        return true;
      case '(':  // MARK
        if (marks_.size() >= limits_.max_marks)
          fail("containers nested deeper than " + std::to_string(limits_.max_marks));
        marks_.push_back(stack_.size());
        return false;
      case '0':  // POP
        pop();
        return false;
      case '1':  // POP_MARK
        pop_mark();
        return false;

      case 'N':
        push(py_none{});
        return false;
      case 0x88:  // NEWTRUE
        push(py_bool{true});
        return false;
      case 0x89:  // NEWFALSE
        push(py_bool{false});
        return false;
      case 'J':  // BININT
        push(py_int{next_le<std::int32_t>()});
        return false;
      case 'K':  // BININT1
        push(py_int{next_u8()});
        return false;
      case 'M':  // BININT2
        push(py_int{next_le<std::uint16_t>()});
        return false;
      case 0x8a:  // LONG1
        push_long(next_bytes(next_u8()));
        return false;
      case 0x8b: {  // LONG4
        const auto n = next_le<std::int32_t>();
        if (n < 0) fail("LONG4 of negative length");
        push_long(next_bytes(static_cast<std::uint64_t>(n)));
        return false;
      }
      case 'G': {  // BINFLOAT, big-endian
        std::uint64_t bits = 0;
        need(8);
        for (int i = 0; i < 8; ++i) bits = (bits << 8) | static_cast<std::uint8_t>(data_[pos_++]);
        push(py_float{std::bit_cast<double>(bits)});
        return false;
      }
      case 'X':  // BINUNICODE
        push(py_str{next_bytes(next_le<std::uint32_t>())});
        return false;
      case 0x8c:  // SHORT_BINUNICODE
        push(py_str{next_bytes(next_u8())});
        return false;
      case 0x8d:  // BINUNICODE8
        push(py_str{next_bytes(next_le<std::uint64_t>())});
        return false;
      case 'T': {  // BINSTRING (Python 2 str)
        const auto n = next_le<std::int32_t>();
        if (n < 0) fail("BINSTRING of negative length");
        push(py_str{next_bytes(static_cast<std::uint64_t>(n))});
        return false;
      }
      case 'U':  // SHORT_BINSTRING
        push(py_str{next_bytes(next_u8())});
        return false;
      case 'B':  // BINBYTES
        push(py_bytes{next_bytes(next_le<std::uint32_t>())});
        return false;
      case 'C':  // SHORT_BINBYTES
        push(py_bytes{next_bytes(next_u8())});
        return false;
      case 0x8e:  // BINBYTES8
        push(py_bytes{next_bytes(next_le<std::uint64_t>())});
        return false;

      case ')':  // EMPTY_TUPLE
        push(py_tuple{});
        return false;
      case 't':  // TUPLE
      {
        auto items = pop_mark();
        spend(items.size());
        push(py_tuple{std::move(items)});
      }
        return false;
      case 0x85:    // TUPLE1
      case 0x86:    // TUPLE2
      case 0x87: {  // TUPLE3
        std::vector<object_id> items(code - 0x84u);
        spend(items.size());
        for (auto it = items.rbegin(); it != items.rend(); ++it) *it = pop();
        push(py_tuple{std::move(items)});
        return false;
      }
      case ']':  // EMPTY_LIST
        push(py_list{});
        return false;
      case 'a': {  // APPEND
        const auto value = pop();
        spend(1);
        top_as<py_list>("APPEND", "list").items.push_back(value);
        return false;
      }
      case 'e': {  // APPENDS
        auto values = pop_mark();
        spend(values.size());
        auto& items = top_as<py_list>("APPENDS", "list").items;
        items.insert(items.end(), values.begin(), values.end());
        return false;
      }
      case '}':  // EMPTY_DICT
        push(py_dict{});
        return false;
      case 's': {  // SETITEM
        const auto value = pop();
        const auto key = pop();
        spend(1);
        top_as<py_dict>("SETITEM", "dict").items.emplace_back(key, value);
        return false;
      }
      case 'u': {  // SETITEMS
        const auto values = pop_mark();
        if (values.size() % 2) fail("SETITEMS with an odd number of items");
        spend(values.size() / 2);
        auto& items = top_as<py_dict>("SETITEMS", "dict").items;
        for (std::size_t i = 0; i < values.size(); i += 2)
          items.emplace_back(values[i], values[i + 1]);
        return false;
      }

      case 'q':  // BINPUT
        memo_put(next_u8());
        return false;
      case 'r':  // LONG_BINPUT
        memo_put(next_le<std::uint32_t>());
        return false;
      case 0x94:  // MEMOIZE
        memo_put(memo_.size());
        return false;
      case 'h':  // BINGET
        memo_get(next_u8());
        return false;
      case 'j':  // LONG_BINGET
        memo_get(next_le<std::uint32_t>());
        return false;

      case 'c': {  // GLOBAL
        auto module = next_line();
        auto name = next_line();
        push_global(std::move(module), std::move(name));
        return false;
      }
      case 0x93: {  // STACK_GLOBAL
        const auto name = pop();
        const auto module = pop();
        push_global(str_arg(module, "a STACK_GLOBAL module"), str_arg(name, "a STACK_GLOBAL name"));
        return false;
      }
      case 'R': {  // REDUCE
        const auto args = pop();
        const auto callable = pop();
        reduce(callable, args);
        return false;
      }
      case 'b': {  // BUILD: set attributes, which we have no use for
        const auto state = pop();
        const auto target = top();
        const auto& obj = doc_.objects[target];
        if (!std::holds_alternative<py_dict>(obj) && !std::holds_alternative<torch_tensor>(obj))
          fail("BUILD on " + describe(doc_, target) + " (only OrderedDicts and tensors)");
        static_cast<void>(state);
        return false;
      }
      case 'Q':  // BINPERSID
        persistent_load(pop());
        return false;

      default: {
        static constexpr std::pair<std::uint8_t, const char*> names[] = {
            {'i', "INST"},        {'o', "OBJ"},          {0x81, "NEWOBJ"},
            {0x92, "NEWOBJ_EX"},  {0x82, "EXT1"},        {0x83, "EXT2"},
            {0x84, "EXT4"},       {'P', "PERSID"},       {0x8f, "EMPTY_SET"},
            {0x90, "ADDITEMS"},   {0x91, "FROZENSET"},   {'I', "INT"},
            {'L', "LONG"},        {'S', "STRING"},       {'V', "UNICODE"},
            {'F', "FLOAT"},       {'p', "PUT"},          {'g', "GET"},
            {'d', "DICT"},        {'l', "LIST"},         {'2', "DUP"},
            {0x96, "BYTEARRAY8"}, {0x97, "NEXT_BUFFER"}, {0x98, "READONLY_BUFFER"},
        };
        static constexpr char hex[] = "0123456789abcdef";
        std::string msg = "pickle opcode 0x";
        msg += hex[code >> 4];
        msg += hex[code & 15];
        for (const auto& [c, n] : names)
          if (c == code) msg += std::string(" (") + n + ")";
        fail(msg + " is not one torch.save writes for a state dict");
      }
    }
  }

  std::span<const std::byte> data_;
  const std::string& where_;
  std::size_t base_;
  limits limits_;
  std::size_t pos_ = 0;
  std::size_t op_ = 0;     // where the current opcode starts
  std::size_t spent_ = 0;  // against limits::max_items
  std::vector<object_id> stack_;
  std::vector<std::size_t> marks_;
  std::unordered_map<std::uint64_t, object_id> memo_;
  document doc_;
};

}  // namespace detail

/// Reads one pickle from the start of `data`, up to and including STOP.
/// `where` names the pickle in messages; `base` is added to its byte offsets
/// (the pickle's position in a larger file).
inline document unpickle(std::span<const std::byte> data, const std::string& where,
                         std::size_t base = 0, const limits& bounds = {}) {
  return detail::machine(data, where, base, bounds).run();
}

}  // namespace typenet::io::pickle
