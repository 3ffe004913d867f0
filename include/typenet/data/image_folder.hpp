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
// name sorts between file names), extensions .jpg .jpeg .png .bmp .tga .gif
// .ppm .pgm in any case (other files are ignored). Images are decoded in
// get(), so a loader's worker threads do the decoding; {.channels = 3} turns
// gray and RGBA files into RGB (PIL's convert("RGB")). A missing root, a root
// without class folders, or a class folder without images throws data_error;
// a corrupt image throws image_error naming the file when it is read.
#pragma once

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "typenet/data/example.hpp"
#include "typenet/image/image.hpp"

namespace typenet::data {

namespace detail {

inline bool is_image_file(const std::filesystem::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const char* known : {".jpg", ".jpeg", ".png", ".bmp", ".tga", ".gif", ".ppm", ".pgm"})
    if (ext == known) return true;
  return false;
}

inline void require_directory(const std::filesystem::path& root, const char* what) {
  std::error_code ec;
  if (!std::filesystem::is_directory(root, ec))
    throw data_error(root.string() + ": " + what + " root is not a directory" +
                     (std::filesystem::exists(root, ec) ? "" : " (it does not exist)"));
}

/// Image files below `dir`, recursively, sorted by path.
inline std::vector<std::filesystem::path> image_files_below(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (std::filesystem::recursive_directory_iterator
           it(dir, std::filesystem::directory_options::follow_directory_symlink, ec),
       end;
       it != end; it.increment(ec)) {
    if (ec) break;
    if (it->is_regular_file(ec) && is_image_file(it->path())) files.push_back(it->path());
  }
  if (ec) throw data_error(dir.string() + ": cannot list: " + ec.message());
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace detail

class ImageFolder {
 public:
  explicit ImageFolder(const std::filesystem::path& root, read_options options = {.channels = 3})
      : options_(options) {
    detail::require_directory(root, "ImageFolder");
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(root, ec))
      if (entry.is_directory(ec)) classes_.push_back(entry.path().filename().string());
    if (ec) throw data_error(root.string() + ": cannot list: " + ec.message());
    if (classes_.empty())
      throw data_error(root.string() +
                       ": no class folders (ImageFolder expects root/<class>/<image files>)");
    std::sort(classes_.begin(), classes_.end());
    for (std::size_t c = 0; c < classes_.size(); ++c) {
      const auto files = detail::image_files_below(root / classes_[c]);
      if (files.empty())
        throw data_error((root / classes_[c]).string() +
                         ": class folder without image files (.jpg .jpeg .png .bmp .tga .gif "
                         ".ppm .pgm)");
      for (const auto& f : files) samples_.emplace_back(f, static_cast<int>(c));
    }
  }

  std::size_t size() const noexcept { return samples_.size(); }
  const std::vector<std::string>& classes() const noexcept { return classes_; }
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
};

/// Every image file below a folder, without labels (label -1).
class UnlabeledImageFolder {
 public:
  explicit UnlabeledImageFolder(const std::filesystem::path& root,
                                read_options options = {.channels = 3})
      : options_(options),
        files_((detail::require_directory(root, "UnlabeledImageFolder"),
                detail::image_files_below(root))) {
    if (files_.empty())
      throw data_error(root.string() +
                       ": no image files (.jpg .jpeg .png .bmp .tga .gif .ppm .pgm) below it");
  }

  std::size_t size() const noexcept { return files_.size(); }
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
};

}  // namespace typenet::data
