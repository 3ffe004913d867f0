// expect: output_would_be_empty
// A 7x7 kernel does not fit a 5x5 input without padding: the output would be empty.
#include "typenet/nn.hpp"

int main() {
  typenet::Model<typenet::Conv2d<4, 7>, typenet::Shape<1, 5, 5>> net;
  (void)net;
}
