// Optimizers, schedulers and gradient clipping against PyTorch 1.13.
//
// tools/make_optim_fixtures.py runs torch.optim.SGD / Adam / AdamW for 10
// steps on five parameters (a small network's worth, under typenet-style
// names) with stored gradients, for every option, parameter groups with
// different options, parameters frozen for some or all steps, and
// schedulers acting during training. We replay the same gradients and compare
// the parameters after every step and the optimizer state at the end.
//
// Tolerances: optimizer steps use DESIGN.md §4b's rtol 1e-5 with no atol.
// That is only possible because the kernels round like PyTorch's (on an
// AVX2/FMA machine the results are PyTorch's bit for bit): elements that
// cancel to ~1e-3 from O(1) operands would otherwise be off by an ulp of the
// operands, ~1e-5 relative. The schedulers' lr and momentum sequences are
// compared with rtol 1e-12 (the same double formulas in the same order),
// clip_grad_norm with rtol 1e-5 (we sum in double, PyTorch in float).
// Then: state save/restore resumes bit for bit, bad options throw
// usage_error with messages that say what is wrong.
#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <typenet/train.hpp>

#include "fixtures.hpp"

namespace tn = typenet;
namespace bdata = boost::unit_test::data;
using namespace typenet_test;

namespace {

// DESIGN.md §4b: optimizer steps match within rtol 1e-5.
constexpr Tolerance step_tolerance{1e-5, 0};
constexpr Tolerance schedule_tolerance{1e-12, 0};
constexpr int steps = 10;

using Ref = tn::ParameterRef<float, tn::Cpu>;

/// The parameters of tools/make_optim_fixtures.py, in its order.
struct Net {
  tn::Parameter<tn::Shape<4, 3, 2, 2>, tn::Cpu, float> trunk0_weight;
  tn::Parameter<tn::Shape<4>, tn::Cpu, float> trunk0_bias;
  tn::Parameter<tn::Shape<6, 4>, tn::Cpu, float> trunk1_weight;
  tn::Parameter<tn::Shape<3, 6>, tn::Cpu, float> head_weight;
  tn::Parameter<tn::Shape<3>, tn::Cpu, float> head_bias;

  std::vector<Ref> refs() {
    std::vector<Ref> out;
    out.emplace_back("trunk.0.weight", trunk0_weight);
    out.emplace_back("trunk.0.bias", trunk0_bias);
    out.emplace_back("trunk.1.weight", trunk1_weight);
    out.emplace_back("head.weight", head_weight);
    out.emplace_back("head.bias", head_bias);
    return out;
  }
};

Fixture optim_fixture(const std::string& name) {
  return Fixture::read_file(fixture_directory() + "/optim/" + name + ".tnfx");
}

void copy_in(const FixtureTensor& t, float* out, std::int64_t n) {
  BOOST_TEST_REQUIRE(t.numel() == n, t.describe()
                                         << " has " << t.numel() << " elements, want " << n);
  for (std::int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(t.at(i));
}

/// Options a fixture's `prefix` (defaults or group<g>) sets.
tn::group_options read_options(const Fixture& f, const std::string& prefix) {
  tn::group_options o;
  auto real = [&](const char* key, std::optional<double>& out) {
    if (const auto* t = f.find(prefix + "." + key)) out = t->scalar();
  };
  auto flag = [&](const char* key, std::optional<bool>& out) {
    if (const auto* t = f.find(prefix + "." + key)) out = t->scalar() != 0;
  };
  real("lr", o.lr);
  real("momentum", o.momentum);
  real("dampening", o.dampening);
  real("weight_decay", o.weight_decay);
  real("eps", o.eps);
  flag("nesterov", o.nesterov);
  flag("amsgrad", o.amsgrad);
  if (const auto* t = f.find(prefix + ".betas")) o.betas = std::array{t->at(0), t->at(1)};
  return o;
}

/// The optimizer's options struct with what `o` sets (torch's constructor defaults otherwise).
template <class Options>
Options resolve(const tn::group_options& o) {
  Options out;
  if (o.lr) out.lr = *o.lr;
  if (o.weight_decay) out.weight_decay = *o.weight_decay;
  if constexpr (requires { out.momentum; }) {
    if (o.momentum) out.momentum = *o.momentum;
    if (o.dampening) out.dampening = *o.dampening;
    if (o.nesterov) out.nesterov = *o.nesterov;
  } else {
    if (o.betas) out.betas = *o.betas;
    if (o.eps) out.eps = *o.eps;
    if (o.amsgrad) out.amsgrad = *o.amsgrad;
  }
  return out;
}

/// A flat list, or the fixture's groups (checking that select/exclude pick the same sets).
template <class Optimizer, class Options>
Optimizer make_optimizer(const Fixture& f, Net& net) {
  const auto params = net.refs();
  const auto defaults = resolve<Options>(read_options(f, "defaults"));
  if (!f.contains("group0.params")) return Optimizer(params, defaults);
  std::vector<tn::param_group<float, tn::Cpu>> groups;
  for (int g = 0; f.contains("group" + std::to_string(g) + ".params"); ++g) {
    const std::string prefix = "group" + std::to_string(g);
    tn::param_group<float, tn::Cpu> group;
    for (auto i : f.at(prefix + ".params").i64) group.params.push_back(params[std::size_t(i)]);
    group.options = read_options(f, prefix);
    groups.push_back(std::move(group));
  }
  // The fixture's groups are trunk / head: what select and exclude give.
  BOOST_TEST_REQUIRE(groups.size() == 2u);
  auto names = [](const std::vector<Ref>& v) {
    std::vector<std::string> out;
    for (const auto& p : v) out.push_back(p.name());
    return out;
  };
  BOOST_TEST(names(groups[0].params) == names(tn::exclude(params, "head.")));
  BOOST_TEST(names(groups[1].params) == names(tn::select(params, "head.")));
  return Optimizer(std::move(groups), defaults);
}

/// Replays the fixture's 10 steps on `opt` (calling `after_step` after each
/// optimizer step) and compares with PyTorch.
template <class Optimizer>
void replay(const Fixture& f, Net& net, Optimizer& opt, const std::function<void()>& after_step) {
  auto params = net.refs();
  for (auto& p : params) copy_in(f.at("init." + p.name()), p.value_data(), p.size());
  for (int k = 0; k < steps; ++k) {
    const std::string step = "step" + std::to_string(k) + ".";
    for (auto& p : params) {
      const auto* g = f.find(step + "grad." + p.name());
      p.requires_grad(g != nullptr);
      if (g)
        copy_in(*g, p.grad_data(), p.size());
      else  // a frozen parameter's gradient must not be used
        for (auto& x : p.grad()) x = std::numeric_limits<float>::quiet_NaN();
    }
    opt.step();
    after_step();
    for (auto& p : params)
      check_close(step + p.name(), p.value_data(), p.size(), f.at(step + p.name()), step_tolerance);
    std::vector<double> lrs;
    for (std::size_t g = 0; g < opt.group_count(); ++g) lrs.push_back(opt.options(g).lr);
    check_close(step + "lr", lrs.data(), std::int64_t(lrs.size()), f.at(step + "lr"),
                schedule_tolerance);
  }
  // The state: PyTorch's per-parameter entries, under the same names.
  std::set<std::string> ours;
  for (const auto& e : opt.state()) {
    if (e.name == "steps" || e.name.starts_with("param_groups.")) continue;
    ours.insert(e.name);
    const auto* t = f.find("state." + e.name);
    if (!t) {
      BOOST_ERROR("state entry '" << e.name << "' is not in PyTorch's state");
      continue;
    }
    if (e.type == tn::dtype::i64)
      BOOST_TEST(*static_cast<const std::int64_t*>(e.data) == t->i64.at(0), e.name);
    else
      check_close("state." + e.name, static_cast<const float*>(e.data), e.size, *t, step_tolerance);
  }
  for (const auto& key : f.keys_with_prefix("state."))
    BOOST_TEST(ours.count(key) == 1u, "PyTorch's state entry '" << key << "' is missing");
  BOOST_TEST(opt.steps() == steps);
}

template <class Optimizer>
void with_schedule(const std::string& name, Optimizer& opt,
                   const std::function<void(const std::function<void()>&)>& run) {
  if (name.ends_with("_steplr")) {
    tn::StepLR s(opt, {.step_size = 3, .gamma = 0.5});
    run([&] { s.step(); });
  } else if (name.ends_with("_cosine")) {
    tn::CosineAnnealingLR s(opt, {.T_max = 4, .eta_min = 1e-4});
    run([&] { s.step(); });
  } else if (name == "sgd_onecycle") {
    tn::OneCycleLR s(opt, {.max_lr = 0.1, .total_steps = steps});
    run([&] { s.step(); });
  } else if (name == "adam_onecycle") {
    tn::OneCycleLR s(opt, {.max_lr = {1e-3, 1e-2},
                           .total_steps = steps,
                           .anneal_strategy = tn::anneal::linear,
                           .three_phase = true});
    run([&] { s.step(); });
  } else {
    run([] {});
  }
}

template <class Optimizer, class Options>
void run_case(const std::string& name) {
  const Fixture f = optim_fixture(name);
  Net net;
  auto opt = make_optimizer<Optimizer, Options>(f, net);
  with_schedule(name, opt, [&](const std::function<void()>& after) { replay(f, net, opt, after); });
}

const std::vector<std::string> optimizer_cases = {
    "sgd_plain",
    "sgd_momentum",
    "sgd_dampening",
    "sgd_nesterov",
    "sgd_weight_decay",
    "sgd_groups",
    "sgd_frozen_late",
    "sgd_steplr",
    "sgd_onecycle",
    "adam_default",
    "adam_lr_betas_eps",
    "adam_weight_decay",
    "adam_amsgrad",
    "adam_amsgrad_weight_decay",
    "adam_groups",
    "adam_frozen_late",
    "adam_onecycle",
    "adamw_default",
    "adamw_weight_decay_amsgrad",
    "adamw_groups",
    "adamw_frozen_late",
    "adamw_cosine",
};

/// A deterministic gradient for the round-trip tests.
void fill_gradients(std::vector<Ref>& params, int step) {
  for (std::size_t i = 0; i < params.size(); ++i) {
    auto g = params[i].grad();
    for (std::size_t j = 0; j < g.size(); ++j)
      g[j] = static_cast<float>(std::sin(0.7 * double(step) + 1.3 * double(i) + 0.37 * double(j)) *
                                (step < 3 ? 1.0 : 0.1));
  }
}

void fill_values(Net& net, float offset) {
  int k = 0;
  for (auto& p : net.refs())
    for (auto& v : p.value()) v = offset + 0.01f * static_cast<float>(k++ % 97) - 0.4f;
}

/// A deep copy of state entries: what a checkpoint file would hold.
struct saved_state {
  std::vector<std::vector<unsigned char>> bytes;
  std::vector<tn::StateRef> entries;

  explicit saved_state(const std::vector<tn::StateRef>& live) {
    for (const auto& e : live) {
      const std::size_t size = std::size_t(e.size) * (e.type == tn::dtype::f32 ? 4 : 8);
      BOOST_TEST_REQUIRE(e.on_host);
      const auto* p = static_cast<const unsigned char*>(e.data);
      bytes.emplace_back(p, p + size);
    }
    for (std::size_t i = 0; i < live.size(); ++i) {
      entries.push_back(live[i]);
      entries.back().data = bytes[i].data();
    }
  }
};

bool same_state(const std::vector<tn::StateRef>& a, const std::vector<tn::StateRef>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const std::size_t size = std::size_t(a[i].size) * (a[i].type == tn::dtype::f32 ? 4 : 8);
    if (a[i].name != b[i].name || a[i].type != b[i].type || a[i].size != b[i].size ||
        a[i].shape != b[i].shape || std::memcmp(a[i].data, b[i].data, size) != 0) {
      BOOST_TEST_MESSAGE("state entries differ at '" << a[i].name << "' / '" << b[i].name << "'");
      return false;
    }
  }
  return true;
}

bool same_values(Net& a, Net& b) {
  auto pa = a.refs(), pb = b.refs();
  for (std::size_t i = 0; i < pa.size(); ++i)
    if (std::memcmp(pa[i].value_data(), pb[i].value_data(), sizeof(float) * pa[i].size()) != 0)
      return false;
  return true;
}

/// Runs 4 steps on `a`, saves optimizer (and scheduler) state, restores
/// it into a fresh optimizer built with other options on a copy of the
/// parameters, then runs 6 more steps on both: they must stay bit-identical.
template <class MakeOptimizer, class MakeScheduler>
void check_round_trip(MakeOptimizer make, MakeScheduler make_scheduler) {
  Net a, b;
  fill_values(a, 0);
  auto pa = a.refs(), pb = b.refs();
  auto opt_a = make(pa, 1.0);
  auto sched_a = make_scheduler(opt_a);
  for (int k = 0; k < 4; ++k) {
    pa[4].requires_grad(k >= 2);  // head.bias joins late: part of the state is empty at first
    pa[2].requires_grad(k < 3);   // trunk.1.weight is frozen at the save
    fill_gradients(pa, k);
    opt_a.step();
    if (sched_a) sched_a->step();
  }
  const saved_state saved(opt_a.state());
  std::optional<saved_state> saved_schedule;
  if (sched_a) saved_schedule.emplace(sched_a->state());

  fill_values(b, 5);  // a different start: everything must come from the checkpoint
  for (std::size_t i = 0; i < pa.size(); ++i) {
    std::memcpy(pb[i].value_data(), pa[i].value_data(), sizeof(float) * pa[i].size());
    pb[i].requires_grad(pa[i].requires_grad());
  }
  auto opt_b = make(pb, 3.0);  // other hyper-parameters, restored from the state
  auto sched_b = make_scheduler(opt_b);
  opt_b.load_state(saved.entries);
  if (sched_b) sched_b->load_state(saved_schedule->entries);
  BOOST_TEST(same_state(opt_a.state(), opt_b.state()));
  if (sched_b) BOOST_TEST(sched_a->last_lr() == sched_b->last_lr());

  for (int k = 4; k < 10; ++k) {
    for (auto* p : {&pa, &pb}) {
      (*p)[2].requires_grad(k >= 6);
      fill_gradients(*p, k);
    }
    opt_a.step();
    opt_b.step();
    if (sched_a) {
      sched_a->step();
      sched_b->step();
    }
    BOOST_TEST(same_values(a, b), "parameters differ after step " << k);
  }
  BOOST_TEST(same_state(opt_a.state(), opt_b.state()));
}

/// BOOST_CHECK_EXCEPTION predicate: a usage_error whose message contains `what`.
auto says(std::string what) {
  return [what](const tn::usage_error& e) {
    const bool ok = std::string(e.what()).find(what) != std::string::npos;
    if (!ok) BOOST_TEST_MESSAGE("message '" << e.what() << "' lacks '" << what << "'");
    return ok;
  };
}

}  // namespace

BOOST_AUTO_TEST_SUITE(optim)

// ---- step for step against torch.optim ------------------------------------------------------

BOOST_DATA_TEST_CASE(matches_torch_for_10_steps, bdata::make(optimizer_cases), name) {
  const Fixture f = optim_fixture(name);
  switch (static_cast<int>(f.at("optimizer").scalar())) {
    case 0:
      run_case<tn::SGD<float>, tn::SGDOptions>(name);
      break;
    case 1:
      run_case<tn::Adam<float>, tn::AdamOptions>(name);
      break;
    case 2:
      run_case<tn::AdamW<float>, tn::AdamWOptions>(name);
      break;
    default:
      BOOST_FAIL("unknown optimizer code in " << f.path());
  }
}

// Every optimizer case the script writes is run above.
BOOST_AUTO_TEST_CASE(every_fixture_case_is_run) {
  std::set<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(fixture_directory() + "/optim")) {
    const auto stem = entry.path().stem().string();
    if (entry.path().extension() == ".tnfx" && !stem.starts_with("sched_") && stem != "clip")
      files.insert(stem);
  }
  BOOST_TEST(files == std::set<std::string>(optimizer_cases.begin(), optimizer_cases.end()));
}

// ---- schedulers against torch.optim.lr_scheduler ---------------------------------------------

namespace {

struct TwoGroups {
  tn::Parameter<tn::Shape<2>, tn::Cpu, float> p1, p2;
  std::vector<tn::param_group<float, tn::Cpu>> groups() {
    std::vector<tn::param_group<float, tn::Cpu>> out(2);
    out[0].params.emplace_back("a", p1);
    out[0].options.lr = 0.1;
    out[1].params.emplace_back("b", p2);
    out[1].options.lr = 0.01;
    return out;
  }
};

template <class Optimizer, class MakeScheduler>
void check_schedule(const std::string& name, MakeScheduler make) {
  const Fixture f = optim_fixture("sched_" + name);
  TwoGroups net;
  Optimizer opt = [&] {
    if constexpr (std::is_same_v<Optimizer, tn::SGD<float>>)
      return Optimizer(net.groups(), {.lr = 0.1, .momentum = 0.9});
    else
      return Optimizer(net.groups(), {.lr = 0.1, .betas = {0.9, 0.999}});
  }();
  auto s = make(opt);
  const auto& lr = f.at("lr");
  const auto& momentum = f.at("momentum");
  const auto rows = lr.dims.at(0);
  for (std::int64_t k = 0; k < rows; ++k) {
    if (k > 0) {
      opt.step();
      s.step();
    }
    const std::vector<double> m = {tn::detail::momentum_of(opt.options(0)),
                                   tn::detail::momentum_of(opt.options(1))};
    for (int g = 0; g < 2; ++g) {
      const double want_lr = lr.at(k * 2 + g), want_m = momentum.at(k * 2 + g);
      BOOST_TEST(std::abs(s.last_lr()[std::size_t(g)] - want_lr) <= 1e-12 * std::abs(want_lr),
                 name << " step " << k << " group " << g << ": lr " << s.last_lr()[std::size_t(g)]
                      << ", PyTorch " << want_lr);
      BOOST_TEST(std::abs(m[std::size_t(g)] - want_m) <= 1e-12 * std::abs(want_m),
                 name << " step " << k << " group " << g << ": momentum " << m[std::size_t(g)]
                      << ", PyTorch " << want_m);
    }
  }
  BOOST_TEST(s.last_epoch() == rows - 1);
}

}  // namespace

BOOST_AUTO_TEST_CASE(step_lr) {
  check_schedule<tn::SGD<float>>(
      "step", [](auto& o) { return tn::StepLR(o, {.step_size = 3, .gamma = 0.5}); });
}

BOOST_AUTO_TEST_CASE(cosine_annealing_lr) {
  check_schedule<tn::SGD<float>>(
      "cosine", [](auto& o) { return tn::CosineAnnealingLR(o, {.T_max = 5, .eta_min = 1e-3}); });
  check_schedule<tn::Adam<float>>("cosine_no_eta_min",
                                  [](auto& o) { return tn::CosineAnnealingLR(o, {.T_max = 7}); });
}

BOOST_AUTO_TEST_CASE(one_cycle_lr) {
  check_schedule<tn::SGD<float>>("onecycle_sgd", [](auto& o) {
    return tn::OneCycleLR(o, {.max_lr = 0.5, .total_steps = 20});
  });
  check_schedule<tn::Adam<float>>("onecycle_adam_linear_three_phase", [](auto& o) {
    return tn::OneCycleLR(o, {.max_lr = {0.3, 0.03},
                              .total_steps = 30,
                              .pct_start = 0.25,
                              .anneal_strategy = tn::anneal::linear,
                              .div_factor = 10,
                              .final_div_factor = 100,
                              .three_phase = true});
  });
  check_schedule<tn::SGD<float>>("onecycle_groups_momentum", [](auto& o) {
    return tn::OneCycleLR(o, {.max_lr = {1.0, 0.1},
                              .total_steps = 17,
                              .pct_start = 0.4,
                              .base_momentum = {0.8, 0.7},
                              .max_momentum = {0.9, 0.99}});
  });
  check_schedule<tn::Adam<float>>("onecycle_no_cycle_momentum", [](auto& o) {
    return tn::OneCycleLR(o, {.max_lr = 0.01, .total_steps = 10, .cycle_momentum = false});
  });
}

BOOST_AUTO_TEST_CASE(one_cycle_lr_from_epochs_and_past_the_end) {
  TwoGroups net;
  tn::SGD<float> opt(net.groups(), {.lr = 0.1, .momentum = 0.9});
  tn::OneCycleLR s(opt, {.max_lr = 0.1, .epochs = 2, .steps_per_epoch = 3});
  BOOST_TEST(s.total_steps() == 6);
  for (int k = 0; k < 6; ++k) s.step();  // as PyTorch: total_steps calls after construction
  BOOST_CHECK_EXCEPTION(s.step(), tn::usage_error, says("total_steps is 6"));
}

// ---- clip_grad_norm against torch.nn.utils.clip_grad_norm_ ----------------------------------

BOOST_AUTO_TEST_CASE(clip_grad_norm_matches_torch) {
  const Fixture f = optim_fixture("clip");
  for (int i = 0; f.contains("case" + std::to_string(i) + ".total"); ++i) {
    const std::string c = "case" + std::to_string(i) + ".";
    Net net;
    auto params = net.refs();
    for (auto& p : params) {
      if (p.name() == "head.bias") {  // no gradient in PyTorch: frozen here
        p.requires_grad(false);
        for (auto& g : p.grad()) g = 5;
      } else {
        copy_in(f.at("grad." + p.name()), p.grad_data(), p.size());
      }
    }
    const double max_norm = f.at(c + "max_norm").scalar();
    const double norm_type = f.at(c + "norm_type").scalar();
    const double total = tn::clip_grad_norm(params, max_norm, norm_type);
    BOOST_TEST_CONTEXT("max_norm " << max_norm << ", norm_type " << norm_type) {
      check_close(c + "total", &total, 1, f.at(c + "total"), step_tolerance);
      for (auto& p : params) {
        if (p.name() == "head.bias")
          for (float g : p.grad()) BOOST_TEST(g == 5.0f);
        else
          check_close(c + "grad." + p.name(), p.grad_data(), p.size(), f.at(c + "grad." + p.name()),
                      step_tolerance);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(clip_grad_norm_edge_cases) {
  Net net;
  auto params = net.refs();
  for (auto& p : params) p.requires_grad(false);
  BOOST_TEST(tn::clip_grad_norm(params, 1.0) == 0.0);  // nothing trainable: PyTorch's 0
  BOOST_CHECK_EXCEPTION(tn::clip_grad_norm(params, 1.0, 0.0), tn::usage_error, says("norm_type"));
  BOOST_CHECK_EXCEPTION(tn::clip_grad_norm(params, 1.0, -2.0), tn::usage_error, says("norm_type"));
  params[0].requires_grad(true);
  for (auto& g : params[0].grad()) g = 1;
  params[0].grad()[3] = std::numeric_limits<float>::infinity();
  BOOST_CHECK_THROW(tn::clip_grad_norm(params, 1.0, 2.0, true), tn::error);
  BOOST_TEST(std::isinf(tn::clip_grad_norm(params, 1.0)));
  BOOST_TEST(params[0].grad()[0] == 0.0f);  // PyTorch's coefficient 1 / inf = 0
}

// ---- checkpoints: state out, state in, identical continuation -------------------------------

BOOST_AUTO_TEST_CASE(state_round_trip_resumes_bit_identically) {
  auto no_scheduler = [](auto&) { return std::optional<tn::StepLR<tn::SGD<float>>>{}; };
  check_round_trip(
      [](std::vector<Ref> p, double scale) {
        return tn::SGD<float>(p, {.lr = 0.05 * scale, .momentum = 0.9, .weight_decay = 1e-3});
      },
      no_scheduler);
  check_round_trip(
      [](std::vector<Ref> p, double scale) {
        return tn::SGD<float>(
            {tn::param_group{tn::exclude(p, "head."), {.lr = 0.01 * scale, .dampening = 0.1}},
             tn::param_group{tn::select(p, "head."), {.nesterov = true}}},
            {.lr = 0.05 * scale, .momentum = 0.9});
      },
      [](auto& o) { return std::optional{tn::StepLR(o, {.step_size = 2, .gamma = 0.5})}; });
  check_round_trip(
      [](std::vector<Ref> p, double scale) {
        return tn::Adam<float>(p, {.lr = 0.01 * scale, .weight_decay = 1e-2, .amsgrad = true});
      },
      [](auto& o) {
        return std::optional{tn::OneCycleLR(o, {.max_lr = 0.02, .total_steps = 10})};
      });
  check_round_trip(
      [](std::vector<Ref> p, double scale) {
        return tn::AdamW<float>(
            {tn::param_group{tn::select(p, {"trunk.0.", "head."}), {.amsgrad = true}},
             tn::param_group{tn::exclude(p, {"trunk.0.", "head."}), {.betas = {0.8, 0.9}}}},
            {.lr = 0.01 * scale});
      },
      [](auto& o) { return std::optional{tn::CosineAnnealingLR(o, {.T_max = 3})}; });
}

BOOST_AUTO_TEST_CASE(state_names_and_contents) {
  Net net;
  fill_values(net, 0);
  auto params = net.refs();
  params[4].requires_grad(false);
  tn::Adam<float> adam(params, {.amsgrad = true});
  BOOST_TEST(adam.state().size() == 1u + 4u);  // steps and group 0's options: no state yet
  fill_gradients(params, 0);
  adam.step();
  std::vector<std::string> names;
  for (const auto& e : adam.state()) names.push_back(e.name);
  const std::vector<std::string> want = {
      "steps",
      "param_groups.0.lr",
      "param_groups.0.betas",
      "param_groups.0.eps",
      "param_groups.0.weight_decay",
      "trunk.0.weight.step",
      "trunk.0.weight.exp_avg",
      "trunk.0.weight.exp_avg_sq",
      "trunk.0.weight.max_exp_avg_sq",
      "trunk.0.bias.step",
      "trunk.0.bias.exp_avg",
      "trunk.0.bias.exp_avg_sq",
      "trunk.0.bias.max_exp_avg_sq",
      "trunk.1.weight.step",
      "trunk.1.weight.exp_avg",
      "trunk.1.weight.exp_avg_sq",
      "trunk.1.weight.max_exp_avg_sq",
      "head.weight.step",
      "head.weight.exp_avg",
      "head.weight.exp_avg_sq",
      "head.weight.max_exp_avg_sq"};  // head.bias: frozen, no state
  BOOST_TEST(names == want, boost::test_tools::per_element());
  const auto state = adam.state();
  BOOST_TEST((state[6].shape == std::vector<int>{4, 3, 2, 2}));
  BOOST_TEST(state[2].size == 2);

  // Writing through an entry changes the optimizer (a checkpoint loader may do that).
  *static_cast<double*>(state[1].data) = 0.5;
  BOOST_TEST(adam.options().lr == 0.5);

  tn::SGD<float> sgd(params, {.lr = 0.1});
  sgd.step();
  BOOST_TEST(sgd.state().size() == 1u + 4u);  // no momentum: no buffers, as PyTorch
  sgd.options().momentum = 0.9;               // set at run time: buffers start at the next step
  sgd.step();
  BOOST_TEST(sgd.state().size() == 1u + 4u + 4u);
  BOOST_TEST(sgd.steps() == 2);
}

BOOST_AUTO_TEST_CASE(load_state_rejects_bad_entries) {
  Net net;
  fill_values(net, 0);
  auto params = net.refs();
  tn::Adam<float> adam(params, {});
  fill_gradients(params, 0);
  adam.step();
  const saved_state good(adam.state());
  const float before = params[0].value()[0];
  auto with = [&](auto edit) {
    saved_state s(adam.state());
    edit(s.entries);
    return s;
  };
  {
    auto s = with([](auto& e) {
      e.push_back({"trunk.9.weight.exp_avg", {}, tn::dtype::f32, nullptr, 0, false, true});
    });
    BOOST_CHECK_EXCEPTION(adam.load_state(s.entries), tn::usage_error,
                          says("unknown entry 'trunk.9.weight.exp_avg'"));
  }
  {
    auto s = with([](auto& e) { e[6].size = 7; });  // trunk.0.weight.exp_avg
    BOOST_CHECK_EXCEPTION(adam.load_state(s.entries), tn::usage_error,
                          says("'trunk.0.weight.exp_avg' has 7 elements, expected 48"));
  }
  {
    auto s = with([](auto& e) { e[6].type = tn::dtype::f64; });
    BOOST_CHECK_EXCEPTION(adam.load_state(s.entries), tn::usage_error,
                          says("has element type F64, expected F32"));
  }
  {
    auto s = with([](auto& e) { e.erase(e.begin() + 7); });  // trunk.0.weight.exp_avg_sq
    BOOST_CHECK_EXCEPTION(
        adam.load_state(s.entries), tn::usage_error,
        says("'trunk.0.weight.step' is given without 'trunk.0.weight.exp_avg_sq'"));
  }
  {
    auto s = with([](auto& e) { e.push_back(e[1]); });
    BOOST_CHECK_EXCEPTION(adam.load_state(s.entries), tn::usage_error, says("appears twice"));
  }
  {
    auto s = with([](auto& e) { *static_cast<double*>(e[1].data) = -1; });
    BOOST_CHECK_EXCEPTION(adam.load_state(s.entries), tn::usage_error,
                          says("invalid learning rate"));
  }
  // Nothing was changed by the failed loads.
  BOOST_TEST(same_state(adam.state(), good.entries));
  BOOST_TEST(params[0].value()[0] == before);

  // An SGD checkpoint is not an Adam one.
  tn::SGD<float> sgd(params, {.lr = 0.1, .momentum = 0.9});
  sgd.step();
  BOOST_CHECK_EXCEPTION(adam.load_state(saved_state(sgd.state()).entries), tn::usage_error,
                        says("unknown entr"));
}

// ---- options, groups and usage errors ------------------------------------------------------

BOOST_AUTO_TEST_CASE(bad_options_throw_usage_error) {
  Net net;
  auto p = net.refs();
  using tn::usage_error;
  BOOST_CHECK_EXCEPTION(tn::SGD<float>(p, {.lr = -1}), usage_error, says("invalid learning rate"));
  BOOST_CHECK_EXCEPTION(tn::SGD<float>(p, {.momentum = -0.5}), usage_error,
                        says("invalid momentum"));
  BOOST_CHECK_EXCEPTION(tn::SGD<float>(p, {.weight_decay = -1}), usage_error,
                        says("invalid weight_decay"));
  BOOST_CHECK_EXCEPTION(tn::SGD<float>(p, {.nesterov = true}), usage_error,
                        says("Nesterov momentum requires a momentum and zero dampening"));
  BOOST_CHECK_EXCEPTION(tn::SGD<float>(p, {.momentum = 0.9, .dampening = 0.1, .nesterov = true}),
                        usage_error, says("zero dampening"));
  BOOST_CHECK_EXCEPTION(tn::Adam<float>(p, {.lr = -1e-3}), usage_error,
                        says("Adam (parameter group 0): invalid learning rate"));
  BOOST_CHECK_EXCEPTION(tn::Adam<float>(p, {.betas = {1.0, 0.999}}), usage_error,
                        says("betas[0] must be in [0, 1), got 1"));
  BOOST_CHECK_EXCEPTION(tn::AdamW<float>(p, {.betas = {0.9, -0.1}}), usage_error,
                        says("AdamW (parameter group 0): betas[1]"));
  BOOST_CHECK_EXCEPTION(tn::Adam<float>(p, {.eps = -1}), usage_error, says("invalid eps"));
  BOOST_CHECK_EXCEPTION(tn::AdamW<float>(p, {.weight_decay = -1}), usage_error,
                        says("invalid weight_decay"));
  BOOST_CHECK_EXCEPTION(tn::SGD<float>(std::vector<Ref>{}, {}), usage_error,
                        says("empty parameter list"));

  // Groups: options of the other optimizer, a parameter in two groups, bad per-group values.
  BOOST_CHECK_EXCEPTION(
      tn::Adam<float>({tn::param_group{p, {.momentum = 0.9}}}, {}), usage_error,
      says("Adam: parameter group 0 sets momentum, which Adam does not have (use betas)"));
  BOOST_CHECK_EXCEPTION(tn::SGD<float>({tn::param_group{p, {.betas = {0.9, 0.99}}}}, {}),
                        usage_error, says("sets betas, which SGD does not have"));
  BOOST_CHECK_EXCEPTION(
      tn::SGD<float>({tn::param_group{p}, tn::param_group{tn::select(p, "head.")}}, {}),
      usage_error, says("'head.weight' appears in more than one parameter group (0 and 1)"));
  BOOST_CHECK_EXCEPTION(tn::SGD<float>({tn::param_group{std::vector<Ref>{p[0], p[0]}}}, {}),
                        usage_error, says("appears twice"));
  BOOST_CHECK_EXCEPTION(tn::SGD<float>({tn::param_group{tn::exclude(p, "head."), {.lr = -2}},
                                        tn::param_group{tn::select(p, "head.")}},
                                       {}),
                        usage_error, says("SGD (parameter group 0): invalid learning rate"));

  // select with a prefix that matches nothing is a typo.
  BOOST_CHECK_EXCEPTION(tn::select(p, "fc."), usage_error,
                        says("no parameter name starts with 'fc.' (names are trunk.0.weight"));
  BOOST_CHECK_EXCEPTION(tn::select(p, {"head.", "fc."}), usage_error, says("'fc.'"));

  // Options changed at run time are checked at the next step.
  tn::Adam<float> adam(p, {});
  adam.options().betas[0] = 1.5;
  BOOST_CHECK_EXCEPTION(adam.step(), usage_error, says("betas[0]"));
  BOOST_CHECK_EXCEPTION(adam.options(3), usage_error, says("no parameter group 3 (it has 1)"));

  // State is named after the parameters, so their names must be unique.
  Net other;
  auto both = p;
  for (auto& q : other.refs()) both.push_back(q);
  tn::SGD<float> two_models(both, {.momentum = 0.9});
  BOOST_CHECK_EXCEPTION(two_models.state(), usage_error,
                        says("two parameters are named 'trunk.0.weight'"));

  // Schedulers.
  tn::SGD<float> sgd(p, {.lr = 0.1, .momentum = 0.9});
  BOOST_CHECK_EXCEPTION(tn::StepLR(sgd, {.step_size = 0}), usage_error,
                        says("step_size must be positive"));
  BOOST_CHECK_EXCEPTION(tn::CosineAnnealingLR(sgd, {.T_max = 0}), usage_error,
                        says("T_max must be positive"));
  BOOST_CHECK_EXCEPTION(tn::OneCycleLR(sgd, {.max_lr = 0.1}), usage_error,
                        says("total_steps must be positive"));
  BOOST_CHECK_EXCEPTION(tn::OneCycleLR(sgd, {.total_steps = 10}), usage_error,
                        says("max_lr must be positive"));
  BOOST_CHECK_EXCEPTION(tn::OneCycleLR(sgd, {.max_lr = 0.1, .total_steps = 10, .pct_start = 1.5}),
                        usage_error, says("pct_start must be in [0, 1]"));
  BOOST_CHECK_EXCEPTION(tn::OneCycleLR(sgd, {.max_lr = {0.1, 0.2}, .total_steps = 10}), usage_error,
                        says("expected 1 or 1 values for max_lr"));
  BOOST_CHECK_EXCEPTION(tn::OneCycleLR(sgd, {.max_lr = 0.1, .epochs = 3}), usage_error,
                        says("epochs and steps_per_epoch must both be positive"));
  // PyTorch divides by zero here (pct_start * total_steps - 1 == 0; exact, so also with FMA).
  BOOST_CHECK_EXCEPTION(tn::OneCycleLR(sgd, {.max_lr = 0.1, .total_steps = 4, .pct_start = 0.25}),
                        usage_error, says("phase 1 of the schedule has no steps"));
}

// Discriminative fine-tuning on a real Model: a frozen trunk, a small lr for
// its last layer, a larger one for the head.
BOOST_AUTO_TEST_CASE(fine_tuning_groups_on_a_model) {
  using Mlp = tn::Sequential<tn::Linear<8>, tn::ReLU, tn::Linear<6>, tn::ReLU,
                             tn::Named<"fc", tn::Linear<3>>>;
  tn::Model<Mlp, tn::Shape<5>> model(3);
  model.freeze("0.");
  const auto& params = model.parameters();
  tn::AdamW<float> opt({tn::param_group{tn::exclude(params, "fc."), {.lr = 1e-4}},
                        tn::param_group{tn::select(params, "fc."), {.weight_decay = 0.0}}},
                       {.lr = 1e-2});
  BOOST_TEST(opt.group_count() == 2u);
  BOOST_TEST(opt.params(0).size() == 4u);
  BOOST_TEST(opt.params(1).size() == 2u);
  BOOST_TEST(opt.options(0).lr == 1e-4);
  BOOST_TEST(opt.options(0).weight_decay == 1e-2);  // AdamW's default
  BOOST_TEST(opt.options(1).lr == 1e-2);
  const std::vector<float> frozen(params[0].value().begin(), params[0].value().end());
  const std::vector<float> head(params[4].value().begin(), params[4].value().end());
  tn::Tensor<tn::Shape<5>> x(4);
  for (std::int64_t i = 0; i < x.size(); ++i) x.data()[i] = float(i % 7) / 7.0f - 0.4f;
  tn::Tensor<tn::Shape<3>> grad(4);
  for (int k = 0; k < 3; ++k) {
    model.zero_grad();
    const auto& y = model.forward(x);
    for (std::int64_t i = 0; i < grad.size(); ++i) grad.data()[i] = y.data()[i];
    model.backward(grad);
    tn::clip_grad_norm(params, 0.5);
    opt.step();
  }
  BOOST_TEST(std::equal(frozen.begin(), frozen.end(), params[0].value().begin()));
  BOOST_TEST(!std::equal(head.begin(), head.end(), params[4].value().begin()));
  // Unfreezing later works like PyTorch: the parameters' state starts then.
  model.unfreeze();
  opt.allocate_state();
  opt.step();
  BOOST_TEST(!std::equal(frozen.begin(), frozen.end(), params[0].value().begin()));
}

BOOST_AUTO_TEST_SUITE_END()
