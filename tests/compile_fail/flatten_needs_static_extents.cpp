// expect: flatten_needs_static_extents
// Flatten after a convolution of dynamic extents: the feature count (and so
// the Linear weight) would be known only at run time. AdaptiveAvgPool2d
// before Flatten fixes the extents.
#include "typenet/nn.hpp"

int main() {
  namespace tn = typenet;
  tn::Model<tn::Sequential<tn::Conv2d<4, 3>, tn::Flatten, tn::Linear<10>>,
            tn::Shape<3, tn::dyn, tn::dyn>>
      net;
  (void)net;
}
