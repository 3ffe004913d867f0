#!/usr/bin/env bash
# The demo, about 10 minutes on 2 cores (release preset):
#   1. the LeNet-5 forward/backward walk-through (examples/lenet_forward_backward.cpp);
#   2. LeNet-5 trained on the real Fashion-MNIST for 3 epochs: test accuracy,
#      balanced error rate, confusion matrix (examples/classify_fashion.cpp);
#   3. the transfer-learning experiment at one seed: pretrain on classes 0-4,
#      then 20 and 100 images per class of 5-9, head-only / fine-tuned /
#      from scratch (examples/transfer_fashion.cpp);
#   4. the lecture's colorization network (ResNet-18 trunk, upsampling decoder)
#      trained on photos from Debian packages, then grids original | gray |
#      colorized of the held-out photos written to build/colorize-demo/
#      (examples/colorize.cpp).
# On a fresh Debian 12, run as root: the Debian packages it needs are
# installed first if missing.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

JOBS="${JOBS:-2}"

# libboost-test-dev: the release preset also configures the tests.
phase "install Debian packages" ensure_packages \
  build-essential cmake g++ libeigen3-dev libboost-dev libboost-test-dev nlohmann-json3-dev \
  zlib1g-dev libstb-dev libjpeg62-turbo-dev libpng-dev libgif-dev pkg-config libcli11-dev \
  dataset-fashion-mnist python3-skimage \
  mate-backgrounds lomiri-wallpapers-20.04 lomiri-wallpapers-16.04 plasma-workspace-wallpapers
phase "configure" cmake --preset release
phase "build" cmake --build --preset release -j "${JOBS}" \
  --target lenet_forward_backward classify_fashion transfer_fashion colorize
phase "run: LeNet-5 forward and backward" ./build/release/examples/lenet_forward_backward
phase "run: Fashion-MNIST, 3 epochs" \
  ./build/release/examples/classify_fashion --epochs 3 --out build/fashion-lenet.safetensors
phase "run: transfer learning with 20 and 100 images per class, one seed" \
  ./build/release/examples/transfer_fashion --seeds 1
# Passive OpenMP threads: the loader thread and the model's threads share 2 cores.
phase "run: colorization, 1000 steps" env OMP_WAIT_POLICY=passive \
  ./build/release/examples/colorize train --out build/colorize-demo
echo "The colorized held-out photos (original | grayscale input | colorized at 64x64 | at their size) are in"
echo "  $(pwd)/build/colorize-demo/"

summary
