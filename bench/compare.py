#!/usr/bin/python3
"""typenet against PyTorch, side by side: the workloads of bench/workloads.cpp
and tools/bench_torch.py run interleaved in rounds, at each thread count.

Each round runs, in alternating order, typenet's bench_workloads, PyTorch as
is, and PyTorch with MALLOC_MMAP_THRESHOLD_/MALLOC_TRIM_THRESHOLD_ raised
(glibc then keeps freed memory instead of returning it to the kernel, which
removes PyTorch's page faults on every large allocation). A round gives one
time per workload and engine; the table shows the median over rounds, the
reference is the faster of the two PyTorch runs, and ratio = typenet /
reference (lower is better). OpenBLAS is held to one thread
(OPENBLAS_NUM_THREADS=1) and PyTorch uses torch.set_num_threads(n) with n
equal to typenet's OMP_NUM_THREADS.

  bench/compare.py --bench build/release/bench/bench_workloads --threads 1 2 --rounds 3
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TORCH_SCRIPT = os.path.join(HERE, "..", "tools", "bench_torch.py")
BIG_MALLOC = {"MALLOC_MMAP_THRESHOLD_": str(1 << 30), "MALLOC_TRIM_THRESHOLD_": str(1 << 31)}
# Forward FLOPs of the workloads whose GFLOP/s is compared with the GEMM ceiling.
CONV_LAYERS = ("conv3x3_64_56", "convT_64_32_28")


def run_typenet(bench, threads, pattern, seconds, fashion):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS="1")
    out = subprocess.run(
        [bench, "--benchmark_format=json", f"--benchmark_filter={pattern}",
         f"--benchmark_min_time={seconds}", f"--fashion={fashion}"],
        env=env, check=True, capture_output=True, text=True).stdout
    times, gflops = {}, {}
    for b in json.loads(out)["benchmarks"]:
        name = b["name"].split("/")[0]
        scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[b["time_unit"]]
        times[name] = b["real_time"] * scale
        if "GFLOPs" in b:
            gflops[name] = b["GFLOPs"]
    return times, gflops


def run_torch(threads, pattern, seconds, fashion, big_malloc):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS=str(threads))
    if big_malloc:
        env.update(BIG_MALLOC)
    out = subprocess.run(
        ["/usr/bin/python3", TORCH_SCRIPT, "--threads", str(threads), "--filter", pattern,
         "--seconds", str(seconds), "--fashion", fashion],
        env=env, check=True, capture_output=True, text=True).stdout
    return {k: statistics.median(v) for k, v in json.loads(out)["results"].items()}


def fmt_ms(seconds):
    return f"{seconds * 1e3:10.1f}" if seconds is not None else f"{'-':>10}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__)
    parser.add_argument("--bench", default=os.path.join(HERE, "..", "build", "release", "bench",
                                                        "bench_workloads"))
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--filter", default=".", help="regular expression on workload names")
    parser.add_argument("--seconds", type=float, default=1.0,
                        help="minimum time per workload and engine in each round")
    parser.add_argument("--fashion", default="/usr/share/datasets/fashion-mnist")
    args = parser.parse_args()

    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} logical CPUs, "
          f"{time.strftime('%Y-%m-%d %H:%M')}, {args.rounds} rounds")
    print(f"# {' '.join(sys.argv)}")
    for threads in args.threads:
        samples = {"typenet": {}, "torch": {}, "torch_big_malloc": {}}
        gflops = {}
        for r in range(args.rounds):
            runs = [
                ("typenet", lambda: run_typenet(args.bench, threads, args.filter, args.seconds,
                                                args.fashion)),
                ("torch", lambda: run_torch(threads, args.filter, args.seconds, args.fashion, False)),
                ("torch_big_malloc",
                 lambda: run_torch(threads, args.filter, args.seconds, args.fashion, True)),
            ]
            if r % 2:
                runs.reverse()
            for engine, fn in runs:
                result = fn()
                if engine == "typenet":
                    result, flops = result
                    for k, v in flops.items():
                        gflops.setdefault(k, []).append(v)
                for k, v in result.items():
                    samples[engine].setdefault(k, []).append(v)
            print(f"# {threads} thread(s): round {r + 1}/{args.rounds} done", file=sys.stderr)

        med = {e: {k: statistics.median(v) for k, v in s.items()} for e, s in samples.items()}
        ceiling = statistics.median(gflops["gemm_ceiling"]) if "gemm_ceiling" in gflops else None
        print(f"\n## {threads} thread(s): median ms over {args.rounds} rounds; "
              f"ratio = typenet / best PyTorch (lower is better)")
        print(f"{'workload':24}{'typenet':>10}{'torch':>10}{'torch+mal':>10}{'ratio':>8}"
              f"{'GFLOP/s':>9}{'%ceil':>7}")
        for name in med["typenet"]:
            t = med["typenet"][name]
            a, b = med["torch"].get(name), med["torch_big_malloc"].get(name)
            ref = min(x for x in (a, b) if x is not None) if (a or b) else None
            ratio = f"{t / ref:8.2f}" if ref else f"{'-':>8}"
            g = statistics.median(gflops[name]) if name in gflops else None
            gtext = f"{g:9.1f}" if g else f"{'':9}"
            ceil = ""
            if g and ceiling and (name.startswith(CONV_LAYERS) or name == "gemm_ceiling"):
                ceil = f"{100 * g / ceiling:6.0f}%"
            print(f"{name:24}{fmt_ms(t)}{fmt_ms(a)}{fmt_ms(b)}{ratio}{gtext}{ceil:>7}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
