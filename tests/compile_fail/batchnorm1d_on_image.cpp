// expect: layer_needs_flat_input<.*at_child<1[^>]*>, .*BatchNorm1d, .*Shape<8, 4, 4>
// 4, 4> BatchNorm1d normalizes Shape<C> or Shape<C, L>; a feature map needs BatchNorm2d.
#include "typenet/nn.hpp"

namespace tn = typenet;
using Net = tn::Sequential<tn::Conv2d<8, 1>, tn::BatchNorm1d>;

int main() {
  tn::Model<Net, tn::Shape<3, 4, 4>> net;
  (void)net;
}
