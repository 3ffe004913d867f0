#!/usr/bin/env python3
"""PyTorch's side of bench/gpu_workloads.cu: the same workloads on the GPU.

Prints one line per workload: the median of --reps timed repetitions after
--warmup untimed ones, each ended by torch.cuda.synchronize(), and images per
second. TF32 is off (as typenet's cuBLAS default math mode), so both compute
in float32; cuDNN picks its algorithms (benchmark mode) before the timing.
"""
import argparse
import statistics
import time

import torch
from torch import nn
import torchvision

from bench_torch import ColorizationNet  # the CPU comparison's definition (tools/ is on sys.path)


def median_seconds(run, warmup, reps):
    for _ in range(warmup):
        run()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        run()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def resnet18(batch):
    model = torchvision.models.resnet18(weights=None).cuda().eval()
    x = torch.randn(batch, 3, 224, 224, device="cuda")

    def run():
        with torch.no_grad():
            model(x)
    return run


def colorize_step(batch, size):
    model = ColorizationNet().cuda().train()
    x = torch.randn(batch, 1, size, size, device="cuda")
    target = 0.3 * torch.randn(batch, 2, size, size, device="cuda")
    adam = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss = nn.MSELoss()

    def run():
        adam.zero_grad()
        loss(model(x), target).backward()
        adam.step()
    return run


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    print(f"# {torch.cuda.get_device_name(0)}, torch {torch.__version__}")
    print(f"{'workload':<18} {'median ms':>10} {'images/s':>12}")
    for name, images, run in [("resnet18_b64", 64, resnet18(64)),
                              ("colorize_b8_224", 8, colorize_step(8, 224)),
                              ("colorize_b16_64", 16, colorize_step(16, 64))]:
        seconds = median_seconds(run, args.warmup, args.reps)
        print(f"{name:<18} {seconds * 1e3:10.2f} {images / seconds:12.1f}")


if __name__ == "__main__":
    main()
