// typenet/models/resnet.hpp — torchvision's ResNet-18 and ResNet-34.
//
// Structure and state_dict keys are torchvision 0.14's, so
// resnet18-f37072fd.pth / resnet34-b627a593.pth load with no renaming:
// conv1, bn1, relu, maxpool, layer1..layer4 (BasicBlocks with a
// `downsample` branch where the stride or width changes), avgpool, fc.
// torchvision flattens inside forward(); here the flatten is part of the
// `avgpool` child so the children keep torchvision's positions (fc is
// child 9), which FirstChildren relies on. Input channels come from the
// input shape: ResNet18<> on Shape<1, H, W> is the lecture's grayscale trunk.
// ResNet18 and ResNet34 are named types (nn/nominal.hpp), so errors, symbols
// and saved files say "models::ResNet18<1000>".
#pragma once

#include <boost/mp11/algorithm.hpp>
#include <string>

#include "typenet/layers/activations.hpp"
#include "typenet/layers/batch_norm.hpp"
#include "typenet/layers/conv2d.hpp"
#include "typenet/layers/flatten.hpp"
#include "typenet/layers/linear.hpp"
#include "typenet/layers/pooling.hpp"
#include "typenet/nn/named.hpp"
#include "typenet/nn/residual.hpp"
#include "typenet/nn/sequential.hpp"

namespace typenet::models {

/// torchvision.models.resnet.BasicBlock(inplanes, Planes, Step, downsample).
/// (`Step`, not `Stride`: nvcc's front end drops the qualification of
/// typenet::Stride<Stride> and would read the parameter.)
template <int Planes, int Step = 1, bool Downsample = false>
using BasicBlock = Residual<
    Sequential<Named<"conv1", Conv2d<Planes, 3, Stride<Step>, Padding<1>, NoBias>>,
               Named<"bn1", BatchNorm2d>, Named<"relu", ReLU>,
               Named<"conv2", Conv2d<Planes, 3, Padding<1>, NoBias>>, Named<"bn2", BatchNorm2d>>,
    std::conditional_t<
        Downsample,
        Named<"downsample", Sequential<Conv2d<Planes, 1, Stride<Step>, NoBias>, BatchNorm2d>>,
        Identity>,
    ReLU>;

namespace detail {
template <class Is, int Planes, int Stride, bool FirstDownsamples>
struct resnet_layer;
template <std::size_t... I, int Planes, int Stride, bool FirstDownsamples>
struct resnet_layer<std::index_sequence<I...>, Planes, Stride, FirstDownsamples> {
  using type =
      Sequential<BasicBlock<Planes, (I == 0 ? Stride : 1), (I == 0 && FirstDownsamples)>...>;
};
}  // namespace detail

/// torchvision's `_make_layer`: `Blocks` BasicBlocks, the first with the
/// stride and, when the shape changes, a downsample branch.
template <int Planes, int Blocks, int Stride, bool FirstDownsamples>
using ResNetLayer = typename detail::resnet_layer<std::make_index_sequence<Blocks>, Planes, Stride,
                                                  FirstDownsamples>::type;

/// ResNet with BasicBlocks; B1..B4 blocks per stage.
template <int B1, int B2, int B3, int B4, int Classes>
using BasicResNet = Sequential<
    Named<"conv1", Conv2d<64, 7, Stride<2>, Padding<3>, NoBias>>, Named<"bn1", BatchNorm2d>,
    Named<"relu", ReLU>, Named<"maxpool", MaxPool2d<3, Stride<2>, Padding<1>>>,
    Named<"layer1", ResNetLayer<64, B1, 1, false>>, Named<"layer2", ResNetLayer<128, B2, 2, true>>,
    Named<"layer3", ResNetLayer<256, B3, 2, true>>, Named<"layer4", ResNetLayer<512, B4, 2, true>>,
    Named<"avgpool", Sequential<AdaptiveAvgPool2d<1>, Flatten>>, Named<"fc", Linear<Classes>>>;

/// torchvision.models.resnet18(num_classes=Classes).
template <int Classes = 1000>
struct ResNet18 : BasicResNet<2, 2, 2, 2, Classes> {
  using definition = BasicResNet<2, 2, 2, 2, Classes>;
  static std::string type_name() { return "models::ResNet18<" + std::to_string(Classes) + ">"; }
};
/// torchvision.models.resnet34(num_classes=Classes).
template <int Classes = 1000>
struct ResNet34 : BasicResNet<3, 4, 6, 3, Classes> {
  using definition = BasicResNet<3, 4, 6, 3, Classes>;
  static std::string type_name() { return "models::ResNet34<" + std::to_string(Classes) + ">"; }
};

}  // namespace typenet::models
