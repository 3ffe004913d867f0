// typenet/io/impl/safetensors.ipp — the definitions of io/safetensors.hpp:
// included by that header in the header-only default, compiled once into
// typenet::io_compiled (src/io.cpp) under TYPENET_COMPILED_IO.
#pragma once

#include <algorithm>
#include <nlohmann/json.hpp>

#include "typenet/io/durable_file.hpp"
#include "typenet/io/mapped_file.hpp"
#include "typenet/io/safetensors.hpp"

namespace typenet::io {

namespace detail {

/// A SAX pass that builds nothing and stops at the first value nested
/// deeper than `max_depth` (nlohmann's SAX parser keeps its own state on
/// the heap, so this pass cannot overflow the stack).
struct json_depth_check : nlohmann::json_sax<nlohmann::ordered_json> {
  int max_depth;
  int depth = 0;
  bool too_deep = false;
  std::string error;

  explicit json_depth_check(int limit) : max_depth(limit) {}
  bool enter() {
    too_deep = ++depth > max_depth;
    return !too_deep;
  }
  bool leave() {
    --depth;
    return true;
  }
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return enter(); }
  bool key(string_t&) override { return true; }
  bool end_object() override { return leave(); }
  bool start_array(std::size_t) override { return enter(); }
  bool end_array() override { return leave(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    error = e.what();
    return false;
  }
};

inline bool parse_element_type(const std::string& name, dtype& out) {
  static const std::pair<const char*, dtype> known[] = {
      {"F16", dtype::f16}, {"BF16", dtype::bf16},   {"F32", dtype::f32}, {"F64", dtype::f64},
      {"I64", dtype::i64}, {"I32", dtype::i32},     {"I16", dtype::i16}, {"I8", dtype::i8},
      {"U8", dtype::u8},   {"BOOL", dtype::boolean}};
  for (const auto& [text, type] : known)
    if (name == text) {
      out = type;
      return true;
    }
  return false;
}
}  // namespace detail

TYPENET_IO_DECL checkpoint read_safetensors(std::shared_ptr<const byte_storage> storage,
                                            const std::string& source,
                                            const safetensors_limits& limits) {
  const auto bytes = storage->bytes();
  if (bytes.size() < 8)
    throw format_error(source + ": too short for a safetensors file (" +
                       std::to_string(bytes.size()) + " bytes, need at least 8)");
  std::uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i)
    header_size =
        (header_size << 8) | static_cast<std::uint8_t>(bytes[static_cast<std::size_t>(i)]);
  if (header_size > limits.max_header_bytes)
    throw format_error(source + ": header length " + std::to_string(header_size) +
                       " bytes exceeds the limit of " + std::to_string(limits.max_header_bytes) +
                       " (safetensors_limits::max_header_bytes raises it)");
  if (header_size > bytes.size() - 8)
    throw format_error(source + ": header length " + std::to_string(header_size) +
                       " runs past the end of the file (" + std::to_string(bytes.size()) +
                       " bytes)");
  const char* header_begin = reinterpret_cast<const char*>(bytes.data() + 8);
  {
    detail::json_depth_check check(limits.max_depth);
    const bool parsed =
        nlohmann::ordered_json::sax_parse(header_begin, header_begin + header_size, &check);
    if (check.too_deep)
      throw format_error(source + ": the JSON header nests deeper than the limit of " +
                         std::to_string(limits.max_depth) +
                         " levels (safetensors_limits::max_depth raises it)");
    if (!parsed) throw format_error(source + ": the header is not valid JSON: " + check.error);
  }
  nlohmann::ordered_json header;
  try {
    header = nlohmann::ordered_json::parse(header_begin, header_begin + header_size);
  } catch (const nlohmann::ordered_json::exception& e) {
    throw format_error(source + ": the header is not valid JSON: " + e.what());
  }
  if (!header.is_object()) throw format_error(source + ": the header is not a JSON object");

  const std::size_t data_begin = 8 + static_cast<std::size_t>(header_size);
  const std::size_t data_size = bytes.size() - data_begin;
  auto data = std::make_shared<storage_slice>(storage, data_begin, data_size);

  checkpoint result;
  result.source = source;
  struct span_of {
    std::uint64_t begin, end;
    std::string name;
  };
  std::vector<span_of> spans;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const auto& entry = it.value();
    if (name == "__metadata__") {
      if (!entry.is_object()) throw format_error(source + ": __metadata__ is not an object");
      for (auto m = entry.begin(); m != entry.end(); ++m) {
        if (!m.value().is_string())
          throw format_error(source + ": __metadata__ value of '" + m.key() + "' is not a string");
        result.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    const std::string where = source + ": tensor '" + name + "'";
    if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") ||
        !entry.contains("data_offsets"))
      throw format_error(where + " needs dtype, shape and data_offsets");
    const auto& dtype = entry["dtype"];
    const auto& shape = entry["shape"];
    const auto& offsets = entry["data_offsets"];
    tensor_record record;
    if (!dtype.is_string() || !detail::parse_element_type(dtype.get<std::string>(), record.type))
      throw format_error(where + " has an unknown dtype " + dtype.dump());
    if (!shape.is_array()) throw format_error(where + ": shape is not an array");
    std::uint64_t count = 1;
    for (const auto& d : shape) {
      if (!d.is_number_unsigned())
        throw format_error(where + ": shape " + shape.dump() +
                           " has a non-integer or negative size");
      const auto size = d.get<std::uint64_t>();
      if (size != 0 && count > (std::uint64_t{1} << 62) / size)
        throw format_error(where + ": shape " + shape.dump() + " is too large");
      count *= size;
      record.shape.push_back(static_cast<std::int64_t>(size));
    }
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
        !offsets[1].is_number_unsigned())
      throw format_error(where + ": data_offsets must be two non-negative integers");
    const auto begin = offsets[0].get<std::uint64_t>(), end = offsets[1].get<std::uint64_t>();
    if (begin > end || end > data_size)
      throw format_error(where + ": data_offsets [" + std::to_string(begin) + ", " +
                         std::to_string(end) + "] lie outside the " + std::to_string(data_size) +
                         " data bytes");
    if (end - begin != count * dtype_size(record.type))
      throw format_error(where + ": data_offsets span " + std::to_string(end - begin) +
                         " bytes but " + dtype_name(record.type) + " " + shape.dump() + " needs " +
                         std::to_string(count * dtype_size(record.type)));
    if (begin % dtype_size(record.type) != 0)
      throw format_error(where + ": data offset " + std::to_string(begin) +
                         " is not a multiple of the element size");
    record.strides = tensor_record::contiguous_strides(record.shape);
    record.offset = static_cast<std::int64_t>(begin / dtype_size(record.type));
    record.storage = data;
    spans.push_back({begin, end, name});
    result.tensors.emplace_back(name, std::move(record));
  }
  std::sort(spans.begin(), spans.end(),
            [](const span_of& a, const span_of& b) { return a.begin < b.begin; });
  std::uint64_t expected = 0;
  for (const auto& s : spans) {
    if (s.begin < expected)
      throw format_error(source + ": tensor '" + s.name + "' overlaps the previous tensor");
    if (s.begin > expected)
      throw format_error(source + ": a gap of " + std::to_string(s.begin - expected) +
                         " bytes before tensor '" + s.name + "'");
    expected = s.end;
  }
  if (expected != data_size)
    throw format_error(source + ": " + std::to_string(data_size - expected) +
                       " data bytes after the last tensor are not described by the header");
  // Records must stay inside their storage (checked above); validate() makes it explicit.
  for (const auto& [name, record] : result.tensors)
    record.validate(source + ": tensor '" + name + "'");
  return result;
}

TYPENET_IO_DECL checkpoint read_safetensors(const std::string& path,
                                            const safetensors_limits& limits) {
  return read_safetensors(std::make_shared<mapped_file>(path), path, limits);
}

TYPENET_IO_DECL void write_safetensors(const std::string& path,
                                       const std::vector<tensor_to_write>& tensors,
                                       const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    nlohmann::ordered_json meta = nlohmann::ordered_json::object();
    for (const auto& [k, v] : metadata) meta[k] = v;
    header["__metadata__"] = meta;
  }
  std::uint64_t offset = 0;
  for (const auto& t : tensors) {
    std::uint64_t count = 1;
    for (auto d : t.shape) count *= static_cast<std::uint64_t>(d);
    if (count * dtype_size(t.type) != t.bytes.size())
      throw usage_error("write_safetensors: tensor '" + t.name + "' has " +
                        std::to_string(t.bytes.size()) + " bytes, its shape needs " +
                        std::to_string(count * dtype_size(t.type)));
    header[t.name] = {{"dtype", dtype_name(t.type)},
                      {"shape", t.shape},
                      {"data_offsets", {offset, offset + t.bytes.size()}}};
    offset += t.bytes.size();
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  std::byte size_bytes[8];
  std::uint64_t n = text.size();
  for (auto& b : size_bytes) {
    b = static_cast<std::byte>(n & 0xff);
    n >>= 8;
  }
  std::vector<std::span<const std::byte>> parts{size_bytes, std::as_bytes(std::span(text))};
  for (const auto& t : tensors) parts.push_back(t.bytes);
  write_file_durably(path, parts);
}

}  // namespace typenet::io
