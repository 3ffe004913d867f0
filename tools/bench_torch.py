#!/usr/bin/python3
"""The PyTorch side of bench/compare.py: the workloads of bench/workloads.cpp.

Prints one JSON object: {"threads": n, "results": {name: [seconds, ...]}},
the wall time of each timed repetition. The thread count is set with
torch.set_num_threads; run it with OPENBLAS_NUM_THREADS=1 (compare.py does)
so OpenBLAS does not start threads of its own under PyTorch's.
"""
import argparse
import gzip
import json
import os
import re
import struct
import time

import numpy as np
import torch
from torch import nn
import torchvision


def timed(fn, seconds, min_reps=3, max_reps=50):
    """Wall time of each call of fn, after one warm-up call, for about `seconds`."""
    fn()
    times = []
    start = time.perf_counter()
    while len(times) < min_reps or (time.perf_counter() - start < seconds and len(times) < max_reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return times


def gemm_ceiling():
    a, b = torch.rand(1536, 1536), torch.rand(1536, 1536)
    return lambda: torch.mm(a, b)


def inference(arch, batch):
    model = getattr(torchvision.models, arch)().eval()
    x = torch.randn(batch, 3, 224, 224)

    def run():
        with torch.no_grad():
            model(x)
    return run


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        magic = struct.unpack(">I", f.read(4))[0]
        dims = struct.unpack(">" + "I" * (magic & 0xFF), f.read(4 * (magic & 0xFF)))
        return np.frombuffer(f.read(), dtype=np.uint8).reshape(dims)


def find(folder, stem):
    for name in (stem, stem + ".gz"):
        if os.path.exists(os.path.join(folder, name)):
            return os.path.join(folder, name)
    raise FileNotFoundError(os.path.join(folder, stem))


def lenet():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


class ByteImages(torch.utils.data.Dataset):
    """Fashion-MNIST as the IDX bytes, converted per image like typenet's loader."""

    def __init__(self, images, labels):
        self.images, self.labels = torch.from_numpy(images.copy()), torch.from_numpy(labels.astype(np.int64))

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return self.images[i].unsqueeze(0).float().div_(255), self.labels[i]


def lenet_epoch(folder):
    images = read_idx(find(folder, "train-images-idx3-ubyte"))
    labels = read_idx(find(folder, "train-labels-idx1-ubyte"))
    loader = torch.utils.data.DataLoader(ByteImages(images, labels), batch_size=64, shuffle=True)
    model = lenet().train()
    sgd = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss = nn.CrossEntropyLoss()

    def run():
        for x, y in loader:
            sgd.zero_grad()
            loss(model(x), y).backward()
            sgd.step()
    return run


class ColorizationNet(nn.Module):
    """The lecture's network (as in tools/make_weight_fixtures.py)."""

    def __init__(self):
        super().__init__()
        resnet = torchvision.models.resnet18()
        resnet.conv1.weight = nn.Parameter(resnet.conv1.weight.sum(dim=1).unsqueeze(1))
        self.midlevel_resnet = nn.Sequential(*list(resnet.children())[0:6])
        self.upsample = nn.Sequential(
            nn.Conv2d(128, 128, 3, padding=1), nn.BatchNorm2d(128), nn.ReLU(), nn.Upsample(scale_factor=2),
            nn.Conv2d(128, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
            nn.Conv2d(64, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.Upsample(scale_factor=2),
            nn.Conv2d(64, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
            nn.Conv2d(32, 2, 3, padding=1), nn.Upsample(scale_factor=2))

    def forward(self, x):
        return self.upsample(self.midlevel_resnet(x))


def mse_adam_step(model, x, target):
    """One training step: forward, MSE against target, backward, Adam."""
    model = model.train()
    adam = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss = nn.MSELoss()

    def run():
        adam.zero_grad()
        loss(model(x), target).backward()
        adam.step()
    return run


def colorize_step(batch, size):
    return mse_adam_step(ColorizationNet(), torch.randn(batch, 1, size, size),
                         0.3 * torch.randn(batch, 2, size, size))


def unet_step(batch, size):
    from unet import UNet  # tools/unet.py, milesial/Pytorch-UNet's architecture

    return mse_adam_step(UNet(3, 2), torch.randn(batch, 3, size, size),
                         0.3 * torch.randn(batch, 2, size, size))


def layer(module, shape, backward):
    module = module.train()
    x = torch.randn(8, *shape, requires_grad=backward)
    dy = torch.randn_like(module(x))

    def run():
        y = module(x)
        if backward:
            module.zero_grad()
            x.grad = None
            y.backward(dy)
    return run


def workloads(fashion):
    w = {
        "gemm_ceiling": gemm_ceiling,
        "resnet18_b1": lambda: inference("resnet18", 1),
        "resnet18_b8": lambda: inference("resnet18", 8),
        "resnet34_b1": lambda: inference("resnet34", 1),
        "colorize_b8_224": lambda: colorize_step(8, 224),
        "colorize_b16_64": lambda: colorize_step(16, 64),
        "unet_b8_128": lambda: unet_step(8, 128),
    }
    if os.path.isdir(fashion):
        w["lenet_epoch"] = lambda: lenet_epoch(fashion)
    layers = {
        "conv3x3_64_56": (lambda: nn.Conv2d(64, 64, 3, padding=1), (64, 56, 56)),
        "convT_64_32_28": (lambda: nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1), (64, 28, 28)),
        "maxpool_64_112": (lambda: nn.MaxPool2d(2), (64, 112, 112)),
        "bnrelu_64_112": (lambda: nn.Sequential(nn.BatchNorm2d(64), nn.ReLU()), (64, 112, 112)),
    }
    for name, (make, shape) in layers.items():
        w[name + "_fwd"] = lambda make=make, shape=shape: layer(make(), shape, False)
        w[name + "_fwdbwd"] = lambda make=make, shape=shape: layer(make(), shape, True)
    return w


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--filter", default="", help="regular expression on workload names")
    parser.add_argument("--seconds", type=float, default=2.0, help="time budget per workload")
    parser.add_argument("--fashion", default="/usr/share/datasets/fashion-mnist")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    results = {}
    for name, make in workloads(args.fashion).items():
        if args.filter and not re.search(args.filter, name):
            continue
        fn = make()
        if name == "lenet_epoch":  # one epoch is long enough to time once
            results[name] = [timed(fn, 0, min_reps=1, max_reps=1)[0]]
        else:
            results[name] = timed(fn, args.seconds)
    print(json.dumps({"threads": args.threads, "results": results}))


if __name__ == "__main__":
    main()
