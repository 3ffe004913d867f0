// typenet/train/image_classifier.hpp — fast.ai's ImageClassifierData.from_paths and
// precompute=True.
//
// The lecture's "Dogs vs Cats" recipe for any folder of labelled images:
//
//   auto data = tn::ImageClassifierData<224>::from_paths("data/dogscats");   // train/, valid/
//   tn::Model<tn::DropLast<tn::models::ResNet34<>, 1>, tn::Shape<3, 224, 224>> trunk(1);
//   tn::load_weights(trunk, "resnet34-b627a593.pth", {.skip = {"fc."}});
//   auto features = tn::precompute(trunk, data);                 // the frozen trunk, run once
//   tn::Model<tn::Sequential<tn::Named<"fc", tn::Linear<2>>>, tn::Shape<512>> head(1);
//   tn::SGD<float> sgd(head.parameters(), {.lr = 0.01, .momentum = 0.9});
//   tn::fit(head, tn::CrossEntropyLoss{}, sgd, features.train, features.valid, {.epochs = 2});
//
// ImageClassifierData<Size>::from_paths(root) reads root/train and
// root/valid as ImageFolders (one folder per class; both must have the same
// class folders) and builds two DataLoaders of Shape<3, Size, Size> with
// torchvision's ImageNet preprocessing: `train` shuffles and augments
// (shorter side resized to Size, a random Size x Size crop, horizontal
// flips), `valid` resizes and takes the centre crop. Both normalise with
// ImageNet's mean and standard deviation, as pretrained torchvision models
// expect. eval_transforms() (resize, centre crop, normalise) is also what
// predicting on new images needs.
//
// precompute(trunk, data) runs `trunk` (a Model whose output is the
// features, e.g. ResNet without fc: Shape<512>) once over the training and
// validation images, without augmentation and in eval mode
// (train/precompute.hpp), and returns FeatureLoaders over the cached
// outputs: `train` shuffled with the data's batch size and seed, `valid` in
// order. Train a head on them with fit(); to fine-tune the trunk afterwards
// (unfreeze), go back to data.train and data.valid.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "typenet/core/errors.hpp"
#include "typenet/core/shape.hpp"
#include "typenet/data/image_folder.hpp"
#include "typenet/data/loader.hpp"
#include "typenet/data/transforms.hpp"
#include "typenet/train/precompute.hpp"

namespace typenet {

struct image_data_options {
  int batch_size = 64;
  int workers = 2;              ///< loader threads (decoding, augmentation)
  std::uint64_t seed = 1;       ///< order of the training batches and their augmentation
  std::string train = "train";  ///< subfolder names under the root
  std::string valid = "valid";
};

/// Training and validation images of one folder, ready for a pretrained
/// ImageNet model of input Shape<3, Size, Size>.
template <int Size>
struct ImageClassifierData {
  static_assert(Size >= 32, "ImageClassifierData<Size>: ImageNet models need Size >= 32");
  using input_shape = Shape<3, Size, Size>;

  std::shared_ptr<const data::ImageFolder> train_set, valid_set;
  data::DataLoader<input_shape> train, valid;
  image_data_options options;

  /// The class names (the folder names, sorted): label i is classes()[i].
  const std::vector<std::string>& classes() const { return train_set->classes(); }

  /// Augmentation for training: shorter side to Size, random Size x Size
  /// crop, horizontal flip, ImageNet normalisation.
  static data::transform train_transforms() {
    namespace T = data::transforms;
    return T::Compose{T::Resize(Size), T::RandomCrop(Size), T::RandomHorizontalFlip(),
                      T::NormalizeImageNet()};
  }
  /// Evaluation and prediction: shorter side to Size, centre crop, ImageNet normalisation.
  static data::transform eval_transforms() {
    namespace T = data::transforms;
    return T::Compose{T::Resize(Size), T::CenterCrop(Size), T::NormalizeImageNet()};
  }

  static ImageClassifierData from_paths(const std::filesystem::path& root,
                                        const image_data_options& options = {}) {
    auto train_set = std::make_shared<const data::ImageFolder>(root / options.train);
    auto valid_set = std::make_shared<const data::ImageFolder>(root / options.valid);
    if (train_set->classes() != valid_set->classes())
      throw data::data_error(
          (root / options.valid).string() + ": the class folders differ from those of " +
          (root / options.train).string() + " (labels are positions in the sorted folder names)");
    data::DataLoader<input_shape> train(train_set,
                                        {.batch_size = options.batch_size,
                                         .shuffle = true,
                                         .seed = options.seed,
                                         .workers = options.workers},
                                        train_transforms());
    data::DataLoader<input_shape> valid(
        valid_set, {.batch_size = options.batch_size, .workers = options.workers},
        eval_transforms());
    return {std::move(train_set), std::move(valid_set), std::move(train), std::move(valid),
            options};
  }
};

/// Feature loaders over a trunk's cached outputs.
template <ShapeType S>
struct precomputed_features {
  FeatureLoader<S> train, valid;
};

/// Runs `trunk` once over data's training and validation images (no
/// augmentation, eval mode) and batches the outputs like data.train / data.valid.
template <class Trunk, int Size>
precomputed_features<typename Trunk::output_shape> precompute(
    Trunk& trunk, const ImageClassifierData<Size>& data) {
  static_assert(std::is_same_v<typename Trunk::input_shape, Shape<3, Size, Size>>,
                "precompute(trunk, data): the trunk's input shape is not the data's "
                "Shape<3, Size, Size>");
  using S = typename Trunk::output_shape;
  const auto& o = data.options;
  const data::DataLoader<Shape<3, Size, Size>> train_images(
      data.train_set, {.batch_size = o.batch_size, .workers = o.workers}, data.eval_transforms());
  return {
      FeatureLoader<S>(FeatureCache<S>::compute(trunk, train_images),
                       {.batch_size = o.batch_size, .shuffle = true, .seed = o.seed}),
      FeatureLoader<S>(FeatureCache<S>::compute(trunk, data.valid), {.batch_size = o.batch_size})};
}

}  // namespace typenet
