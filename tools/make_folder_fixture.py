#!/usr/bin/python3
"""A tiny image-folder dataset and a random ResNet-18 checkpoint for classify_folder's test.

Usage: make_folder_fixture.py --out DIR

Writes:

    DIR/train/indoor/*.jpg, DIR/valid/indoor/*.jpg crops of skimage's chelsea.png (a cat)
                                                   and coffee.png (Debian python3-skimage)
    DIR/train/nature/*.png, DIR/valid/nature/*.png crops of GreenMeadow.jpg and Aqua.jpg
                                                   (Debian mate-backgrounds)
    DIR/resnet18-random.pth                        torchvision.models.resnet18()'s
                                                   state_dict from torch.manual_seed(0),
                                                   saved with torch.save (nothing downloaded)

Two visually distinct classes of real photographs: training crops come from
the left 60% of each photo, validation crops from the right 40%, so the
validation images are regions the network never saw. 6 training and 3
validation images per class, 128x128, so the test runs in seconds. With
these photos even a random ResNet-18's features separate the classes
(checked in PyTorch: a linear head reaches 3/3 + 3/3 on valid).
"""
import argparse
import pathlib
import random

import torch
import torchvision
from PIL import Image

SKIMAGE = pathlib.Path("/usr/lib/python3/dist-packages/skimage/data")
MATE = pathlib.Path("/usr/share/backgrounds/mate/nature")
CLASSES = {
    "indoor": ([SKIMAGE / "chelsea.png", SKIMAGE / "coffee.png"], "jpg"),
    "nature": ([MATE / "GreenMeadow.jpg", MATE / "Aqua.jpg"], "png"),
}
TRAIN, VALID, SIDE = 6, 3, 128


def crops(photo, count, left, right, rng):
    """`count` random square crops whose x range lies in [left, right) of the width."""
    w, h = photo.size
    out = []
    for _ in range(count):
        side = int(min(h, (right - left) * w) * rng.uniform(0.5, 0.9))
        x = rng.randint(int(left * w), int(right * w) - side)
        y = rng.randint(0, h - side)
        out.append(photo.crop((x, y, x + side, y + side)).resize((SIDE, SIDE), Image.BILINEAR))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=pathlib.Path)
    args = parser.parse_args()
    rng = random.Random(1)
    for name, (files, ext) in CLASSES.items():
        photos = [Image.open(f).convert("RGB") for f in files]
        for split, count, left, right in (("train", TRAIN, 0.0, 0.6), ("valid", VALID, 0.6, 1.0)):
            folder = args.out / split / name
            folder.mkdir(parents=True, exist_ok=True)
            for old in folder.iterdir():
                old.unlink()
            per_photo = [count // len(photos) + (i < count % len(photos)) for i in range(len(photos))]
            images = [c for p, n in zip(photos, per_photo) for c in crops(p, n, left, right, rng)]
            for i, image in enumerate(images):
                image.save(folder / f"{i}.{ext}")
    torch.manual_seed(0)
    torch.save(torchvision.models.resnet18().state_dict(), args.out / "resnet18-random.pth")


if __name__ == "__main__":
    main()
