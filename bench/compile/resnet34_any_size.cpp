// resnet34.cpp with a model of dynamic extents: the photo is classified at
// its own size (shorter side 224, aspect kept) instead of squashed to
// 224x224. bench/compile_time.sh compares its compilation with resnet34's
// (issue 25: a dynamic model must not compile slower than a static one).
#include TYPENET_BENCH_HEADER

#include <cstdio>

namespace tn = typenet;

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: resnet34_any_size weights.pth image\n");
    return 2;
  }
  using Input = tn::Shape<3, tn::dyn, tn::dyn>;
  tn::Model<tn::models::ResNet34<>, Input> model;
  tn::load_weights(model, argv[1]);
  auto x = tn::to_tensor<3>(tn::resize_shorter(tn::read_image(argv[2], {.channels = 3}), 224));
  tn::normalize_imagenet(x);
  for (const auto& c : tn::predict_top_k(model, x, 5)[0])
    std::printf("class %4d  %.4f\n", c.index, c.probability);
  return 0;
}
