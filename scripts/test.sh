#!/usr/bin/env bash
# Builds typenet and runs every test: the `release` preset, then `asan`
# (AddressSanitizer + UndefinedBehaviorSanitizer).
#
# Meant for a fresh Debian 12 run as root: Debian packages that are missing are
# installed first (nothing else is downloaded). Exits non-zero on any failure.
# JOBS (default 2) sets the parallelism of the builds and tests; PRESETS
# (default "release asan") the presets to run.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

JOBS="${JOBS:-2}"
PRESETS="${PRESETS:-release asan}"

phase "install Debian packages" ensure_packages \
  build-essential cmake g++ clang-14 libclang-rt-14-dev libeigen3-dev libboost-dev libboost-test-dev \
  python3-torch python3-torchvision libstb-dev nlohmann-json3-dev libcli11-dev zlib1g-dev \
  libjpeg62-turbo-dev libpng-dev libgif-dev \
  libopenblas0-pthread libbenchmark-dev pkg-config python3-skimage python3-pil \
  dataset-fashion-mnist mate-backgrounds lomiri-wallpapers-20.04 lomiri-wallpapers-16.04 plasma-workspace-wallpapers

for preset in ${PRESETS}; do
  phase "${preset}: configure" cmake --preset "${preset}"
  phase "${preset}: build" cmake --build --preset "${preset}" -j "${JOBS}"
  phase "${preset}: test" ctest --preset "${preset}" --output-on-failure -j "${JOBS}"
done

# Every reader of untrusted files under libFuzzer (clang-14, ASan + UBSan), 60 s per target.
phase "fuzz the readers of untrusted files" ./scripts/fuzz.sh "${FUZZ_SECONDS:-60}"

summary
