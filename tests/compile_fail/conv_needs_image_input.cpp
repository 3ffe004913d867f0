// expect: layer_needs_image_input<.*at_child<2[^>]*>, .*Conv2d<8, [^>]*>, .*Shape<48>
// (typenet::Kernel)?{3, 3}>, typenet::Shape<48> A convolution after Flatten gets a flat vector, not
// a feature map.
#include "typenet/nn.hpp"

namespace tn = typenet;
using Net = tn::Sequential<tn::Conv2d<3, 1>, tn::Flatten, tn::Conv2d<8, 3>>;

int main() {
  tn::Model<Net, tn::Shape<3, 4, 4>> net;
  (void)net;
}
