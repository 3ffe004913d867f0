// Training parity with PyTorch 1.13: three SGD steps, step for step.
//
// tools/make_fixtures.py trains each network below for three steps of
// torch.optim.SGD (momentum 0.9, weight decay 1e-4; the options are stored in
// the fixture and read back here) from its initial state_dict on fixed
// batches. We start from the same state, feed the same batches, and compare
// the loss of every step and, at the end, every parameter and buffer.
//
// Tolerances: the losses and final weights use the forward tolerance of
// DESIGN.md §4b (rtol 1e-4, atol 1e-5). The update itself is exact up to
// rounding, so the only differences are float32 summation order inside the
// GEMMs and reductions, amplified over three steps by lr * momentum; with
// these small networks and lr 0.05 they stay well inside it.
#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include <typenet/train.hpp>

#include "fixtures.hpp"

namespace tn = typenet;
using namespace typenet_test;

namespace {

constexpr int steps = 3;

tn::SGDOptions sgd_options_from(const Fixture& f) {
  const auto& o = f.at("sgd");
  BOOST_TEST_REQUIRE(o.numel() == 5);
  return {.lr = o.at(0),
          .momentum = o.at(1),
          .dampening = o.at(2),
          .weight_decay = o.at(3),
          .nesterov = o.at(4) != 0};
}

/// Runs the fixture's steps on `model`; `loss_of(step, output, grad)`
/// returns the loss of the step and writes its gradient into `grad`.
template <class Model, class LossOf>
void train_and_compare(Model& model, const Fixture& f, LossOf loss_of) {
  using In = typename Model::input_shape;
  BOOST_TEST_REQUIRE(copy_state_from_fixture(model, f));
  model.train();
  tn::SGD<float> optimizer(model.parameters(), sgd_options_from(f));
  typename Model::output_tensor grad;
  for (int k = 0; k < steps; ++k) {
    const std::string step = "step" + std::to_string(k) + ".";
    const auto x = tensor_from_fixture<In>(f.at(step + "input"));
    optimizer.zero_grad();
    const auto& y = model.forward(x);
    const double loss = loss_of(step, y, grad);
    check_close(step + "loss", &loss, 1, f.at(step + "loss"), weight_tolerance);
    model.backward(grad);
    optimizer.step();
  }
  check_state(model, f, "final.", weight_tolerance);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(training)

// LeNet-5 (DESIGN.md §1) with nn.CrossEntropyLoss on random 1 x 28 x 28 batches of 4:
//
//   nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
//                 nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
//                 nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
//                 nn.Linear(84, 10))
BOOST_AUTO_TEST_CASE(lenet5_sgd_cross_entropy) {
  using LeNet5 =
      tn::Sequential<tn::Conv2d<6, 5, tn::Padding<2>>, tn::ReLU, tn::MaxPool2d<2>,
                     tn::Conv2d<16, 5>, tn::ReLU, tn::MaxPool2d<2>, tn::Flatten, tn::Linear<120>,
                     tn::ReLU, tn::Linear<84>, tn::ReLU, tn::Linear<10>>;
  const Fixture f = Fixture::load("train_lenet5");
  tn::Model<LeNet5, tn::Shape<1, 28, 28>> model(0);
  train_and_compare(model, f, [&](const std::string& step, const auto& logits, auto& grad) {
    const auto& stored = f.at(step + "labels");
    std::vector<int> labels(stored.i64.begin(), stored.i64.end());
    return tn::cross_entropy_loss(logits, labels, grad);
  });
}

// torchvision.models.resnet.BasicBlock(4, 8, stride=2, downsample=nn.Sequential(
//     nn.Conv2d(4, 8, 1, stride=2, bias=False), nn.BatchNorm2d(8))),
// train mode, nn.MSELoss against random targets, on random 4 x 9 x 9 batches of 3.
// The BatchNorm layers start from random affine parameters and running statistics.
BOOST_AUTO_TEST_CASE(basic_block_sgd_mse) {
  using BasicBlock = tn::Residual<
      tn::Sequential<
          tn::Named<"conv1", tn::Conv2d<8, 3, tn::Stride<2>, tn::Padding<1>, tn::NoBias>>,
          tn::Named<"bn1", tn::BatchNorm2d>, tn::ReLU,
          tn::Named<"conv2", tn::Conv2d<8, 3, tn::Padding<1>, tn::NoBias>>,
          tn::Named<"bn2", tn::BatchNorm2d>>,
      tn::Named<"downsample",
                tn::Sequential<tn::Conv2d<8, 1, tn::Stride<2>, tn::NoBias>, tn::BatchNorm2d>>,
      tn::ReLU>;
  using Model = tn::Model<BasicBlock, tn::Shape<4, 9, 9>>;
  const Fixture f = Fixture::load("train_basic_block");
  Model model(0);
  train_and_compare(model, f, [&](const std::string& step, const auto& y, auto& grad) {
    const auto target = tensor_from_fixture<Model::output_shape>(f.at(step + "target"));
    return tn::mse_loss(y, target, grad);
  });
}

BOOST_AUTO_TEST_SUITE_END()
