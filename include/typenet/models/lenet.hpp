// typenet/models/lenet.hpp — LeNet-5 for 28x28 images (MNIST, Fashion-MNIST).
//
// The classic network with ReLU and max pooling, padded first convolution
// so 28x28 inputs keep LeCun's 32x32 geometry. No torchvision counterpart;
// its state_dict keys are those of the equivalent nn.Sequential:
//   0.weight [6, C, 5, 5]   0.bias [6]      (Conv2d 6, 5x5, padding 2)
//   3.weight [16, 6, 5, 5]  3.bias [16]     (Conv2d 16, 5x5)
//   7.weight [120, 400]     7.bias [120]    (Linear 120)
//   9.weight [84, 120]      9.bias [84]     (Linear 84)
//   11.weight [10, 84]      11.bias [10]    (Linear Classes)
#pragma once

#include <string>

#include "typenet/layers/activations.hpp"
#include "typenet/layers/conv2d.hpp"
#include "typenet/layers/flatten.hpp"
#include "typenet/layers/linear.hpp"
#include "typenet/layers/pooling.hpp"
#include "typenet/nn/sequential.hpp"

namespace typenet::models {

template <int Classes = 10>
struct LeNet5
    : Sequential<Conv2d<6, 5, Padding<2>>, ReLU, MaxPool2d<2>, Conv2d<16, 5>, ReLU, MaxPool2d<2>,
                 Flatten, Linear<120>, ReLU, Linear<84>, ReLU, Linear<Classes>> {
  using definition =
      Sequential<Conv2d<6, 5, Padding<2>>, ReLU, MaxPool2d<2>, Conv2d<16, 5>, ReLU, MaxPool2d<2>,
                 Flatten, Linear<120>, ReLU, Linear<84>, ReLU, Linear<Classes>>;
  static std::string type_name() { return "models::LeNet5<" + std::to_string(Classes) + ">"; }
};

}  // namespace typenet::models
