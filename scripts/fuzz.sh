#!/usr/bin/env bash
# Builds the libFuzzer targets of the readers of untrusted files with clang-14
# (AddressSanitizer + UndefinedBehaviorSanitizer) and runs each for SECONDS
# (default 60), seeded with the test suite's files and the corpora checked in
# under fuzz/corpus/. Exits non-zero on any crash, sanitizer report, leak or
# timeout; the input is kept in build/fuzz/artifacts/. Details: fuzz/README.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SECONDS_PER_TARGET="${1:-60}"
out=build/fuzz
mkdir -p "${out}/artifacts" "${out}/corpus_torch" "${out}/corpus_safetensors" "${out}/seeds_safetensors"

flags=(-std=c++20 -gline-tables-only -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
       -Iinclude)
# The dataset readers include the image decoders, hence the image libraries.
image_libs=(-lz -lstb -ljpeg -lpng -lgif)
# Built two at a time (CI has two cores); any failed build fails the script.
build() {
  local target=$1
  shift
  clang++-14 "${flags[@]}" "fuzz/${target}.cpp" "$@" -o "${out}/${target}"
}
pids=()
build fuzz_torch_file -lz & pids+=($!)
build fuzz_safetensors & pids+=($!)
for pid in "${pids[@]}"; do wait "${pid}"; done
pids=()
build fuzz_checkpoint -I/usr/include/eigen3 & pids+=($!)  # no -fopenmp: clang-14 needs libomp-14-dev for it
build fuzz_image -ljpeg -lpng -lgif -lz -lm & pids+=($!)
for pid in "${pids[@]}"; do wait "${pid}"; done
pids=()
build fuzz_idx "${image_libs[@]}" & pids+=($!)
build fuzz_cifar "${image_libs[@]}" & pids+=($!)
for pid in "${pids[@]}"; do wait "${pid}"; done
build fuzz_celeba "${image_libs[@]}"

# Seeds: the torch test files, and small safetensors files written here.
/usr/bin/python3 tools/make_torch_files.py --out "${out}" > /dev/null
/usr/bin/python3 - "${out}/seeds_safetensors" <<'PY'
import sys, os
sys.path.insert(0, "tools")
import torch
from make_weight_fixtures import write_safetensors
d = sys.argv[1]
torch.manual_seed(0)
write_safetensors(os.path.join(d, "small.safetensors"),
                  {"w": torch.randn(3, 2), "b": torch.randn(3).double(),
                   "h": torch.randn(4).half(), "n": torch.tensor(7)},
                  {"typenet.network": "Linear<3>"})
write_safetensors(os.path.join(d, "empty.safetensors"), {})
write_safetensors(os.path.join(d, "bf16.safetensors"), {"x": torch.randn(2, 2).bfloat16()})
PY

# run TARGET CORPUS [SEEDS...]; RUN_SECONDS (default SECONDS_PER_TARGET) and
# RUN_TAG (a suffix of the log's name) let two processes share one target.
run() {
  local target=$1 corpus=$2
  shift 2
  mkdir -p "${corpus}"
  local status=0 seconds=${RUN_SECONDS:-${SECONDS_PER_TARGET}} log="${out}/${target}${RUN_TAG:-}.log"
  "${out}/${target}" -max_total_time="${seconds}" -timeout=10 -rss_limit_mb=2048 \
    -max_len=65536 -report_slow_units=1000 -print_final_stats=1 -artifact_prefix="${out}/artifacts/${target}-" \
    "${corpus}" "$@" > "${log}" 2>&1 || status=$?
  echo "==> ${target}${RUN_TAG:-}: ${seconds}s, exit ${status}"
  tail -n 12 "${log}"
  return "${status}"
}
# Two targets at a time, one per core; the script fails if any of them does.
failed=0
run fuzz_torch_file "${out}/corpus_torch" "${out}/torch" & a=$!
run fuzz_safetensors "${out}/corpus_safetensors" "${out}/seeds_safetensors" & b=$!
wait "${a}" || failed=1
wait "${b}" || failed=1
run fuzz_checkpoint "${out}/corpus_checkpoint" fuzz/corpus/checkpoint & a=$!
run fuzz_image "${out}/corpus_image" fuzz/corpus/image & b=$!
wait "${a}" || failed=1
wait "${b}" || failed=1
run fuzz_idx "${out}/corpus_idx" fuzz/corpus/idx & a=$!
run fuzz_cifar "${out}/corpus_cifar" fuzz/corpus/cifar & b=$!
wait "${a}" || failed=1
wait "${b}" || failed=1
# The seventh target would leave a core idle: two processes on its corpus
# for half the time each, the same fuzzing in half the wall time.
half=$(((SECONDS_PER_TARGET + 1) / 2))
RUN_SECONDS=${half} RUN_TAG=.a run fuzz_celeba "${out}/corpus_celeba" fuzz/corpus/celeba & a=$!
RUN_SECONDS=${half} RUN_TAG=.b run fuzz_celeba "${out}/corpus_celeba" fuzz/corpus/celeba & b=$!
wait "${a}" || failed=1
wait "${b}" || failed=1
if [ "${failed}" -ne 0 ]; then
  echo "==> fuzzing: a target failed; its input is in ${out}/artifacts/"
  exit 1
fi
echo "==> fuzzing: no crash in ${SECONDS_PER_TARGET}s per target"
