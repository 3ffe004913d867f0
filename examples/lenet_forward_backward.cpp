// LeNet-5 on 28x28 grayscale images: one forward and one backward pass.
//
// The network is a type and the compiler checks every shape: each layer takes
// its input size from the layer before (Linear<120> learns that it gets 400
// features), and deleting the Flatten makes the program fail to compile with
// a message that says to put it back.
// This program prints the model's summary, runs a random batch of 4 through
// it, back-propagates a dummy gradient and prints the gradient norm of each
// parameter, named as in PyTorch's state_dict.
#include <cmath>
#include <cstdio>
#include <iostream>
#include <random>
#include <type_traits>

#include "typenet/nn.hpp"

namespace tn = typenet;

using LeNet5 = tn::Sequential<                                         //
    tn::Conv2d<6, 5, tn::Padding<2>>, tn::ReLU, tn::MaxPool2d<2>,      // 6 x 14 x 14
    tn::Conv2d<16, 5>, tn::ReLU, tn::MaxPool2d<2>,                     // 16 x 5 x 5
    tn::Flatten, tn::Linear<120>, tn::ReLU, tn::Linear<84>, tn::ReLU,  //
    tn::Linear<10>>;                                                   // 10 logits
using Net = tn::Model<LeNet5, tn::Shape<1, 28, 28>>;
static_assert(std::is_same_v<Net::output_shape, tn::Shape<10>>);

int main() {
  std::cout << "LeNet-5, input " << Net::input_shape::str() << "\n\n" << Net::summary() << "\n";

  Net net(/*seed=*/1);
  constexpr int batch = 4;

  std::mt19937 rng(7);
  std::uniform_real_distribution<float> pixel(0.0f, 1.0f);
  Net::input_tensor x(batch);
  for (auto& v : x.values()) v = pixel(rng);

  const auto& logits = net.forward(x);
  std::cout << "forward: logits " << Net::output_shape::str() << " x " << logits.batch() << "\n";
  for (int n = 0; n < batch; ++n) {
    std::cout << "  sample " << n << ":";
    for (int k = 0; k < 10; ++k) std::printf(" %+.4f", static_cast<double>(logits(n, k)));
    std::cout << "\n";
  }

  // A stand-in for dLoss/dlogits: the gradient of the mean of all logits.
  Net::output_tensor dy(batch);
  dy.fill(1.0f / static_cast<float>(batch * 10));
  net.zero_grad();
  net.backward(dy);

  std::cout << "\nbackward: gradient norms\n";
  for (const auto& p : net.parameters()) {
    double sq = 0;
    for (float g : p.grad()) sq += static_cast<double>(g) * g;
    std::printf("  %-10s %8lld values  |grad| = %.6g\n", p.name().c_str(),
                static_cast<long long>(p.size()), std::sqrt(sq));
  }
  return 0;
}
