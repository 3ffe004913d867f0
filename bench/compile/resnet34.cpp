// ResNet-34 inference from a torchvision .pth file: load, normalize a photo,
// print the five most probable classes. bench/compile_time.sh times its
// compilation; it also runs: resnet34 resnet34-b627a593.pth photo.jpg
#include TYPENET_BENCH_HEADER

#include <cstdio>

namespace tn = typenet;

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: resnet34 weights.pth image\n");
    return 2;
  }
  using Input = tn::Shape<3, 224, 224>;
  tn::Model<tn::models::ResNet34<>, Input> model;
  tn::load_weights(model, argv[1]);
  tn::Tensor<Input> x(1);
  tn::to_tensor(tn::resize(tn::read_image(argv[2], {.channels = 3}), 224, 224), x, 0);
  tn::normalize_imagenet(x);
  for (const auto& c : tn::predict_top_k(model, x, 5)[0])
    std::printf("class %4d  %.4f\n", c.index, c.probability);
  return 0;
}
