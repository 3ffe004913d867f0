#!/usr/bin/python3
"""Reference data for typenet's image tests (tests/test_image.cpp, suite `image`).

Usage: make_image_fixtures.py --out DIR

Writes into DIR/image/:

    photo.png, photo.jpg, ...   a 64x48 crop of skimage's chelsea.png (a real
                                photograph, Debian python3-skimage) in every
                                format typenet reads, written by PIL: PNG
                                (RGB, gray, RGBA, palette, 16-bit), JPEG
                                (baseline, progressive), BMP (RGB, palette,
                                RGBA), TGA (RGB, gray, RGBA, palette, RLE),
                                GIF, PPM, PGM; pixel.* are 1x1 images
    bad/...                     missing-data cases: truncated copies of each
                                format, an empty file, garbage, a PNG header
                                alone, a JPEG with a damaged header, and
                                skimage's own truncated.jpg
    reference.tnfx              the arrays below, in the TNFX format of
                                tools/make_fixtures.py (tests/fixtures.hpp reads it)

Arrays (float64 unless noted; images are H x W x C, values in [0, 1]):

    decoded.<file>      PIL's decoding of each good file, in the channels
                        stb_image gives (16-bit PNG: / 65535)
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
import os
import shutil
import warnings

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
    # name: (writer, the PIL mode whose decoding stb_image's must equal)
    files = {
        "photo.png": (lambda p: crop.save(p), "RGB"),
        "photo_gray.png": (lambda p: crop.convert("L").save(p), "L"),
        "photo_rgba.png": (lambda p: crop.convert("RGBA").save(p), "RGBA"),
        "photo_palette.png": (lambda p: crop.convert("P").save(p), "RGB"),
        "photo.bmp": (lambda p: crop.save(p), "RGB"),
        "photo_gray.bmp": (lambda p: crop.convert("L").save(p), "RGB"),  # a palette BMP
        "photo_rgba.bmp": (lambda p: crop.convert("RGBA").save(p), "RGBA"),
        "photo.tga": (lambda p: crop.save(p), "RGB"),
        "photo_rle.tga": (lambda p: crop.save(p, compression="tga_rle"), "RGB"),
        "photo_gray.tga": (lambda p: crop.convert("L").save(p), "L"),
        "photo_gray_rle.tga": (lambda p: crop.convert("L").save(p, compression="tga_rle"), "L"),
        "photo_rgba.tga": (lambda p: crop.convert("RGBA").save(p), "RGBA"),
        "photo_palette.tga": (lambda p: crop.convert("P").save(p), "RGB"),
        "photo.gif": (lambda p: crop.save(p), "RGBA"),
        "photo.ppm": (lambda p: crop.save(p), "RGB"),
        "photo.pgm": (lambda p: crop.convert("L").save(p), "L"),
        "pixel.png": (lambda p: pixel.save(p), "RGB"),
        "pixel.bmp": (lambda p: pixel.save(p), "RGB"),
        "pixel.tga": (lambda p: pixel.save(p), "RGB"),
        "photo.jpg": (lambda p: crop.save(p, quality=90), "RGB"),
        "photo_progressive.jpg": (lambda p: crop.save(p, quality=90, progressive=True), "RGB"),
    }
    arrays = []
    for name, (save, mode) in files.items():
        path = os.path.join(out, name)
        save(path)
        decoded = np.asarray(Image.open(path).convert(mode))
        if decoded.ndim == 2:
            decoded = decoded[..., None]
        arrays.append((f"decoded.{name}", decoded.astype(np.float64) / 255.0))
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
    for name in ["photo.png", "photo.jpg", "photo_progressive.jpg", "photo.bmp", "photo.tga",
                 "photo_rle.tga", "photo.ppm"]:
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


if __name__ == "__main__":
    main()
