// expect: nothing_follows_heads<.*at_child<2, .*model_root>, .*Linear<3>, .*Outputs<
// Heads return separate tensors; a layer after them has no single input.
#include "typenet/nn.hpp"

namespace tn = typenet;
using Net = tn::Sequential<tn::Conv2d<4, 3>, tn::Heads<tn::Flatten, tn::Sequential<tn::Flatten>>,
                           tn::Linear<3>>;

int main() {
  tn::Model<Net, tn::Shape<3, 8, 8>> net;
  (void)net;
}
