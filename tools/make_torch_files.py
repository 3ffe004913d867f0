#!/usr/bin/python3
"""torch.save files, good and bad, for typenet's PyTorch reader (tests/io/test_io_torch.cpp).

Usage: make_torch_files.py --out DIR

Writes into DIR/torch (created if needed; a folder of its own, for these are a
hundred files next to other fixture generators' ones), from fixed seeds:

  <case>.zip.pth       torch.save(obj, f)                        (torch >= 1.6 zip container)
  <case>.legacy.pth    torch.save(obj, f, _use_new_zipfile_serialization=False)
  <case>.p4.*.pth      the same with pickle_protocol=4 (FRAME, MEMOIZE, STACK_GLOBAL, ...)
  dtypes.zip64.pth     the dtypes archive rewritten with ZIP64 records and a zip comment
  dtypes.deflate.pth   the dtypes archive rewritten with deflated records
  py2.legacy.pth       a legacy file in Python 2's pickle dialect (SHORT_BINSTRING keys,
                       OrderedDict([[k, v], ...]), _rebuild_tensor, a storage view,
                       a torch.cuda storage), crafted opcode by opcode
  bad_*                malformed or malicious files, each crafted to fail one check
  expected.txt         what the C++ test compares against

and into DIR/torch_limits the hostile files of the memory-limit tests (each a
few hundred KB to 3 MB, inflating to gigabytes; they load into small models in
tests/io/test_io_torch.cpp, which knows their contents):

  bomb_unmatched.pth   ten deflated float32 storages of 256 MiB (zeros), keys
                       'bomb.0' ... 'bomb.9' matching no model
  bomb_prefix.pth      the same plus '0.weight' [4, 3] and '0.bias' [4]: views of
                       the first 16 elements (1, 2, ..., 16) of storage 'bomb.0'
  bomb_tail.pth        '0.weight' and '0.bias' viewing the last 16 elements of a
                       256 MiB deflated storage (the same 1 ... 16 there)
  stride0_huge.pth     '0.weight' [4, 1000000000, 3, 3] with input-channel stride 0
                       over 36 stored floats (1 ... 36), '0.bias' [4] (0.5, ...)
  stride0_rgb.pth      the same with 3 input channels: a legitimate stride-0 view

expected.txt, one record per line, fields separated by single spaces except
where a tab is shown:

  file <name> <key>                 a good file, read with state_dict_key <key>
                                    ('-' for "", '*' for automatic); the tensor
                                    lines that follow are its state dict, in order
  tensor <key> <dtype> <rank> <shape...> <strides...> <offset> <numel> <values...>
                                    dtype as typenet names it (F32, F64, F16, BF16,
                                    I64, I32, I16, I8, U8, BOOL); values in row-major
                                    order, floats as Python's repr of the exact
                                    double value, integers in decimal
  shares <name> <key1> <key2>       the two tensors of that file share one storage
  error <name> <key>\t<substring>   reading the good file <name> with <key> fails,
                                    the message containing <substring>
  bad <name> <key>\t<substring>     reading the bad file fails, likewise

Nothing crafted here is ever unpickled by Python: the malicious pickles are
written as bytes.
"""

import argparse
import io
import os
import pickle
import pickletools
import struct
import sys
import zipfile
import zlib
from collections import OrderedDict

import torch
import torch.nn as nn

DTYPE_NAMES = {
    torch.float32: "F32", torch.float64: "F64", torch.float16: "F16", torch.bfloat16: "BF16",
    torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
    torch.uint8: "U8", torch.bool: "BOOL",
}
MAGIC_NUMBER = 0x1950a86a20f9469cfc6c


# ---- good files ---------------------------------------------------------------------------

def dtypes_case():
    g = torch.Generator().manual_seed(1)
    return OrderedDict([
        ("f32", torch.randn(3, 4, generator=g)),
        ("f64", torch.randn(2, 3, dtype=torch.float64, generator=g)),
        ("f16", torch.randn(5, generator=g).half()),
        ("bf16", torch.randn(4, generator=g).bfloat16()),
        ("i64", torch.tensor([0, -1, 2**62 + 1, -(2**63), 2**63 - 1], dtype=torch.int64)),
        ("i32", torch.tensor([1, -2, 2**31 - 1], dtype=torch.int32)),
        ("i16", torch.tensor([-300, 300], dtype=torch.int16)),
        ("i8", torch.tensor([-128, 127], dtype=torch.int8)),
        ("u8", torch.tensor([0, 255, 7], dtype=torch.uint8)),
        ("bool", torch.tensor([True, False, True])),
        ("scalar_i64", torch.tensor(7)),
        ("scalar_f32", torch.tensor(-1.5)),
        ("empty", torch.zeros(0, 3)),
        ("big", torch.randn(16, 33, generator=g)),
    ])


def views_case():
    g = torch.Generator().manual_seed(2)
    x = torch.arange(20, dtype=torch.float32).reshape(4, 5) * 0.5
    return OrderedDict([
        ("x", x),
        ("x_tail", x[1:]),            # same storage, offset 5
        ("x_t", x.t()),               # same storage, strides (1, 5)
        ("x_col", x[:, 2]),           # offset 2, stride 5
        ("x_step", x[::2, 1::2]),     # offset 1, strides (10, 2)
        ("w_t", torch.randn(3, 4, generator=g).t()),  # non-contiguous on its own
        ("expanded", torch.randn(3, 1, generator=g).expand(3, 4)),  # stride 0
    ])


VIEW_SHARES = [("x", "x_tail"), ("x", "x_t"), ("x", "x_col"), ("x", "x_step")]


def small_net():
    torch.manual_seed(3)
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(),
                        nn.Linear(4 * 4 * 4, 2))
    net.train()
    net(torch.randn(2, 3, 6, 6))  # running statistics and num_batches_tracked move
    return net


def batchnorm_case():
    return small_net().state_dict()


def wrapped_case():
    net = small_net()
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    net(torch.randn(2, 3, 6, 6)).sum().backward()
    opt.step()  # momentum buffers: tensors in the optimizer's state, to be skipped
    return {
        "epoch": 3,
        "state_dict": net.state_dict(),
        "optimizer": opt.state_dict(),
        "best_acc": 0.75,
        "arch": "small",
        "note": b"raw\xffbytes",
        "empty_bytes": b"",
        "history": [1, 2.5, None, True, (1, "a"), -5, 100000, 2**40, 2**70, -(2**70)],
    }


def model_key_case():
    return {"model": small_net().state_dict(), "epoch": 3, "extra": {"a": [1, 2]}}


def dataparallel_case():
    return nn.DataParallel(small_net()).state_dict()


def parameters_case():
    torch.manual_seed(4)
    return OrderedDict([("weight", nn.Parameter(torch.randn(2, 3))), ("plain", torch.ones(2))])


def many_case():
    # Over 1000 entries (SETITEMS batches) and 256 memo slots (LONG_BINPUT/LONG_BINGET).
    return OrderedDict((f"layer{i}.w", torch.tensor([i * 0.25])) for i in range(1100))


# name, object, state_dict_key, [(key that must fail, substring)], also as protocol 4
GOOD = [
    ("dtypes", dtypes_case, "-", [], True),
    ("views", views_case, "-", [], False),
    ("batchnorm", batchnorm_case, "-", [], False),
    ("wrapped", wrapped_case, "state_dict",
     [("-", "the pickled object is not a state dict"), ("weights", "no entry 'weights'"),
      ("optimizer", "entry 'optimizer' is not a state dict")], True),
    ("model_key", model_key_case, "*", [("-", "not a state dict")], False),
    ("dataparallel", dataparallel_case, "-", [], False),
    ("parameters", parameters_case, "-", [], False),
    ("many", many_case, "-", [], False),
]


def describe_tensors(obj, key):
    if key in ("-", "*"):
        sd = obj
        if key == "*" and not all(isinstance(v, torch.Tensor) for v in obj.values()):
            sd = obj.get("state_dict", obj.get("model"))
    else:
        sd = obj[key]
    lines = []
    for name, t in sd.items():
        t = t.detach()
        dims = list(t.shape)
        values = t.reshape(-1).tolist()
        if t.dtype in (torch.float32, torch.float64, torch.float16, torch.bfloat16):
            text = [repr(float(v)) for v in t.double().reshape(-1).tolist()]
        else:
            text = [str(int(v)) for v in values]
        fields = (["tensor", name, DTYPE_NAMES[t.dtype], str(len(dims))] + [str(d) for d in dims]
                  + [str(s) for s in t.stride()] + [str(t.storage_offset()), str(t.numel())]
                  + text)
        lines.append(" ".join(fields))
    return lines


# ---- a zip writer for what torch does not write (ZIP64, deflate, comments, damage) --------

def write_zip(records, zip64=False, deflate=False, comment=b""):
    """records: [(name, bytes)] -> bytes. Stored records are 64-byte aligned as torch's."""
    out = bytearray()
    central = bytearray()
    for name, data in records:
        name_b = name.encode()
        crc = zlib.crc32(data)
        if deflate:
            c = zlib.compressobj(9, zlib.DEFLATED, -15)
            body = c.compress(data) + c.flush()
            method = 8
        else:
            body, method = data, 0
        offset = len(out)
        extra = b""
        if zip64:
            extra += struct.pack("<HHQQ", 1, 16, len(data), len(body))
        if not deflate:  # pad so that the data starts on a 64-byte boundary ('FB', as torch)
            start = offset + 30 + len(name_b) + len(extra) + 4
            pad = (-start) % 64
            extra += struct.pack("<HH", 0x4246, pad) + b"Z" * pad
        size32 = 0xFFFFFFFF if zip64 else len(data)
        csize32 = 0xFFFFFFFF if zip64 else len(body)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, method, 0, 0x21, crc, csize32,
                           size32, len(name_b), len(extra))
        out += name_b + extra + body
        cextra = struct.pack("<HHQQQ", 1, 24, len(data), len(body), offset) if zip64 else b""
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, method, 0, 0x21, crc,
                               csize32, size32, len(name_b), len(cextra), 0, 0, 0, 0,
                               0xFFFFFFFF if zip64 else offset)
        central += name_b + cextra
    cd_offset = len(out)
    out += central
    count = len(records)
    if zip64:
        end64 = len(out)
        out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, count, count,
                           len(central), cd_offset)
        out += struct.pack("<IIQI", 0x07064B50, 0, end64, 1)
        out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF,
                           0xFFFFFFFF, len(comment))
    else:
        out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(central), cd_offset,
                           len(comment))
    return bytes(out + comment)


def zip_records(data):
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return [(i.filename, z.read(i.filename)) for i in z.infolist()]


def central_entries(data):
    """{name: offset of its central directory entry} of an archive without ZIP64."""
    eocd = len(data) - 22
    assert struct.unpack_from("<I", data, eocd)[0] == 0x06054B50
    count, cd_size, cd_offset = struct.unpack_from("<HII", data, eocd + 10)
    entries, p = {}, cd_offset
    for _ in range(count):
        n, m, k = struct.unpack_from("<HHH", data, p + 28)
        entries[data[p + 46:p + 46 + n].decode()] = p
        p += 46 + n + m + k
    return entries


def pickle_ends(data, count):
    """Where each of the first `count` pickles of a legacy stream ends (read, never run)."""
    f, ends = io.BytesIO(data), []
    for _ in range(count):
        for _op, _arg, _pos in pickletools.genops(f):
            pass
        ends.append(f.tell())
    return ends


def patch(data, offset, fmt, *values):
    b = bytearray(data)
    struct.pack_into(fmt, b, offset, *values)
    return bytes(b)


# ---- pickles written by hand --------------------------------------------------------------

def op_str(s):  # SHORT_BINSTRING, as Python 2 writes str
    b = s.encode() if isinstance(s, str) else s
    return b"U" + bytes([len(b)]) + b


def op_unicode(s):
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def op_int(n):
    if 0 <= n < 256:
        return b"K" + bytes([n])
    if -(2**31) <= n < 2**31:
        return b"J" + struct.pack("<i", n)
    raw = n.to_bytes((n.bit_length() + 8) // 8, "little", signed=True)
    return b"\x8a" + bytes([len(raw)]) + raw


def op_global(module, name):
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def op_tuple(*items):
    return b"(" + b"".join(items) + b"t"


def op_pid(storage_type, key, numel, location="cpu", module="torch", view=None, legacy=True):
    items = [op_str("storage"), op_global(module, storage_type), op_str(key), op_str(location),
             op_int(numel)]
    if legacy:
        items.append(b"N" if view is None else op_tuple(op_str(view[0]), op_int(view[1]),
                                                        op_int(view[2])))
    return op_tuple(*items) + b"Q"


def op_tensor(pid, offset, shape, strides, v2=False):
    if v2:
        return (op_global("torch._utils", "_rebuild_tensor_v2")
                + op_tuple(pid, op_int(offset), op_tuple(*map(op_int, shape)),
                           op_tuple(*map(op_int, strides)), b"\x89",
                           op_global("collections", "OrderedDict") + b")R")
                + b"R")
    return (op_global("torch._utils", "_rebuild_tensor")
            + op_tuple(pid, op_int(offset), op_tuple(*map(op_int, shape)),
                       op_tuple(*map(op_int, strides)))
            + b"R")


def py2_state_dict(pairs):
    """OrderedDict([[key, value], ...]) as Python 2.7's OrderedDict.__reduce__ pickles it."""
    body = b"".join(b"](" + op_str(k) + v + b"e" for k, v in pairs)
    return b"\x80\x02" + op_global("collections", "OrderedDict") + b"](" + body + b"e\x85R."


def legacy_file(main_pickle, storages, sys_info=None, magic=MAGIC_NUMBER):
    """The legacy stream around a hand-made main pickle; storages: [(key, numel, bytes)]."""
    info = sys_info or {"protocol_version": 1001, "little_endian": True,
                        "type_sizes": {"short": 2, "int": 4, "long": 4}}
    out = pickle.dumps(magic, protocol=2) + pickle.dumps(1001, protocol=2)
    out += pickle.dumps(info, protocol=2) + main_pickle
    out += b"\x80\x02](" + b"".join(op_str(k) for k, _, _ in storages) + b"e."
    for _, numel, data in storages:
        out += struct.pack("<q", numel) + data
    return out


def torch_zip(pickle_bytes, storages):
    """A torch-like zip archive around a hand-made pickle; storages: [(key, bytes)]."""
    return write_zip([("archive/data.pkl", pickle_bytes)]
                     + [(f"archive/data/{k}", d) for k, d in storages]
                     + [("archive/version", b"3\n")])


def f32(*values):
    return struct.pack(f"<{len(values)}f", *values)


def py2_case():
    """A legacy file as Python 2 and early torch wrote it, with what that dialect allows."""
    w = list(range(8))  # storage '10': 8 floats 0..7
    pairs = [
        ("w", op_tensor(op_pid("FloatStorage", "10", 8), 0, (2, 3), (3, 1))),
        # a storage view: elements 2..6 of '10', then the tensor is its elements 1..2
        ("v", op_tensor(op_pid("FloatStorage", "10", 8, view=("11", 2, 4)), 1, (2,), (1,))),
        ("b", op_tensor(op_pid("LongStorage", "20", 1, location="cuda:0", module="torch.cuda"),
                        0, (), ())),
        ("h", op_tensor(op_pid("DoubleStorage", "30", 2), 0, (2,), (1,), v2=True)),
    ]
    data = legacy_file(py2_state_dict(pairs), [
        ("10", 8, f32(*w)), ("20", 1, struct.pack("<q", 42)),
        ("30", 2, struct.pack("<2d", 0.1, -2.0))])
    lines = ["tensor w F32 2 2 3 3 1 0 6 " + " ".join(repr(float(x)) for x in w[:6]),
             "tensor v F32 1 2 1 1 2 3.0 4.0",
             "tensor b I64 0 0 1 42",
             "tensor h F64 1 2 1 0 2 0.1 -2.0"]
    return data, lines


# ---- bad files ----------------------------------------------------------------------------

def bad_files(good):
    """[(name, bytes, key, substring)]; good: {name: bytes} of the good files."""
    bad = []
    dz, dl = good["dtypes.zip.pth"], good["dtypes.legacy.pth"]
    recs = zip_records(dz)
    top = recs[0][0].split("/")[0]
    cd = central_entries(dz)
    sd_pickle = dict(recs)[f"{top}/data.pkl"]

    def without(name):
        return write_zip([r for r in recs if r[0] != name])

    def replaced(name, data):
        return write_zip([(n, data if n == name else d) for n, d in recs])

    # Malicious pickles: never run; each names a global the reader must refuse.
    bad.append(("bad_global_os_system.zip.pth",
                torch_zip(b"\x80\x02" + op_global("os", "system") + b"q\x00"
                          + op_unicode("echo pwned") + b"\x85R.", []),
                "-", "global 'os.system' is not allowed"))
    bad.append(("bad_global_eval.legacy.pth",
                legacy_file(b"\x80\x02" + op_global("builtins", "eval") + op_unicode("1+1")
                            + b"\x85R.", []),
                "-", "global 'builtins.eval' is not allowed"))
    bad.append(("bad_global_getattr.zip.pth",
                torch_zip(b"\x80\x04\x8c\x0b__builtin__\x94\x8c\x07getattr\x94\x93.", []),
                "-", "global '__builtin__.getattr' is not allowed"))
    bad.append(("bad_global_posix.zip.pth",
                torch_zip(b"\x80\x02" + op_global("torch._utils", "_rebuild_tensor_v2")
                          + op_global("posix", "system") + b".", []),
                "-", "global 'posix.system'"))
    import argparse as _argparse
    buf = io.BytesIO()
    torch.save({"state_dict": batchnorm_case(), "args": _argparse.Namespace(lr=0.1)}, buf)
    bad.append(("bad_global_in_skipped_entry.zip.pth", buf.getvalue(), "state_dict",
                "global 'argparse.Namespace' is not allowed"))
    for fmt, new in (("zip", True), ("legacy", False)):
        buf = io.BytesIO()
        torch.save(nn.Linear(2, 2), buf, _use_new_zipfile_serialization=new)
        bad.append((f"bad_full_model.{fmt}.pth", buf.getvalue(), "-",
                    "global 'torch.nn.modules.linear.Linear' is not allowed"))
    bad.append(("bad_module_pid.legacy.pth",
                legacy_file(b"\x80\x02" + op_tuple(op_str("module"), b"N", b"N", b"N") + b"Q.",
                            []),
                "-", "pickles a whole nn.Module"))
    bad.append(("bad_opcode_newobj.zip.pth",
                torch_zip(b"\x80\x02" + op_global("collections", "OrderedDict") + b")\x81.", []),
                "-", "(NEWOBJ) is not one torch.save writes"))
    bad.append(("bad_opcode_inst.zip.pth",
                torch_zip(b"\x80\x02(ios\nsystem\n.", []), "-", "(INST)"))
    bad.append(("bad_protocol.zip.pth", torch_zip(b"\x80\x06}.", []), "-", "pickle protocol 6"))
    bad.append(("bad_memo.zip.pth", torch_zip(b"\x80\x02h\x05.", []), "-",
                "memo entry 5 was never stored"))
    bad.append(("bad_nesting.zip.pth", torch_zip(b"\x80\x02" + b"(" * 5000 + b".", []), "-",
                "nested deeper than 4096"))
    bad.append(("bad_underflow.zip.pth", torch_zip(b"\x80\x02}(s.", []), "-",
                "stack underflow"))
    bad.append(("bad_no_stop.zip.pth", torch_zip(b"\x80\x02}", []), "-",
                "pickle truncated"))
    # Memo references multiply a 1000-pair list into 40000 OrderedDicts: a bound must stop it.
    bomb = (b"\x80\x02" + op_global("collections", "OrderedDict") + b"q\x000" + b"](KaKbeq\x010"
            + b"](" + b"h\x01" * 1000 + b"eq\x020" + b"h\x00h\x02\x85R0" * 40000 + b"}.")
    bad.append(("bad_items_bomb.zip.pth", torch_zip(bomb, []), "-",
                "more than 33554432 container items"))
    bad.append(("bad_setitem_on_list.zip.pth", torch_zip(b"\x80\x02]KaKbs.", []), "-",
                "SETITEM needs a dict"))
    bad.append(("bad_reduce_storage.zip.pth",
                torch_zip(b"\x80\x02" + op_global("torch", "FloatStorage") + b")R.", []),
                "-", "torch.FloatStorage is not callable"))
    bad.append(("bad_pid_type.zip.pth",
                torch_zip(b"\x80\x02" + op_tuple(op_str("storage"), op_global(
                    "collections", "OrderedDict"), op_str("0"), op_str("cpu"), op_int(1)) + b"Q.",
                    []),
                "-", "is not a torch storage type"))

    # Tensors that do not fit their storages, or disagree about them.
    bad.append(("bad_tensor_out_of_bounds.zip.pth",
                torch_zip(py2_state_dict([("t", op_tensor(
                    op_pid("FloatStorage", "0", 4, legacy=False), 0, (10,), (1,), v2=True))]),
                    [("0", f32(1, 2, 3, 4))]),
                "-", "runs past its storage of 4 elements"))
    bad.append(("bad_tensor_offset.zip.pth",
                torch_zip(py2_state_dict([("t", op_tensor(
                    op_pid("FloatStorage", "0", 4, legacy=False), 3, (2,), (1,), v2=True))]),
                    [("0", f32(1, 2, 3, 4))]),
                "-", "at element offset 3 runs past"))
    bad.append(("bad_tensor_rank.zip.pth",
                torch_zip(py2_state_dict([("t", op_tensor(
                    op_pid("FloatStorage", "0", 4, legacy=False), 0, (1,) * 70, (1,) * 70,
                    v2=True))]), [("0", f32(1, 2, 3, 4))]),
                "-", "70 dimensions, more than 64"))
    bad.append(("bad_tensor_numel.zip.pth",
                torch_zip(py2_state_dict([("t", op_tensor(
                    op_pid("FloatStorage", "0", 1, legacy=False), 0, (2**40, 2**40), (0, 0),
                    v2=True))]), [("0", f32(1))]),
                "-", "has more than 2^63 elements"))
    bad.append(("bad_dtype_conflict.zip.pth",
                torch_zip(py2_state_dict([
                    ("a", op_tensor(op_pid("FloatStorage", "0", 4, legacy=False), 0, (4,), (1,))),
                    ("b", op_tensor(op_pid("LongStorage", "0", 2, legacy=False), 0, (2,), (1,))),
                ]), [("0", f32(1, 2, 3, 4))]),
                "-", "views storage '0' as torch.LongStorage"))
    buf = io.BytesIO()
    torch.save({"c": torch.randn(2, dtype=torch.cfloat)}, buf)
    bad.append(("bad_complex.zip.pth", buf.getvalue(), "-",
                "torch.ComplexFloatStorage, whose elements typenet does not read"))

    # Not state dicts.
    for name, obj, needle in (("bad_list", [torch.zeros(2)], "it is not a dict (found list of 1)"),
                              ("bad_int_key", {1: torch.zeros(2)}, "its key int 1 is not a str"),
                              ("bad_value", {"a": 3}, "its entry 'a' is not a tensor (found int 3)")):
        buf = io.BytesIO()
        torch.save(obj, buf)
        bad.append((f"{name}.zip.pth", buf.getvalue(), "-", needle))
    buf = io.BytesIO()
    torch.save({"state_dict": batchnorm_case(), "model": batchnorm_case()}, buf)
    bad.append(("bad_ambiguous.zip.pth", buf.getvalue(), "*",
                "both entries 'state_dict' and 'model' are state dicts"))
    buf = io.BytesIO()
    torch.save({"epoch": 1, "weights": batchnorm_case()}, buf)
    bad.append(("bad_no_state_dict.zip.pth", buf.getvalue(), "*", "no state dict found"))
    buf = io.BytesIO()
    torch.jit.save(torch.jit.script(nn.Linear(2, 2)), buf)
    bad.append(("bad_torchscript.zip.pt", buf.getvalue(), "-", "a TorchScript archive"))

    # The zip container.
    bad.append(("bad_missing_data_pkl.zip.pth", without(f"{top}/data.pkl"), "-",
                "without a '<dir>/data.pkl' record"))
    bad.append(("bad_missing_storage.zip.pth", without(f"{top}/data/0"), "-",
                f"no record '{top}/data/0' for the storage of tensor 'f32'"))
    bad.append(("bad_storage_size.zip.pth", replaced(f"{top}/data/1", b"\0" * 8), "-",
                f"record '{top}/data/1' holds 8 bytes, but the storage of tensor 'f64'"))
    bad.append(("bad_two_pickles.zip.pth", write_zip(recs + [("other/data.pkl", sd_pickle)]),
                "-", "two pickles"))
    bad.append(("bad_duplicate_record.zip.pth", write_zip(recs + [(f"{top}/data/0", b"")]),
                "-", f"record '{top}/data/0' appears twice"))
    data0 = zipfile.ZipFile(io.BytesIO(dz)).getinfo(f"{top}/data/0")
    local = data0.header_offset
    n, m = struct.unpack_from("<HH", dz, local + 26)
    flipped = bytearray(dz)
    flipped[local + 30 + n + m] ^= 0x40
    bad.append(("bad_crc.zip.pth", bytes(flipped), "-", f"'{top}/data/0' fails its CRC-32 check"))
    # torch's archives always end in ZIP64 records; a plain archive tests the 32-bit ones.
    plain = write_zip(recs)
    eocd = len(plain) - 22
    bad.append(("bad_cd_offset.zip.pth", patch(plain, eocd + 16, "<I", 0x7FFFFFF0), "-",
                "bytes at offset 2147483632) lies beyond the end of the file"))
    bad.append(("bad_cd_size.zip.pth", patch(plain, eocd + 12, "<I", 0x7FFFFFF0), "-",
                "lies beyond the end of the file"))
    bad.append(("bad_entry_count.zip.pth", patch(plain, eocd + 8, "<HH", 0xFFF0, 0xFFF0), "-",
                "cannot hold the 65520 entries"))
    end64 = struct.unpack_from("<Q", dz, len(dz) - 22 - 20 + 8)[0]
    bad.append(("bad_zip64_cd_offset.zip.pth", patch(dz, end64 + 48, "<Q", 2**40), "-",
                "at offset 1099511627776) lies beyond the end"))
    bad.append(("bad_zip64_count.zip.pth", patch(dz, end64 + 32, "<Q", 2**60), "-",
                "cannot hold the 1152921504606846976 entries"))
    e0 = cd[f"{top}/data/0"]
    bad.append(("bad_entry_size.zip.pth", patch(dz, e0 + 20, "<II", 0x7FFFFFF0, 0x7FFFFFF0), "-",
                "runs beyond the start of the central directory"))
    bad.append(("bad_local_offset.zip.pth", patch(dz, e0 + 42, "<I", 0x7FFFFFF0), "-",
                "local header offset 2147483632"))
    bad.append(("bad_local_name.zip.pth", patch(dz, e0 + 42, "<I", 0), "-",
                "its local header names another record"))
    bad.append(("bad_encrypted.zip.pth", patch(dz, cd[f"{top}/data.pkl"] + 8, "<H", 1), "-",
                "is encrypted"))
    bad.append(("bad_method.zip.pth", patch(dz, cd[f"{top}/data.pkl"] + 10, "<H", 12), "-",
                "uses compression method 12"))
    bad.append(("bad_multidisk.zip.pth", patch(plain, eocd + 4, "<H", 1), "-", "multi-disk"))
    z64 = write_zip(recs, zip64=True)
    locator = len(z64) - 22 - 20
    bad.append(("bad_zip64_locator.zip.pth", patch(z64, locator + 8, "<Q", 2**62), "-",
                "ZIP64 end record offset"))
    z64_cd = struct.unpack_from("<Q", z64, locator - 56 + 48)[0]
    bad.append(("bad_zip64_extra.zip.pth", patch(z64, z64_cd + 30, "<H", 0), "-",
                "no ZIP64 extra field"))
    deflated = write_zip(recs, deflate=True)
    dcd = central_entries(deflated)
    pkl = dcd[f"{top}/data.pkl"]
    bad.append(("bad_deflate_claims.zip.pth", patch(deflated, pkl + 24, "<I", 0x7FFFFFF0), "-",
                "claims an uncompressed size of 2147483632 bytes"))
    bad.append(("bad_deflate_longer.zip.pth", patch(deflated, pkl + 24, "<I", 10), "-",
                "inflates to more than its declared 10 bytes"))
    bad.append(("bad_deflate_shorter.zip.pth", patch(deflated, pkl + 24, "<I",
                                                     len(sd_pickle) + 5), "-",
                f"inflates to {len(sd_pickle)} bytes, not its declared"))
    dinfo = zipfile.ZipFile(io.BytesIO(deflated)).getinfo(f"{top}/data.pkl")
    dstart = dinfo.header_offset + 30 + len(dinfo.filename)
    garbage = bytearray(deflated)
    garbage[dstart:dstart + 4] = b"\xff\xff\xff\xff"
    bad.append(("bad_deflate_corrupt.zip.pth", bytes(garbage), "-", "is corrupt (zlib"))
    cut = bytearray(deflated)
    struct.pack_into("<I", cut, pkl + 20, 4)  # compressed size cut to 4 bytes
    bad.append(("bad_deflate_truncated.zip.pth", bytes(cut), "-", "truncated"))
    for i, frac in enumerate((0.1, 0.5, 0.97)):
        bad.append((f"bad_truncated_{i}.zip.pth", dz[:int(len(dz) * frac)], "-",
                    "no zip end-of-central-directory record"))

    # The legacy stream.
    bad.append(("bad_magic.legacy.pth", pickle.dumps(12345, protocol=2) + dl[15:], "-",
                "not torch's magic number"))
    bad.append(("bad_plain_pickle.pth", pickle.dumps({"a": 1}, protocol=2), "-",
                "a pickle, but not a torch.save file"))
    bad.append(("bad_version.legacy.pth", dl[:15] + pickle.dumps(1000, protocol=2) + dl[21:],
                "-", "legacy protocol version int 1000"))
    bad.append(("bad_big_endian.legacy.pth",
                legacy_file(b"\x80\x02}.", [], sys_info={"little_endian": False}), "-",
                "big-endian"))
    one = py2_state_dict([("t", op_tensor(op_pid("FloatStorage", "7", 4), 0, (4,), (1,)))])
    bad.append(("bad_storage_count.legacy.pth",
                legacy_file(one, [("7", 5, f32(1, 2, 3, 4, 5))]), "-",
                "holds 5 elements, but its tensors say 4"))
    huge = py2_state_dict([("t", op_tensor(op_pid("FloatStorage", "7", 10**12), 0, (4,), (1,)))])
    bad.append(("bad_storage_beyond.legacy.pth", legacy_file(huge, [("7", 10**12, f32(1))]), "-",
                "truncated: storage '7' needs 4000000000000 bytes"))
    bad.append(("bad_storage_unlisted.legacy.pth", legacy_file(one, []), "-",
                "is missing from the file's storage list"))
    bad.append(("bad_storage_unused.legacy.pth",
                legacy_file(one, [("7", 4, f32(1, 2, 3, 4)), ("8", 1, f32(1))]), "-",
                "storage '8' is in the key list but no tensor uses it"))
    bad.append(("bad_storage_overflow.legacy.pth",
                legacy_file(py2_state_dict([("t", op_tensor(op_pid("DoubleStorage", "7", 2**62),
                                                            0, (1,), (1,)))]), []),
                "-", "overflows"))
    bad.append(("bad_view_outside.legacy.pth",
                legacy_file(py2_state_dict([("t", op_tensor(
                    op_pid("FloatStorage", "7", 4, view=("8", 3, 5)), 0, (1,), (1,)))]),
                    [("7", 4, f32(1, 2, 3, 4))]),
                "-", "lies outside its storage '7' of 4 elements"))
    ends = pickle_ends(dl, 5)  # magic, version, sys_info, main pickle, key list
    cuts = (5, ends[1] + 10, ends[2] + 100, ends[3] + 3, ends[4] + 4, len(dl) - 3)
    for i, at in enumerate(cuts):
        bad.append((f"bad_truncated_{i}.legacy.pth", dl[:at], "-", "truncated"))

    # Neither format.
    bad.append(("bad_empty.pth", b"", "-", "empty file"))
    bad.append(("bad_text.pth", b"hello, not a checkpoint\n", "-",
                "not a PyTorch file: it starts with bytes 68 65 6c 6c"))
    tar = bytearray(512)
    tar[257:262] = b"ustar"
    bad.append(("bad_tar.pth", bytes(tar), "-", "tar-based format"))
    return bad


# ---- hostile files for the memory-limit tests ---------------------------------------------

BOMB_BYTES = 256 << 20  # one storage: 64 Mi float32


def deflated(head, total, tail=b""):
    """(raw deflate of head + zeros + tail, crc32), `total` bytes in all, made in chunks."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    crc = zlib.crc32(head)
    body = [c.compress(head)]
    zeros = bytes(1 << 20)
    left = total - len(head) - len(tail)
    while left > 0:
        chunk = zeros[:min(left, len(zeros))]
        crc = zlib.crc32(chunk, crc)
        body.append(c.compress(chunk))
        left -= len(chunk)
    crc = zlib.crc32(tail, crc)
    body.append(c.compress(tail))
    body.append(c.flush())
    return b"".join(body), crc


def raw_zip(records):
    """records: [(name, body, method, crc, size)] -> a plain (32-bit) zip archive."""
    out, central = bytearray(), bytearray()
    for name, body, method, crc, size in records:
        name_b, offset = name.encode(), len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc, len(body),
                           size, len(name_b), 0) + name_b + body
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21, crc,
                               len(body), size, len(name_b), 0, 0, 0, 0, 0, offset) + name_b
    cd_offset = len(out)
    out += central
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(records), len(records), len(central),
                       cd_offset, 0)
    return bytes(out)


def zip_state_dict(tensors):
    """A protocol-2 pickle of {key: tensor}; tensors: [(key, storage_key, numel, offset,
    shape, strides)], all FloatStorage, as torch's zip format pickles them."""
    body = b"".join(op_unicode(key) + op_tensor(op_pid("FloatStorage", skey, numel, legacy=False),
                                                offset, shape, strides, v2=True)
                    for key, skey, numel, offset, shape, strides in tensors)
    return b"\x80\x02}(" + body + b"u."


def stored(name, data):
    return (name, data, 0, zlib.crc32(data), len(data))


def limit_files():
    files = {}
    numel = BOMB_BYTES // 4
    zeros_body, zeros_crc = deflated(b"", BOMB_BYTES)
    bombs = [(f"bomb.{i}", f"{i}", numel, 0, (numel,), (1,)) for i in range(10)]
    bomb_records = [(f"archive/data/{i}", zeros_body, 8, zeros_crc, BOMB_BYTES)
                    for i in range(10)]
    files["bomb_unmatched.pth"] = raw_zip([stored("archive/data.pkl", zip_state_dict(bombs))]
                                          + bomb_records)
    sixteen = f32(*range(1, 17))
    head_body, head_crc = deflated(sixteen, BOMB_BYTES)
    views = [("0.weight", "0", numel, 0, (4, 3), (3, 1)), ("0.bias", "0", numel, 12, (4,), (1,))]
    files["bomb_prefix.pth"] = raw_zip(
        [stored("archive/data.pkl", zip_state_dict(bombs + views))]
        + [("archive/data/0", head_body, 8, head_crc, BOMB_BYTES)] + bomb_records[1:])
    tail_body, tail_crc = deflated(b"", BOMB_BYTES, sixteen)
    tail = [("0.weight", "0", numel, numel - 16, (4, 3), (3, 1)),
            ("0.bias", "0", numel, numel - 4, (4,), (1,))]
    files["bomb_tail.pth"] = raw_zip([stored("archive/data.pkl", zip_state_dict(tail)),
                                      ("archive/data/0", tail_body, 8, tail_crc, BOMB_BYTES)])
    for name, channels in (("stride0_huge.pth", 10**9), ("stride0_rgb.pth", 3)):
        weight = ("0.weight", "0", 36, 0, (4, channels, 3, 3), (9, 0, 3, 1))
        bias = ("0.bias", "1", 4, 0, (4,), (1,))
        files[name] = raw_zip([stored("archive/data.pkl", zip_state_dict([weight, bias])),
                               stored("archive/data/0", f32(*range(1, 37))),
                               stored("archive/data/1", f32(0.5, 1.5, 2.5, 3.5))])
    return files


# ---- driver -------------------------------------------------------------------------------

def save(obj, new_format, protocol=2):
    buf = io.BytesIO()
    torch.save(obj, buf, _use_new_zipfile_serialization=new_format, pickle_protocol=protocol)
    return buf.getvalue()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="fixture directory; files go to DIR/torch")
    args = parser.parse_args()
    out = os.path.join(args.out, "torch")
    os.makedirs(out, exist_ok=True)

    files, lines = {}, []

    def good(name, data, key, tensor_lines, errors=()):
        files[name] = data
        lines.append(f"file {name} {key}")
        lines.extend(tensor_lines)
        for bad_key, needle in errors:
            lines.append(f"error {name} {bad_key}\t{needle}")

    for case, make, key, errors, p4 in GOOD:
        obj = make()
        expected = describe_tensors(obj, key)
        variants = [("zip", True, 2), ("legacy", False, 2)]
        if p4:
            variants += [("p4.zip", True, 4), ("p4.legacy", False, 4)]
        for fmt, new, protocol in variants:
            name = f"{case}.{fmt}.pth"
            good(name, save(obj, new, protocol), key, expected, errors)
            if case == "views":
                lines.extend(f"shares {name} {a} {b}" for a, b in VIEW_SHARES)
        if case == "dtypes":
            recs = zip_records(files["dtypes.zip.pth"])
            good("dtypes.zip64.pth", write_zip(recs, zip64=True, comment=b"PK\x05\x06 comment"),
                 key, expected)
            good("dtypes.deflate.pth", write_zip(recs, deflate=True), key, expected)
            good("dtypes.zip64_deflate.pth", write_zip(recs, zip64=True, deflate=True), key,
                 expected)
            # torch >= 2.1 also writes <dir>/byteorder
            good("dtypes.byteorder.pth", write_zip(recs + [("archive/byteorder", b"little")]), key,
                 expected)
            bad_order = write_zip(recs + [("archive/byteorder", b"big")])
    data, tensor_lines = py2_case()
    good("py2.legacy.pth", data, "-", tensor_lines)

    bad = bad_files(files)
    bad.append(("bad_byteorder.zip.pth", bad_order, "-", "says byte order 'big'"))
    for name, data, key, needle in bad:
        files[name] = data
        lines.append(f"bad {name} {key}\t{needle}")

    for name, data in files.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    with open(os.path.join(out, "expected.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    limits = os.path.join(args.out, "torch_limits")
    os.makedirs(limits, exist_ok=True)
    for name, data in limit_files().items():
        with open(os.path.join(limits, name), "wb") as f:
            f.write(data)
    print(f"make_torch_files.py: {len(files)} files in {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
