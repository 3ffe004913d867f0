// expect: output_padding_must_be_smaller_than_stride_or_dilation<.*OutputPadding<2.*Shape<8, 5, 5>
// typenet::ConvTranspose2d<4, (typenet::Kernel)?{3, 3}, typenet::Stride<2[^>]*>,
// typenet::OutputPadding<2[^>]*>[ ]?>, typenet::Shape<8, 5, 5> OutputPadding<2> with stride 2 and
// dilation 1 would add a row and column that no input reaches; PyTorch rejects it too.
#include "typenet/nn.hpp"

namespace tn = typenet;

int main() {
  tn::Model<tn::ConvTranspose2d<4, 3, tn::Stride<2>, tn::OutputPadding<2>>, tn::Shape<8, 5, 5>> net;
  (void)net;
}
