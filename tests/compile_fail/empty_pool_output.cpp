// expect: output_would_be_empty<.*at_child<1[^>]*>, .*MaxPool2d<[^>]*3, 3}>, .*Shape<4, 2, 2>
// 3}>, typenet::Shape<4, 2, 2> A 3x3 max pool does not fit the 2x2 map the convolution produces.
#include "typenet/nn.hpp"

namespace tn = typenet;
using Net = tn::Sequential<tn::Conv2d<4, 3>, tn::MaxPool2d<3>>;

int main() {
  tn::Model<Net, tn::Shape<1, 4, 4>> net;
  (void)net;
}
