// expect: output_would_be_empty<.*at_named<.*(conv2|118, 50, 0).*Dilation<2.*Shape<8, 4, 4>
// 110, 118, 50, 0}})[^>]*>, typenet::Conv2d<8, (typenet::Kernel)?{3, 3}, typenet::Dilation<2[^>]*>[
// ]?>, typenet::Shape<8, 4, 4> A dilated 3x3 kernel spans 5x5 (dilation 2) and no longer fits the
// 4x4 map the first convolution leaves; the error names the child "conv2".
#include "typenet/nn.hpp"

namespace tn = typenet;
using Net = tn::Sequential<tn::Named<"conv1", tn::Conv2d<8, 3>>, tn::ReLU,
                           tn::Named<"conv2", tn::Conv2d<8, 3, tn::Dilation<2>>>>;

int main() {
  tn::Model<Net, tn::Shape<3, 6, 6>> net;
  (void)net;
}
