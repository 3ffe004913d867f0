// expect: output_would_overflow_int<.*at_child<1[^>]*>, .*Upsample<256>, .*Shape<3, 256, 256>
// typenet::Shape<3, 256, 256> A 256x upsampling of a 3x256x256 map would have 3 * 65536 * 65536
// elements per sample.
#include "typenet/nn.hpp"

namespace tn = typenet;
using Net = tn::Sequential<tn::Identity, tn::Upsample<256>>;

int main() {
  tn::Model<Net, tn::Shape<3, 256, 256>> net;
  (void)net;
}
