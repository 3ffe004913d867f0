// expect: no_earlier_output_named<.*at_child<1, .*at_named<.*"up1".*From<.*"down9"
// A skip to a name that no earlier child bears (a typo for "down3").
#include "typenet/nn.hpp"

namespace tn = typenet;
using Net =
    tn::Sequential<tn::Named<"down3", tn::Conv2d<4, 3, tn::Stride<2>, tn::Padding<1>>>,
                   tn::Named<"up1", tn::Sequential<tn::ConvTranspose2d<4, 2, tn::Stride<2>>,
                                                   tn::Concat<tn::From<"down9">, tn::Identity>>>>;

int main() {
  tn::Model<Net, tn::Shape<3, 8, 8>> net;
  (void)net;
}
