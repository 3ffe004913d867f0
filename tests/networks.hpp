// Networks several test files use: LeNet-5 and the first stages of
// torchvision's resnet18, spelled with typenet's layers.
#pragma once

#include <type_traits>

#include <typenet/nn.hpp>

namespace typenet_tests {

namespace tn = typenet;

using LeNet5 = tn::Sequential<tn::Conv2d<6, 5, tn::Padding<2>>, tn::ReLU, tn::MaxPool2d<2>,
                              tn::Conv2d<16, 5>, tn::ReLU, tn::MaxPool2d<2>, tn::Flatten,
                              tn::Linear<120>, tn::ReLU, tn::Linear<84>, tn::ReLU, tn::Linear<10>>;

/// torchvision's BasicBlock, with a downsample branch when Downsample.
template <int C, int S, bool Downsample>
using BasicBlock = tn::Residual<
    tn::Sequential<tn::Named<"conv1", tn::Conv2d<C, 3, tn::Stride<S>, tn::Padding<1>, tn::NoBias>>,
                   tn::Named<"bn1", tn::BatchNorm2d>, tn::Named<"relu", tn::ReLU>,
                   tn::Named<"conv2", tn::Conv2d<C, 3, tn::Padding<1>, tn::NoBias>>,
                   tn::Named<"bn2", tn::BatchNorm2d>>,
    std::conditional_t<
        Downsample,
        tn::Named<"downsample",
                  tn::Sequential<tn::Conv2d<C, 1, tn::Stride<S>, tn::NoBias>, tn::BatchNorm2d>>,
        tn::Identity>,
    tn::ReLU>;

/// The first two stages of torchvision's resnet18, with its attribute names.
using ResNetStem = tn::Sequential<
    tn::Named<"conv1", tn::Conv2d<64, 7, tn::Stride<2>, tn::Padding<3>, tn::NoBias>>,
    tn::Named<"bn1", tn::BatchNorm2d>, tn::Named<"relu", tn::ReLU>,
    tn::Named<"maxpool", tn::MaxPool2d<3, tn::Stride<2>, tn::Padding<1>>>,
    tn::Named<"layer1", tn::Sequential<BasicBlock<64, 1, false>, BasicBlock<64, 1, false>>>,
    tn::Named<"layer2", tn::Sequential<BasicBlock<128, 2, true>, BasicBlock<128, 1, false>>>,
    tn::Named<"avgpool", tn::AdaptiveAvgPool2d<1>>, tn::Flatten, tn::Named<"fc", tn::Linear<10>>>;

}  // namespace typenet_tests
