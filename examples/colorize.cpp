// Colorization, the lecture's application: a network sees the lightness L of
// a photo and predicts its colour, the a and b channels of CIE LAB.
//
//   colorize train                                   # default photos, upsample decoder
//   colorize train --decoder transposed --steps 200 --epoch-steps 25 --expect-better
//   colorize train --data ~/photos --trunk resnet18-f37072fd.pth --out runs/mine
//   colorize apply --weights colorize-out/colorizer.safetensors in.jpg out.png
//   colorize train --limit 3 --steps 10 --epoch-steps 5 --batch 8 --expect-loss-decrease
//                                                    # the CI smoke run
//
// Run with OMP_WAIT_POLICY=passive: on a busy machine spinning OpenMP
// threads make training 2-3x slower (docs/examples/colorize.md).
//
// Model: models::ColorizationNet (ResNet-18 children 0..5 on a 1-channel L
// input, then Conv/BN/ReLU/Upsample back to 2 ab channels) or, with
// --decoder transposed, models::ColorizationNetTransposed (ConvTranspose2d
// decoder), at a fixed 64x64 input; MSE on ab scaled by 1/128
// (lab_scaling::centered), Adam under a one-cycle learning-rate schedule.
//
// train: reads colour photos (by default real photographs from Debian's
// python3-skimage, mate-backgrounds, lomiri-wallpapers-20.04 and -16.04 and
// plasma-workspace-wallpapers packages; --data takes folders, searched
// recursively, or files), shrinks each so its short side is 256 pixels, and
// splits them by a fixed rule: a photo's group key is its lower-case file
// stem without a trailing resolution ("_3840x2160") or "_left"/"_right" (a
// stem that is only a resolution, as in KDE's
// Kite/contents/images/2560x1600.jpg, gives the folder's name); a group is
// held out when the 64-bit FNV-1a hash of its key is 0 modulo 5 (when no
// group is, the group with the smallest hash). Training samples are random
// crops (10% to 100% of the area, aspect 3:4 to 4:3, or the whole photo one
// time in five, squashed) resized to 64x64, flipped half the time. After
// training it writes, for every held-out photo, a grid original | grayscale
// input | colorized through 64x64 | colorized at the photo's own size (the
// trained parameters in a model of dynamic extents, as apply does) into
// --out, checks that each grid decodes at the expected size, reports the ab
// mean squared error in LAB units of both against predicting gray (ab = 0)
// and the training set's mean ab (--expect-better judges the 64x64 one, the
// size the network was trained at), and saves the
// model as --out/colorizer.safetensors. --expect-better and --expect-loss-decrease
// make the exit status say whether the model beat both baselines on the
// held-out photos, and whether the training loss fell.
//
// apply: colorizes a photo of any size at its own resolution: the model of
// dynamic extents (Shape<1, dyn, dyn>, the trained parameters) sees the
// photo's L, padded (reflect) to a multiple of the network's stride of 8 and
// cropped back; --short-side N runs it on the photo shrunk to a short side of
// N instead (the scale training saw is stored_short_side = 256) and enlarges
// the ab (bilinear). Either way the photo's own full-resolution L is kept.
// The decoder is read from the weight file's metadata unless --decoder names it.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <omp.h>

#include "command_line.hpp"
#include "typenet/core/parallel_exceptions.hpp"
#include "typenet/typenet.hpp"

namespace tn = typenet;
namespace data = tn::data;
namespace fs = std::filesystem;
namespace T = data::transforms;

namespace {

/// The network's input side. ResNet-18 to layer2 plus the decoder costs
/// 0.26 GFLOP per 64x64 image forward (1.06 at 128, 3.4 at the lecture's
/// 224); a training step of 16 images takes 0.3-0.5 s on two idle cores,
/// ~2 s on busy ones, and was ~25 s at 128 (docs/examples/colorize.md).
constexpr int input_size = 64;
/// Photos are kept with this short side; crops come from it, and the
/// held-out evaluation and grids use it.
constexpr int stored_short_side = 256;
using Input = tn::Shape<1, input_size, input_size>;
using Target = tn::Shape<2, input_size, input_size>;
/// What apply takes: L of any size (the parameters are those of Input's model).
using AnyInput = tn::Shape<1, tn::dyn, tn::dyn>;
/// The network's total stride (conv1, maxpool, layer2): its output matches
/// its input size exactly when both extents are multiples of it.
constexpr int network_stride = 8;
constexpr auto scaling = tn::lab_scaling::centered;  // ab / 128
constexpr double ab_unit = 128.0;                    // centered ab -> LAB units

// ---------------------------------------------------------------- photos

/// The default photos: real colour photographs from Debian packages.
struct default_source {
  const char* path;  ///< a file, or a folder whose image files all count
  const char* package;
};
constexpr const char* skimage = "python3-skimage";
constexpr const char* lomiri16 = "lomiri-wallpapers-16.04";
constexpr const char* plasma = "plasma-workspace-wallpapers";
constexpr std::array default_sources{
    default_source{"/usr/lib/python3/dist-packages/skimage/data/astronaut.png", skimage},
    default_source{"/usr/lib/python3/dist-packages/skimage/data/chelsea.png", skimage},
    default_source{"/usr/lib/python3/dist-packages/skimage/data/coffee.png", skimage},
    default_source{"/usr/lib/python3/dist-packages/skimage/data/motorcycle_left.png", skimage},
    default_source{"/usr/lib/python3/dist-packages/skimage/data/motorcycle_right.png", skimage},
    default_source{"/usr/lib/python3/dist-packages/skimage/data/rocket.jpg", skimage},
    default_source{"/usr/share/backgrounds/mate/nature", "mate-backgrounds"},
    default_source{"/usr/share/backgrounds/Kleiber_by_Lukas_Baubkus.jpg",
                   "lomiri-wallpapers-20.04"},
    default_source{"/usr/share/backgrounds/Bridge_by_Sander_Klootwijk.jpg", lomiri16},
    default_source{"/usr/share/backgrounds/Dragonfly_by_Bolly.jpg", lomiri16},
    default_source{"/usr/share/backgrounds/Picture_0B_by_freespace.jpg", lomiri16},
    default_source{"/usr/share/backgrounds/Picture_1A_by_freespace.jpg", lomiri16},
    default_source{"/usr/share/backgrounds/Wine_by_Jakkub_Mede.jpg", lomiri16},
    default_source{"/usr/share/backgrounds/aitzgorri_by_Aitzol_Berasategi.jpg", lomiri16},
    default_source{"/usr/share/backgrounds/free_by_Peter_Nerlich.jpg", lomiri16},
    default_source{"/usr/share/backgrounds/friends_by_Aitzol_Berasategi.jpg", lomiri16},
    default_source{"/usr/share/backgrounds/greentock_by_Peter_Nerlich.jpg", lomiri16},
    default_source{"/usr/share/backgrounds/life_by_Aitzol_Berasategi.jpg", lomiri16},
    default_source{"/usr/share/backgrounds/picosdeeuropa_by_Aitzol_Berasategi.jpg", lomiri16},
    default_source{"/usr/share/backgrounds/seeding_by_Clements_Engelhardt.jpg", lomiri16},
    default_source{"/usr/share/backgrounds/sunset_by_Aitzol_Berasategi.jpg", lomiri16},
    default_source{"/usr/share/wallpapers/BytheWater/contents/images/2560x1600.jpg", plasma},
    default_source{"/usr/share/wallpapers/ColorfulCups/contents/images/2560x1600.jpg", plasma},
    default_source{"/usr/share/wallpapers/DarkestHour/contents/images/2560x1600.jpg", plasma},
    default_source{"/usr/share/wallpapers/EveningGlow/contents/images/2560x1600.jpg", plasma},
    default_source{"/usr/share/wallpapers/FallenLeaf/contents/images/2560x1600.jpg", plasma},
    default_source{"/usr/share/wallpapers/Kite/contents/images/2560x1600.jpg", plasma},
    default_source{"/usr/share/wallpapers/OneStandsOut/contents/images/2560x1600.jpg", plasma},
    default_source{"/usr/share/wallpapers/Path/contents/images/2560x1600.jpg", plasma},
    default_source{"/usr/share/wallpapers/summer_1am/contents/images/2560x1600.jpg", plasma},
};

struct photo {
  fs::path path;
  std::string group;
  std::uint64_t hash = 0;
  tn::image rgb;  ///< short side stored_short_side
};

std::uint64_t fnv1a64(const std::string& s) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

/// The picture's name: the file stem, or, when the stem is only a resolution
/// (KDE's wallpapers are <Name>/contents/images/<W>x<H>.jpg), the nearest
/// other folder's name.
std::string picture_name(const fs::path& p) {
  const std::string stem = p.stem().string();
  if (!std::regex_match(stem, std::regex("[0-9]+x[0-9]+"))) return stem;
  fs::path folder = p.parent_path();
  while (folder.has_parent_path() && folder != folder.root_path() &&
         std::regex_match(folder.filename().string(), std::regex("images(_dark)?|contents")))
    folder = folder.parent_path();
  return folder.filename().empty() ? stem : folder.filename().string();
}

/// The group key: lower-case picture name without a trailing "_WxH" or
/// "_left"/"_right", so one picture at several resolutions, or a stereo pair,
/// shares a side.
std::string group_key(const fs::path& p) {
  std::string s = picture_name(p);
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  s = std::regex_replace(s, std::regex("[_-][0-9]+x[0-9]+$"), "");
  s = std::regex_replace(s, std::regex("[_-](left|right)$"), "");
  return s;
}

bool held_out_by_hash(std::uint64_t hash) {
  return hash % 5 == 0;
}

/// Image files of the sources, in order (folders: recursively, sorted; a
/// folder's broken links, link loops and unreadable entries are skipped
/// with a note).
std::vector<fs::path> list_photos(const std::vector<std::string>& sources, bool defaults) {
  std::vector<fs::path> files;
  for (std::size_t i = 0; i < sources.size(); ++i) {
    const fs::path p = sources[i];
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      const data::UnlabeledImageFolder folder(p);
      for (std::size_t k = 0; k < folder.size(); ++k) files.push_back(folder.path(k));
      const auto& skipped = folder.skipped();
      if (skipped.total())
        std::printf(
            "%s: skipped %zu entries (%zu broken links, %zu folders reached a second time "
            "through links, %zu unreadable); first: %s\n",
            p.string().c_str(), skipped.total(), skipped.broken_links, skipped.repeated_folders,
            skipped.unreadable, skipped.first.c_str());
    } else if (fs::is_regular_file(p, ec)) {
      files.push_back(p);
    } else {
      std::string hint;
      if (defaults) hint = " (install Debian's " + std::string(default_sources[i].package) + ")";
      throw tn::data::data_error(p.string() + ": no such file or folder" + hint);
    }
  }
  return files;
}

struct photo_split {
  std::vector<fs::path> train, held_out;
};

/// The held-out rule applied to a list of files (nothing is decoded).
photo_split split_photos(const std::vector<fs::path>& files) {
  std::vector<std::uint64_t> hashes;
  bool any_by_rule = false;
  for (const auto& f : files) {
    hashes.push_back(fnv1a64(group_key(f)));
    any_by_rule = any_by_rule || held_out_by_hash(hashes.back());
  }
  const std::uint64_t smallest =
      hashes.empty() ? 0 : *std::min_element(hashes.begin(), hashes.end());
  photo_split s;
  for (std::size_t i = 0; i < files.size(); ++i) {
    const bool out = any_by_rule ? held_out_by_hash(hashes[i]) : hashes[i] == smallest;
    (out ? s.held_out : s.train).push_back(files[i]);
  }
  return s;
}

tn::image lightness(const tn::image& rgb) {
  return tn::colorization_split(rgb, scaling).input;
}

/// Mean chroma sqrt(a^2 + b^2) in LAB units: ~0 for a gray picture.
double mean_chroma(const tn::image& rgb) {
  const auto ab = tn::colorization_split(rgb, scaling).target;
  double sum = 0;
  for (int y = 0; y < ab.height(); ++y)
    for (int x = 0; x < ab.width(); ++x) sum += std::hypot(ab(y, x, 0), ab(y, x, 1)) * ab_unit;
  return sum / (static_cast<double>(ab.width()) * ab.height());
}

/// Decodes and shrinks the photos (in parallel); gray ones are dropped, and
/// so are files that cannot be read or decoded (image_error), each with a
/// note. Any other exception (out of memory) stops the program.
std::vector<photo> load_photos(const std::vector<fs::path>& files, const char* side) {
  std::vector<photo> photos(files.size());
  std::vector<std::string> unreadable(files.size());  // why photo i was not read, or ""
  tn::first_exception error;  // an exception must not leave the OpenMP region
#pragma omp parallel for schedule(dynamic)
  for (std::size_t i = 0; i < files.size(); ++i)
    error.run([&] {
      photos[i].path = files[i];
      photos[i].group = group_key(files[i]);
      photos[i].hash = fnv1a64(photos[i].group);
      try {
        photos[i].rgb =
            tn::resize_shorter(tn::read_image(files[i], {.channels = 3}), stored_short_side);
      } catch (const tn::image_error& e) {
        unreadable[i] = e.what();
      }
    });
  error.rethrow_if_any();
  const auto bad = static_cast<std::size_t>(std::count_if(
      unreadable.begin(), unreadable.end(), [](const auto& u) { return !u.empty(); }));
  if (bad) {
    std::printf("  skipping %zu of %zu %s photos that cannot be read:\n", bad, files.size(), side);
    constexpr std::size_t shown = 5;
    std::size_t listed = 0;
    for (const auto& why : unreadable)
      if (!why.empty() && listed++ < shown) std::printf("    %s\n", why.c_str());
    if (bad > shown) std::printf("    ... and %zu more\n", bad - shown);
  }
  std::vector<photo> kept;
  for (std::size_t i = 0; i < photos.size(); ++i) {
    if (!unreadable[i].empty()) continue;
    photo& p = photos[i];
    const double chroma = mean_chroma(p.rgb);
    if (chroma < 2.0) {
      std::printf("  skipping %s (%s): mean chroma %.2f, no colour to learn\n",
                  p.path.string().c_str(), side, chroma);
      continue;
    }
    kept.push_back(std::move(p));
  }
  return kept;
}

// ---------------------------------------------------------------- training data

/// Each photo, repeated to fill an epoch; the transform picks the crop.
class photo_samples {
 public:
  photo_samples(std::shared_ptr<const std::vector<photo>> photos, std::size_t size)
      : photos_(std::move(photos)), size_(size) {}
  std::size_t size() const noexcept { return size_; }
  data::example get(std::size_t i) const {
    data::example ex;
    ex.image = (*photos_)[i % photos_->size()].rgb;
    return ex;
  }

 private:
  std::shared_ptr<const std::vector<photo>> photos_;
  std::size_t size_;
};

double uniform01(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

/// torchvision's RandomResizedCrop (area 10%..100%, aspect 3:4..4:3) to
/// input_size, or one time in five the whole photo squashed to it, as apply sees it.
struct crop_or_whole {
  void operator()(data::example& ex, std::mt19937_64& rng) const {
    const tn::image& img = ex.image;
    if (uniform01(rng) < 0.2) {
      ex.image = tn::resize(img, input_size, input_size);
      return;
    }
    const double area =
        img.width() * static_cast<double>(img.height()) * (0.1 + 0.9 * uniform01(rng));
    const double aspect =
        std::exp(std::log(0.75) + (std::log(4.0 / 3) - std::log(0.75)) * uniform01(rng));
    const int w =
        std::clamp(static_cast<int>(std::lround(std::sqrt(area * aspect))), 1, img.width());
    const int h =
        std::clamp(static_cast<int>(std::lround(std::sqrt(area / aspect))), 1, img.height());
    const int left = static_cast<int>(uniform01(rng) * (img.width() - w + 1));
    const int top = static_cast<int>(uniform01(rng) * (img.height() - h + 1));
    ex.image = tn::resize(tn::crop(img, {left, top, w, h}), input_size, input_size);
  }
};

data::DataLoader<Input, Target> sample_loader(std::shared_ptr<const std::vector<photo>> photos,
                                              std::size_t size, int batch, bool shuffle,
                                              std::uint64_t seed, int workers) {
  return data::DataLoader<Input, Target>(
      photo_samples(std::move(photos), size),
      {.batch_size = batch, .shuffle = shuffle, .seed = seed, .workers = workers},
      T::Compose{crop_or_whole{}, T::RandomHorizontalFlip(), T::ColorizationLab(scaling)});
}

// ---------------------------------------------------------------- prediction

/// ab (centered scaling) at the size of `l` (an L plane, L / 100): the model
/// sees l shrunk to input_size; its ab is enlarged bilinearly.
template <class M>
tn::image predict_ab(M& model, const tn::image& l) {
  model.eval();
  typename M::input_tensor x(1);
  tn::to_tensor(tn::resize(l, input_size, input_size), x, 0);
  const auto ab = tn::from_tensor(model.forward(x), 0);
  return tn::resize(ab, l.width(), l.height(), tn::interpolation::bilinear);
}

/// ab for an L image of any size, at that size: padded (reflect) to the
/// network's stride, one forward of the dynamic model, cropped back.
template <class M>
tn::image predict_ab_any_size(M& model, const tn::image& l) {
  const auto padded = tn::pad_to_multiple(l, network_stride, tn::padding_mode::reflect);
  const auto ab = tn::from_tensor(tn::predict(model, tn::to_tensor<1>(padded)), 0);
  return tn::crop(ab, {0, 0, l.width(), l.height()});
}

/// Mean squared difference of two ab images (centered), in LAB units.
double ab_mse(const tn::image& predicted, const tn::image& truth) {
  double sum = 0;
  for (int y = 0; y < truth.height(); ++y)
    for (int x = 0; x < truth.width(); ++x)
      for (int c = 0; c < 2; ++c) {
        const double d = (predicted(y, x, c) - truth(y, x, c)) * ab_unit;
        sum += d * d;
      }
  return sum / (2.0 * truth.width() * truth.height());
}

// ---------------------------------------------------------------- train

struct train_settings {
  std::vector<std::string> data;
  std::string trunk;
  std::string decoder = "upsample";
  std::string out = "colorize-out";
  int steps = 1000;
  int epoch_steps = 50;
  int batch = 16;
  double lr = 3e-3;
  std::size_t limit = 0;
  int workers = 1;
  std::uint64_t seed = 1;
  bool expect_better = false;
  bool expect_loss_decrease = false;
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

template <class Net>
int train(const train_settings& s) {
  const auto t0 = std::chrono::steady_clock::now();
  const bool defaults = s.data.empty();
  std::vector<std::string> sources = s.data;
  if (defaults)
    for (const auto& d : default_sources) sources.emplace_back(d.path);
  const auto files = list_photos(sources, defaults);
  auto split = split_photos(files);
  std::printf(
      "held-out rule: group key = lower-case file stem without a trailing _WxH or _left/_right\n"
      "  (a stem that is only WxH: the wallpaper's folder name);\n"
      "  a group is held out when FNV-1a-64(key) %% 5 == 0 (if none is, the smallest hash)\n");
  std::printf("%zu photos from %s: %zu for training, %zu held out\n", files.size(),
              defaults ? "the default Debian packages" : "--data", split.train.size(),
              split.held_out.size());
  if (s.limit) {
    if (split.train.size() > s.limit) split.train.resize(s.limit);
    if (split.held_out.size() > s.limit) split.held_out.resize(s.limit);
    std::printf("--limit %zu: using the first %zu training and %zu held-out photos\n", s.limit,
                split.train.size(), split.held_out.size());
  }
  auto train_photos =
      std::make_shared<const std::vector<photo>>(load_photos(split.train, "training"));
  const auto held_out = load_photos(split.held_out, "held out");
  if (train_photos->empty() || held_out.empty())
    throw tn::usage_error("need at least one readable colour photo on each side of the split (" +
                          std::to_string(train_photos->size()) + " training, " +
                          std::to_string(held_out.size()) +
                          " held out); give more photos or another --limit");
  std::printf("training photos:\n");
  for (const auto& p : *train_photos)
    std::printf("  %-28s %016llx  %s\n", p.group.c_str(), static_cast<unsigned long long>(p.hash),
                p.path.string().c_str());
  std::printf("held-out photos:\n");
  for (const auto& p : held_out)
    std::printf("  %-28s %016llx  %s\n", p.group.c_str(), static_cast<unsigned long long>(p.hash),
                p.path.string().c_str());
  std::printf("loaded in %.1f s\n\n", seconds_since(t0));

  // The training set's mean ab, the second baseline.
  double mean_ab[2] = {0, 0}, pixels = 0;
  for (const auto& p : *train_photos) {
    const auto ab = tn::colorization_split(p.rgb, scaling).target;
    for (int y = 0; y < ab.height(); ++y)
      for (int x = 0; x < ab.width(); ++x)
        for (int c = 0; c < 2; ++c) mean_ab[c] += ab(y, x, c);
    pixels += static_cast<double>(ab.width()) * ab.height();
  }
  for (double& m : mean_ab) m /= pixels;

  tn::Model<Net, Input> model(s.seed);
  if (s.trunk.empty()) {
    std::printf(
        "trunk: RANDOM weights (no --trunk given; pass a torchvision ResNet-18 "
        "checkpoint for the lecture's pretrained trunk)\n");
  } else {
    const auto report =
        tn::load_weights(model, s.trunk,
                         {.strict = false,
                          .add_prefix = "midlevel_resnet.",
                          .transforms = {{"midlevel_resnet.0.weight", tn::sum_input_channels}}});
    for (const auto& key : report.missing)
      if (key.starts_with("midlevel_resnet."))
        throw tn::weights_mismatch(s.trunk + " lacks the trunk's " + key +
                                   " (is it a torchvision ResNet-18 state dict?)");
    std::printf(
        "trunk: %zu tensors from %s (conv1 summed over its input channels; %zu file "
        "tensors of fc, layer3 and layer4 unused)\n",
        report.loaded.size(), s.trunk.c_str(), report.unexpected.size());
  }
  std::printf("decoder: %s; input %dx%d, %d threads\n\n%s\n", s.decoder.c_str(), input_size,
              input_size, omp_get_max_threads(), model.summary().c_str());

  const std::size_t epoch_samples = static_cast<std::size_t>(s.epoch_steps) * s.batch;
  const int epochs = (s.steps + s.epoch_steps - 1) / s.epoch_steps;
  auto train_loader = sample_loader(train_photos, epoch_samples, s.batch, true, s.seed, s.workers);
  // A fixed set of training crops (its own seed) measures the training loss.
  const std::size_t probe_samples = std::clamp<std::size_t>(4 * train_photos->size(), 32, 128);
  auto probe = sample_loader(train_photos, probe_samples, s.batch, false, s.seed + 1000, 0);

  tn::MSELoss loss;
  const double loss_before = tn::evaluate(model, loss, probe).first;
  std::printf(
      "training loss before: %.5f (MSE of ab / 128 on %zu fixed training crops, eval "
      "mode)\n",
      loss_before, probe_samples);

  tn::Adam<float> adam(model.parameters(), {.lr = s.lr});
  const std::int64_t total_steps = std::int64_t{epochs} * s.epoch_steps;
  tn::OneCycleLR schedule(adam, {.max_lr = s.lr, .total_steps = total_steps});
  std::printf("training: %d steps (%d epoch(s) of %d) of batch %d, Adam, one-cycle max lr %g\n",
              epochs * s.epoch_steps, epochs, s.epoch_steps, s.batch, s.lr);
  const auto train_start = std::chrono::steady_clock::now();
  model.train();
  const auto result = tn::fit(model, loss, adam, train_loader,
                              {.epochs = epochs, .on_step = [&](std::int64_t step) {
                                 if (step < total_steps) schedule.step();
                               }});
  const double train_seconds = seconds_since(train_start);
  const double loss_after = tn::evaluate(model, loss, probe).first;
  std::printf("training loss after:  %.5f (before %.5f; last epoch's running loss %.5f)\n",
              loss_after, loss_before, result.history.back().train_loss);
  std::printf("trained in %.0f s (%.2f s per step)\n\n", train_seconds,
              train_seconds / static_cast<double>(total_steps));

  fs::create_directories(s.out);
  const fs::path weights = fs::path(s.out) / "colorizer.safetensors";
  tn::save_weights(model, weights.string());
  std::printf("saved %s\n\n", weights.string().c_str());

  // Held-out evaluation, and the grids.
  std::printf(
      "held-out ab MSE in LAB units (a, b in about [-128, 127]); training mean ab = "
      "(%.2f, %.2f)\n",
      mean_ab[0] * ab_unit, mean_ab[1] * ab_unit);
  std::printf("  %-30s %10s %10s %10s %10s %10s\n", "photo", "size", "model", "own size", "gray",
              "mean ab");
  // "model": L shrunk to the training size, ab enlarged (what the crops
  // taught); "own size": the same parameters in a model of dynamic extents
  // at the photo's size (apply's default).
  tn::Model<Net, AnyInput> any_size(model);
  double sum_model = 0, sum_own = 0, sum_gray = 0, sum_mean = 0;
  bool grids_ok = true;
  std::set<std::string> grid_names;  // two folders may hold photos of one name
  for (const auto& p : held_out) {
    const auto truth = tn::colorization_split(p.rgb, scaling);
    const auto predicted = predict_ab(model, truth.input);
    const auto own = predict_ab_any_size(any_size, truth.input);
    tn::image zero(truth.target.width(), truth.target.height(), 2, 0.0f);
    tn::image mean(truth.target.width(), truth.target.height(), 2);
    for (int y = 0; y < mean.height(); ++y)
      for (int x = 0; x < mean.width(); ++x)
        for (int c = 0; c < 2; ++c) mean(y, x, c) = static_cast<float>(mean_ab[c]);
    const double m = ab_mse(predicted, truth.target), o = ab_mse(own, truth.target),
                 g = ab_mse(zero, truth.target), b = ab_mse(mean, truth.target);
    sum_model += m;
    sum_own += o;
    sum_gray += g;
    sum_mean += b;
    const std::string size = std::to_string(p.rgb.width()) + "x" + std::to_string(p.rgb.height());
    const std::string name = picture_name(p.path);
    std::printf("  %-30s %10s %10.1f %10.1f %10.1f %10.1f\n", name.c_str(), size.c_str(), m, o, g,
                b);

    const auto grid = tn::make_grid({{p.rgb, tn::gray_to_rgb(truth.input),
                                      tn::colorization_merge(truth.input, predicted, scaling),
                                      tn::colorization_merge(truth.input, own, scaling)}});
    std::string grid_name = name;
    for (int k = 2; !grid_names.insert(grid_name).second; ++k)
      grid_name = name + "-" + std::to_string(k);
    const fs::path grid_path = fs::path(s.out) / (grid_name + ".png");
    tn::write_png(grid, grid_path);
    const auto back = tn::read_image(grid_path);
    if (back.width() != grid.width() || back.height() != grid.height() || back.channels() != 3) {
      std::printf("FAILED: %s decodes as %dx%dx%d, expected %dx%dx3\n", grid_path.string().c_str(),
                  back.width(), back.height(), back.channels(), grid.width(), grid.height());
      grids_ok = false;
    }
  }
  const auto n = static_cast<double>(held_out.size());
  const double model_mse = sum_model / n, gray_mse = sum_gray / n, mean_mse = sum_mean / n;
  std::printf("  %-30s %10s %10.1f %10.1f %10.1f %10.1f\n", "overall (mean over photos)", "",
              model_mse, sum_own / n, gray_mse, mean_mse);
  std::printf(
      "\nwrote %zu grid(s) (original | grayscale input | colorized at %d | colorized at the "
      "photo's size) to %s/, each re-read and checked\n",
      held_out.size(), input_size, s.out.c_str());
  std::printf("total time %.0f s\n", seconds_since(t0));

  int status = 0;
  if (!grids_ok) status = 1;
  if (s.expect_loss_decrease && !(loss_after < loss_before)) {
    std::printf("FAILED: the training loss did not decrease (%.5f -> %.5f)\n", loss_before,
                loss_after);
    status = 1;
  }
  if (s.expect_better && !(model_mse < gray_mse && model_mse < mean_mse)) {
    std::printf("FAILED: held-out ab MSE %.1f does not beat gray (%.1f) and mean ab (%.1f)\n",
                model_mse, gray_mse, mean_mse);
    status = 1;
  }
  return status;
}

// ---------------------------------------------------------------- apply

struct apply_settings {
  std::string weights;
  std::string decoder = "auto";
  bool decoder_given = false;
  int short_side = 0;  ///< 0: the photo's own resolution
  std::string input, output;
};

template <class Net>
int apply(const apply_settings& s) {
  tn::Model<Net, AnyInput> model;
  try {
    tn::load_weights(model, s.weights);
  } catch (const tn::weights_mismatch& e) {
    throw tn::weights_mismatch(std::string(e.what()) + "\n(colorize built the " + s.decoder +
                               " decoder" +
                               (s.decoder_given ? "; omit --decoder to take it from the file)"
                                                : ", which the file's metadata names)"));
  }
  const auto photo = tn::read_image(s.input, {.channels = 3});
  const auto l = lightness(photo);
  const auto started = std::chrono::steady_clock::now();
  tn::image ab;
  if (s.short_side > 0 && s.short_side < std::min(l.width(), l.height())) {
    const auto small = tn::resize_shorter(l, s.short_side);
    ab = tn::resize(predict_ab_any_size(model, small), l.width(), l.height(),
                    tn::interpolation::bilinear);
    std::printf("the network saw %dx%d\n", small.width(), small.height());
  } else {
    ab = predict_ab_any_size(model, l);
    std::printf("the network saw %dx%d (padded to multiples of %d)\n", l.width(), l.height(),
                network_stride);
  }
  std::printf("forward: %.2f s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  const auto colorized = tn::colorization_merge(l, ab, scaling);
  tn::write_image(colorized, s.output);
  const auto back = tn::read_image(s.output);
  std::printf("colorized %s (%dx%d) -> %s (%dx%d)\n", s.input.c_str(), photo.width(),
              photo.height(), s.output.c_str(), back.width(), back.height());
  if (back.width() != photo.width() || back.height() != photo.height()) {
    std::printf("FAILED: the output's size differs from the photo's\n");
    return 1;
  }
  return 0;
}

/// "upsample" or "transposed", from the file's typenet.network metadata.
std::string decoder_of(const std::string& weights) {
  const auto file = tn::io::read_weight_file(weights, "");
  const auto it = file.metadata.find("typenet.network");
  if (it == file.metadata.end()) {
    std::printf("%s records no network type; assuming --decoder upsample\n", weights.c_str());
    return "upsample";
  }
  return it->second.find("ConvTranspose2d") != std::string::npos ? "transposed" : "upsample";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Colorize photos: train the lecture's ColorizationNet, or apply a trained one"};
  app.require_subcommand(1);

  train_settings t;
  auto* train_cmd =
      app.add_subcommand("train", "train on colour photos and evaluate on held-out ones");
  train_cmd
      ->add_option(
          "--data", t.data,
          "folders (searched recursively) or files of colour photos; default: the "
          "photos of python3-skimage, mate-backgrounds, lomiri-wallpapers-20.04 and -16.04, "
          "plasma-workspace-wallpapers")
      ->expected(1, -1);
  train_cmd->add_option("--trunk", t.trunk,
                        "torchvision ResNet-18 checkpoint (.pth or .safetensors) for the trunk; "
                        "default: random weights");
  train_cmd->add_option("--decoder", t.decoder, "upsample (ColorizationNet) or transposed")
      ->check(CLI::IsMember({"upsample", "transposed"}))
      ->capture_default_str();
  train_cmd
      ->add_option("--out", t.out,
                   "folder for the model and the grids (created, and checked to be writable, "
                   "before training)")
      ->capture_default_str();
  train_cmd->add_option("--steps", t.steps, "training steps (rounded up to whole epochs)")
      ->check(examples::between(1, 1e8))
      ->capture_default_str();
  train_cmd->add_option("--epoch-steps", t.epoch_steps, "steps per epoch")
      ->check(examples::between(1, 1e6))
      ->capture_default_str();
  train_cmd->add_option("--batch", t.batch, "batch size")
      ->check(examples::between(1, 4096))
      ->capture_default_str();
  train_cmd->add_option("--lr", t.lr, "Adam's peak learning rate (one-cycle schedule)")
      ->check(examples::greater_than(0))
      ->capture_default_str();
  train_cmd
      ->add_option("--limit", t.limit,
                   "use only the first N training and N held-out photos (0: all)")
      ->check(examples::at_least(0));
  train_cmd->add_option("--workers", t.workers, "loader threads")
      ->check(examples::workers())
      ->capture_default_str();
  train_cmd->add_option("--seed", t.seed, "seed of weights, order and crops")
      ->check(examples::at_least(0))
      ->capture_default_str();
  train_cmd->add_flag("--expect-better", t.expect_better,
                      "exit with status 1 unless the held-out ab MSE beats both baselines");
  train_cmd->add_flag("--expect-loss-decrease", t.expect_loss_decrease,
                      "exit with status 1 unless the training loss fell");

  apply_settings a;
  auto* apply_cmd = app.add_subcommand("apply", "colorize one photo of any size");
  apply_cmd->add_option("--weights", a.weights, "a model saved by `colorize train`")
      ->required()
      ->check(CLI::ExistingFile);
  apply_cmd->add_option("--decoder", a.decoder, "auto (from the file), upsample or transposed")
      ->check(CLI::IsMember({"auto", "upsample", "transposed"}))
      ->capture_default_str();
  apply_cmd
      ->add_option("--short-side", a.short_side,
                   "run the network on the photo shrunk to this short side (0: its own size; "
                   "training saw photos of 256) and enlarge the colours")
      ->check(CLI::Range(0, 1 << 15))
      ->capture_default_str();
  apply_cmd->add_option("input", a.input, "photo (PNG, JPEG, ...)")
      ->required()
      ->check(CLI::ExistingFile);
  apply_cmd
      ->add_option("output", a.output,
                   "colorized photo (.png or .jpg; its folder is created and checked first)")
      ->required();

  CLI11_PARSE(app, argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // keep the report in order with fit's stderr lines
  try {
    if (*train_cmd) {
      examples::require_writable_folder(t.out, "--out");
      return t.decoder == "transposed" ? train<tn::models::ColorizationNetTransposed>(t)
                                       : train<tn::models::ColorizationNet>(t);
    }
    examples::require_writable_file(a.output, "output");
    a.decoder_given = a.decoder != "auto";
    if (!a.decoder_given) a.decoder = decoder_of(a.weights);
    return a.decoder == "transposed" ? apply<tn::models::ColorizationNetTransposed>(a)
                                     : apply<tn::models::ColorizationNet>(a);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "colorize: %s\n", e.what());
    return 2;
  }
}
