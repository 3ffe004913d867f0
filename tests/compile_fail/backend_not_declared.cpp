// expect: static assertion failed: typenet::backend: no backend is declared for this device
// A device tag without a backend: the interface says so before anything else.
#include "typenet/nn.hpp"

namespace tn = typenet;

struct Accelerator {};

int main() {
  float x[4] = {}, y[4] = {};
  tn::backend::add(Accelerator{}, tn::backend::vector_view<const float>(x, 4),
                   tn::backend::vector_view<const float>(x, 4), tn::backend::vector_view(y, 4));
}
