// expect: groups_must_divide_channels<.*at_model_root, .*Groups<3>[ ]?>, .*Shape<6, 8, 8>
// (typenet::Kernel)?{3, 3}, typenet::Groups<3>[ ]?>, typenet::Shape<6, 8, 8> Groups<3> divides the
// 6 input channels but not the 8 output channels.
#include "typenet/nn.hpp"

namespace tn = typenet;

int main() {
  tn::Model<tn::Conv2d<8, 3, tn::Groups<3>>, tn::Shape<6, 8, 8>> net;
  (void)net;
}
