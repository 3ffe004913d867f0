// typenet/models/alexnet.hpp — torchvision's AlexNet.
//
// features, avgpool (AdaptiveAvgPool2d(6) with torchvision's flatten),
// classifier (Dropout, Linear(9216, 4096), ReLU, Dropout, Linear, ReLU,
// Linear). Keys as in alexnet-owt-7be5be79.pth: features.0.weight,
// classifier.1.weight, classifier.6.bias, ...
#pragma once

#include <string>

#include "typenet/layers/activations.hpp"
#include "typenet/layers/conv2d.hpp"
#include "typenet/layers/dropout.hpp"
#include "typenet/layers/flatten.hpp"
#include "typenet/layers/linear.hpp"
#include "typenet/layers/pooling.hpp"
#include "typenet/nn/named.hpp"
#include "typenet/nn/sequential.hpp"

namespace typenet::models {

namespace detail {
template <int Classes>
using alexnet = Sequential<
    Named<"features",
          Sequential<Conv2d<64, 11, Stride<4>, Padding<2>>, ReLU, MaxPool2d<3, Stride<2>>,
                     Conv2d<192, 5, Padding<2>>, ReLU, MaxPool2d<3, Stride<2>>,
                     Conv2d<384, 3, Padding<1>>, ReLU, Conv2d<256, 3, Padding<1>>, ReLU,
                     Conv2d<256, 3, Padding<1>>, ReLU, MaxPool2d<3, Stride<2>>>>,
    Named<"avgpool", Sequential<AdaptiveAvgPool2d<6>, Flatten>>,
    Named<"classifier", Sequential<Dropout<>, Linear<4096>, ReLU, Dropout<>, Linear<4096>, ReLU,
                                   Linear<Classes>>>>;
}  // namespace detail

/// torchvision.models.alexnet(num_classes=Classes).
template <int Classes = 1000>
struct AlexNet : detail::alexnet<Classes> {
  using definition = detail::alexnet<Classes>;
  static std::string type_name() { return "models::AlexNet<" + std::to_string(Classes) + ">"; }
};

}  // namespace typenet::models
