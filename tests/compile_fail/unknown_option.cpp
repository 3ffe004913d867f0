// expect: option_does_not_apply<.*at_child<0[^>]*>, .*Conv2d<8, .*Padding<1.*CeilMode>
// 3}, typenet::Padding<1[^>]*>, typenet::CeilMode> CeilMode belongs to pooling; a convolution has
// no such option.
#include "typenet/nn.hpp"

namespace tn = typenet;
using Net = tn::Sequential<tn::Conv2d<8, 3, tn::Padding<1>, tn::CeilMode>, tn::ReLU>;

int main() {
  tn::Model<Net, tn::Shape<3, 16, 16>> net;
  (void)net;
}
