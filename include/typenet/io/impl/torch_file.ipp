// typenet/io/impl/torch_file.ipp — the definitions of io/torch_file.hpp:
// included by that header in the header-only default, compiled once into
// typenet::io_compiled (src/io.cpp) under TYPENET_COMPILED_IO.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <iterator>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "typenet/io/mapped_file.hpp"
#include "typenet/io/torch_file.hpp"
#include "typenet/io/unpickler.hpp"
#include "typenet/io/zip_archive.hpp"

namespace typenet::io {

namespace detail {

/// A deflated zip record as a storage: its size is the record's declared one;
/// its bytes are inflated on first access, as far as prefix() asks. Each
/// longer request continues the stream into a larger buffer; earlier buffers
/// are kept, so spans handed out stay valid. Thread-safe.
class deflated_storage final : public byte_storage {
 public:
  deflated_storage(std::shared_ptr<const byte_storage> file, const zip_archive& zip,
                   const zip_entry& e, bool verify_crc)
      : file_(std::move(file)),
        source_(zip.source()),
        inflater_(zip.compressed(e), e, zip.source(), verify_crc) {}

  std::span<const std::byte> bytes() const override { return prefix(size()); }
  std::size_t size() const override { return static_cast<std::size_t>(inflater_.entry().size); }
  bool made_on_demand() const override { return true; }

  std::span<const std::byte> prefix(std::size_t n) const override {
    const std::lock_guard lock(mutex_);
    n = std::min(n, size());
    const std::size_t have = buffers_.empty() ? 0 : buffers_.back().size();
    if (n <= have) return buffers_.empty() ? std::span<const std::byte>{} : buffers_.back();
    if (!failure_.empty()) throw format_error(failure_);
    // Requests that creep up (views read one after another) grow the buffer
    // geometrically; a first request gets exactly what it asks.
    const std::size_t want = have == 0 ? n : std::max(n, std::min(size(), 2 * have));
    try {
      std::vector<std::byte> next(want);
      if (have) std::memcpy(next.data(), buffers_.back().data(), have);
      inflater_.inflate_to(next.data(), want);
      buffers_.push_back(std::move(next));
    } catch (const format_error& e) {
      failure_ = e.what();  // the stream is spent: every later read fails alike
      throw;
    } catch (const std::bad_alloc&) {
      throw format_error(source_ + ": out of memory inflating " + std::to_string(want) +
                         " bytes of deflated record '" + inflater_.entry().name + "'");
    }
    return buffers_.back();
  }

 private:
  std::shared_ptr<const byte_storage> file_;  // keeps the compressed bytes alive
  std::string source_;
  mutable std::mutex mutex_;
  mutable zip_inflater inflater_;
  mutable std::vector<std::vector<std::byte>> buffers_;
  mutable std::string failure_;
};

/// The part `bytes` of `whole`'s bytes, as a storage that keeps `whole` alive.
inline std::shared_ptr<const byte_storage> torch_slice(std::shared_ptr<const byte_storage> whole,
                                                       std::span<const std::byte> bytes) {
  const auto offset = static_cast<std::size_t>(bytes.data() - whole->bytes().data());
  return std::make_shared<storage_slice>(std::move(whole), offset, bytes.size());
}

inline std::string torch_quote(std::string_view s) {
  std::string out = "'";
  for (const char c : s.substr(0, 80))
    out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  return out + (s.size() > 80 ? "...'" : "'");
}

// ---- where the state dict is -------------------------------------------------------------

/// Whether `id` is a dict of str -> tensor; if not, `why` says what is not.
inline bool torch_is_state_dict(const pickle::document& doc, pickle::object_id id,
                                std::string& why) {
  const auto* dict = doc.get<pickle::py_dict>(id);
  if (!dict) {
    why = "it is not a dict (found " + pickle::describe(doc, id) + ")";
    return false;
  }
  for (const auto& [key, value] : dict->items) {
    const auto* name = doc.get<pickle::py_str>(key);
    if (!name) {
      why = "its key " + pickle::describe(doc, key) + " is not a str";
      return false;
    }
    if (!doc.get<pickle::torch_tensor>(value)) {
      why = "its entry " + torch_quote(name->text) + " is not a tensor (found " +
            pickle::describe(doc, value) + ")";
      return false;
    }
  }
  return true;
}

/// "'epoch', 'state_dict', ..." for messages.
inline std::string torch_top_keys(const pickle::document& doc, pickle::object_id id) {
  const auto* dict = doc.get<pickle::py_dict>(id);
  if (!dict) return "";
  std::string s;
  std::size_t n = 0;
  for (const auto& [key, value] : dict->items) {
    if (n++ == 12) return s + ", ...";
    const auto* name = doc.get<pickle::py_str>(key);
    s += (s.empty() ? "" : ", ") + (name ? torch_quote(name->text) : pickle::describe(doc, key));
  }
  return s;
}

/// The value of the top-level dict's entry `key` (the last one, as in Python).
inline const pickle::object_id* torch_entry(const pickle::document& doc, pickle::object_id dict_id,
                                            std::string_view key) {
  const auto* dict = doc.get<pickle::py_dict>(dict_id);
  if (!dict) return nullptr;
  const pickle::object_id* found = nullptr;
  for (const auto& [k, v] : dict->items)
    if (const auto* name = doc.get<pickle::py_str>(k); name && name->text == key) found = &v;
  return found;
}

/// The state dict's object id, chosen as torch_read_options::state_dict_key says.
inline pickle::object_id torch_select_state_dict(const pickle::document& doc,
                                                 const torch_read_options& options,
                                                 const std::string& where) {
  const auto root = doc.root;
  const bool root_is_dict = doc.get<pickle::py_dict>(root) != nullptr;
  const auto keys = root_is_dict ? " (its keys: " + torch_top_keys(doc, root) + ")" : "";
  std::string why;
  const auto& key = options.state_dict_key;
  if (key.empty()) {
    if (torch_is_state_dict(doc, root, why)) return root;
    throw format_error(where + ": the pickled object is not a state dict: " + why + keys +
                       (root_is_dict ? "; if the state dict is one of its entries, name it in "
                                       "torch_read_options::state_dict_key (or use "
                                       "torch_read_options::automatic)"
                                     : ""));
  }
  if (key == torch_read_options::automatic) {
    if (torch_is_state_dict(doc, root, why)) return root;
    const std::string top_why = why;
    std::vector<std::pair<std::string, pickle::object_id>> found;
    for (const char* candidate : {"state_dict", "model"}) {
      const auto* value = torch_entry(doc, root, candidate);
      if (value && torch_is_state_dict(doc, *value, why)) found.emplace_back(candidate, *value);
    }
    if (found.size() == 1) return found[0].second;
    if (found.size() == 2)
      throw format_error(where +
                         ": both entries 'state_dict' and 'model' are state dicts; "
                         "choose one with torch_read_options::state_dict_key");
    throw format_error(where + ": no state dict found: the pickled object is not one (" + top_why +
                       "), nor is an entry 'state_dict' or 'model' of it" + keys +
                       "; name the entry in torch_read_options::state_dict_key");
  }
  if (!root_is_dict)
    throw format_error(where + ": state_dict_key " + torch_quote(key) +
                       " asks for an entry of a dict, but the pickled object is " +
                       pickle::describe(doc, root));
  const auto* value = torch_entry(doc, root, key);
  if (!value) throw format_error(where + ": no entry " + torch_quote(key) + keys);
  if (!torch_is_state_dict(doc, *value, why))
    throw format_error(where + ": entry " + torch_quote(key) + " is not a state dict: " + why);
  return *value;
}

// ---- from pickled tensors to records -----------------------------------------------------

/// Gives the bytes of a root storage (exactly numel * element_size of them).
using torch_storage_resolver = std::function<std::shared_ptr<const byte_storage>(
    const pickle::torch_storage&, const std::string& tensor)>;

inline checkpoint torch_records(const pickle::document& doc, pickle::object_id state_dict,
                                const std::string& source, const torch_storage_resolver& resolve) {
  checkpoint out;
  out.source = source;
  const auto& items = doc.get<pickle::py_dict>(state_dict)->items;

  // Python's dict rule for a repeated key: the last value, at the first position.
  std::unordered_map<std::string_view, std::size_t> position;
  std::vector<std::pair<std::string_view, pickle::object_id>> entries;
  for (const auto& [key, value] : items) {
    const std::string_view name = doc.get<pickle::py_str>(key)->text;
    const auto [it, fresh] = position.emplace(name, entries.size());
    if (fresh)
      entries.emplace_back(name, value);
    else
      entries[it->second].second = value;
  }

  struct root_info {
    std::shared_ptr<const byte_storage> bytes;
    std::string type_name;
  };
  std::map<std::string, root_info> roots;  // by storage key
  std::map<std::pair<std::string, std::string>, std::shared_ptr<const byte_storage>> views;

  for (const auto& [name_view, tensor_id] : entries) {
    const std::string name(name_view);
    const auto& t = *doc.get<pickle::torch_tensor>(tensor_id);
    const auto& s = *doc.get<pickle::torch_storage>(t.storage);
    const auto where = source + ": tensor " + torch_quote(name);
    if (!s.type)
      throw format_error(where + " has storage type torch." + s.type_name +
                         ", whose elements typenet does not read");
    auto& root = roots[s.key];
    if (!root.bytes) {
      root.bytes = resolve(s, name);
      root.type_name = s.type_name;
    } else if (root.type_name != s.type_name) {
      throw format_error(where + " views storage " + torch_quote(s.key) + " as torch." +
                         s.type_name + ", another tensor as torch." + root.type_name);
    }
    if (root.bytes->size() != static_cast<std::uint64_t>(s.numel) * s.element_size)
      throw format_error(where + ": storage " + torch_quote(s.key) + " is said to hold " +
                         std::to_string(s.numel) + " elements by one tensor, " +
                         std::to_string(root.bytes->size() / s.element_size) + " by another");
    std::shared_ptr<const byte_storage> storage = root.bytes;
    if (!s.view_key.empty()) {  // a legacy storage view: part of the root
      auto& view = views[{s.key, s.view_key}];
      if (!view)
        view = std::make_shared<storage_slice>(
            root.bytes, static_cast<std::size_t>(s.view_offset) * s.element_size,
            static_cast<std::size_t>(s.view_numel) * s.element_size);
      storage = view;
    }
    // validate() bounds the last element, not the count, which stride-0 dims
    // could push past int64; numel() must stay meaningful.
    if (std::find(t.shape.begin(), t.shape.end(), 0) == t.shape.end()) {
      std::int64_t numel = 1;
      for (const auto d : t.shape) {
        if (numel > std::numeric_limits<std::int64_t>::max() / d)
          throw format_error(where + " has more than 2^63 elements");
        numel *= d;
      }
    }
    tensor_record r;
    r.type = *s.type;
    r.shape = t.shape;
    r.strides = t.strides;
    r.offset = t.storage_offset;
    r.storage = std::move(storage);
    r.validate(where);
    out.tensors.emplace_back(name, std::move(r));
  }
  return out;
}

// ---- the zip container -------------------------------------------------------------------

inline checkpoint read_torch_zip(std::shared_ptr<const byte_storage> file,
                                 const std::string& source, const torch_read_options& options) {
  const zip_archive zip(file->bytes(), source);

  // torch names the records <dir>/data.pkl, <dir>/data/<key>, <dir>/version.
  const zip_entry* pickle_entry = nullptr;
  bool torchscript = false;
  for (const auto& e : zip.entries()) {
    const auto slash = e.name.find('/');
    if (slash == std::string::npos) continue;
    const auto rest = std::string_view(e.name).substr(slash + 1);
    if (rest == "constants.pkl" || rest.starts_with("code/")) torchscript = true;
    if (rest != "data.pkl") continue;
    if (pickle_entry)
      throw format_error(source + ": two pickles, " + torch_quote(pickle_entry->name) + " and " +
                         torch_quote(e.name));
    pickle_entry = &e;
  }
  if (torchscript)
    throw format_error(source +
                       ": a TorchScript archive (torch.jit.save), not a torch.save file; "
                       "load it in PyTorch and torch.save its state_dict()");
  if (!pickle_entry) {
    std::string names;
    for (std::size_t i = 0; i < zip.entries().size() && i < 8; ++i)
      names += (i ? ", " : "") + torch_quote(zip.entries()[i].name);
    throw format_error(source +
                       ": a zip archive without a '<dir>/data.pkl' record, so not "
                       "written by torch.save (its records: " +
                       (names.empty() ? "none" : names) + ")");
  }
  const auto dir = pickle_entry->name.substr(0, pickle_entry->name.size() - 8);  // "<dir>/"

  if (const auto* e = zip.find(dir + "byteorder")) {
    if (e->size > 16)
      throw format_error(source + ": record " + torch_quote(e->name) + " holds " +
                         std::to_string(e->size) + " bytes, not a byte order ('little' or 'big')");
    const auto bytes = zip.extract(*e, options.verify_checksums);
    const std::string order(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    if (order != "little")
      throw format_error(source + ": record " + torch_quote(e->name) + " says byte order " +
                         torch_quote(order) + "; only little-endian files are read");
  }

  // The pickle: a view into the file when stored, as torch writes it.
  std::vector<std::byte> inflated;
  std::span<const std::byte> pickle_bytes;
  if (pickle_entry->method == 0) {
    pickle_bytes = zip.stored(*pickle_entry, options.verify_checksums);
  } else {
    // A size deflate cannot reach is the forgery extract() reports; a possible one is bounded.
    if (pickle_entry->size > options.max_pickle_bytes &&
        pickle_entry->size <= pickle_entry->compressed_size * zip_archive::max_inflate_ratio + 1024)
      throw format_error(source + ": deflated pickle " + torch_quote(pickle_entry->name) +
                         " inflates to " + std::to_string(pickle_entry->size) +
                         " bytes, more than the limit of " +
                         std::to_string(options.max_pickle_bytes) +
                         " (torch_read_options::max_pickle_bytes raises it)");
    inflated = zip.extract(*pickle_entry, options.verify_checksums);
    pickle_bytes = inflated;
  }
  const auto doc =
      pickle::unpickle(pickle_bytes, source + ": " + pickle_entry->name, 0, options.pickle_limits);
  const auto state_dict = torch_select_state_dict(doc, options, source);

  const auto resolve = [&](const pickle::torch_storage& s, const std::string& tensor) {
    const auto name = dir + "data/" + s.key;
    const auto* e = zip.find(name);
    if (!e)
      throw format_error(source + ": no record " + torch_quote(name) +
                         " for the storage of tensor " + torch_quote(tensor));
    const auto expected = static_cast<std::uint64_t>(s.numel) * s.element_size;
    if (e->size != expected)
      throw format_error(
          source + ": record " + torch_quote(name) + " holds " + std::to_string(e->size) +
          " bytes, but the storage of tensor " + torch_quote(tensor) + " is torch." + s.type_name +
          " of " + std::to_string(s.numel) + " elements (" + std::to_string(expected) + " bytes)");
    if (e->method == 0) return torch_slice(file, zip.stored(*e, options.verify_checksums));
    if (e->method != 8)
      throw format_error(source + ": record " + torch_quote(name) + " uses compression method " +
                         std::to_string(e->method) +
                         "; only stored (0) and deflated (8) records can be read");
    // Inflated when a tensor is read, and only as far as it reaches.
    return std::shared_ptr<const byte_storage>(
        std::make_shared<deflated_storage>(file, zip, *e, options.verify_checksums));
  };
  return torch_records(doc, state_dict, source, resolve);
}

// ---- the legacy stream -------------------------------------------------------------------

inline checkpoint read_torch_legacy(std::shared_ptr<const byte_storage> file,
                                    const std::string& source, const torch_read_options& options) {
  const auto bytes = file->bytes();
  std::size_t pos = 0;
  const auto next_pickle = [&](const char* what) {
    auto doc =
        pickle::unpickle(bytes.subspan(pos), source + ": " + what, pos, options.pickle_limits);
    pos += doc.end;
    return doc;
  };

  // torch.serialization.MAGIC_NUMBER, 0x1950a86a20f9469cfc6c, as LONG1 writes it.
  static constexpr std::uint8_t magic[] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9,
                                           0x20, 0x6a, 0xa8, 0x50, 0x19};
  {
    const auto doc = next_pickle("magic number");
    const auto* number = doc.get<pickle::py_long>(doc.root);
    if (!number ||
        !std::equal(number->bytes.begin(), number->bytes.end(), std::begin(magic), std::end(magic)))
      throw format_error(source + ": a pickle, but not a torch.save file: it starts with " +
                         pickle::describe(doc, doc.root) + ", not torch's magic number");
  }
  {
    const auto doc = next_pickle("protocol version");
    const auto* version = doc.get<pickle::py_int>(doc.root);
    if (!version || version->value != 1001)
      throw format_error(source + ": legacy protocol version " + pickle::describe(doc, doc.root) +
                         ", not 1001");
  }
  {
    const auto doc = next_pickle("sys_info");
    if (const auto* little = torch_entry(doc, doc.root, "little_endian")) {
      const auto* flag = doc.get<pickle::py_bool>(*little);
      if (!flag || !flag->value)
        throw format_error(source +
                           ": written on a big-endian machine; only little-endian "
                           "files are read");
    }
  }
  const auto doc = next_pickle("main pickle");
  const auto keys_doc = next_pickle("storage keys");

  // Every storage the pickle names, by root key: its element size and count.
  std::map<std::string, const pickle::torch_storage*> declared;
  for (const auto& object : doc.objects) {
    const auto* s = std::get_if<pickle::torch_storage>(&object);
    if (!s) continue;
    const auto [it, fresh] = declared.emplace(s->key, s);
    if (!fresh && (it->second->numel != s->numel || it->second->type_name != s->type_name))
      throw format_error(source + ": storage " + torch_quote(s->key) + " is declared as torch." +
                         it->second->type_name + " of " + std::to_string(it->second->numel) +
                         " elements and as torch." + s->type_name + " of " +
                         std::to_string(s->numel));
  }

  // The storages follow in the order of the key list: int64 count, then data.
  const auto* keys = keys_doc.get<pickle::py_list>(keys_doc.root);
  if (!keys)
    throw format_error(source + ": the storage key list is a " +
                       pickle::describe(keys_doc, keys_doc.root) + ", not a list");
  std::map<std::string, std::span<const std::byte>> data;
  for (const auto id : keys->items) {
    const auto* key = keys_doc.get<pickle::py_str>(id);
    if (!key)
      throw format_error(source + ": storage key " + pickle::describe(keys_doc, id) +
                         " is not a str");
    const auto it = declared.find(key->text);
    if (it == declared.end())
      throw format_error(source + ": storage " + torch_quote(key->text) +
                         " is in the key list but no tensor uses it");
    if (data.count(key->text))
      throw format_error(source + ": storage " + torch_quote(key->text) + " is listed twice");
    const auto& s = *it->second;
    if (bytes.size() - pos < 8)
      throw format_error(source + ": truncated: the element count of storage " +
                         torch_quote(key->text) + " at byte " + std::to_string(pos) +
                         " lies beyond the end of the file (" + std::to_string(bytes.size()) +
                         " bytes)");
    std::uint64_t count = 0;
    for (int i = 0; i < 8; ++i)
      count |= std::uint64_t{static_cast<std::uint8_t>(bytes[pos + i])} << (8 * i);
    pos += 8;
    if (count != static_cast<std::uint64_t>(s.numel))
      throw format_error(source + ": storage " + torch_quote(key->text) + " at byte " +
                         std::to_string(pos - 8) + " holds " + std::to_string(count) +
                         " elements, but its tensors say " + std::to_string(s.numel));
    const auto size = count * s.element_size;  // no overflow: numel was checked
    if (size > bytes.size() - pos)
      throw format_error(source + ": truncated: storage " + torch_quote(key->text) + " needs " +
                         std::to_string(size) + " bytes at byte " + std::to_string(pos) +
                         ", the file has " + std::to_string(bytes.size() - pos) + " left");
    data.emplace(key->text, bytes.subspan(pos, static_cast<std::size_t>(size)));
    pos += static_cast<std::size_t>(size);
  }

  const auto state_dict = torch_select_state_dict(doc, options, source);
  const auto resolve = [&](const pickle::torch_storage& s, const std::string& tensor) {
    const auto it = data.find(s.key);
    if (it == data.end())
      throw format_error(source + ": storage " + torch_quote(s.key) + " of tensor " +
                         torch_quote(tensor) + " is missing from the file's storage list");
    return torch_slice(file, it->second);
  };
  return torch_records(doc, state_dict, source, resolve);
}

inline checkpoint read_torch_format(std::shared_ptr<const byte_storage> file,
                                    const std::string& source, const torch_read_options& options) {
  const auto bytes = file->bytes();
  const auto at = [&](std::size_t i) { return static_cast<std::uint8_t>(bytes[i]); };
  if (bytes.empty()) throw format_error(source + ": empty file");
  if (bytes.size() >= 4 && at(0) == 'P' && at(1) == 'K' &&
      ((at(2) == 3 && at(3) == 4) || (at(2) == 5 && at(3) == 6)))
    return read_torch_zip(std::move(file), source, options);
  if (at(0) == 0x80) return read_torch_legacy(std::move(file), source, options);
  if (bytes.size() >= 262 &&
      std::string_view(reinterpret_cast<const char*>(&bytes[257]), 5) == "ustar")
    throw format_error(source +
                       ": the tar-based format of the first torch releases, which is "
                       "not read; load it in PyTorch and save it again");
  std::string head;
  static constexpr char hex[] = "0123456789abcdef";
  for (std::size_t i = 0; i < bytes.size() && i < 4; ++i)
    head += std::string(i ? " " : "") + hex[at(i) >> 4] + hex[at(i) & 15];
  throw format_error(source + ": not a PyTorch file: it starts with bytes " + head +
                     ", where torch.save writes 'PK' (zip) or 0x80 (a pickle)");
}

/// read_torch_format, with running out of memory (which the limits should
/// prevent) reported as a format_error naming the file.
inline checkpoint read_torch_storage(std::shared_ptr<const byte_storage> file,
                                     const std::string& source, const torch_read_options& options) {
  try {
    return read_torch_format(std::move(file), source, options);
  } catch (const std::bad_alloc&) {
    throw format_error(source +
                       ": out of memory while reading it (a hostile file? see "
                       "torch_read_options::pickle_limits and max_pickle_bytes)");
  }
}

}  // namespace detail

TYPENET_IO_DECL checkpoint read_torch(const std::string& path, const torch_read_options& options) {
  return detail::read_torch_storage(std::make_shared<mapped_file>(path), path, options);
}

TYPENET_IO_DECL checkpoint read_torch(std::shared_ptr<const byte_storage> file,
                                      const std::string& name, const torch_read_options& options) {
  return detail::read_torch_storage(std::move(file), name, options);
}

TYPENET_IO_DECL checkpoint read_torch_bytes(std::span<const std::byte> bytes,
                                            const std::string& name,
                                            const torch_read_options& options) {
  auto buffer = std::make_shared<buffer_storage>();
  buffer->data.assign(bytes.begin(), bytes.end());
  return detail::read_torch_storage(std::move(buffer), name, options);
}

}  // namespace typenet::io
