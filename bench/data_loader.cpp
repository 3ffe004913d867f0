// Does background decoding hide JPEG decoding from the model?
//
// An ImageFolder of JPEG photos (made from the photographs in Debian's
// python3-skimage unless --images names a folder) goes through torchvision's
// ImageNet training transforms (Resize(256), RandomCrop(224), flip,
// Normalize) into batches for a ResNet-18 forward pass in eval mode. For each
// number of loader workers it runs `--repeats` epochs and reports medians of:
//   epoch   wall time of the epoch
//   wait    time the consumer (the model) spent waiting for batches
//   model   time in forward passes
//   load    time the workers spent building batches (read, decode, transform)
// With workers = 0 the model thread loads every batch itself (wait = load).
// See bench/README.md for figures and their reading.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include <omp.h>
#include <unistd.h>

#include "typenet/typenet.hpp"

namespace tn = typenet;
namespace T = tn::data::transforms;
namespace fs = std::filesystem;

namespace {

using Net = tn::Model<tn::models::ResNet18<>, tn::Shape<3, 224, 224>>;

/// `count` JPEGs of about 500x375 in root/a and root/b, cut from skimage's photographs.
void make_images(const fs::path& root, int count) {
  const fs::path photos = "/usr/lib/python3/dist-packages/skimage/data";
  std::vector<tn::image> sources;
  for (const char* name : {"astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg"}) {
    std::error_code ec;
    if (fs::exists(photos / name, ec))
      sources.push_back(tn::read_image(photos / name, {.channels = 3}));
  }
  if (sources.empty())
    throw std::runtime_error("no photographs in " + photos.string() +
                             "; install python3-skimage or pass --images DIR");
  std::mt19937_64 rng(1);
  for (int i = 0; i < count; ++i) {
    const auto& src = sources[static_cast<std::size_t>(i) % sources.size()];
    const int w = std::min(src.width(), 400 + static_cast<int>(rng() % 200));
    const int h = std::min(src.height(), 300 + static_cast<int>(rng() % 100));
    auto cut = tn::random_crop(src, w, h, rng);
    auto img = tn::resize(cut, 500, 375);
    const fs::path dir = root / (i % 2 ? "b" : "a");
    fs::create_directories(dir);
    tn::write_jpeg(img, dir / ("img" + std::to_string(i) + ".jpg"), 90);
  }
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"typenet DataLoader: does background decoding hide JPEG decoding?"};
  std::string images;
  int count = 128, batch = 16, repeats = 3;
  std::vector<int> worker_counts{0, 1, 2};
  bool no_model = false;
  app.add_option("--images", images, "an ImageFolder of photos (default: generated)");
  app.add_option("--count", count, "number of generated JPEGs");
  app.add_option("--batch", batch, "batch size");
  app.add_option("--repeats", repeats, "epochs per worker count (medians are reported)");
  app.add_option("--workers", worker_counts, "worker counts to compare");
  app.add_flag("--no-model", no_model, "only load (measures the loader alone)");
  CLI11_PARSE(app, argc, argv);

  fs::path root = images;
  fs::path made;
  if (images.empty()) {
    made = fs::temp_directory_path() / ("typenet_bench_images_" + std::to_string(::getpid()));
    make_images(made, count);
    root = made;
  }
  const auto folder = std::make_shared<const tn::data::ImageFolder>(root);
  const tn::data::transform augment = T::Compose{T::Resize(256), T::RandomCrop(224),
                                                 T::RandomHorizontalFlip(), T::NormalizeImageNet()};
  Net net(1);
  net.eval();
  std::printf("%zu JPEGs, batch %d, %d OpenMP threads, ResNet-18 forward: %s\n", folder->size(),
              batch, omp_get_max_threads(), no_model ? "no" : "yes");
  std::printf("%8s %10s %10s %10s %10s %10s\n", "workers", "epoch_s", "wait_s", "model_s", "load_s",
              "images/s");
  for (const int workers : worker_counts) {
    std::vector<double> epoch_s, wait_s, model_s, load_s;
    tn::data::DataLoader<tn::Shape<3, 224, 224>> loader(
        folder, {.batch_size = batch, .shuffle = true, .seed = 1, .workers = workers}, augment);
    for (int r = 0; r < repeats; ++r) {
      const auto start = std::chrono::steady_clock::now();
      double model = 0;
      auto run = loader.epoch(static_cast<std::uint64_t>(r));
      for (const auto& b : run) {
        if (no_model) continue;
        const auto t = std::chrono::steady_clock::now();
        const auto& out = net.forward(b.inputs);
        if (!(out.data()[0] == out.data()[0])) std::puts("NaN");
        model += std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
      }
      const auto st = run.stats();
      epoch_s.push_back(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      wait_s.push_back(st.wait_seconds);
      model_s.push_back(model);
      load_s.push_back(st.load_seconds);
    }
    std::printf("%8d %10.3f %10.3f %10.3f %10.3f %10.1f\n", workers, median(epoch_s),
                median(wait_s), median(model_s), median(load_s),
                static_cast<double>(folder->size()) / median(epoch_s));
  }
  if (!made.empty()) fs::remove_all(made);
}
