#!/usr/bin/env bash
# Builds the libFuzzer targets of the readers of untrusted files with clang-14
# (AddressSanitizer + UndefinedBehaviorSanitizer) and runs each for SECONDS
# (default 60), seeded with the test suite's files and the corpora checked in
# under fuzz/corpus/. Exits non-zero on
# any crash, sanitizer report, leak or timeout; the input is kept in
# build/fuzz/artifacts/. Details: fuzz/README.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SECONDS_PER_TARGET="${1:-60}"
out=build/fuzz
mkdir -p "${out}/artifacts" "${out}/corpus_torch" "${out}/corpus_safetensors" "${out}/seeds_safetensors"

flags=(-std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
       -Iinclude)
clang++-14 "${flags[@]}" fuzz/fuzz_torch_file.cpp -lz -o "${out}/fuzz_torch_file"
clang++-14 "${flags[@]}" fuzz/fuzz_safetensors.cpp -o "${out}/fuzz_safetensors"
clang++-14 "${flags[@]}" -I/usr/include/eigen3 -fopenmp fuzz/fuzz_checkpoint.cpp \
  -o "${out}/fuzz_checkpoint"

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

run() {
  local target=$1 corpus=$2 seeds=$3
  echo "==> fuzzing ${target} for ${SECONDS_PER_TARGET}s"
  "${out}/${target}" -max_total_time="${SECONDS_PER_TARGET}" -timeout=10 -rss_limit_mb=2048 \
    -max_len=65536 -report_slow_units=1000 -print_final_stats=1 -artifact_prefix="${out}/artifacts/${target}-" \
    "${corpus}" "${seeds}" 2>&1 | tail -n 12
  return "${PIPESTATUS[0]}"
}
run fuzz_torch_file "${out}/corpus_torch" "${out}/torch"
run fuzz_safetensors "${out}/corpus_safetensors" "${out}/seeds_safetensors"
mkdir -p "${out}/corpus_checkpoint"
run fuzz_checkpoint "${out}/corpus_checkpoint" fuzz/corpus/checkpoint
echo "==> fuzzing: no crash in ${SECONDS_PER_TARGET}s per target"
