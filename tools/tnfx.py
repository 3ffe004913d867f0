"""The TNFX fixture format that tests/fixtures.hpp reads, shared by the make_*_fixtures.py scripts.

File: b"TNFX", uint32 version (1), uint32 count, then per array: uint32 name
length, the UTF-8 name, uint8 dtype (0 float32, 1 float64, 2 int64), uint8
rank, rank int64 dimensions, the values little-endian in row-major order.
"""

import os
import struct

import numpy as np


def write_tnfx(path, arrays):
    """arrays: list of (name, numpy array or torch tensor); floats keep float32/float64,
    integers and booleans become int64. Written atomically (temporary file + rename)."""
    parts = [b"TNFX", struct.pack("<II", 1, len(arrays))]
    for name, a in arrays:
        if hasattr(a, "detach"):  # a torch tensor; a 0-d one stays 0-d
            a = a.detach().cpu().contiguous().numpy()
        else:  # numpy promotes 0-d arrays to 1-d here, as the fixtures always had it
            a = np.ascontiguousarray(a)
        if a.dtype == np.float64:
            code, t = 1, "<f8"
        elif a.dtype == np.float32:
            code, t = 0, "<f4"
        elif a.dtype.kind in "iub":
            code, t = 2, "<i8"
        else:
            raise TypeError(f"{name}: unsupported dtype {a.dtype}")
        encoded = name.encode("utf-8")
        parts += [struct.pack("<I", len(encoded)), encoded, struct.pack("<BB", code, a.ndim),
                  struct.pack(f"<{a.ndim}q", *a.shape), a.astype(t, copy=False).tobytes()]
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(b"".join(parts))
    os.replace(tmp, path)
