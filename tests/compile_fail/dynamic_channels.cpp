// expect: the first extent of a Shape \(channels, features\) is static
// The channel count fixes the parameter shapes: it cannot be tn::dyn.
#include "typenet/nn.hpp"

int main() {
  typenet::Tensor<typenet::Shape<typenet::dyn, 32, 32>> x;
  (void)x;
}
