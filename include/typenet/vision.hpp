// typenet/vision.hpp — the vision component: images, transforms and datasets.
//
// Reading and writing images (JPEG, PNG, GIF, BMP, PNM), colour spaces
// (RGB, gray, LAB), torchvision's transforms and normalization, the standard
// datasets (MNIST/Fashion-MNIST IDX, CIFAR, CelebA, image folders) and the
// DataLoader. Builds on nn.hpp and io.hpp (durable writes); needs
// libjpeg-turbo, libpng, giflib, stb and zlib. CMake target: typenet::vision.
#pragma once

#include "typenet/io.hpp"
#include "typenet/nn.hpp"

#include "typenet/image/color.hpp"
#include "typenet/image/grid.hpp"
#include "typenet/image/image.hpp"
#include "typenet/image/normalize.hpp"
#include "typenet/image/transforms.hpp"

#include "typenet/data/celeba.hpp"
#include "typenet/data/cifar.hpp"
#include "typenet/data/example.hpp"
#include "typenet/data/file_bytes.hpp"
#include "typenet/data/idx.hpp"
#include "typenet/data/image_folder.hpp"
#include "typenet/data/loader.hpp"
#include "typenet/data/subset.hpp"
#include "typenet/data/transforms.hpp"
