#!/usr/bin/python3
"""Reference values from PyTorch 1.13 for typenet's losses (tests/train/test_losses.cpp, suite `losses`).

Usage: make_loss_fixtures.py --out DIR

Writes DIR/losses/<case>.tnfx, one file per loss and option combination, in
the TNFX format of tools/make_fixtures.py (tests/fixtures.hpp reads it). Each
case is computed twice by torch.nn.functional: in float32 on the float32
inputs (what a PyTorch user gets, compared with typenet<float>), and in
float64 on the same inputs widened (compared with typenet<double>, tightly).

Tensors of a case:

    input            float32 [N, S...]   the prediction or logits
    target           float32 [N, S...]   the target (MSE, L1, SmoothL1, BCEWithLogits), or
    labels           int64   [N, D...]   class labels (CrossEntropy; D the spatial dims)
    reduction        int64   0-d         0 = mean, 1 = sum
    beta             float64 0-d         SmoothL1Loss
    ignore_index     int64   0-d         CrossEntropyLoss
    label_smoothing  float64 0-d         CrossEntropyLoss
    weight           float32 [C] or S or [S's last dim]   when the case has one
    pos_weight       float32 S or [S's last dim]          BCEWithLogitsLoss, when it has one
    loss, grad       float32             torch's loss and d(loss)/d(input) in float32
    loss64, grad64   float64             the same in float64

Case names (the C++ test builds the same names):

    {mse,l1}.{flat,image}.{mean,sum}                    flat: N=4 x Shape<5>,
    smooth_l1.b{1,0.5,2,0}.{flat,image}.{mean,sum}      image: N=3 x Shape<2,3,4>
    ce.{flat,seg}.{nw,w}.{none,default,class}.ls{0,0.1}.{mean,sum}
        flat: N=6 x Shape<7>; seg: N=2 x Shape<4,3,5> (labels N x 3 x 5)
        none: no label ignored; default: ignore_index -100, some labels -100;
        class: ignore_index 2 (flat) or 255 (seg), some labels equal to it
    ce.flat.ls1.{mean,sum}, ce.flat.large.{mean,sum}, ce.line.{mean,sum} (Shape<3,6>),
    ce.flat.all_ignored.sum   (mean would be NaN, which typenet throws on)
    bce.flat.{nw,w}.{npw,pw}.{mean,sum}                 N=3 x Shape<40> (CelebA-like)
    bce.image.{w_last,pw_last,w_pw_full,w_last_pw_full}.{mean,sum}     N=2 x Shape<2,3,4>
"""

import argparse
import os
import shutil

import torch
import torch.nn.functional as F
from tnfx import write_tnfx

REDUCTIONS = ("mean", "sum")


class Writer:
    def __init__(self, out):
        self.out = out
        self.count = 0

    def case(self, name, x, fn, extra):
        """fn(x_of_dtype, dtype) -> loss; extra: list of (name, tensor) written alongside."""
        tensors = [("input", x)] + extra
        for suffix, dtype in (("", torch.float32), ("64", torch.float64)):
            xi = x.detach().to(dtype).requires_grad_(True)
            loss = fn(xi, dtype)
            loss.backward()
            if not torch.isfinite(loss):
                raise RuntimeError(f"{name}: the reference loss is {loss.item()}")
            tensors += [("loss" + suffix, loss.detach()), ("grad" + suffix, xi.grad)]
        write_tnfx(os.path.join(self.out, name + ".tnfx"), tensors)
        self.count += 1


def reduction_tensor(r):
    return ("reduction", torch.tensor(REDUCTIONS.index(r), dtype=torch.int64))


# ---- MSELoss, L1Loss, SmoothL1Loss ---------------------------------------------------------

SHAPES = {"flat": (4, 5), "image": (3, 2, 3, 4)}


def pointwise_inputs(shape, g, beta):
    x = torch.randn(shape, generator=g) * 1.5
    t = torch.randn(shape, generator=g) * 1.5
    flat_x, flat_t = x.view(-1), t.view(-1)
    # Exact ties, where the subgradient conventions matter: d == 0 (sign 0),
    # and, for SmoothL1, |d| == beta (both branches agree there). PyTorch's
    # SmoothL1 kernel with beta == 0 gives -1 or +1 at d == 0 (L1 gives 0), so
    # that case has no tie.
    if beta != 0:
        flat_x[0], flat_t[0] = 0.75, 0.75
        flat_x[1], flat_t[1] = -1.25, -1.25
    if beta is not None and beta > 0:
        flat_x[2], flat_t[2] = 0.5 + beta, 0.5
        flat_x[3], flat_t[3] = -1.0, -1.0 + beta
    return x, t


def make_pointwise(w, g):
    losses = [("mse", None), ("l1", None)]
    losses += [("smooth_l1.b%g" % b, b) for b in (1.0, 0.5, 2.0, 0.0)]
    for loss_name, beta in losses:
        for shape_name, shape in SHAPES.items():
            x, t = pointwise_inputs(shape, g, beta)
            for r in REDUCTIONS:
                if beta is None:
                    f = F.mse_loss if loss_name == "mse" else F.l1_loss
                    fn = lambda xi, dt, f=f, r=r, t=t: f(xi, t.to(dt), reduction=r)
                    extra = []
                else:
                    fn = lambda xi, dt, r=r, b=beta, t=t: F.smooth_l1_loss(xi, t.to(dt),
                                                                           reduction=r, beta=b)
                    extra = [("beta", torch.tensor(beta, dtype=torch.float64))]
                w.case(f"{loss_name}.{shape_name}.{r}", x,
                       fn, [("target", t), reduction_tensor(r)] + extra)


# ---- CrossEntropyLoss ---------------------------------------------------------------------

def ce_case(w, name, x, labels, r, weight=None, ignore_index=-100, label_smoothing=0.0):
    def fn(xi, dt):
        return F.cross_entropy(xi, labels, weight=None if weight is None else weight.to(dt),
                               ignore_index=ignore_index, reduction=r,
                               label_smoothing=label_smoothing)
    extra = [("labels", labels), reduction_tensor(r),
             ("ignore_index", torch.tensor(ignore_index, dtype=torch.int64)),
             ("label_smoothing", torch.tensor(label_smoothing, dtype=torch.float64))]
    if weight is not None:
        extra.append(("weight", weight))
    w.case(name, x, fn, extra)


def make_cross_entropy(w, g):
    layouts = {"flat": ((6, 7), (6,), 2), "seg": ((2, 4, 3, 5), (2, 3, 5), 255)}
    for layout, (shape, label_shape, class_ignore) in layouts.items():
        classes = shape[1]
        x = torch.randn(shape, generator=g) * 2
        base = torch.randint(0, classes, label_shape, generator=g)
        weight = torch.rand(classes, generator=g) * 1.5 + 0.25
        mask = torch.rand(label_shape, generator=g) < 0.35
        mask.view(-1)[0], mask.view(-1)[1] = True, False  # some ignored, some not
        for ignore in ("none", "default", "class"):
            labels = base.clone()
            ignore_index = -100
            if ignore == "default":
                labels[mask] = -100
            elif ignore == "class":
                ignore_index = class_ignore
                if layout == "flat":
                    labels.view(-1)[0] = 2  # label 2 appears, and is ignored
                else:
                    labels[mask] = 255
            for weighted in ("nw", "w"):
                for ls in (0.0, 0.1):
                    for r in REDUCTIONS:
                        ce_case(w, f"ce.{layout}.{weighted}.{ignore}.ls{ls:g}.{r}", x, labels, r,
                                weight if weighted == "w" else None, ignore_index, ls)

    x = torch.randn(6, 7, generator=g) * 2
    labels = torch.tensor([0, 3, -100, 6, 2, 5])
    weight = torch.rand(7, generator=g) + 0.5
    for r in REDUCTIONS:
        # label_smoothing 1: the target is uniform, the labels only choose the divisor.
        ce_case(w, f"ce.flat.ls1.{r}", x, labels, r, weight, -100, 1.0)
        # Logits far apart (softmax probabilities of 1e-40 and below) must stay finite.
        big = torch.randn(6, 7, generator=g) * 40
        big[0, 0], big[1, 3] = 80.0, -90.0
        ce_case(w, f"ce.flat.large.{r}", big, labels, r, weight, -100, 0.05)
        # A 1-D spatial layout (N, C, L).
        xl = torch.randn(3, 3, 6, generator=g)
        ll = torch.randint(0, 3, (3, 6), generator=g)
        ll[0, 1], ll[2, 5] = 7, 7
        ce_case(w, f"ce.line.{r}", xl, ll, r, weight[:3].clone(), 7, 0.2)
    ce_case(w, "ce.flat.all_ignored.sum", x, torch.full((6,), -100), "sum", None, -100, 0.1)


# ---- BCEWithLogitsLoss --------------------------------------------------------------------

def bce_inputs(shape, g):
    x = torch.randn(shape, generator=g) * 3
    t = (torch.rand(shape, generator=g) < 0.4).float()
    soft = torch.rand(shape, generator=g) < 0.25
    t[soft] = torch.rand(int(soft.sum()), generator=g)  # soft targets too
    flat = x.view(-1)
    flat[0], flat[1], flat[2], flat[3], flat[4] = 0.0, 25.0, -30.0, 90.0, -100.0  # stability
    return x, t


def bce_case(w, name, x, t, r, weight=None, pos_weight=None):
    def fn(xi, dt):
        return F.binary_cross_entropy_with_logits(
            xi, t.to(dt), weight=None if weight is None else weight.to(dt), reduction=r,
            pos_weight=None if pos_weight is None else pos_weight.to(dt))
    extra = [("target", t), reduction_tensor(r)]
    if weight is not None:
        extra.append(("weight", weight))
    if pos_weight is not None:
        extra.append(("pos_weight", pos_weight))
    w.case(name, x, fn, extra)


def make_bce(w, g):
    x, t = bce_inputs((3, 40), g)
    weight = torch.rand(40, generator=g) + 0.5
    pos_weight = torch.rand(40, generator=g) * 4 + 0.2
    for wn in ("nw", "w"):
        for pn in ("npw", "pw"):
            for r in REDUCTIONS:
                bce_case(w, f"bce.flat.{wn}.{pn}.{r}", x, t, r, weight if wn == "w" else None,
                         pos_weight if pn == "pw" else None)
    x, t = bce_inputs((2, 2, 3, 4), g)
    last = lambda: torch.rand(4, generator=g) * 2 + 0.25
    full = lambda: torch.rand(2, 3, 4, generator=g) * 2 + 0.25
    combos = {"w_last": (last(), None), "pw_last": (None, last()),
              "w_pw_full": (full(), full()), "w_last_pw_full": (last(), full())}
    for name, (weight, pos_weight) in combos.items():
        for r in REDUCTIONS:
            bce_case(w, f"bce.image.{name}.{r}", x, t, r, weight, pos_weight)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    out = os.path.join(args.out, "losses")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    w = Writer(out)
    g = torch.Generator().manual_seed(20240613)
    make_pointwise(w, g)
    make_cross_entropy(w, g)
    make_bce(w, g)
    print(f"make_loss_fixtures.py: {w.count} cases in {out}")


if __name__ == "__main__":
    main()
