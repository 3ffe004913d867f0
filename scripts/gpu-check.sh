#!/usr/bin/env bash
# The Cuda backend on a GPU machine, in one call: its tests and benchmarks,
# with a summary table in which a skipped test counts as a failure.
#
#   scripts/gpu-check.sh build   here (Debian, nvcc, no GPU): builds the GPU test
#                                and benchmark binaries for sm_90 (H100, H200) into
#                                build/gpu and gathers them with the shared
#                                libraries they need beyond glibc and the driver
#                                into gpu-carry/ (git-ignored; a few MiB)
#   scripts/gpu-check.sh run     there (the GPU machine: nvcc, CMake, PyTorch with
#                                CUDA, none of Debian's -dev packages), from the
#                                repository root with gpu-carry/ carried along:
#                                generates the PyTorch fixtures with its python3,
#                                runs cuda_gpu and cuda_mixed, times
#                                bench_gpu_workloads against tools/bench_torch_gpu.py
#
# With the device tool: scripts/gpu-check.sh build, then one call of
# `scripts/gpu-check.sh run` carrying gpu-carry (timeout ~ 400 s). cudart is
# linked statically; cuBLAS (no static library in this toolkit) comes from
# the GPU machine: its CUDA toolkit or PyTorch's nvidia-cublas package.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build() {
  set -e
  cmake -S . -B build/gpu -DCMAKE_BUILD_TYPE=Release -DTYPENET_CUDA=ON -DTYPENET_BUILD_TESTS=ON \
    -DTYPENET_BUILD_EXAMPLES=OFF -DTYPENET_BUILD_BENCH=ON -DTYPENET_CUDA_ARCHITECTURES=90
  cmake --build build/gpu -j "${JOBS:-2}" --target typenet_cuda_gpu typenet_cuda_mixed \
    bench_gpu_workloads
  rm -rf gpu-carry
  mkdir -p gpu-carry/bin gpu-carry/lib
  cp build/gpu/tests/typenet_cuda_gpu build/gpu/tests/typenet_cuda_mixed \
    build/gpu/bench/bench_gpu_workloads gpu-carry/bin/
  # Every shared library they load but glibc's, the dynamic loader and CUDA's
  # own (the driver, cuBLAS), which the GPU machine has.
  ldd gpu-carry/bin/* | awk '/=> \// {print $3}' | sort -u |
    grep -Ev '/(libc|libm|libdl|libpthread|librt|ld-linux[^/]*|libcuda|libcublas[^/]*)\.so' |
    xargs -r -I{} cp -L {} gpu-carry/lib/
  du -sh gpu-carry
  ls gpu-carry/bin gpu-carry/lib
}

# cuBLAS's folder on the GPU machine.
cublas_dir() {
  local found
  found=$(find /usr/local/cuda*/lib64 /usr/local/cuda*/targets/*/lib /usr/lib/x86_64-linux-gnu \
    -maxdepth 1 -name 'libcublas.so.13*' 2>/dev/null | head -n 1)
  if [ -z "${found}" ]; then
    found=$(python3 - <<'PY' 2>/dev/null
import glob, os, site
for base in site.getsitepackages():
    for path in glob.glob(os.path.join(base, "nvidia", "**", "libcublas.so.13*"), recursive=True):
        print(path)
        raise SystemExit
PY
)
  fi
  [ -n "${found}" ] && dirname "${found}"
}

run() {
  [ -d gpu-carry/bin ] || { echo "gpu-carry/ is missing: run scripts/gpu-check.sh build here first and carry it"; return 2; }
  local out="${OUT:-/tmp/gpu-check}"
  mkdir -p "${out}"
  local cublas
  cublas=$(cublas_dir) || true
  export LD_LIBRARY_PATH="$(pwd)/gpu-carry/lib${cublas:+:${cublas}}${LD_LIBRARY_PATH:+:${LD_LIBRARY_PATH}}"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
  echo "cuBLAS from: ${cublas:-not found}"

  local results=()
  record() {  # record <name> <exit status>
    local verdict=PASS
    case "$2" in
      0) ;;
      77) verdict="FAIL (skipped: no device)" ;;
      *) verdict="FAIL (exit $2)" ;;
    esac
    results+=("$(printf '%-22s %s' "$1" "${verdict}")")
  }

  export TYPENET_FIXTURES="${out}/fixtures"
  python3 tools/make_weight_fixtures.py --out "${TYPENET_FIXTURES}" > "${out}/fixtures.log" 2>&1
  record fixtures $?
  gpu-carry/bin/typenet_cuda_gpu --report_level=short 2>&1 | tee "${out}/cuda_gpu.log" | tail -n 25
  record cuda_gpu "${PIPESTATUS[0]}"
  gpu-carry/bin/typenet_cuda_mixed 2>&1 | tee "${out}/cuda_mixed.log"
  record cuda_mixed "${PIPESTATUS[0]}"

  echo "== typenet"
  gpu-carry/bin/bench_gpu_workloads 2>&1 | tee "${out}/bench_typenet.txt"
  record bench_gpu_workloads "${PIPESTATUS[0]}"
  echo "== PyTorch"
  python3 tools/bench_torch_gpu.py 2>&1 | tee "${out}/bench_torch.txt"
  record bench_torch_gpu "${PIPESTATUS[0]}"

  echo
  echo "== summary"
  printf '%s\n' "${results[@]}"
  ! printf '%s\n' "${results[@]}" | grep -q FAIL
}

case "${1:-}" in
  build) build ;;
  run) run ;;
  *)
    echo "usage: $0 build|run"
    exit 2
    ;;
esac
