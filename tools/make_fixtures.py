#!/usr/bin/python3
"""Reference data from PyTorch 1.13 for typenet's parity and training tests.

Usage: make_fixtures.py --out DIR [--only NAME ...]

Writes one file DIR/<case>.tnfx per case, from fixed seeds, in one run (the
import of torch dominates the time). tests/layers/test_parity.cpp and
tests/train/test_training.cpp read them through tests/fixtures.hpp; each C++ test
case spells the same network as a type, and the module built here is written
next to it in a comment there, so the two can be checked side by side.

File format (all integers little-endian):

    magic   4 bytes  b"TNFX"
    version u32      1
    count   u32      number of tensors
    count times:
        name_len u32, name (name_len bytes, UTF-8)
        dtype    u8   0 = float32, 1 = float64, 2 = int64
        ndim     u8
        dims     ndim x i64
        data     prod(dims) elements, little-endian, C order (a 0-d tensor holds one)

Tensor names in a parity case:

    input                  the input batch (N x sample shape)
    state.<key>            every entry of the module's state_dict before the
                           forward (parameters and buffers, under PyTorch's keys)
    output                 the forward output (output.<i> for each of several outputs)
    grad_output            a random gradient of the loss with respect to the output
                           (grad_output.<i>)
    grad_input             the gradient with respect to the input
    grad.<key>             the gradient of every parameter
    state_after.<key>      every buffer after the forward (only in train mode,
                           where BatchNorm updates its running statistics)
    train                  int64 0-d: 1 when the module ran in train mode

A training case (3 SGD steps from the same weights on the same batches):

    state.<key>            the initial state_dict
    sgd                    float64 [lr, momentum, dampening, weight_decay, nesterov]
    step<k>.input          the batch of step k (k = 0, 1, 2)
    step<k>.labels         int64 class labels (cross-entropy) or
    step<k>.target         float32 target (MSE)
    step<k>.loss           float64 0-d: the loss computed in step k, before its update
    final.<key>            the state_dict after the last step
"""

import argparse
import copy
import os
import struct
import sys
import time
from collections import OrderedDict

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from unet import UNet, pad_like  # noqa: E402  (tools/unet.py, the twin of models::UNet)

# torch dtype -> (code in the file, little-endian numpy type)
DTYPES = {torch.float32: (0, "<f4"), torch.float64: (1, "<f8"), torch.int64: (2, "<i8")}


def write_fixture(path, tensors):
    """tensors: list of (name, torch.Tensor)."""
    parts = [b"TNFX", struct.pack("<II", 1, len(tensors))]
    for name, t in tensors:
        t = t.detach().cpu().contiguous()
        if t.dtype not in DTYPES:
            raise TypeError(f"{name}: unsupported dtype {t.dtype}")
        code, numpy_type = DTYPES[t.dtype]
        encoded = name.encode("utf-8")
        parts.append(struct.pack("<I", len(encoded)))
        parts.append(encoded)
        parts.append(struct.pack("<BB", code, t.dim()))
        parts.append(struct.pack(f"<{t.dim()}q", *t.shape))
        parts.append(t.numpy().astype(numpy_type, copy=False).tobytes())
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(b"".join(parts))
    os.replace(tmp, path)


def randomize_batch_norm(module, gen):
    """Non-trivial affine parameters and running statistics for every BatchNorm."""
    for m in module.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            with torch.no_grad():
                m.weight.copy_(torch.rand(m.weight.shape, generator=gen) + 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.5)
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=gen) * 0.3)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=gen) + 0.5)
                m.num_batches_tracked.fill_(3)


def state_tensors(prefix, module):
    return [(prefix + k, v.clone()) for k, v in module.state_dict().items()]


# ---- parity cases --------------------------------------------------------------------------
#
# name -> (factory of the module, sample shape, batch size, train mode).
# The C++ type of each is in tests/layers/test_parity.cpp under the same name.


def basic_block(inplanes, planes, stride):
    from torchvision.models.resnet import BasicBlock

    downsample = None
    if stride != 1 or inplanes != planes:
        downsample = nn.Sequential(
            nn.Conv2d(inplanes, planes, 1, stride=stride, bias=False), nn.BatchNorm2d(planes)
        )
    return BasicBlock(inplanes, planes, stride=stride, downsample=downsample)


class Cat(nn.ModuleList):
    """typenet's Concat<...>: every branch on the input, joined along the channels."""

    def forward(self, x):
        return torch.cat([m(x) for m in self], dim=1)


class Add(nn.ModuleList):
    """typenet's Sum<...>: every branch on the input, added."""

    def forward(self, x):
        return sum(m(x) for m in self)


class SkipNet(nn.Module):
    """An output read by two later layers, across a pooled and a padded path:

    Sequential<Named<"a", Conv2d<3, 3, Padding<1>>>,
               Named<"b", Sequential<MaxPool2d<2>, Conv2d<4, 3, Padding<1>>>>,
               ConvTranspose2d<3, 2, Stride<2>>, Concat<From<"a">, PadLike<"a">>,
               Sum<From<"a">, Conv2d<3, 1>>, Named<"last", Conv2d<2, 3, Padding<1>>>>
    """

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(2, 3, 3, padding=1)
        self.b = nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(3, 4, 3, padding=1))
        self.add_module("2", nn.ConvTranspose2d(4, 3, 2, stride=2))
        self.add_module("4", nn.ModuleList([nn.Identity(), nn.Conv2d(6, 3, 1)]))
        self.last = nn.Conv2d(3, 2, 3, padding=1)

    def forward(self, x):
        a = self.a(x)
        u = pad_like(getattr(self, "2")(self.b(a)), a)
        s = a + getattr(self, "4")[1](torch.cat([a, u], dim=1))
        return self.last(s)


class TwoHeads(nn.Module):
    """A classifier and a per-pixel head on one trunk, `return cls(f), seg(f)`:

    Sequential<Named<"trunk", Sequential<Conv2d<4, 3, Padding<1>>, BatchNorm2d, ReLU>>,
               Heads<Named<"cls", Sequential<AdaptiveAvgPool2d<1>, Flatten, Linear<3>>>,
                     Named<"seg", Conv2d<2, 1>>>>
    """

    def __init__(self):
        super().__init__()
        self.trunk = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU())
        heads = nn.Module()
        heads.cls = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3))
        heads.seg = nn.Conv2d(4, 2, 1)
        self.add_module("1", heads)

    def forward(self, x):
        f = self.trunk(x)
        heads = getattr(self, "1")
        return heads.cls(f), heads.seg(f)


PARITY_CASES = {
    # Conv2d
    "conv_basic": (lambda: nn.Conv2d(3, 4, 3), (3, 7, 7), 3, False),
    "conv_kernel_stride_padding_hw": (
        lambda: nn.Conv2d(3, 5, (3, 5), stride=(2, 3), padding=(1, 2)), (3, 9, 11), 1, False),
    "conv_dilation": (lambda: nn.Conv2d(2, 4, 3, padding=2, dilation=(2, 3)), (2, 9, 10), 3, False),
    "conv_groups_nobias": (
        lambda: nn.Conv2d(4, 6, 3, stride=2, groups=2, bias=False), (4, 7, 8), 3, False),
    "conv_depthwise": (lambda: nn.Conv2d(4, 4, 3, padding=1, groups=4), (4, 6, 5), 1, False),
    "conv_stride_gt_kernel": (lambda: nn.Conv2d(2, 3, 2, stride=3), (2, 8, 7), 3, False),
    "conv_pointwise_nobias": (lambda: nn.Conv2d(6, 8, 1, bias=False), (6, 5, 7), 3, False),
    # Large enough for the CPU kernels to fork threads and block their GEMMs.
    "conv_large": (lambda: nn.Conv2d(8, 16, 3, padding=1), (8, 24, 20), 3, False),
    # ConvTranspose2d
    "convt_basic": (lambda: nn.ConvTranspose2d(4, 3, 3), (4, 5, 5), 3, False),
    "convt_stride_output_padding_hw": (
        lambda: nn.ConvTranspose2d(3, 2, (3, 4), stride=(2, 3), padding=(1, 0),
                                   output_padding=(1, 2)), (3, 4, 5), 1, False),
    "convt_dilation_groups_nobias": (
        lambda: nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, dilation=2, groups=2,
                                   bias=False), (4, 5, 6), 3, False),
    "convt_stride_gt_kernel": (lambda: nn.ConvTranspose2d(2, 3, 2, stride=3), (2, 4, 3), 3, False),
    # MaxPool2d
    "maxpool_basic": (lambda: nn.MaxPool2d(2), (3, 8, 8), 3, False),
    "maxpool_odd_ceil": (lambda: nn.MaxPool2d(3, stride=2, ceil_mode=True), (2, 8, 9), 3, False),
    "maxpool_hw_padding_dilation": (
        lambda: nn.MaxPool2d((3, 2), stride=(2, 1), padding=(1, 1), dilation=(2, 1)), (2, 9, 7),
        1, False),
    "maxpool_stride_gt_kernel": (lambda: nn.MaxPool2d(2, stride=3), (2, 8, 8), 3, False),
    "maxpool_padding_ceil": (
        lambda: nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True), (2, 6, 7), 3, False),
    "maxpool_large_stem": (lambda: nn.MaxPool2d(3, stride=2, padding=1), (8, 32, 30), 3, False),
    # AvgPool2d (count_include_pad=True)
    "avgpool_basic": (lambda: nn.AvgPool2d(2), (3, 6, 7), 3, False),
    "avgpool_padding_ceil": (
        lambda: nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True), (2, 8, 9), 3, False),
    "avgpool_hw_stride_gt_kernel": (lambda: nn.AvgPool2d((2, 3), stride=(3, 1)), (2, 7, 8), 1,
                                    False),
    # AdaptiveAvgPool2d
    "adaptive_avgpool_uneven": (lambda: nn.AdaptiveAvgPool2d((3, 2)), (2, 7, 5), 3, False),
    "adaptive_avgpool_global": (lambda: nn.AdaptiveAvgPool2d(1), (3, 4, 5), 1, False),
    # BatchNorm
    "bn2d_train": (lambda: nn.BatchNorm2d(3), (3, 5, 4), 3, True),
    "bn2d_train_batch1": (lambda: nn.BatchNorm2d(2), (2, 3, 3), 1, True),
    "bn2d_eval": (lambda: nn.BatchNorm2d(3), (3, 5, 4), 3, False),
    "bn2d_train_large": (lambda: nn.BatchNorm2d(16), (16, 20, 20), 3, True),
    "bn1d_train": (lambda: nn.BatchNorm1d(5), (5,), 3, True),
    "bn1d_train_length": (lambda: nn.BatchNorm1d(4), (4, 6), 3, True),
    "bn1d_eval": (lambda: nn.BatchNorm1d(5), (5,), 1, False),
    # Activations
    "relu": (lambda: nn.ReLU(), (3, 5, 4), 3, False),
    "leaky_relu_default": (lambda: nn.LeakyReLU(), (2, 4, 5), 3, False),
    "leaky_relu_one_fifth": (lambda: nn.LeakyReLU(0.2), (7,), 3, False),
    "sigmoid": (lambda: nn.Sigmoid(), (2, 3, 4), 3, False),
    "tanh": (lambda: nn.Tanh(), (6,), 1, False),
    # Softmax over dim 1
    "softmax_flat": (lambda: nn.Softmax(dim=1), (7,), 3, False),
    "softmax_image": (lambda: nn.Softmax(dim=1), (4, 3, 5), 3, False),
    "logsoftmax_flat": (lambda: nn.LogSoftmax(dim=1), (10,), 1, False),
    "logsoftmax_image": (lambda: nn.LogSoftmax(dim=1), (3, 4, 2), 3, False),
    "softmax_image_large": (lambda: nn.Softmax(dim=1), (10, 16, 16), 3, False),
    # Dropout: the identity in eval mode (train mode is checked statistically in C++)
    "dropout_eval": (lambda: nn.Dropout(0.5), (2, 3, 4), 3, False),
    # Upsample
    "upsample_nearest_2": (lambda: nn.Upsample(scale_factor=2), (2, 3, 4), 3, False),
    "upsample_nearest_2_3": (lambda: nn.Upsample(scale_factor=(2, 3)), (2, 3, 4), 1, False),
    # rows wider than a vector with a tail, for the vectorized factor-2 loops
    "upsample_nearest_large": (lambda: nn.Upsample(scale_factor=2), (3, 5, 37), 3, False),
    "upsample_nearest_3_2_large": (lambda: nn.Upsample(scale_factor=(3, 2)), (2, 4, 21), 2,
                                   False),
    "upsample_bilinear_2": (
        lambda: nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False), (2, 4, 5), 3,
        False),
    "upsample_bilinear_3_2": (
        lambda: nn.Upsample(scale_factor=(3, 2), mode="bilinear", align_corners=False),
        (2, 3, 4), 3, False),
    "upsample_bilinear_large": (
        lambda: nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False), (4, 20, 18),
        3, False),
    # Linear
    "linear": (lambda: nn.Linear(7, 5), (7,), 3, False),
    "linear_nobias": (lambda: nn.Linear(6, 4, bias=False), (6,), 1, False),
    "linear_large": (lambda: nn.Linear(300, 200), (300,), 3, False),
    # Containers
    "identity": (lambda: nn.Identity(), (2, 3, 3), 1, False),
    "flatten_linear": (lambda: nn.Sequential(nn.Conv2d(2, 2, 3), nn.Flatten(), nn.Linear(12, 3)),
                       (2, 5, 4), 3, False),
    "named_nested_train": (
        lambda: nn.Sequential(
            OrderedDict(
                features=nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4),
                                       nn.ReLU(), nn.MaxPool2d(2)),
                flatten=nn.Flatten(),
                fc=nn.Linear(36, 3))), (2, 6, 6), 3, True),
    "basic_block_identity_eval": (lambda: basic_block(4, 4, 1), (4, 5, 5), 3, False),
    "basic_block_downsample_train": (lambda: basic_block(3, 6, 2), (3, 7, 6), 3, True),
    # Merges and reaching back by name (typenet's Concat, Sum, From, PadLike)
    "concat_three_branches": (
        lambda: Cat([nn.Conv2d(3, 4, 3, padding=1), nn.Sequential(nn.Conv2d(3, 2, 1), nn.ReLU()),
                     nn.Identity()]), (3, 6, 5), 3, False),
    "sum_three_branches_train": (
        lambda: Add([nn.Sequential(nn.Conv2d(3, 3, 3, padding=1, bias=False), nn.BatchNorm2d(3)),
                     nn.Sequential(nn.Conv2d(3, 3, 1), nn.Sigmoid()), nn.Identity()]),
        (3, 5, 6), 3, True),
    "skip_two_consumers": (SkipNet, (2, 7, 9), 2, False),
    "unet_small_train": (lambda: UNet(3, 2, base=4), (3, 32, 32), 2, True),
    "two_heads_train": (TwoHeads, (3, 6, 7), 3, True),
    # Constructor options beyond the defaults
    "avgpool_exclude_pad": (
        lambda: nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
        (2, 8, 9), 3, False),
    "avgpool_divisor_override": (
        lambda: nn.AvgPool2d((2, 3), stride=(3, 1), padding=(1, 1), divisor_override=5),
        (2, 7, 8), 1, False),
    "bn2d_eps_momentum_train": (lambda: nn.BatchNorm2d(3, eps=1e-3, momentum=0.01), (3, 5, 4), 3,
                                True),
    "bn1d_eps_momentum_train": (lambda: nn.BatchNorm1d(5, eps=0.01, momentum=0.3), (5,), 3, True),
}

# Odd sizes for models of dynamic extents (Shape<C, dyn, dyn>): test case
# parity/dyn_<name> runs one model over "dyn_<name>_<H>x<W>" at every size
# and, where a case above has the same module and channels, over "<name>" too.
DYNAMIC_SIZES = {"97x131": ((97, 131), 2), "225x301": ((225, 301), 1),
                 "45x71": ((45, 71), 2)}  # (H, W), batch
BOTH = ("97x131", "225x301")
SMALL = ("97x131",)
DYNAMIC_CASES = {
    "conv_kernel_stride_padding_hw": (
        lambda: nn.Conv2d(3, 5, (3, 5), stride=(2, 3), padding=(1, 2)), 3, False, BOTH),
    "conv_dilation_groups_nobias": (
        lambda: nn.Conv2d(4, 6, 3, stride=2, padding=2, dilation=(2, 3), groups=2, bias=False), 4,
        False, SMALL),
    "convt_stride_output_padding_hw": (
        lambda: nn.ConvTranspose2d(3, 2, (3, 4), stride=(2, 3), padding=(1, 0),
                                   output_padding=(1, 2)), 3, False, BOTH),
    "maxpool_padding_ceil": (lambda: nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True), 2,
                             False, BOTH),
    "maxpool_hw_padding_dilation": (
        lambda: nn.MaxPool2d((3, 2), stride=(2, 1), padding=(1, 1), dilation=(2, 1)), 2, False,
        SMALL),
    "avgpool_padding_ceil": (lambda: nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True), 2,
                             False, BOTH),
    "adaptive_avgpool_uneven": (lambda: nn.AdaptiveAvgPool2d((3, 2)), 2, False, BOTH),
    "bn2d_train": (lambda: nn.BatchNorm2d(3), 3, True, BOTH),
    "bn2d_eval": (lambda: nn.BatchNorm2d(3), 3, False, SMALL),
    "activations": (lambda: nn.Sequential(nn.LeakyReLU(0.2), nn.Sigmoid(), nn.ReLU(), nn.Tanh()),
                    2, False, SMALL),
    "softmax_image": (lambda: nn.Softmax(dim=1), 4, False, SMALL),
    "logsoftmax_image": (lambda: nn.LogSoftmax(dim=1), 3, False, SMALL),
    "dropout_eval": (lambda: nn.Dropout(0.5), 2, False, SMALL),
    "identity": (lambda: nn.Identity(), 2, False, SMALL),
    "upsample_nearest_2_3": (lambda: nn.Upsample(scale_factor=(2, 3)), 2, False, BOTH),
    "upsample_bilinear_2": (
        lambda: nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False), 2, False, BOTH),
    "basic_block_downsample_train": (lambda: basic_block(3, 6, 2), 3, True, BOTH),
    "encoder_decoder_train": (
        lambda: nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8),
                              nn.ReLU(),
                              nn.MaxPool2d(2), nn.Conv2d(8, 8, 3, padding=1),
                              nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
                              nn.Conv2d(8, 2, 1)), 3, True, BOTH),
    "skip_two_consumers": (SkipNet, 2, False, BOTH),
    # 45x71 pads at every level of the decoder; 97x131 at two
    "unet_small_train": (lambda: UNet(3, 2, base=4), 3, True, ("97x131", "45x71")),
    "pooled_classifier": (
        lambda: nn.Sequential(nn.Conv2d(3, 4, 3, stride=2), nn.AdaptiveAvgPool2d(1),
                              nn.Flatten(), nn.Linear(4, 5)), 3, False, BOTH),
}
for _name, (_factory, _channels, _train, _sizes) in DYNAMIC_CASES.items():
    for _size in _sizes:
        (_h, _w), _batch = DYNAMIC_SIZES[_size]
        PARITY_CASES[f"dyn_{_name}_{_size}"] = (_factory, (_channels, _h, _w), _batch, _train)


# A ReLU input this close to 0 may have the other sign in float32 in typenet
# (another summation order), flipping its gradient: such a draw is redrawn.
# (Networks with ~10^6 ReLU inputs, the U-Nets, have a few below 1e-5 in
# most draws.)
RELU_TIE = 1e-5


def smallest_relu_input(module, x):
    """The smallest |input| of any ReLU of `module` on `x` (inf without ReLUs)."""
    smallest = [float("inf")]

    def record(_, inputs):
        smallest[0] = min(smallest[0], inputs[0].detach().abs().min().item())

    hooks = [m.register_forward_pre_hook(record) for m in module.modules()
             if isinstance(m, nn.ReLU)]
    with torch.no_grad():
        module(x.clone())
    for h in hooks:
        h.remove()
    return smallest[0]


def make_parity_case(index, factory, sample_shape, batch, train):
    # Redraw (new seeds) while a ReLU input lies within RELU_TIE of 0; the
    # first draw is kept whenever it is clear, as in the cases of few ReLUs.
    for attempt in range(2000):
        seed = index + 100000 * attempt
        torch.manual_seed(1000 + seed)
        gen = torch.Generator().manual_seed(2000 + seed)
        module = factory()
        randomize_batch_norm(module, gen)
        module.train(train)
        x = torch.randn((batch,) + tuple(sample_shape), generator=gen)
        state = copy.deepcopy(module.state_dict())
        if smallest_relu_input(module, x) > RELU_TIE:
            if attempt and os.environ.get("TYPENET_FIXTURE_VERBOSE"):
                print(f"parity case {index}: drawn {attempt + 1} times")
            break
        module = None
    if module is None:
        raise RuntimeError(f"parity case {index}: every draw puts a ReLU input near 0")
    module.load_state_dict(state)  # the check's forward moved BatchNorm's running statistics
    tensors = []
    tensors.append(("input", x.clone()))
    tensors += state_tensors("state.", module)
    x.requires_grad_(True)
    y = module(x)
    heads = isinstance(y, tuple)  # several outputs: output.<i>, grad_output.<i>
    for i, yi in enumerate(y if heads else (y,)):
        tensors.append((f"output.{i}" if heads else "output", yi.detach().clone()))
    if train:
        for k, v in module.state_dict().items():
            if k not in dict(module.named_parameters()):
                tensors.append(("state_after." + k, v.clone()))
    gys = [torch.randn(yi.shape, generator=gen) for yi in (y if heads else (y,))]
    for i, gy in enumerate(gys):
        tensors.append((f"grad_output.{i}" if heads else "grad_output", gy))
    torch.autograd.backward(y if heads else (y,), gys)
    tensors.append(("grad_input", x.grad.clone()))
    for k, p in module.named_parameters():
        tensors.append(("grad." + k, p.grad.clone()))
    tensors.append(("train", torch.tensor(int(train), dtype=torch.int64)))
    return tensors


# ---- training cases ------------------------------------------------------------------------


def lenet5():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10))


STEPS = 3
SGD_OPTIONS = dict(lr=0.05, momentum=0.9, dampening=0.0, weight_decay=1e-4, nesterov=False)


def make_training_case(seed, module, sample_shape, batch, loss_kind):
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed + 1)
    randomize_batch_norm(module, gen)
    module.train()
    tensors = state_tensors("state.", module)
    o = SGD_OPTIONS
    tensors.append(("sgd", torch.tensor([o["lr"], o["momentum"], o["dampening"],
                                         o["weight_decay"], float(o["nesterov"])],
                                        dtype=torch.float64)))
    opt = torch.optim.SGD(module.parameters(), **o)
    for k in range(STEPS):
        x = torch.randn((batch,) + tuple(sample_shape), generator=gen)
        opt.zero_grad()
        y = module(x)
        if loss_kind == "cross_entropy":
            labels = torch.randint(0, y.shape[1], (batch,), generator=gen)
            loss = nn.functional.cross_entropy(y, labels)
            tensors.append((f"step{k}.labels", labels))
        else:
            target = torch.randn(y.shape, generator=gen)
            loss = nn.functional.mse_loss(y, target)
            tensors.append((f"step{k}.target", target))
        tensors.append((f"step{k}.input", x))
        tensors.append((f"step{k}.loss", loss.detach().to(torch.float64)))
        loss.backward()
        opt.step()
    tensors += state_tensors("final.", module)
    return tensors


TRAINING_CASES = {
    "train_lenet5": lambda: make_training_case(7, lenet5(), (1, 28, 28), 4, "cross_entropy"),
    "train_basic_block": lambda: make_training_case(8, basic_block(4, 8, 2), (4, 9, 9), 3, "mse"),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="directory for the .tnfx files")
    parser.add_argument("--only", nargs="*", help="generate only these cases")
    args = parser.parse_args()
    start = time.monotonic()
    torch.set_num_threads(1)  # deterministic reductions, and faster for these tiny sizes
    os.makedirs(args.out, exist_ok=True)
    wanted = set(args.only) if args.only else None
    unknown = (wanted or set()) - set(PARITY_CASES) - set(TRAINING_CASES)
    if unknown:
        parser.error("unknown cases: " + ", ".join(sorted(unknown)))
    written = 0
    for index, (name, (factory, shape, batch, train)) in enumerate(PARITY_CASES.items()):
        if wanted is None or name in wanted:
            write_fixture(os.path.join(args.out, name + ".tnfx"),
                          make_parity_case(index, factory, shape, batch, train))
            written += 1
    for name, make in TRAINING_CASES.items():
        if wanted is None or name in wanted:
            write_fixture(os.path.join(args.out, name + ".tnfx"), make())
            written += 1
    if wanted is None:  # a full run leaves no fixture of a case that no longer exists
        current = {name + ".tnfx" for name in list(PARITY_CASES) + list(TRAINING_CASES)}
        for stale in sorted(set(os.listdir(args.out)) - current):
            if stale.endswith(".tnfx"):
                os.remove(os.path.join(args.out, stale))
    print(f"make_fixtures: wrote {written} fixtures to {args.out} "
          f"in {time.monotonic() - start:.2f} s (torch {torch.__version__})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
