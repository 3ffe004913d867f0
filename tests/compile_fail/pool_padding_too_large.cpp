// expect: padding_must_be_at_most_half_the_kernel<.*child<0.*MaxPool2d<.*Padding<2.*Shape<3, 8, 8>
// typenet::MaxPool2d<(typenet::Kernel)?{3, 3}, typenet::Stride<1[^>]*>, typenet::Padding<2[^>]*>[
// ]?>, typenet::Shape<3, 8, 8> PyTorch rejects pad > kernel / 2: a window could then lie in the
// padding only.
#include "typenet/nn.hpp"

namespace tn = typenet;
using Net = tn::Sequential<tn::MaxPool2d<3, tn::Stride<1>, tn::Padding<2>>>;

int main() {
  tn::Model<Net, tn::Shape<3, 8, 8>> net;
  (void)net;
}
