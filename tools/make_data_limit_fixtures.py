#!/usr/bin/python3
"""Hostile dataset files for the memory-limit tests (tests/data/test_data_limits.cpp).

Usage: make_data_limit_fixtures.py --out DIR

Writes into DIR/data_limits (each file a few hundred bytes to 600 KB, some
inflating to hundreds of MB; the test knows their contents):

  idx_overflow.gz        IDX header 10 x 4 x 4 (160 values), then 512 MiB of zeros
  idx_absurd.gz          IDX header 4294967295 x 4294967295 x 4294967295
  idx_absurd             the same, not gzip'd
  idx_promise.gz         IDX header 2048 x 1024 x 1024 (2^31 values, the default limit),
                         then 16 bytes
  idx_good.gz            IDX header 3 x 2 x 2, then 0 ... 11 (a well-formed file)
  cifar10_bomb/test_batch.bin    gzip'd, 3073 valid bytes (label 3) then 512 MiB of zeros
  celeba_long_line/      list_attr_celeba.txt whose line 2 is 1 MiB without a newline
  celeba_many_images/    line 1 declares 10^12 images
  celeba_many_names/     line 2 holds 2000 attribute names
  celeba_partition_line/ list_eval_partition.txt one 1 MiB line

Every CelebA folder has both lists; only the named part is hostile.
"""

import argparse
import gzip
import os
import struct
import sys
import zlib


def gzip_with_zeros(head, zeros):
    """A gzip file of head followed by `zeros` zero bytes, compressed in chunks."""
    c = zlib.compressobj(9, zlib.DEFLATED, 16 + 15)
    parts = [c.compress(head)]
    block = bytes(1 << 20)
    left = zeros
    while left > 0:
        parts.append(c.compress(block[:min(left, len(block))]))
        left -= min(left, len(block))
    parts.append(c.flush())
    return b"".join(parts)


def idx_header(*dims):
    return bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims)


def celeba(folder, attr, partition):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "list_attr_celeba.txt"), "wb") as f:
        f.write(attr)
    with open(os.path.join(folder, "list_eval_partition.txt"), "wb") as f:
        f.write(partition)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="fixture directory; files go to DIR/data_limits")
    args = parser.parse_args()
    out = os.path.join(args.out, "data_limits")
    os.makedirs(out, exist_ok=True)

    def write(name, data):
        path = os.path.join(out, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)

    write("idx_overflow.gz", gzip_with_zeros(idx_header(10, 4, 4) + bytes(160), 512 << 20))
    absurd = idx_header(0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF) + bytes(16)
    write("idx_absurd.gz", gzip.compress(absurd))
    write("idx_absurd", absurd)
    write("idx_promise.gz", gzip.compress(idx_header(2048, 1024, 1024) + bytes(range(16))))
    write("idx_good.gz", gzip.compress(idx_header(3, 2, 2) + bytes(range(12))))
    record = bytes([3]) + bytes(3072)
    write("cifar10_bomb/test_batch.bin", gzip_with_zeros(record, 512 << 20))

    names = b"Smiling Male\n"
    good_attr = b"2\n" + names + b"000001.jpg  1 -1\n000002.jpg -1  1\n"
    good_partition = b"000001.jpg 0\n000002.jpg 1\n"
    celeba(os.path.join(out, "celeba_long_line"), b"2\n" + b"A" * (1 << 20), good_partition)
    celeba(os.path.join(out, "celeba_many_images"), b"1000000000000\n" + names, good_partition)
    celeba(os.path.join(out, "celeba_many_names"),
           b"2\n" + b" ".join(b"a%d" % i for i in range(2000)) + b"\n", good_partition)
    celeba(os.path.join(out, "celeba_partition_line"), good_attr, b"x" * (1 << 20) + b" 0\n")
    celeba(os.path.join(out, "celeba_good"), good_attr, good_partition)
    print(f"make_data_limit_fixtures.py: files in {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
