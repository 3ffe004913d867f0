// expect: residual_branches_disagree<.*model_root, .*Residual<.*Shape<16, 4, 4>, .*Shape<8, 8, 8>
// 4, 4>, typenet::Shape<8, 8, 8> A strided block that doubles the channels needs a downsample
// shortcut; with the identity the body gives 16x4x4 and the shortcut 8x8x8.
#include "typenet/nn.hpp"

namespace tn = typenet;
using Block = tn::Residual<
    tn::Sequential<tn::Named<"conv1", tn::Conv2d<16, 3, tn::Stride<2>, tn::Padding<1>, tn::NoBias>>,
                   tn::Named<"bn1", tn::BatchNorm2d>, tn::ReLU,
                   tn::Named<"conv2", tn::Conv2d<16, 3, tn::Padding<1>, tn::NoBias>>,
                   tn::Named<"bn2", tn::BatchNorm2d>>,
    tn::Identity, tn::ReLU>;

int main() {
  tn::Model<Block, tn::Shape<8, 8, 8>> net;
  (void)net;
}
