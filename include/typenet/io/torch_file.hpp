// typenet/io/torch_file.hpp — read the state dicts that PyTorch's torch.save writes.
//
// `read_torch(path, options)` returns a `checkpoint` (io/checkpoint.hpp) from a
// file written by torch.save, in either of its formats:
//   - the zip container of torch >= 1.6: `<dir>/data.pkl` (the pickle) and one
//     `<dir>/data/<key>` record per storage, `<dir>` varying from file to file;
//     read with io/zip_archive.hpp (ZIP64 included; deflated records, as a zip
//     tool may re-pack them, are inflated with zlib);
//   - the legacy stream of torch < 1.6 and `_use_new_zipfile_serialization=False`
//     (several published torchvision checkpoints): a magic-number pickle, a
//     protocol-version pickle, a sys_info pickle, the main pickle, a pickle of
//     the storage keys, then per storage an int64 element count and its bytes.
// The pickle goes through the restricted unpickler of io/unpickler.hpp: nothing
// is executed, and any global beyond torch.save's few is an error naming it.
// `read_torch(storage, name, options)` reads from bytes already mapped (a
// weight loader that sniffs the format first), `read_torch_bytes(bytes, name,
// options)` from a copy of bytes in memory (the fuzzer's entry point).
//
// The file is memory-mapped; tensors of stored zip records and of legacy files
// point into the mapping, which the checkpoint keeps alive. A deflated zip
// record (re-packed by a zip tool) is not inflated while the file is read:
// its storage knows its declared size, and inflates on first access only as
// far as a reader asks (io::read_as: the record's last element), so a file
// whose storages would inflate to gigabytes costs nothing until a tensor is
// read, and then only that tensor's bytes. Such a record's CRC-32 is checked
// when it is inflated in full (a prefix cannot be checked). Tensors that share
// a storage (views such as x and x[1:] or x.t()) share one byte_storage, with
// their own offset and strides. Parameters are read as their tensors; 0-d
// tensors (num_batches_tracked) have shape [] and strides []. Keys are kept as
// they are ("module." prefixes included). Where the state dict lies in the
// pickled object is `torch_read_options::state_dict_key`'s business.
//
// Every failure is a typenet::format_error naming the file and the offending
// record, tensor or byte offset. Link: zlib (-lz).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "typenet/config.hpp"
#include "typenet/io/checkpoint.hpp"
#include "typenet/io/errors.hpp"
#include "typenet/io/pickle_limits.hpp"

namespace typenet::io {

struct torch_read_options {
  /// Where the state dict (a dict of str -> tensor, OrderedDict or not) lies:
  ///  - "" (default): the pickled object itself must be the state dict;
  ///  - a key, e.g. "state_dict" or "model": the pickled object is a dict and
  ///    that entry is the state dict; the other entries (epoch, optimizer, ...)
  ///    are parsed by the restricted unpickler but otherwise ignored;
  ///  - `automatic` ("*"): the pickled object if it is a state dict; else, if it
  ///    is a dict in which exactly one of the entries "state_dict" and "model"
  ///    is a state dict, that one; else an error listing the top-level keys.
  std::string state_dict_key;
  static constexpr const char* automatic = "*";

  /// Check the CRC-32 of every zip record read, as torch.load does (one pass
  /// over the data it reads anyway).
  bool verify_checksums = true;

  /// Bounds on the pickle (objects, container items, stack, memo, nesting).
  pickle::limits pickle_limits = {};

  /// The most bytes a deflated pickle record (`<dir>/data.pkl` re-packed by a
  /// zip tool) may inflate to; torch's own pickles are a few KB to a few MB.
  std::uint64_t max_pickle_bytes = std::uint64_t{64} << 20;
};

/// Reads the state dict of a torch.save file (zip or legacy), memory-mapped.
TYPENET_IO_DECL checkpoint read_torch(const std::string& path,
                                      const torch_read_options& options = {});

/// The same from bytes that are already mapped or loaded (records point into
/// them and keep them alive); `name` stands for the file in messages.
TYPENET_IO_DECL checkpoint read_torch(std::shared_ptr<const byte_storage> file,
                                      const std::string& name,
                                      const torch_read_options& options = {});

/// The same from bytes in memory, which are copied; `name` stands for the file in messages.
TYPENET_IO_DECL checkpoint read_torch_bytes(std::span<const std::byte> bytes,
                                            const std::string& name,
                                            const torch_read_options& options = {});

}  // namespace typenet::io

#if !defined(TYPENET_COMPILED_IO)
#include "typenet/io/impl/torch_file.ipp"
#endif
