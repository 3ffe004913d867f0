// A Fashion-MNIST trainer as a new user writes it: a DataLoader, a Model, Adam
// and fit. bench/compile_time.sh times its compilation; it also runs.
#include TYPENET_BENCH_HEADER

#include <cstdio>
#include <memory>

namespace tn = typenet;

using Net =
    tn::Sequential<tn::Conv2d<32, 3, tn::Padding<1>>, tn::BatchNorm2d, tn::ReLU, tn::MaxPool2d<2>,
                   tn::Conv2d<64, 3, tn::Padding<1>>, tn::BatchNorm2d, tn::ReLU, tn::MaxPool2d<2>,
                   tn::Flatten, tn::Linear<128>, tn::ReLU, tn::Linear<10>>;
using Input = tn::Shape<1, 28, 28>;

int main(int argc, char** argv) {
  const char* folder = argc > 1 ? argv[1] : "/usr/share/datasets/fashion-mnist";
  namespace data = tn::data;
  auto train_set = std::make_shared<const data::FashionMNIST>(folder, data::split::train);
  auto test_set = std::make_shared<const data::FashionMNIST>(folder, data::split::test);
  data::DataLoader<Input> train(train_set, {.batch_size = 64, .shuffle = true});
  data::DataLoader<Input> test(test_set, {.batch_size = 500});

  tn::Model<Net, Input> model;
  tn::CrossEntropyLoss loss;
  tn::Adam<float> adam(model.parameters(), {.lr = 1e-3});
  const auto result = tn::fit(model, loss, adam, train, test, {.epochs = 1});
  std::printf("%zu epochs trained\n", result.history.size());
  return 0;
}
