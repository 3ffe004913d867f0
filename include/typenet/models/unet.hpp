// typenet/models/unet.hpp — U-Net (Ronneberger et al., 2015) as the most used
// PyTorch implementation writes it (milesial/Pytorch-UNet, transposed-
// convolution variant), so its checkpoints load by name.
//
// Read top to bottom it is that repository's forward:
//
//   x1 = inc(x); x2 = down1(x1); ...; x5 = down4(x4)
//   x = up1(x5, x4); x = up2(x, x3); x = up3(x, x2); x = up4(x, x1)
//   logits = outc(x)
//
// Each Up block transposes-convolves its input to twice the size, pads it
// to the encoder output it is given (odd sizes lose a row or column on the
// way down), concatenates [skip, upsampled] along the channels and applies
// a DoubleConv. Keys: inc.double_conv.0.weight,
// down1.maxpool_conv.1.double_conv.0.weight, up1.up.weight,
// up1.conv.double_conv.0.weight, outc.conv.weight. `Base` is the width of
// the first level (64 in that repository; smaller widths make small test
// networks with the same keys). The bilinear variant (align_corners=True
// upsampling) is not offered: typenet's Bilinear is align_corners=False.
#pragma once

#include <string>

#include "typenet/core/fixed_string.hpp"
#include "typenet/layers/activations.hpp"
#include "typenet/layers/batch_norm.hpp"
#include "typenet/layers/conv2d.hpp"
#include "typenet/layers/conv_transpose2d.hpp"
#include "typenet/layers/pooling.hpp"
#include "typenet/nn/from.hpp"
#include "typenet/nn/merge.hpp"
#include "typenet/nn/named.hpp"
#include "typenet/nn/sequential.hpp"

namespace typenet::models {

namespace unet {

/// (Conv 3x3 => BatchNorm => ReLU) twice: DoubleConv(in, Out, Mid).
template <int Out, int Mid = Out>
using DoubleConv = Sequential<
    Named<"double_conv", Sequential<Conv2d<Mid, 3, Padding<1>, NoBias>, BatchNorm2d, ReLU,
                                    Conv2d<Out, 3, Padding<1>, NoBias>, BatchNorm2d, ReLU>>>;

/// Max pooling by 2, then a DoubleConv to Out channels.
template <int Out>
using Down = Sequential<Named<"maxpool_conv", Sequential<MaxPool2d<2>, DoubleConv<Out>>>>;

/// Transposed convolution to twice the size and Out channels, padded to the
/// encoder output `Skip`, concatenated after it, then a DoubleConv.
template <int Out, fixed_string Skip>
using Up = Sequential<Named<"up", ConvTranspose2d<Out, 2, Stride<2>>>,
                      Concat<From<Skip>, PadLike<Skip>>, Named<"conv", DoubleConv<Out>>>;

/// A 1x1 convolution to the class scores.
template <int Classes>
using OutConv = Sequential<Named<"conv", Conv2d<Classes, 1>>>;

template <int Classes, int Base>
using Definition = Sequential<Named<"inc", DoubleConv<Base>>,       //
                              Named<"down1", Down<2 * Base>>,       //
                              Named<"down2", Down<4 * Base>>,       //
                              Named<"down3", Down<8 * Base>>,       //
                              Named<"down4", Down<16 * Base>>,      //
                              Named<"up1", Up<8 * Base, "down3">>,  //
                              Named<"up2", Up<4 * Base, "down2">>,  //
                              Named<"up3", Up<2 * Base, "down1">>,  //
                              Named<"up4", Up<Base, "inc">>,        //
                              Named<"outc", OutConv<Classes>>>;

}  // namespace unet

/// U-Net with `Classes` output channels (logits per pixel) on images of any
/// channel count (the Model's input shape), 4 levels of `Base` to 16 * Base
/// channels. Any input of at least 16x16 works; sizes that are not
/// multiples of 16 are padded on the way up as in PyTorch.
template <int Classes, int Base = 64>
struct UNet : unet::Definition<Classes, Base> {
  static_assert(Classes > 0 && Base > 0, "UNet needs positive Classes and Base");
  using definition = unet::Definition<Classes, Base>;
  static std::string type_name() {
    return "models::UNet<" + std::to_string(Classes) +
           (Base == 64 ? std::string() : ", " + std::to_string(Base)) + ">";
  }
};

}  // namespace typenet::models
