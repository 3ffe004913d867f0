// expect: concat_branches_disagree<.*at_child<1, .*model_root>, .*Shape<4, 8, 8>, .*Shape<2, 4, 4>
// A U-Net skip whose decoder branch was not upsampled: 8x8 beside 4x4
// cannot be concatenated along the channels.
#include "typenet/nn.hpp"

namespace tn = typenet;
using Net =
    tn::Concat<tn::Conv2d<4, 3, tn::Padding<1>>, tn::Conv2d<2, 3, tn::Stride<2>, tn::Padding<1>>>;

int main() {
  tn::Model<Net, tn::Shape<3, 8, 8>> net;
  (void)net;
}
