// Uses the installed headers as a user would: a small network, forward on a batch of two.
// Built three times: with typenet.hpp header-only, with typenet.hpp and the
// compiled libraries (typenet::compiled), and with nn.hpp + typenet::kernels.
// With typenet.hpp it also saves its weights and loads them into a second model.
#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>
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
#ifndef TYPENET_CONSUMER_HEADER
  const std::string path = "typenet_consumer_weights.safetensors";
  tn::save_weights(net, path);
  tn::Model<Net, tn::Shape<2, 8, 8>> copy(7);
  const auto report = tn::load_weights(copy, path);
  std::remove(path.c_str());
  const auto& z = copy.forward(x);
  for (int i = 0; i < y.size(); ++i)
    if (z.data()[i] != y.data()[i] || report.loaded.size() != 2) {
      std::cerr << "typenet_consumer: the weights did not load back\n";
      return 1;
    }
#endif
  std::cout << "typenet_consumer: output " << decltype(net)::output_shape::str() << " x "
            << y.batch() << ", sum " << sum << "\n";
  return 0;
}
