// expect: option_does_not_apply<.*at_model_root, .*AvgPool2d<.*Dilation<2.*Shape<3, 16, 16>
// 2}, typenet::Dilation<2[^>]*>[ ]?>, typenet::Shape<3, 16, 16> AvgPool2d takes no Dilation
// (PyTorch's AvgPool2d has none).
#include "typenet/nn.hpp"

namespace tn = typenet;

int main() {
  tn::Model<tn::AvgPool2d<2, tn::Dilation<2>>, tn::Shape<3, 16, 16>> net;
  (void)net;
}
