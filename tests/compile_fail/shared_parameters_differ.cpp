// expect: parameters_differ_between_input_shapes<.*at_model_root, .*Linear<10>.*Shape<1, 28, 28>
// typenet::Sequential<.*typenet::Linear<10>[ ]?>, typenet::Shape<1, 28, 28> After Flatten, Linear
// sees 6*14*14 features at 28x28 but 6*16*16 at 32x32: the weights have different shapes, so the
// models cannot share them.
#include "typenet/nn.hpp"

namespace tn = typenet;
using Net = tn::Sequential<tn::Conv2d<6, 5, tn::Padding<2>>, tn::ReLU, tn::MaxPool2d<2>,
                           tn::Flatten, tn::Linear<10>>;

int main() {
  tn::Model<Net, tn::Shape<1, 28, 28>> small;
  tn::Model<Net, tn::Shape<1, 32, 32>> large(small);
  (void)large;
}
