// Uses the installed headers as a user would: a small network, forward on a batch of two.
// Built twice: with typenet.hpp (header-only) and with nn.hpp + typenet::kernels.
#include <cmath>
#include <iostream>
#include <type_traits>

#ifdef TYPENET_CONSUMER_HEADER
#include TYPENET_CONSUMER_HEADER
#else
#include "typenet/typenet.hpp"
#endif

namespace tn = typenet;

int main() {
  using Net = tn::Sequential<tn::Conv2d<4, 3, tn::Padding<1>>, tn::ReLU>;
  tn::Model<Net, tn::Shape<2, 8, 8>> net(42);
  static_assert(std::is_same_v<decltype(net)::output_shape, tn::Shape<4, 8, 8>>);

  tn::Tensor<tn::Shape<2, 8, 8>> x(2);
  for (int i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(i % 7) / 7.0f;
  const auto& y = net.forward(x);

  double sum = 0;
  for (float v : y.values()) sum += v;
  if (y.batch() != 2 || !std::isfinite(sum)) {
    std::cerr << "typenet_consumer: bad output\n";
    return 1;
  }
  std::cout << "typenet_consumer: output " << decltype(net)::output_shape::str() << " x "
            << y.batch() << ", sum " << sum << "\n";
  return 0;
}
