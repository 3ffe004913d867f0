#!/usr/bin/env bash
# Builds and runs the LeNet-5 demo (examples/lenet_forward_backward.cpp) with
# the `release` preset. On a fresh Debian 12, run as root: the Debian packages
# it needs are installed first if missing.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

JOBS="${JOBS:-2}"

# libboost-test-dev: the release preset also configures the tests.
phase "install Debian packages" ensure_packages \
  build-essential cmake g++ libeigen3-dev libboost-dev libboost-test-dev nlohmann-json3-dev \
  zlib1g-dev libstb-dev pkg-config
phase "configure" cmake --preset release
phase "build" cmake --build --preset release -j "${JOBS}" --target lenet_forward_backward
phase "run" ./build/release/examples/lenet_forward_backward

summary
