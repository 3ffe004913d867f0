#!/usr/bin/python3
"""Reference data for typenet's image tests (tests/image/test_image.cpp, suite `image`).

Usage: make_image_fixtures.py --out DIR

Writes into DIR/image/:

    photo.png, photo.jpg, ...   a 64x48 crop of skimage's chelsea.png (a real
                                photograph, Debian python3-skimage) in every
                                format typenet reads, written by PIL: PNG
                                (RGB, gray, RGBA, palette with and without
                                tRNS, gray+alpha, 1-bit, gray and RGB with
                                tRNS, 16-bit; interlaced and 16-bit RGB(A)
                                ones written here), JPEG (baseline,
                                progressive, gray, CMYK), BMP (RGB, palette,
                                RGBA), GIF, PPM, PGM; pixel.* are 1x1 images
    bad/...                     missing-data cases: truncated copies of each
                                format, an empty file, garbage, a PNG header
                                alone, a JPEG with a damaged header, and
                                skimage's own truncated.jpg
    refused/...                 TGA (written by PIL), PSD, HDR and PIC files:
                                formats typenet refuses (docs/images.md)
    hostile/...                 crafted files (each under 1 KB) that once cost
                                gigabytes or wrote out of bounds under
                                stb_image: a JPEG and a PNG declaring
                                16384x16384, a PNG and a GIF declaring
                                65535x65535 or more, a JPEG whose DHT segment
                                has 300 codes, an RLE TGA declaring
                                65535x65535, and inputs fuzz/fuzz_image.cpp
                                found (a PGM whose width has 99 digits)
    reference.tnfx              the arrays below, in the TNFX format of
                                tools/make_fixtures.py (tests/fixtures.hpp reads it)

Arrays (float64 unless noted; images are H x W x C, values in [0, 1]):

    decoded.<file>      PIL's decoding of each good file, in the channels
                        stb_image gave (16-bit PNG: / 65535; files written
                        here: the array written; CMYK JPEG: stb_image's
                        C * K / 255 of PIL's raw CMYK)
    photo               decoded.photo.png
    lab.photo           skimage.color.rgb2lab(photo)
    gray.photo          skimage.color.rgb2gray(photo)
    colors              a 17^3 grid of RGB colours as a 1 x 4913 x 3 image
    lab.colors          rgb2lab(colors)
    lab_grid            L, a, b on a grid, in and out of the sRGB gamut
    rgb.lab_grid        skimage.color.lab2rgb(lab_grid) (clipped to [0, 1])
    resize.<mode>.<W>x<H>
                        photo resized: mode "bilinear" is torchvision's
                        F.resize(tensor, antialias=True); "area" is the exact
                        area average computed here (checked against torch's
                        mode="area" where the factor is an integer), bilinear
                        where an axis grows; "nearest" is torch's "nearest-exact"
    center_crop.<W>x<H> torchvision's F.center_crop(photo tensor, [H, W])
"""

import argparse
import io
import os
import shutil
import struct
import warnings
import zlib

import numpy as np
from PIL import Image
import skimage
import skimage.color
from tnfx import write_tnfx

PHOTO_BOX = (200, 40, 264, 88)  # the cat's face in chelsea.png (451 x 300)


def area_weights(n_in, n_out):
    """Exact area-average matrix (n_out x n_in) for shrinking; None when growing."""
    scale = n_in / n_out
    m = np.zeros((n_out, n_in))
    for i in range(n_out):
        lo, hi = i * scale, (i + 1) * scale
        for j in range(int(np.floor(lo)), min(int(np.ceil(hi)), n_in)):
            m[i, j] = max(0.0, min(hi, j + 1) - max(lo, j)) / scale
    return m


def resize_area(photo, w, h):
    import torch
    import torch.nn.functional as F
    t = torch.from_numpy(photo.transpose(2, 0, 1)[None].copy())
    out = photo
    # Axis by axis, as typenet does: width first, then height.
    if w < photo.shape[1]:
        out = np.einsum("ij,yjc->yic", area_weights(photo.shape[1], w), out)
    elif w != photo.shape[1]:
        tt = torch.from_numpy(out.transpose(2, 0, 1)[None].copy())
        out = F.interpolate(tt, size=(out.shape[0], w), mode="bilinear", align_corners=False,
                            antialias=True)[0].numpy().transpose(1, 2, 0)
    if h < photo.shape[0]:
        out = np.einsum("ij,jxc->ixc", area_weights(photo.shape[0], h), out)
    elif h != photo.shape[0]:
        tt = torch.from_numpy(out.transpose(2, 0, 1)[None].copy())
        out = F.interpolate(tt, size=(h, w), mode="bilinear", align_corners=False,
                            antialias=True)[0].numpy().transpose(1, 2, 0)
    if photo.shape[1] % w == 0 and photo.shape[0] % h == 0:
        ref = F.interpolate(t, size=(h, w), mode="area")[0].numpy().transpose(1, 2, 0)
        assert np.abs(ref - out).max() < 1e-12, "area weights disagree with torch's mode='area'"
    return out


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def write_png_raw(path, array, bit_depth, color_type, interlace=False):
    """A PNG of a H x W x C uint array (PIL writes neither Adam7 nor 16-bit RGB)."""
    h, w, c = array.shape
    dtype = ">u2" if bit_depth == 16 else "u1"

    def scanlines(sub):
        return b"".join(b"\x00" + row.astype(dtype).tobytes() for row in sub)

    if interlace:
        passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4),
                  (1, 0, 2, 2), (0, 1, 1, 2)]
        raw = b"".join(scanlines(array[y0::dy, x0::dx]) for x0, y0, dx, dy in passes
                       if array[y0::dy, x0::dx].size)
    else:
        raw = scanlines(array)
    ihdr = struct.pack(">IIBBBBB", w, h, bit_depth, color_type, 0, 0, 1 if interlace else 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) +
                png_chunk(b"IDAT", zlib.compress(raw, 9)) + png_chunk(b"IEND", b""))


def jpeg_with_size(jpg, width, height):
    """The JPEG with its SOF segment's size replaced (the data still fits 8x8)."""
    out = bytearray(jpg)
    at = 2
    while at + 4 < len(out):
        marker, length = out[at + 1], struct.unpack(">H", out[at + 2:at + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            out[at + 5:at + 9] = struct.pack(">HH", height, width)
            return bytes(out)
        at += 2 + length
    raise ValueError("no SOF segment")


def write_with_stray_bytes(img, path):
    blob = io.BytesIO()
    img.save(blob, format="JPEG", quality=90)
    data = blob.getvalue()
    sos = data.index(b"\xff\xda")
    with open(path, "wb") as f:
        f.write(data[:sos] + b"\x00\x00" + data[sos:])


def write_hostile(hostile, tiny_jpg):
    """Crafted files that once cost gigabytes or wrote out of bounds (tests: hostile_*)."""
    def put(name, data):
        assert len(data) < 1024, name
        with open(os.path.join(hostile, name), "wb") as f:
            f.write(data)

    put("jpeg_16384x16384.jpg", jpeg_with_size(tiny_jpg, 16384, 16384))
    # 300 Huffman codes in one table: more than the 256 a table can hold.
    counts = [0, 0, 0, 0, 0, 0, 0, 0, 44, 128, 128, 0, 0, 0, 0, 0]
    dht = bytes([0x00]) + bytes(counts) + bytes(i % 256 for i in range(sum(counts)))
    put("jpeg_dht_300_codes.jpg", b"\xff\xd8" + b"\xff\xc4" + struct.pack(">H", 2 + len(dht)) +
        dht + b"\xff\xd9")

    def png_of(width, height, rows):
        ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
        return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) +
                png_chunk(b"IDAT", zlib.compress(b"\x00" * (1 + 3 * width) * rows, 9)) +
                png_chunk(b"IEND", b""))

    put("png_100000x100000.png", png_of(100000, 100000, 1))
    put("png_16384x16384.png", png_of(16384, 16384, 2))

    def gif_of(width, height):
        lzw = bytes([0x02, 0x02, 0x4C, 0x01, 0x00])  # code size 2: clear, 0, end
        return (b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0) +
                b"\x00\x00\x00\xff\xff\xff" + b"," + struct.pack("<HHHHB", 0, 0, width, height, 0) +
                lzw + b";")

    put("gif_65535x65535.gif", gif_of(65535, 65535))
    put("gif_16384x16384.gif", gif_of(16384, 16384))
    # RLE true-colour TGA, 65535x65535, a few packets of 128 pixels each.
    tga = struct.pack("<BBBHHBHHHHBB", 0, 0, 10, 0, 0, 0, 0, 0, 65535, 65535, 24, 0)
    put("tga_65535x65535_rle.tga", tga + (b"\xff\x10\x20\x30") * 20)
    # A 32-bit BMP header of 9000x9000 and no pixels: stb_image fills the whole
    # declared image (324 MB) with zeros before it reports success.
    put("bmp_9000x9000_no_pixels.bmp",
        b"BM" + struct.pack("<IHHI", 54, 0, 0, 54) +
        struct.pack("<IiiHHIIiiII", 40, 9000, 9000, 1, 32, 0, 0, 2835, 2835, 0, 0))
    # Found by fuzz/fuzz_image.cpp: a 99-digit width overflowed stb_image's PNM parser (UBSan).
    put("pnm_long_number.pgm", b"P5" + b"6" * 99 + b"\n5 \xea4\x80\xab")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    out = os.path.join(args.out, "image")
    bad = os.path.join(out, "bad")
    os.makedirs(bad, exist_ok=True)
    data = os.path.join(os.path.dirname(skimage.__file__), "data")

    chelsea = Image.open(os.path.join(data, "chelsea.png")).convert("RGB")
    crop = chelsea.crop(PHOTO_BOX)
    pixel = crop.crop((10, 10, 11, 11))
    palette_trns = crop.convert("P")
    palette_trns.info["transparency"] = 7  # palette index 7 becomes transparent
    # name: (writer, the PIL mode whose decoding stb_image's must equal)
    files = {
        "photo.png": (lambda p: crop.save(p), "RGB"),
        "photo_gray.png": (lambda p: crop.convert("L").save(p), "L"),
        "photo_rgba.png": (lambda p: crop.convert("RGBA").save(p), "RGBA"),
        "photo_palette.png": (lambda p: crop.convert("P").save(p), "RGB"),
        "photo_palette_trns.png": (lambda p: palette_trns.save(p), "RGBA"),
        "photo_gray_alpha.png": (lambda p: crop.convert("LA").save(p), "LA"),
        "photo_bilevel.png": (lambda p: crop.convert("1").save(p), "L"),
        "photo.bmp": (lambda p: crop.save(p), "RGB"),
        "photo_gray.bmp": (lambda p: crop.convert("L").save(p), "RGB"),  # a palette BMP
        "photo_rgba.bmp": (lambda p: crop.convert("RGBA").save(p), "RGBA"),
        "photo.gif": (lambda p: crop.save(p), "RGBA"),
        "photo.ppm": (lambda p: crop.save(p), "RGB"),
        "photo.pgm": (lambda p: crop.convert("L").save(p), "L"),
        "pixel.png": (lambda p: pixel.save(p), "RGB"),
        "pixel.bmp": (lambda p: pixel.save(p), "RGB"),
        "photo.jpg": (lambda p: crop.save(p, quality=90), "RGB"),
        "photo_progressive.jpg": (lambda p: crop.save(p, quality=90, progressive=True), "RGB"),
        "photo_gray.jpg": (lambda p: crop.convert("L").save(p, quality=90), "L"),
        # Two stray bytes before the start-of-scan marker, as some cameras and
        # editors write: libjpeg warns, PIL decodes, and so must typenet.
        "photo_stray_bytes.jpg": (lambda p: write_with_stray_bytes(crop, p), "RGB"),
    }
    arrays = []
    for name, (save, mode) in files.items():
        path = os.path.join(out, name)
        save(path)
        decoded = np.asarray(Image.open(path).convert(mode))
        if decoded.ndim == 2:
            decoded = decoded[..., None]
        arrays.append((f"decoded.{name}", decoded.astype(np.float64) / 255.0))
    # tRNS on gray and RGB files: stb_image (and typenet) add an alpha channel.
    gray = crop.convert("L")
    gray.save(os.path.join(out, "photo_gray_trns.png"), transparency=int(np.asarray(gray)[5, 5]))
    g = np.asarray(gray).astype(np.float64)[..., None]
    arrays.append(("decoded.photo_gray_trns.png",
                   np.concatenate([g, (g != g[5, 5]) * 255.0], -1) / 255.0))
    rgb = np.asarray(crop).astype(np.float64)
    key = tuple(int(v) for v in rgb[6, 9])
    crop.save(os.path.join(out, "photo_rgb_trns.png"), transparency=key)
    alpha = np.any(rgb != np.array(key, dtype=np.float64), axis=-1, keepdims=True) * 255.0
    arrays.append(("decoded.photo_rgb_trns.png", np.concatenate([rgb, alpha], -1) / 255.0))
    # Written here: Adam7-interlaced 8-bit RGB, 16-bit RGB, interlaced 16-bit RGBA.
    rng = np.random.default_rng(5)
    crop_rgb = np.asarray(crop)
    write_png_raw(os.path.join(out, "photo_interlaced.png"), crop_rgb, 8, 2, interlace=True)
    arrays.append(("decoded.photo_interlaced.png", crop_rgb.astype(np.float64) / 255.0))
    rgb16 = rng.integers(0, 65536, size=(13, 11, 3), dtype=np.uint32)
    write_png_raw(os.path.join(out, "photo_rgb16.png"), rgb16, 16, 2)
    arrays.append(("decoded.photo_rgb16.png", rgb16.astype(np.float64) / 65535.0))
    rgba16 = rng.integers(0, 65536, size=(13, 11, 4), dtype=np.uint32)
    write_png_raw(os.path.join(out, "photo_rgba16_interlaced.png"), rgba16, 16, 6, interlace=True)
    arrays.append(("decoded.photo_rgba16_interlaced.png", rgba16.astype(np.float64) / 65535.0))
    # A CMYK JPEG (Adobe, stored inverted): stb_image's RGB is C * K / 255 of the stored values.
    crop.convert("CMYK").save(os.path.join(out, "photo_cmyk.jpg"), quality=90)
    stored = 255 - np.asarray(Image.open(os.path.join(out, "photo_cmyk.jpg"))).astype(np.int64)

    def blinn(x, k):
        t = x * k + 128
        return (t + (t >> 8)) >> 8

    cmyk_rgb = np.stack([blinn(stored[..., i], stored[..., 3]) for i in range(3)], -1)
    arrays.append(("decoded.photo_cmyk.jpg", cmyk_rgb.astype(np.float64) / 255.0))
    # A 16-bit gray PNG (values that 8 bits cannot hold).
    ramp = (np.arange(48 * 64, dtype=np.uint32).reshape(48, 64) * 21 % 65536).astype(np.uint16)
    Image.fromarray(ramp.astype(np.int32), mode="I").save(os.path.join(out, "photo16.png"))
    redecoded = np.asarray(Image.open(os.path.join(out, "photo16.png"))).astype(np.float64)
    assert np.array_equal(redecoded, ramp), "PIL did not write a 16-bit PNG"
    arrays.append(("decoded.photo16.png", (ramp.astype(np.float64) / 65535.0)[..., None]))

    photo = np.asarray(Image.open(os.path.join(out, "photo.png"))).astype(np.float64) / 255.0
    arrays += [("photo", photo), ("lab.photo", skimage.color.rgb2lab(photo)),
               ("gray.photo", skimage.color.rgb2gray(photo)[..., None])]

    steps = np.linspace(0.0, 1.0, 17)
    colors = np.stack(np.meshgrid(steps, steps, steps, indexing="ij"), -1).reshape(1, -1, 3)
    arrays += [("colors", colors), ("lab.colors", skimage.color.rgb2lab(colors))]
    L, a, b = np.meshgrid(np.linspace(0, 100, 11), np.arange(-128, 128, 16.0),
                          np.arange(-128, 128, 16.0), indexing="ij")
    lab_grid = np.stack([L, a, b], -1).reshape(1, -1, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Color data out of range: Z < 0" is the point
        arrays += [("lab_grid", lab_grid), ("rgb.lab_grid", skimage.color.lab2rgb(lab_grid))]

    import torch
    import torch.nn.functional as F
    import torchvision.transforms.functional as TF
    tensor = torch.from_numpy(photo.astype(np.float32).transpose(2, 0, 1).copy())
    for w, h in [(32, 24), (21, 17), (100, 75), (97, 131), (16, 60)]:
        bil = TF.resize(tensor, [h, w], antialias=True).numpy().transpose(1, 2, 0)
        arrays.append((f"resize.bilinear.{w}x{h}", bil.astype(np.float64)))
        arrays.append((f"resize.area.{w}x{h}", resize_area(photo, w, h)))
        near = F.interpolate(tensor[None], size=(h, w), mode="nearest-exact")[0]
        arrays.append((f"resize.nearest.{w}x{h}", near.numpy().transpose(1, 2, 0).astype(np.float64)))
    for w, h in [(32, 24), (33, 23), (31, 25), (63, 47), (70, 50)]:
        cc = TF.center_crop(tensor, [h, w]).numpy().transpose(1, 2, 0)
        arrays.append((f"center_crop.{w}x{h}", cc.astype(np.float64)))

    write_tnfx(os.path.join(out, "reference.tnfx"), arrays)

    # Files that must be refused with a message, never decoded or crashed on.
    for name in ["photo.png", "photo.jpg", "photo_progressive.jpg", "photo.bmp", "photo.gif",
                 "photo.ppm", "photo_interlaced.png"]:
        blob = open(os.path.join(out, name), "rb").read()
        stem, ext = os.path.splitext(name)
        for fraction in (0.5, 0.9):
            with open(os.path.join(bad, f"{stem}_cut{int(fraction * 100)}{ext}"), "wb") as f:
                f.write(blob[: int(len(blob) * fraction)])
    png = open(os.path.join(out, "photo.png"), "rb").read()
    jpg = open(os.path.join(out, "photo.jpg"), "rb").read()
    with open(os.path.join(bad, "empty.png"), "wb"):
        pass
    with open(os.path.join(bad, "garbage.png"), "wb") as f:
        f.write(bytes(range(256)) * 4)
    with open(os.path.join(bad, "header_only.png"), "wb") as f:
        f.write(png[:33])  # signature and IHDR, no image data
    damaged = bytearray(jpg)
    damaged[2:40] = b"\xff" * 38  # the markers after SOI become fill bytes
    with open(os.path.join(bad, "damaged_header.jpg"), "wb") as f:
        f.write(bytes(damaged))
    shutil.copyfile(os.path.join(data, "truncated.jpg"), os.path.join(bad, "skimage_truncated.jpg"))

    # Formats refused whatever their content (image.hpp: stb_image is their only decoder).
    refused = os.path.join(out, "refused")
    os.makedirs(refused, exist_ok=True)
    crop.save(os.path.join(refused, "photo.tga"))
    crop.save(os.path.join(refused, "photo_rle.tga"), compression="tga_rle")
    crop.convert("L").save(os.path.join(refused, "photo_gray.tga"))
    crop.convert("P").save(os.path.join(refused, "photo_palette.tga"))
    with open(os.path.join(refused, "tiny.psd"), "wb") as f:  # 1x1 RGB, raw
        f.write(b"8BPS" + struct.pack(">H6xHIIHH", 1, 3, 1, 1, 8, 3) + b"\0" * 12 +
                struct.pack(">H", 0) + b"\x10\x20\x30")
    with open(os.path.join(refused, "tiny.hdr"), "wb") as f:
        f.write(b"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 1 +X 1\n\x80\x80\x80\x81")
    with open(os.path.join(refused, "tiny.pic"), "wb") as f:
        f.write(b"\x53\x80\xf6\x34" + b"\0" * 84 + b"PICT" + struct.pack(">HH", 1, 1) +
                b"\0" * 8 + b"\x00\x08\x02\xe0" + b"\x10\x20\x30")

    hostile = os.path.join(out, "hostile")
    os.makedirs(hostile, exist_ok=True)
    tiny = io.BytesIO()
    crop.crop((0, 0, 8, 8)).save(tiny, format="JPEG", quality=90)
    write_hostile(hostile, tiny.getvalue())


if __name__ == "__main__":
    main()
