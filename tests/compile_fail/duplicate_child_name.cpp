// expect: duplicate_child_name<.*at_child<2[^>]*>, .*Sequential<.*Named<.*(conv"|118, 0)
// typenet::Sequential<.*typenet::Named<(typenet::fixed_string<4>{"conv"}|{{99, 111, 110, 118, 0}}),
// typenet::Conv2d<8, (typenet::Kernel)?{3, 3}>[ ]?>[ ]?> Two children named "conv" would both claim
// the keys conv.weight and conv.bias.
#include "typenet/nn.hpp"

namespace tn = typenet;
using Net = tn::Sequential<tn::Named<"conv", tn::Conv2d<8, 3>>, tn::ReLU,
                           tn::Named<"conv", tn::Conv2d<8, 3>>>;

int main() {
  tn::Model<Net, tn::Shape<3, 16, 16>> net;
  (void)net;
}
