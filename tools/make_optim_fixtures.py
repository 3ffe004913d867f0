#!/usr/bin/python3
"""Reference data from PyTorch 1.13 for typenet's optimizer tests (suite `optim`).

Usage: make_optim_fixtures.py --out DIR

Writes DIR/optim/<case>.tnfx in the TNFX format of tools/make_fixtures.py,
for tests/train/test_optim.cpp (through tests/fixtures.hpp). Everything is fixed
by the seeds; the run takes a few seconds.

Every case works on the same five parameters, a small network's worth:

    trunk.0.weight [4, 3, 2, 2]   trunk.0.bias [4]   trunk.1.weight [6, 4]
    head.weight [3, 6]            head.bias [3]

and runs 10 steps of a torch.optim optimizer (single-tensor code path,
foreach=False) on gradients drawn here and stored, so the C++ side replays
exactly the same gradients. A parameter whose gradient is absent at a step is
frozen at that step (its .grad is None, which torch skips; typenet sees
requires_grad false).

Tensors of an optimizer case <case>.tnfx:

    optimizer              int64 0-d: 0 SGD, 1 Adam, 2 AdamW
    defaults.<key>         the optimizer's constructor options: lr, momentum,
                           dampening, weight_decay, eps (float64 0-d), betas
                           (float64 [2]), nesterov, amsgrad (int64 0-d); only
                           those the case passes
    group<g>.params        int64 [n]: indices (in the order above) of the
                           parameters of group g; absent when the optimizer
                           gets a flat parameter list
    group<g>.<key>         the options group g overrides
    init.<name>            float32: the parameter before the first step
    step<k>.grad.<name>    float32: its gradient at step k (k = 0..9)
    step<k>.<name>         float32: the parameter after step k
    step<k>.lr             float64 [groups]: each group's lr after step k
                           (after the scheduler's step, if any)
    state.<name>.<key>     the optimizer's state after the last step
                           (momentum_buffer; step (int64), exp_avg, exp_avg_sq,
                           max_exp_avg_sq)

Scheduler cases sched_<name>.tnfx (an SGD or Adam with two groups, lr 0.1 and
0.01, stepped `steps` times):

    lr                     float64 [steps + 1, 2]: get_last_lr() after
                           construction (row 0) and after each step
    momentum               float64 [steps + 1, 2]: the groups' momentum (SGD)
                           or betas[0] (Adam) at the same moments

Clipping case clip.tnfx:

    grad.<name>            float32: gradients before clipping (head.bias has
                           none: it is frozen and must not count or change)
    case<i>.max_norm, case<i>.norm_type   float64 0-d (norm_type may be inf)
    case<i>.total          float32 0-d: clip_grad_norm_'s return value
    case<i>.grad.<name>    float32: the gradients after clipping
"""

import argparse
import math
import os
import shutil
import warnings

import numpy as np
import torch
from tnfx import write_tnfx

PARAMS = [
    ("trunk.0.weight", (4, 3, 2, 2)),
    ("trunk.0.bias", (4,)),
    ("trunk.1.weight", (6, 4)),
    ("head.weight", (3, 6)),
    ("head.bias", (3,)),
]
STEPS = 10
TRUNK = [0, 1, 2]
HEAD = [3, 4]


def option_arrays(prefix, options):
    out = []
    for key, value in options.items():
        if isinstance(value, bool):
            out.append((f"{prefix}.{key}", np.array(int(value), np.int64)))
        elif isinstance(value, tuple):
            out.append((f"{prefix}.{key}", np.array(value, np.float64)))
        else:
            out.append((f"{prefix}.{key}", np.array(float(value), np.float64)))
    return out


# ---- optimizer cases ------------------------------------------------------------------------
#
# name -> dict(optimizer, defaults, groups [(indices, overrides)] or None,
#              frozen {param index: steps at which it has no gradient},
#              scheduler: None or a function of the optimizer).
# tests/train/test_optim.cpp builds the same schedulers for the cases whose name says so.

ALWAYS = set(range(STEPS))
FROZEN_LATE = {1: {0, 1, 2, 3}, 4: ALWAYS}  # trunk.0.bias joins at step 4; head.bias never

OPT_CASES = {
    # SGD: every option of torch.optim.SGD
    "sgd_plain": dict(optimizer="sgd", defaults=dict(lr=0.1)),
    "sgd_momentum": dict(optimizer="sgd", defaults=dict(lr=0.05, momentum=0.9)),
    "sgd_dampening": dict(optimizer="sgd", defaults=dict(lr=0.05, momentum=0.9, dampening=0.3)),
    "sgd_nesterov": dict(optimizer="sgd", defaults=dict(lr=0.05, momentum=0.8, nesterov=True)),
    "sgd_weight_decay": dict(optimizer="sgd",
                             defaults=dict(lr=0.05, momentum=0.9, weight_decay=0.01)),
    "sgd_groups": dict(optimizer="sgd", defaults=dict(lr=0.1, momentum=0.9),
                       groups=[(TRUNK, dict(lr=1e-3, weight_decay=1e-3)),
                               (HEAD, dict(nesterov=True, momentum=0.5))],
                       frozen={4: ALWAYS}),
    "sgd_frozen_late": dict(optimizer="sgd", defaults=dict(lr=0.05, momentum=0.9),
                            frozen=FROZEN_LATE),
    "sgd_steplr": dict(optimizer="sgd", defaults=dict(lr=0.2, momentum=0.9, nesterov=True),
                       scheduler=lambda o: torch.optim.lr_scheduler.StepLR(o, 3, gamma=0.5)),
    "sgd_onecycle": dict(optimizer="sgd", defaults=dict(lr=0.1, momentum=0.9, weight_decay=1e-3),
                         scheduler=lambda o: torch.optim.lr_scheduler.OneCycleLR(
                             o, max_lr=0.1, total_steps=STEPS)),
    # Adam: every option of torch.optim.Adam
    "adam_default": dict(optimizer="adam", defaults=dict()),
    "adam_lr_betas_eps": dict(optimizer="adam",
                              defaults=dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6)),
    "adam_weight_decay": dict(optimizer="adam", defaults=dict(lr=0.01, weight_decay=0.1)),
    "adam_amsgrad": dict(optimizer="adam", defaults=dict(lr=0.01, amsgrad=True)),
    "adam_amsgrad_weight_decay": dict(optimizer="adam",
                                      defaults=dict(lr=0.01, amsgrad=True, weight_decay=0.05,
                                                    betas=(0.85, 0.95))),
    "adam_groups": dict(optimizer="adam", defaults=dict(lr=0.01),
                        groups=[(TRUNK, dict(lr=1e-4)),
                                (HEAD, dict(amsgrad=True, betas=(0.5, 0.9), eps=1e-4))],
                        frozen={4: ALWAYS}),
    "adam_frozen_late": dict(optimizer="adam", defaults=dict(lr=0.01), frozen=FROZEN_LATE),
    "adam_onecycle": dict(optimizer="adam", defaults=dict(lr=0.01),
                          groups=[(TRUNK, dict()), (HEAD, dict())],
                          scheduler=lambda o: torch.optim.lr_scheduler.OneCycleLR(
                              o, max_lr=[1e-3, 1e-2], total_steps=STEPS, anneal_strategy="linear",
                              three_phase=True)),
    # AdamW: decoupled weight decay
    "adamw_default": dict(optimizer="adamw", defaults=dict()),
    "adamw_weight_decay_amsgrad": dict(optimizer="adamw",
                                       defaults=dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    "adamw_groups": dict(optimizer="adamw", defaults=dict(lr=0.01),
                         groups=[(TRUNK, dict(lr=1e-4, weight_decay=0.0)),
                                 (HEAD, dict(weight_decay=0.05, betas=(0.9, 0.99)))],
                         frozen={4: ALWAYS}),
    "adamw_frozen_late": dict(optimizer="adamw", defaults=dict(lr=0.01, weight_decay=0.1),
                              frozen=FROZEN_LATE),
    "adamw_cosine": dict(optimizer="adamw", defaults=dict(lr=0.01),
                         scheduler=lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(
                             o, T_max=4, eta_min=1e-4)),
}

OPTIMIZERS = {"sgd": (0, torch.optim.SGD), "adam": (1, torch.optim.Adam),
              "adamw": (2, torch.optim.AdamW)}


def make_gradient(shape, step, gen):
    """Random gradients, large for 5 steps then small (so amsgrad's maximum matters), with
    some exact zeros (Adam's denominator is then sqrt(0) + eps)."""
    scale = 1.0 if step < 5 else 0.05
    g = torch.randn(shape, generator=gen) * scale
    g[torch.rand(shape, generator=gen) < 0.15] = 0
    return g


def optimizer_case(name, case, seed):
    gen = torch.Generator().manual_seed(seed)
    params = [torch.nn.Parameter(torch.randn(shape, generator=gen)) for _, shape in PARAMS]
    code, cls = OPTIMIZERS[case["optimizer"]]
    defaults = case["defaults"]
    groups = case.get("groups")
    frozen = case.get("frozen", {})
    arrays = [("optimizer", np.array(code, np.int64))] + option_arrays("defaults", defaults)
    kwargs = dict(defaults, foreach=False)
    if groups is None:
        opt = cls(params, **kwargs)
    else:
        opt = cls([dict(params=[params[i] for i in idx], **over) for idx, over in groups], **kwargs)
        for g, (idx, over) in enumerate(groups):
            arrays.append((f"group{g}.params", np.array(idx, np.int64)))
            arrays += option_arrays(f"group{g}", over)
    scheduler = case.get("scheduler")
    scheduler = scheduler(opt) if scheduler else None
    for (pname, _), p in zip(PARAMS, params):
        arrays.append((f"init.{pname}", p.detach().numpy().copy()))
    for k in range(STEPS):
        for i, ((pname, shape), p) in enumerate(zip(PARAMS, params)):
            g = make_gradient(shape, k, gen)  # drawn for every parameter, frozen or not
            if k in frozen.get(i, ()):
                p.grad = None
            else:
                p.grad = g
                arrays.append((f"step{k}.grad.{pname}", g.numpy().copy()))
        opt.step()
        if scheduler:
            scheduler.step()
        for (pname, _), p in zip(PARAMS, params):
            arrays.append((f"step{k}.{pname}", p.detach().numpy().copy()))
        arrays.append((f"step{k}.lr", np.array([g["lr"] for g in opt.param_groups], np.float64)))
    for (pname, _), p in zip(PARAMS, params):
        for key, value in opt.state.get(p, {}).items():
            if value is None:  # SGD without momentum keeps momentum_buffer None
                continue
            value = value.detach()
            if key == "step":
                arrays.append((f"state.{pname}.step", np.array(int(value.item()), np.int64)))
            else:
                arrays.append((f"state.{pname}.{key}", value.numpy().copy()))
    return arrays


# ---- schedulers ---------------------------------------------------------------------------

lrs = torch.optim.lr_scheduler

SCHED_CASES = {
    "step": ("sgd", 12, lambda o: lrs.StepLR(o, step_size=3, gamma=0.5)),
    "cosine": ("sgd", 25, lambda o: lrs.CosineAnnealingLR(o, T_max=5, eta_min=1e-3)),
    "cosine_no_eta_min": ("adam", 9, lambda o: lrs.CosineAnnealingLR(o, T_max=7)),
    "onecycle_sgd": ("sgd", 20, lambda o: lrs.OneCycleLR(o, max_lr=0.5, total_steps=20)),
    "onecycle_adam_linear_three_phase": (
        "adam", 30, lambda o: lrs.OneCycleLR(o, max_lr=[0.3, 0.03], total_steps=30,
                                             anneal_strategy="linear", three_phase=True,
                                             pct_start=0.25, div_factor=10.0,
                                             final_div_factor=100.0)),
    "onecycle_groups_momentum": (
        "sgd", 16, lambda o: lrs.OneCycleLR(o, max_lr=[1.0, 0.1], total_steps=17, pct_start=0.4,
                                            base_momentum=[0.8, 0.7], max_momentum=[0.9, 0.99])),
    "onecycle_no_cycle_momentum": (
        "adam", 10, lambda o: lrs.OneCycleLR(o, max_lr=0.01, total_steps=10,
                                             cycle_momentum=False)),
}


def sched_case(kind, steps, make):
    p1 = torch.nn.Parameter(torch.zeros(2))
    p2 = torch.nn.Parameter(torch.zeros(2))
    groups = [dict(params=[p1], lr=0.1), dict(params=[p2], lr=0.01)]
    if kind == "sgd":
        opt = torch.optim.SGD(groups, lr=0.1, momentum=0.9)

        def momentum():
            return [g["momentum"] for g in opt.param_groups]
    else:
        opt = torch.optim.Adam(groups, lr=0.1, betas=(0.9, 0.999))

        def momentum():
            return [g["betas"][0] for g in opt.param_groups]
    s = make(opt)
    lr_rows, momentum_rows = [list(s.get_last_lr())], [momentum()]
    for _ in range(steps):
        opt.step()
        s.step()
        lr_rows.append(list(s.get_last_lr()))
        momentum_rows.append(momentum())
    return [("lr", np.array(lr_rows, np.float64)),
            ("momentum", np.array(momentum_rows, np.float64))]


# ---- clip_grad_norm_ ------------------------------------------------------------------------

CLIP_CASES = [(1.0, 2.0), (100.0, 2.0), (0.5, math.inf), (2.0, 1.0), (0.7, 3.0), (50.0, math.inf)]


def clip_case():
    gen = torch.Generator().manual_seed(77)
    grads = [torch.randn(shape, generator=gen) for _, shape in PARAMS]
    arrays = [(f"grad.{n}", g.numpy().copy())
              for (n, _), g in zip(PARAMS, grads) if n != "head.bias"]
    for i, (max_norm, norm_type) in enumerate(CLIP_CASES):
        params = []
        for (n, shape), g in zip(PARAMS, grads):
            p = torch.nn.Parameter(torch.zeros(shape))
            p.grad = None if n == "head.bias" else g.clone()
            params.append(p)
        total = torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type)
        arrays += [(f"case{i}.max_norm", np.array(max_norm, np.float64)),
                   (f"case{i}.norm_type", np.array(norm_type, np.float64)),
                   (f"case{i}.total", np.array(total.item(), np.float32))]
        arrays += [(f"case{i}.grad.{n}", p.grad.numpy().copy())
                   for (n, _), p in zip(PARAMS, params) if p.grad is not None]
    return arrays


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    out = os.path.join(args.out, "optim")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")  # OneCycleLR's "step before optimizer.step()" hints
    for seed, (name, case) in enumerate(OPT_CASES.items()):
        write_tnfx(os.path.join(out, f"{name}.tnfx"), optimizer_case(name, case, 1000 + seed))
    for name, (kind, steps, make) in SCHED_CASES.items():
        write_tnfx(os.path.join(out, f"sched_{name}.tnfx"), sched_case(kind, steps, make))
    write_tnfx(os.path.join(out, "clip.tnfx"), clip_case())
    print(f"wrote {len(OPT_CASES) + len(SCHED_CASES) + 1} cases to {out}")


if __name__ == "__main__":
    main()
