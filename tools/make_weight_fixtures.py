#!/usr/bin/python3
"""Weight files written by PyTorch 1.13, for typenet's loader tests.

Usage: make_weight_fixtures.py --out DIR

Writes into DIR/weights, from fixed seeds, torchvision models with random weights in
the file formats users bring (torch.save zip, legacy torch.save, safetensors
written by the small writer below: 8-byte little-endian header length, JSON
header, raw data), plus for each a TNFX file (format: tools/make_fixtures.py)
with an input batch and the eval-mode output:

    resnet18.pth, resnet18_legacy.pth, resnet18.safetensors, resnet18_io.tnfx
    resnet34.pth, resnet34_io.tnfx
    alexnet_legacy.pth, alexnet_io.tnfx
    vgg16_legacy.pth, vgg16_io.tnfx
    colorization.pth, colorization_io.tnfx   the lecture's ColorizationNet
    unet.pth, unet_io.tnfx, unet_io_97x131.tnfx
                                             milesial/Pytorch-UNet (tools/unet.py), base 16
    trunk_io.tnfx                            resnet18.pth's first six children on a
                                             grayscale input, conv1 summed over channels
    resnet34_wrapped.pth                     {"state_dict": {"module." + key: ...}, "epoch": 3}
    hostile/deep_json.safetensors            a header of 60,000 nested JSON arrays (120 KB)
    hostile/nested_70.safetensors            an entry nested 70 levels deep (limit: 64)

Also: `--check FILE NETWORK` loads a safetensors file written by typenet into
the torchvision NETWORK (strict) and prints the eval output's sum, for the
test that PyTorch reads typenet's files.
"""

import argparse
import json
import os
import struct
import sys
from collections import OrderedDict

import torch
import torch.nn as nn
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import write_fixture  # noqa: E402
from unet import UNet  # noqa: E402  (the twin of models::UNet)

SAFETENSORS_DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.float16: "F16",
                      torch.bfloat16: "BF16", torch.int64: "I64"}


def write_safetensors(path, state, metadata=None):
    header, chunks, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, tensor in state.items():
        data = tensor.detach().contiguous().cpu()
        raw = data.view(torch.uint8).numpy().tobytes() if data.dim() > 0 else \
            data.reshape(1).view(torch.uint8).numpy().tobytes()
        header[name] = {"dtype": SAFETENSORS_DTYPES[data.dtype], "shape": list(data.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for c in chunks:
            f.write(c)


def read_safetensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    names = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64}
    state = OrderedDict()
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        raw = bytearray(blob[8 + n + begin:8 + n + end])
        t = torch.frombuffer(raw, dtype=names[entry["dtype"]]).reshape(entry["shape"])
        state[name] = t.clone()
    return state, header.get("__metadata__", {})


def colorization_net():
    """The lecture's ColorizationNet, built exactly as its notebook does."""
    resnet = torchvision.models.resnet18(weights=None)
    resnet.conv1.weight = nn.Parameter(resnet.conv1.weight.sum(dim=1).unsqueeze(1))
    net = nn.Module()
    net.midlevel_resnet = nn.Sequential(*list(resnet.children())[0:6])
    net.upsample = nn.Sequential(
        nn.Conv2d(128, 128, kernel_size=3, stride=1, padding=1), nn.BatchNorm2d(128), nn.ReLU(),
        nn.Upsample(scale_factor=2),
        nn.Conv2d(128, 64, kernel_size=3, stride=1, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
        nn.Conv2d(64, 64, kernel_size=3, stride=1, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
        nn.Upsample(scale_factor=2),
        nn.Conv2d(64, 32, kernel_size=3, stride=1, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
        nn.Conv2d(32, 2, kernel_size=3, stride=1, padding=1), nn.Upsample(scale_factor=2))
    net.forward = lambda x: net.upsample(net.midlevel_resnet(x))
    return net


def randomize_buffers(model, seed):
    """Non-trivial running statistics, so eval mode really uses them."""
    gen = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=gen) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=gen) * 0.5 + 0.75)
            m.weight.data.copy_(torch.rand(m.num_features, generator=gen) * 0.5 + 0.75)
            m.bias.data.copy_(torch.randn(m.num_features, generator=gen) * 0.1)
            m.num_batches_tracked.fill_(7)


def io_case(path, model, shape, seed):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(*shape, generator=gen)
    model.eval()
    with torch.no_grad():
        y = model(x)
    write_fixture(path, [("input", x), ("output", y)])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out")
    parser.add_argument("--check", nargs=2, metavar=("FILE", "NETWORK"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.check:
        state, metadata = read_safetensors(args.check[0])
        model = getattr(torchvision.models, args.check[1])(weights=None)
        model.load_state_dict(state, strict=True)
        model.eval()
        x = torch.linspace(-1, 1, 3 * 64 * 64).reshape(1, 3, 64, 64)
        with torch.no_grad():
            print("typenet.network" in metadata, float(model(x).double().sum()))
        return
    out = os.path.join(args.out, "weights")
    os.makedirs(out, exist_ok=True)

    torch.manual_seed(18)
    resnet18 = torchvision.models.resnet18(weights=None)
    randomize_buffers(resnet18, 18)
    torch.save(resnet18.state_dict(), os.path.join(out, "resnet18.pth"))
    torch.save(resnet18.state_dict(), os.path.join(out, "resnet18_legacy.pth"),
               _use_new_zipfile_serialization=False)
    write_safetensors(os.path.join(out, "resnet18.safetensors"), resnet18.state_dict())
    io_case(os.path.join(out, "resnet18_io.tnfx"), resnet18, (2, 3, 224, 224), 1)
    # Any size, as torchvision allows (AdaptiveAvgPool2d before the head).
    for seed, (h, w) in enumerate(((97, 131), (225, 301), (64, 333)), start=11):
        io_case(os.path.join(out, f"resnet18_io_{h}x{w}.tnfx"), resnet18, (1, 3, h, w), seed)

    # The lecture's trunk from the plain checkpoint: first six children, conv1 summed.
    trunk = nn.Sequential(*list(resnet18.children())[0:6])
    trunk[0].weight = nn.Parameter(trunk[0].weight.sum(dim=1, keepdim=True))
    io_case(os.path.join(out, "trunk_io.tnfx"), trunk, (1, 1, 64, 64), 2)

    torch.manual_seed(34)
    resnet34 = torchvision.models.resnet34(weights=None)
    randomize_buffers(resnet34, 34)
    torch.save(resnet34.state_dict(), os.path.join(out, "resnet34.pth"))
    io_case(os.path.join(out, "resnet34_io.tnfx"), resnet34, (1, 3, 224, 224), 3)
    wrapped = {"state_dict": OrderedDict(("module." + k, v) for k, v in resnet34.state_dict().items()),
               "epoch": 3, "best_acc1": 0.5}
    torch.save(wrapped, os.path.join(out, "resnet34_wrapped.pth"))

    torch.manual_seed(7)
    alexnet = torchvision.models.alexnet(weights=None)
    torch.save(alexnet.state_dict(), os.path.join(out, "alexnet_legacy.pth"),
               _use_new_zipfile_serialization=False)
    io_case(os.path.join(out, "alexnet_io.tnfx"), alexnet, (1, 3, 224, 224), 4)
    io_case(os.path.join(out, "alexnet_io_97x131.tnfx"), alexnet, (1, 3, 97, 131), 14)

    torch.manual_seed(16)
    vgg16 = torchvision.models.vgg16(weights=None)
    torch.save(vgg16.state_dict(), os.path.join(out, "vgg16_legacy.pth"),
               _use_new_zipfile_serialization=False)
    io_case(os.path.join(out, "vgg16_io.tnfx"), vgg16, (1, 3, 224, 224), 5)
    io_case(os.path.join(out, "vgg16_io_65x97.tnfx"), vgg16, (1, 3, 65, 97), 15)

    torch.manual_seed(224)
    colorizer = colorization_net()
    randomize_buffers(colorizer, 224)
    torch.save(colorizer.state_dict(), os.path.join(out, "colorization.pth"))
    io_case(os.path.join(out, "colorization_io.tnfx"), colorizer, (2, 1, 64, 64), 6)

    # milesial/Pytorch-UNet's architecture and keys (tools/unet.py) at a
    # quarter of its width; at 97x131 each decoder level pads to its skip.
    torch.manual_seed(25)
    unet = UNet(3, 2, base=16)
    randomize_buffers(unet, 25)
    torch.save(unet.state_dict(), os.path.join(out, "unet.pth"))
    io_case(os.path.join(out, "unet_io.tnfx"), unet, (2, 3, 64, 64), 7)
    io_case(os.path.join(out, "unet_io_97x131.tnfx"), unet, (1, 3, 97, 131), 17)

    write_hostile_files(os.path.join(out, "hostile"))


def write_hostile_files(out):
    """Crafted files that attack the reader rather than describe weights."""
    os.makedirs(out, exist_ok=True)

    def raw_safetensors(path, header):
        header += " " * (-len(header) % 8)
        with open(path, "wb") as f:
            f.write(struct.pack("<Q", len(header)) + header.encode())

    # 60,000 nested arrays in 120 KB: a JSON tree built from it recurses once
    # per level and overflowed the stack before the depth limit.
    depth = 60000
    raw_safetensors(os.path.join(out, "deep_json.safetensors"),
                    '{"a":' + "[" * depth + "]" * depth + "}")
    # 70 levels inside an entry: over the default limit of 64, valid JSON
    # otherwise, so a raised limit lets the reader go on to the entry itself.
    raw_safetensors(os.path.join(out, "nested_70.safetensors"),
                    '{"a":{"dtype":"F32","shape":[],"data_offsets":[0,0],"x":'
                    + "[" * 68 + "]" * 68 + "}}")


if __name__ == "__main__":
    main()
