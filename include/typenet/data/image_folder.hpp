// typenet/data/image_folder.hpp — images on disk: one subfolder per class, or unlabeled.
//
//   tn::data::ImageFolder train("dogscats/train");   // train/cats/*.jpg, train/dogs/*.jpg
//   train.classes();        // {"cats", "dogs"}: sorted folder names; label = position
//   auto ex = train.get(7); // decoded now, as RGB (3 channels)
//
//   tn::data::UnlabeledImageFolder photos("places/");  // every image below, label -1
//
// Like torchvision's ImageFolder: class folders sorted by name, files found
// recursively and sorted by their whole path (torchvision lists a folder's
// files before its subfolders; the order differs only when a subfolder's
// name sorts between file names), extensions .jpg .jpeg .png .bmp .gif
// .ppm .pgm in any case (other files are ignored). Images are decoded in
// get(), so a loader's worker threads do the decoding; {.channels = 3} turns
// gray and RGBA files into RGB (PIL's convert("RGB")). A missing root, a root
// without class folders, or a class folder without images throws data_error;
// a corrupt image throws image_error naming the file when it is read.
//
// Symbolic links: links to files and to folders are followed, but each
// folder is walked at most once per dataset, and a class folder only as its
// own class: a link to a folder already walked (a link back to a parent, a
// second link to one folder) or to another class folder is skipped, so a
// loop adds nothing and no image gets two labels (torchvision's
// os.walk(followlinks=True) would recurse until the path is too long).
// Which of two paths to one folder is kept does not depend on the file
// system: classes and entries are walked in sorted order and the first path
// seen wins. Broken links, links to themselves and entries or subfolders
// that cannot be read are skipped too.
// skipped() counts what was left out and names the first, so a program can
// say why it found fewer images than expected:
//
//   const auto& s = ds.skipped();
//   if (s.total()) std::printf("skipped %zu entries, first: %s\n", s.total(), s.first.c_str());
#pragma once

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "typenet/config.hpp"
#include "typenet/data/example.hpp"
#include "typenet/image/image.hpp"

namespace typenet::data {

/// What a folder walk left out, and why (see the top of this file).
struct skipped_entries {
  std::size_t broken_links = 0;      ///< links to nothing, or to themselves
  std::size_t repeated_folders = 0;  ///< links to a folder already walked: loops, second paths
  std::size_t unreadable = 0;        ///< subfolders or entries that could not be read
  std::size_t not_images = 0;        ///< other files (not an image extension); not in total()
  std::string first;                 ///< "path: reason" of the first skipped entry, or ""

  /// Entries left out for a problem: broken links, repeated folders, unreadable ones.
  std::size_t total() const noexcept { return broken_links + repeated_folders + unreadable; }
};

namespace detail {

TYPENET_VISION_DECL bool is_image_file(const std::filesystem::path& p);

TYPENET_VISION_DECL void require_directory(const std::filesystem::path& root, const char* what);

/// Image files below `dir`, recursively, sorted by path; what was left out
/// is added to `skipped`. `walked` holds the canonical paths of the folders
/// not to enter (those walked already, other class folders); `dir` is walked
/// whether or not it is in it, and every folder walked is added. Throws
/// data_error when `dir` itself cannot be listed.
TYPENET_VISION_DECL std::vector<std::filesystem::path> image_files_below(
    const std::filesystem::path& dir, skipped_entries& skipped,
    std::set<std::filesystem::path>& walked);

}  // namespace detail

class ImageFolder {
 public:
  explicit ImageFolder(const std::filesystem::path& root, read_options options = {.channels = 3});

  std::size_t size() const noexcept { return samples_.size(); }
  const std::vector<std::string>& classes() const noexcept { return classes_; }
  /// What the walks of the class folders left out (broken links, loops, unreadable entries).
  const skipped_entries& skipped() const noexcept { return skipped_; }
  const std::filesystem::path& path(std::size_t i) const {
    detail::check_index(i, size(), "ImageFolder");
    return samples_[i].first;
  }
  int label(std::size_t i) const {
    detail::check_index(i, size(), "ImageFolder");
    return samples_[i].second;
  }

  example get(std::size_t i) const {
    example ex;
    ex.image = read_image(path(i), options_);
    ex.label = samples_[i].second;
    return ex;
  }

 private:
  read_options options_;
  std::vector<std::string> classes_;
  std::vector<std::pair<std::filesystem::path, int>> samples_;
  skipped_entries skipped_;
};

/// Every image file below a folder, without labels (label -1).
class UnlabeledImageFolder {
 public:
  explicit UnlabeledImageFolder(const std::filesystem::path& root,
                                read_options options = {.channels = 3});

  std::size_t size() const noexcept { return files_.size(); }
  /// What the walk left out (broken links, loops, unreadable entries).
  const skipped_entries& skipped() const noexcept { return skipped_; }
  const std::filesystem::path& path(std::size_t i) const {
    detail::check_index(i, size(), "UnlabeledImageFolder");
    return files_[i];
  }
  example get(std::size_t i) const {
    example ex;
    ex.image = read_image(path(i), options_);
    return ex;
  }

 private:
  read_options options_;
  std::vector<std::filesystem::path> files_;
  skipped_entries skipped_;
};

}  // namespace typenet::data

#if !defined(TYPENET_COMPILED_VISION)
#include "typenet/data/impl/image_folder.ipp"
#endif
