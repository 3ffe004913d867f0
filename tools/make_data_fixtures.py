#!/usr/bin/python3
"""Hand-made dataset files for typenet's data tests (tests/data/test_data.cpp, suite `data`).

Usage: make_data_fixtures.py --out DIR

Writes into DIR/data/ (numpy and PIL only; every byte is fixed by the seeds):

    mnist/, mnist_gz/       the MNIST layout (train-images-idx3-ubyte, ...): 7 train
                            and 3 test images of 5 x 4 pixels (W x H), plain and gzip'd
    idx_bad/                corrupt IDX files: wrong magic, float element type,
                            truncated and trailing data, a cut header, a 3-byte file,
                            a truncated gzip stream, a corrupt deflate block, a gzip
                            CRC mismatch, 6 labels for 7 images, label 10, wrong ranks
    idx_big.gz              600 x 28 x 28 values (n * 7 + y * 3 + x) % 256, gzip'd to a
                            small fraction of that (the inflate buffer has to grow)
    cifar10/                data_batch_1..5.bin (2, 1, 2, 1, 2 records), test_batch.bin (3)
    cifar100/               train.bin (5 records), test.bin (2), coarse and fine labels
    cifar_bad/<case>/       a cut record, label 10, an empty file, a missing batch,
                            fine label 100, coarse label 20
    folder/                 ImageFolder: ants/ cats/ dogs/ with PNG, JPEG, GIF, BMP,
                            PPM files of different sizes and channel counts, a nested
                            folder, upper-case extensions, files to ignore (.txt,
                            .webp, a loose image in the root)
    folder_corrupt/         a/0..4.png, b/0.png, b/1_broken.png (cut), b/2.png, all 8 x 8
    folder_empty_class/     cats/a.png and dogs/ holding only a .txt
    folder_no_classes/      images directly in the root
    unlabeled/              p1.png, sub/p2.jpg, sub/deeper/p3.PNG, readme.md
    unlabeled_empty/        no images below it
    celeba/                 img_align_celeba/000001.jpg .. 000010.jpg (10 x 12 JPEGs),
                            list_attr_celeba.txt (the real 40 names, -1/1 values laid
                            out like the real file), list_eval_partition.txt
    celeba_crlf/            the same text files with CRLF line ends (no images)
    celeba_<bad>/           wrong count, a 0 value, 39 values, a missing partition
                            entry, partition 3, a count line that is not a number,
                            no attribute file, a missing image file
    reference.tnfx          expected values, in the TNFX format of tools/make_fixtures.py
                            (tests/fixtures.hpp reads it)

Arrays of reference.tnfx (int64 unless noted; images H x W x C):

    mnist.<split>.images, .labels        the bytes of each split
    cifar10.<split>.images, .labels      HWC bytes of each record (planes transposed)
    cifar100.<split>.images, .fine, .coarse
    folder.<relative path>               PIL's decoding as RGB / 255 (float64)
    folder_corrupt.labels                labels in ImageFolder's order
    unlabeled.<relative path>            PIL's decoding as RGB / 255 (float64)
    celeba.attributes [10, 40]           in {0, 1}; celeba.partition [10]
    celeba.<file name>                   PIL's decoding as RGB / 255 (float64)
    fashion.<split>.counts [10]          label counts of Debian's dataset-fashion-mnist
    fashion.<split>.first_labels [20]
    fashion.<split>.{first,last}.{sum,weighted}
                                         sum of the image's bytes, and sum of i * byte[i]
                                         (i the row-major index); only when
                                         /usr/share/datasets/fashion-mnist exists
"""

import argparse
import gzip
import os
import shutil
import struct

import numpy as np
from PIL import Image
from tnfx import write_tnfx

FASHION = "/usr/share/datasets/fashion-mnist"

CELEBA_ATTRIBUTES = [
    "5_o_Clock_Shadow", "Arched_Eyebrows", "Attractive", "Bags_Under_Eyes", "Bald", "Bangs",
    "Big_Lips", "Big_Nose", "Black_Hair", "Blond_Hair", "Blurry", "Brown_Hair", "Bushy_Eyebrows",
    "Chubby", "Double_Chin", "Eyeglasses", "Goatee", "Gray_Hair", "Heavy_Makeup",
    "High_Cheekbones", "Male", "Mouth_Slightly_Open", "Mustache", "Narrow_Eyes", "No_Beard",
    "Oval_Face", "Pale_Skin", "Pointy_Nose", "Receding_Hairline", "Rosy_Cheeks", "Sideburns",
    "Smiling", "Straight_Hair", "Wavy_Hair", "Wearing_Earrings", "Wearing_Hat",
    "Wearing_Lipstick", "Wearing_Necklace", "Wearing_Necktie", "Young",
]


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def gz(data):
    return gzip.compress(data, compresslevel=9, mtime=0)


def idx(array, type_code=0x08):
    array = np.asarray(array)
    header = bytes([0, 0, type_code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def noise(rng, w, h, c):
    return rng.integers(0, 256, size=(h, w, c), dtype=np.uint8)


def smooth(w, h, phase):
    """A smooth RGB picture (gradients and a slow wave): JPEG decoders agree closely on it."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 40 + 170 * x / max(w - 1, 1)
    g = 60 + 150 * y / max(h - 1, 1)
    b = 128 + 80 * np.sin(0.35 * (x + y) + phase)
    return np.clip(np.stack([r, g, b], -1), 0, 255).round().astype(np.uint8)


def save_image(path, pixels, fmt=None, **options):
    """pixels: H x W x C uint8 (C = 1 gray, 3 RGB, 4 RGBA)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    mode = {1: "L", 3: "RGB", 4: "RGBA"}[pixels.shape[2]]
    img = Image.fromarray(pixels[..., 0] if mode == "L" else pixels, mode)
    img.save(path, format=fmt, **options)


def decoded_rgb(path):
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB")).astype(np.float64) / 255.0


def jpeg(path, pixels):
    # 4:4:4 so that the decoders' chroma upsampling does not matter.
    save_image(path, pixels, "JPEG", quality=95, subsampling=0)


# ---- IDX (MNIST layout) ---------------------------------------------------------------------

def make_idx(out, arrays):
    rng = np.random.default_rng(1001)
    splits = {"train": 7, "t10k": 3}
    files, kept = {}, {}
    for prefix, n in splits.items():
        images = rng.integers(0, 256, size=(n, 4, 5), dtype=np.uint8)  # N x H x W
        labels = rng.integers(0, 10, size=n, dtype=np.uint8)
        files[f"{prefix}-images-idx3-ubyte"] = idx(images)
        files[f"{prefix}-labels-idx1-ubyte"] = idx(labels)
        split = "train" if prefix == "train" else "test"
        kept[split] = (images, labels)
        arrays += [(f"mnist.{split}.images", images), (f"mnist.{split}.labels", labels)]
    for name, data in files.items():
        write(os.path.join(out, "mnist", name), data)
        write(os.path.join(out, "mnist_gz", name + ".gz"), gz(data))

    good_images = files["train-images-idx3-ubyte"]
    train_images, train_labels = kept["train"]
    bad = os.path.join(out, "idx_bad")
    write(os.path.join(bad, "images_bad_magic"), b"\x01\x00" + good_images[2:])
    write(os.path.join(bad, "images_float"), b"\x00\x00\x0d" + good_images[3:])
    write(os.path.join(bad, "images_truncated"), good_images[:-7])
    write(os.path.join(bad, "images_trailing"), good_images + b"\x00\x01")
    write(os.path.join(bad, "images_header_cut"), good_images[:9])
    write(os.path.join(bad, "images_short"), good_images[:3])
    write(os.path.join(bad, "images_rank2"), idx(train_images.reshape(7, 20)))
    write(os.path.join(bad, "images_rank0"), bytes([0, 0, 8, 0]))
    compressed = gz(good_images)
    write(os.path.join(bad, "images_truncated.gz"), compressed[: len(compressed) // 2])
    corrupt = bytearray(compressed)
    corrupt[10] = 0xFF  # the first deflate block: BFINAL 1, BTYPE 11 (reserved)
    write(os.path.join(bad, "images_corrupt.gz"), bytes(corrupt))
    bad_crc = bytearray(compressed)
    bad_crc[-8] ^= 0xFF  # the CRC-32 of the trailer
    write(os.path.join(bad, "images_bad_crc.gz"), bytes(bad_crc))
    write(os.path.join(bad, "labels_6"), idx(train_labels[:6]))
    ten = train_labels.copy()
    ten[4] = 10
    write(os.path.join(bad, "labels_10"), idx(ten))
    write(os.path.join(bad, "labels_rank2"), idx(train_labels.reshape(7, 1)))

    # 470 KB that deflate shrinks far more than 4x: gunzip must grow its buffer.
    n, y, x = np.meshgrid(np.arange(600), np.arange(28), np.arange(28), indexing="ij")
    write(os.path.join(out, "idx_big.gz"), gz(idx((n * 7 + y * 3 + x) % 256)))


# ---- CIFAR ----------------------------------------------------------------------------------

def cifar_records(rng, n, label_columns):
    """label_columns: list of (low, high) per label byte. Returns (bytes, labels, HWC images)."""
    labels = np.stack([rng.integers(lo, hi, size=n) for lo, hi in label_columns], 1)
    planes = rng.integers(0, 256, size=(n, 3, 32, 32), dtype=np.uint8)
    records = np.concatenate([labels.astype(np.uint8), planes.reshape(n, -1)], 1)
    return records.tobytes(), labels, planes.transpose(0, 2, 3, 1)


def make_cifar(out, arrays):
    rng = np.random.default_rng(2002)
    root = os.path.join(out, "cifar10")
    train_labels, train_images = [], []
    batches = {}
    for b, n in zip(range(1, 6), [2, 1, 2, 1, 2]):
        data, labels, images = cifar_records(rng, n, [(0, 10)])
        batches[b] = data
        write(os.path.join(root, f"data_batch_{b}.bin"), data)
        train_labels.append(labels[:, 0])
        train_images.append(images)
    test, test_labels, test_images = cifar_records(rng, 3, [(0, 10)])
    write(os.path.join(root, "test_batch.bin"), test)
    arrays += [("cifar10.train.images", np.concatenate(train_images)),
               ("cifar10.train.labels", np.concatenate(train_labels)),
               ("cifar10.test.images", test_images), ("cifar10.test.labels", test_labels[:, 0])]

    root100 = os.path.join(out, "cifar100")
    for split, n in [("train", 5), ("test", 2)]:
        data, labels, images = cifar_records(rng, n, [(0, 20), (0, 100)])
        write(os.path.join(root100, f"{split}.bin"), data)
        arrays += [(f"cifar100.{split}.images", images), (f"cifar100.{split}.coarse", labels[:, 0]),
                   (f"cifar100.{split}.fine", labels[:, 1])]
    train100 = open(os.path.join(root100, "train.bin"), "rb").read()

    bad = os.path.join(out, "cifar_bad")
    write(os.path.join(bad, "cifar10_truncated", "test_batch.bin"), test[:-100])
    label10 = bytearray(test)
    label10[3073] = 10  # record 1
    write(os.path.join(bad, "cifar10_label", "test_batch.bin"), bytes(label10))
    write(os.path.join(bad, "cifar10_empty", "test_batch.bin"), b"")
    for b in range(1, 5):
        write(os.path.join(bad, "cifar10_missing", f"data_batch_{b}.bin"), batches[b])
    fine100 = bytearray(train100)
    fine100[2 * 3074 + 1] = 100  # record 2, fine label
    write(os.path.join(bad, "cifar100_fine", "train.bin"), bytes(fine100))
    coarse20 = bytearray(train100)
    coarse20[0] = 20  # record 0, coarse label
    write(os.path.join(bad, "cifar100_coarse", "train.bin"), bytes(coarse20))


# ---- image folders --------------------------------------------------------------------------

def make_folders(out, arrays):
    rng = np.random.default_rng(3003)
    root = os.path.join(out, "folder")
    # relative path -> writer; sizes differ on purpose (W x H in the comments)
    files = {
        "ants/q.gif": lambda p: save_image(p, noise(rng, 4, 4, 3), "GIF"),          # 4 x 4
        "cats/a.png": lambda p: save_image(p, noise(rng, 6, 4, 3), "PNG"),          # 6 x 4
        "cats/b.jpg": lambda p: jpeg(p, smooth(8, 8, 0.5)),                         # 8 x 8
        "cats/c.PNG": lambda p: save_image(p, noise(rng, 5, 3, 1), "PNG"),          # 5 x 3 gray
        "cats/nested/d.png": lambda p: save_image(p, noise(rng, 4, 6, 4), "PNG"),   # RGBA
        "dogs/x.bmp": lambda p: save_image(p, noise(rng, 7, 5, 3), "BMP"),          # 7 x 5
        "dogs/y.JPEG": lambda p: jpeg(p, smooth(6, 6, 1.5)),                        # 6 x 6
        "dogs/z.ppm": lambda p: save_image(p, noise(rng, 3, 3, 3), "PPM"),          # 3 x 3
    }
    for rel, save in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        save(path)
        arrays.append((f"folder.{rel}", decoded_rgb(path)))
    # Not images of a class: ignored.
    write(os.path.join(root, "cats", "notes.txt"), b"not an image\n")
    write(os.path.join(root, "cats", "e.webp"), b"RIFF\x00\x00\x00\x00WEBP")
    write(os.path.join(root, "dogs", "y.JPEG.txt"), b"a caption\n")
    write(os.path.join(root, "readme.txt"), b"ImageFolder fixture\n")
    save_image(os.path.join(root, "loose.png"), noise(rng, 2, 2, 3), "PNG")

    corrupt = os.path.join(out, "folder_corrupt")
    labels = []
    for rel in ["a/0.png", "a/1.png", "a/2.png", "a/3.png", "a/4.png", "b/0.png", "b/1_broken.png",
                "b/2.png"]:
        path = os.path.join(corrupt, rel)
        save_image(path, noise(rng, 8, 8, 3), "PNG")
        labels.append(0 if rel.startswith("a/") else 1)
        if "broken" in rel:
            blob = open(path, "rb").read()
            write(path, blob[: int(len(blob) * 0.6)])
    arrays.append(("folder_corrupt.labels", np.array(labels)))

    save_image(os.path.join(out, "folder_empty_class", "cats", "a.png"), noise(rng, 2, 2, 3), "PNG")
    write(os.path.join(out, "folder_empty_class", "dogs", "notes.txt"), b"no images here\n")
    save_image(os.path.join(out, "folder_no_classes", "a.png"), noise(rng, 2, 2, 3), "PNG")
    save_image(os.path.join(out, "folder_no_classes", "b.png"), noise(rng, 2, 2, 3), "PNG")

    unlabeled = os.path.join(out, "unlabeled")
    files = {
        "p1.png": lambda p: save_image(p, noise(rng, 5, 5, 3), "PNG"),
        "sub/p2.jpg": lambda p: jpeg(p, smooth(6, 4, 2.5)),
        "sub/deeper/p3.PNG": lambda p: save_image(p, noise(rng, 3, 3, 1), "PNG"),
    }
    for rel, save in files.items():
        path = os.path.join(unlabeled, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        save(path)
        arrays.append((f"unlabeled.{rel}", decoded_rgb(path)))
    write(os.path.join(unlabeled, "readme.md"), b"# photos\n")
    write(os.path.join(out, "unlabeled_empty", "notes.txt"), b"nothing\n")
    os.makedirs(os.path.join(out, "unlabeled_empty", "empty_sub"), exist_ok=True)


# ---- CelebA ---------------------------------------------------------------------------------

def attr_text(names, files, values, count=None):
    """list_attr_celeba.txt as distributed: a trailing space after the names, each value
    printed as %2d after one space (so positives get two spaces)."""
    lines = [str(len(files) if count is None else count), " ".join(names) + " "]
    for f, row in zip(files, values):
        lines.append(f + " " + " ".join(f"{int(v):2d}" for v in row))
    return "\n".join(lines) + "\n"


def partition_text(files, parts):
    return "".join(f"{f} {p}\n" for f, p in zip(files, parts))


def make_celeba(out, arrays):
    rng = np.random.default_rng(4004)
    n = 10
    files = [f"{i:06d}.jpg" for i in range(1, n + 1)]
    values = rng.choice([-1, 1], size=(n, 40))
    parts = np.array([0, 1, 0, 2, 0, 0, 1, 0, 2, 0])
    root = os.path.join(out, "celeba")
    for i, f in enumerate(files):
        path = os.path.join(root, "img_align_celeba", f)
        jpeg(path, smooth(10, 12, 0.7 * i))
        arrays.append((f"celeba.{f}", decoded_rgb(path)))
    arrays += [("celeba.attributes", (values + 1) // 2), ("celeba.partition", parts)]
    attr = attr_text(CELEBA_ATTRIBUTES, files, values)
    part = partition_text(files, parts)

    def variant(name, attr_content, part_content):
        d = os.path.join(out, name)
        if attr_content is not None:
            write(os.path.join(d, "list_attr_celeba.txt"), attr_content.encode())
        write(os.path.join(d, "list_eval_partition.txt"), part_content.encode())

    variant("celeba", attr, part)
    variant("celeba_crlf", attr.replace("\n", "\r\n"), part.replace("\n", "\r\n"))
    variant("celeba_bad_count", attr_text(CELEBA_ATTRIBUTES, files, values, count=11), part)
    zero = values.copy()
    zero[2, 5] = 0  # line 5
    variant("celeba_bad_value", attr_text(CELEBA_ATTRIBUTES, files, zero), part)
    few = attr.split("\n")
    few[3] = few[3][:-3]  # line 4 (000002.jpg): 39 values
    variant("celeba_few_values", "\n".join(few), part)
    variant("celeba_no_partition", attr, partition_text(files[:6] + files[7:],
                                                        np.delete(parts, 6)))  # no 000007.jpg
    bad_part = parts.copy()
    bad_part[3] = 3  # line 4
    variant("celeba_bad_partition", attr, partition_text(files, bad_part))
    variant("celeba_no_count", "images\n" + attr.split("\n", 1)[1], part)
    variant("celeba_no_attributes", None, part)
    missing = os.path.join(out, "celeba_missing_image")
    shutil.copytree(root, missing)
    os.remove(os.path.join(missing, "img_align_celeba", "000002.jpg"))


# ---- the real Fashion-MNIST -----------------------------------------------------------------

def make_fashion(arrays):
    if not os.path.isdir(FASHION):
        print(f"make_data_fixtures.py: {FASHION} is missing (install dataset-fashion-mnist); "
              "writing no Fashion-MNIST reference")
        return
    weights = np.arange(28 * 28, dtype=np.int64)
    for split, prefix in [("train", "train"), ("test", "t10k")]:
        with gzip.open(os.path.join(FASHION, f"{prefix}-images-idx3-ubyte.gz"), "rb") as f:
            images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28 * 28)
        with gzip.open(os.path.join(FASHION, f"{prefix}-labels-idx1-ubyte.gz"), "rb") as f:
            labels = np.frombuffer(f.read(), np.uint8, offset=8)
        assert len(images) == len(labels)
        arrays += [(f"fashion.{split}.counts", np.bincount(labels, minlength=10)),
                   (f"fashion.{split}.first_labels", labels[:20])]
        for which, img in [("first", images[0]), ("last", images[-1])]:
            img = img.astype(np.int64)
            arrays += [(f"fashion.{split}.{which}.sum", np.array(img.sum())),
                       (f"fashion.{split}.{which}.weighted", np.array((img * weights).sum()))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    out = os.path.join(args.out, "data")
    shutil.rmtree(out, ignore_errors=True)  # stale files would change the folder listings
    os.makedirs(out)
    arrays = []
    make_idx(out, arrays)
    make_cifar(out, arrays)
    make_folders(out, arrays)
    make_celeba(out, arrays)
    make_fashion(arrays)
    write_tnfx(os.path.join(out, "reference.tnfx"), arrays)


if __name__ == "__main__":
    main()
