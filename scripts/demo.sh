#!/usr/bin/env bash
# The demo: trains LeNet-5 on the real Fashion-MNIST (Debian's
# dataset-fashion-mnist) for 3 epochs, about 3 minutes on 2 cores, and
# prints its test accuracy, balanced error rate and confusion matrix
# (examples/classify_fashion.cpp); first the LeNet-5 forward/backward
# walk-through (examples/lenet_forward_backward.cpp). Release preset. On a
# fresh Debian 12, run as root: the Debian packages it needs are installed
# first if missing.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

JOBS="${JOBS:-2}"

# libboost-test-dev: the release preset also configures the tests.
phase "install Debian packages" ensure_packages \
  build-essential cmake g++ libeigen3-dev libboost-dev libboost-test-dev nlohmann-json3-dev \
  zlib1g-dev libstb-dev pkg-config libcli11-dev dataset-fashion-mnist
phase "configure" cmake --preset release
phase "build" cmake --build --preset release -j "${JOBS}" \
  --target lenet_forward_backward classify_fashion
phase "run: LeNet-5 forward and backward" ./build/release/examples/lenet_forward_backward
phase "run: Fashion-MNIST, 3 epochs" \
  ./build/release/examples/classify_fashion --epochs 3 --out build/fashion-lenet.safetensors

summary
