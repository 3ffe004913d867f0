// fuzz/fuzz_checkpoint.cpp — libFuzzer target for training checkpoints (train/checkpoint.hpp).
//
// Each input is a safetensors file handed to load_training_checkpoint for a
// small network (convolution, batch norm, linear) and an Adam optimizer: the
// metadata (network, epoch, step, best epoch and metric, seed, forward
// count), the model's tensors and the optimizer's state entries. A
// typenet::error is the expected outcome for a bad file; then the model and
// the optimizer must be exactly as before (the loader validates everything
// before it writes), else the target aborts. Any other exception, crash or
// sanitizer report is a bug.
//
// Seeds: fuzz/corpus/checkpoint/, written by this target itself when run as
//   TYPENET_FUZZ_WRITE_SEEDS=fuzz/corpus/checkpoint build/fuzz/fuzz_checkpoint -runs=0
// (after a change of the network's type name or of the optimizer's state).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "typenet/backend/cpu/batch_norm.hpp"
#include "typenet/backend/cpu/convolution.hpp"
#include "typenet/backend/cpu/elementwise.hpp"
#include "typenet/backend/cpu/linear.hpp"
#include "typenet/backend/cpu/memory.hpp"
#include "typenet/backend/cpu/optimizers.hpp"
#include "typenet/layers/batch_norm.hpp"
#include "typenet/layers/conv2d.hpp"
#include "typenet/layers/flatten.hpp"
#include "typenet/layers/linear.hpp"
#include "typenet/nn/model.hpp"
#include "typenet/nn/sequential.hpp"
#include "typenet/train/adam.hpp"
#include "typenet/train/checkpoint.hpp"

namespace {

namespace tn = typenet;
using Net = tn::Sequential<tn::Conv2d<2, 3>, tn::BatchNorm2d, tn::Flatten, tn::Linear<3>>;
using Model = tn::Model<Net, tn::Shape<1, 5, 5>>;

/// Every byte of the model's state and the optimizer's, to compare before and after.
template <class Optimizer>
std::vector<unsigned char> snapshot(Model& model, Optimizer& optimizer) {
  std::vector<unsigned char> bytes;
  const auto append = [&](const std::vector<tn::StateRef>& state) {
    for (const auto& s : state) {
      const auto* p = static_cast<const unsigned char*>(s.data);
      bytes.insert(bytes.end(), p, p + s.size * (s.type == tn::dtype::f32 ? 4 : 8));
    }
  };
  append(model.state());
  append(optimizer.state());
  const auto seed = model.seed(), count = model.forward_count();
  const auto* s = reinterpret_cast<const unsigned char*>(&seed);
  const auto* c = reinterpret_cast<const unsigned char*>(&count);
  bytes.insert(bytes.end(), s, s + sizeof seed);
  bytes.insert(bytes.end(), c, c + sizeof count);
  return bytes;
}

/// A model and optimizer that have taken one step, so every state entry exists.
struct trained {
  Model model{3};
  tn::Adam<float> adam{model.parameters(), {.lr = 0.01}};
  trained() {
    tn::Tensor<tn::Shape<1, 5, 5>> x(2);
    for (int i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(i % 7) / 7.0f;
    model.forward(x);
    tn::Tensor<tn::Shape<3>> grad(2);
    for (int i = 0; i < grad.size(); ++i) grad.data()[i] = 0.1f * static_cast<float>(i - 2);
    model.backward(grad);
    adam.step();
  }
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* dir = std::getenv("TYPENET_FUZZ_WRITE_SEEDS");
  if (!dir) return 0;
  trained t;
  tn::save_training_checkpoint(std::string(dir) + "/adam.safetensors", t.model, t.adam,
                               {.epoch = 4, .step = 40, .best_epoch = 2, .best_metric = 0.75});
  tn::save_training_checkpoint(std::string(dir) + "/first_epoch.safetensors", t.model, t.adam,
                               {.epoch = 0, .step = 1});
  std::printf("wrote seeds to %s\n", dir);
  std::exit(0);
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace io = typenet::io;
  static trained t;
  auto buffer = std::make_shared<io::buffer_storage>();
  const auto* bytes = reinterpret_cast<const std::byte*>(data);
  buffer->data.assign(bytes, bytes + size);
  const auto before = snapshot(t.model, t.adam);
  try {
    const auto file = io::read_safetensors(buffer, "fuzz");
    tn::load_training_checkpoint(file, t.model, t.adam);
  } catch (const typenet::error&) {
    if (snapshot(t.model, t.adam) != before) {
      std::fprintf(stderr, "a refused checkpoint changed the model or the optimizer\n");
      std::abort();
    }
  }
  return 0;
}
