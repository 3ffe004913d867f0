// typenet/models/colorization.hpp — the lecture's ColorizationNet.
//
// A ResNet-18 trunk cut after layer2 (children 0..5, like
// `nn.Sequential(*list(resnet.children())[0:6])`) on a one-channel L input,
// followed by a decoder of Conv-BatchNorm-ReLU blocks and nearest
// upsampling back to the input size, predicting the two ab channels.
// Keys are the lecture notebook's: midlevel_resnet.0.weight (conv1),
// midlevel_resnet.4.0.conv1.weight (layer1), upsample.0.weight, ...
// ColorizationNetTransposed replaces each Upsample + Conv pair of the
// decoder by a ConvTranspose2d(k4, s2, p1), the slides' formulation.
#pragma once

#include <string>

#include "typenet/layers/activations.hpp"
#include "typenet/layers/batch_norm.hpp"
#include "typenet/layers/conv2d.hpp"
#include "typenet/layers/conv_transpose2d.hpp"
#include "typenet/layers/upsample.hpp"
#include "typenet/models/resnet.hpp"
#include "typenet/nn/first_children.hpp"
#include "typenet/nn/named.hpp"
#include "typenet/nn/sequential.hpp"

namespace typenet::models {

using ColorizationDecoder =
    Sequential<Conv2d<128, 3, Padding<1>>, BatchNorm2d, ReLU, Upsample<2>,
               Conv2d<64, 3, Padding<1>>, BatchNorm2d, ReLU, Conv2d<64, 3, Padding<1>>, BatchNorm2d,
               ReLU, Upsample<2>, Conv2d<32, 3, Padding<1>>, BatchNorm2d, ReLU,
               Conv2d<2, 3, Padding<1>>, Upsample<2>>;

/// The seed's network: ResNet-18's first six children, then the upsampling decoder.
struct ColorizationNet : Sequential<Named<"midlevel_resnet", FirstChildren<6, ResNet18<>>>,
                                    Named<"upsample", ColorizationDecoder>> {
  using definition = Sequential<Named<"midlevel_resnet", FirstChildren<6, ResNet18<>>>,
                                Named<"upsample", ColorizationDecoder>>;
  static std::string type_name() { return "models::ColorizationNet"; }
};

using ColorizationDecoderTransposed =
    Sequential<Conv2d<128, 3, Padding<1>>, BatchNorm2d, ReLU,
               ConvTranspose2d<64, 4, Stride<2>, Padding<1>>, BatchNorm2d, ReLU,
               Conv2d<64, 3, Padding<1>>, BatchNorm2d, ReLU,
               ConvTranspose2d<32, 4, Stride<2>, Padding<1>>, BatchNorm2d, ReLU,
               ConvTranspose2d<2, 4, Stride<2>, Padding<1>>>;

/// ColorizationNet with a decoder of transposed convolutions.
struct ColorizationNetTransposed
    : Sequential<Named<"midlevel_resnet", FirstChildren<6, ResNet18<>>>,
                 Named<"upsample", ColorizationDecoderTransposed>> {
  using definition = Sequential<Named<"midlevel_resnet", FirstChildren<6, ResNet18<>>>,
                                Named<"upsample", ColorizationDecoderTransposed>>;
  static std::string type_name() { return "models::ColorizationNetTransposed"; }
};

}  // namespace typenet::models
