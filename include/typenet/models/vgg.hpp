// typenet/models/vgg.hpp — torchvision's VGG-16 and VGG-16 with batch norm.
//
// features (configuration "D": 3x3 convolutions with ReLU, or Conv-BN-ReLU
// for VGG16_BN, and max pools), avgpool (AdaptiveAvgPool2d(7), with the
// flatten torchvision does in forward), classifier (Linear-ReLU-Dropout x2,
// Linear). Keys: features.0.weight, ..., classifier.6.weight, as in
// vgg16-397923af.pth / vgg16_bn-6c64b313.pth.
#pragma once

#include <boost/mp11/algorithm.hpp>
#include <boost/mp11/list.hpp>
#include <string>

#include "typenet/layers/activations.hpp"
#include "typenet/layers/batch_norm.hpp"
#include "typenet/layers/conv2d.hpp"
#include "typenet/layers/dropout.hpp"
#include "typenet/layers/flatten.hpp"
#include "typenet/layers/linear.hpp"
#include "typenet/layers/pooling.hpp"
#include "typenet/nn/named.hpp"
#include "typenet/nn/sequential.hpp"

namespace typenet::models {

namespace detail {
/// One entry of a VGG configuration: a channel count, or 0 for max pooling.
template <int Channels, bool BatchNorm>
struct vgg_stage {
  using type = std::conditional_t<
      Channels == 0, boost::mp11::mp_list<MaxPool2d<2, Stride<2>>>,
      std::conditional_t<
          BatchNorm,
          boost::mp11::mp_list<Conv2d<(Channels ? Channels : 1), 3, Padding<1>>, BatchNorm2d, ReLU>,
          boost::mp11::mp_list<Conv2d<(Channels ? Channels : 1), 3, Padding<1>>, ReLU>>>;
};
template <bool BatchNorm, int... Config>
using vgg_features =
    boost::mp11::mp_rename<boost::mp11::mp_append<typename vgg_stage<Config, BatchNorm>::type...>,
                           Sequential>;

template <bool BatchNorm>
using vgg16_features = vgg_features<BatchNorm, 64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512,
                                    512, 0, 512, 512, 512, 0>;
}  // namespace detail

template <class Features, int Classes>
using VGG = Sequential<Named<"features", Features>,
                       Named<"avgpool", Sequential<AdaptiveAvgPool2d<7>, Flatten>>,
                       Named<"classifier", Sequential<Linear<4096>, ReLU, Dropout<>, Linear<4096>,
                                                      ReLU, Dropout<>, Linear<Classes>>>>;

/// torchvision.models.vgg16(num_classes=Classes).
template <int Classes = 1000>
struct VGG16 : VGG<detail::vgg16_features<false>, Classes> {
  using definition = VGG<detail::vgg16_features<false>, Classes>;
  static std::string type_name() { return "models::VGG16<" + std::to_string(Classes) + ">"; }
};
/// torchvision.models.vgg16_bn(num_classes=Classes).
template <int Classes = 1000>
struct VGG16_BN : VGG<detail::vgg16_features<true>, Classes> {
  using definition = VGG<detail::vgg16_features<true>, Classes>;
  static std::string type_name() { return "models::VGG16_BN<" + std::to_string(Classes) + ">"; }
};

}  // namespace typenet::models
