// expect: linear_needs_flat_input<.*at_child<6[^>]*>, .*Linear<120>, .*Shape<16, 5, 5>
// typenet::Shape<16, 5, 5> LeNet-5 without its Flatten: child 6, Linear<120>, receives the 16x5x5
// feature map.
#include "typenet/nn.hpp"

namespace tn = typenet;
using Net = tn::Sequential<tn::Conv2d<6, 5, tn::Padding<2>>, tn::ReLU, tn::MaxPool2d<2>,
                           tn::Conv2d<16, 5>, tn::ReLU, tn::MaxPool2d<2>, tn::Linear<120>, tn::ReLU,
                           tn::Linear<84>, tn::ReLU, tn::Linear<10>>;

int main() {
  tn::Model<Net, tn::Shape<1, 28, 28>> net;
  (void)net;
}
