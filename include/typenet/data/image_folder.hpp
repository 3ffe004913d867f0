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
#include <cctype>
#include <cstddef>
#include <filesystem>
#include <set>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

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

inline bool is_image_file(const std::filesystem::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const char* known : {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".ppm", ".pgm"})
    if (ext == known) return true;
  return false;
}

inline void require_directory(const std::filesystem::path& root, const char* what) {
  std::error_code ec;
  if (!std::filesystem::is_directory(root, ec))
    throw data_error(root.string() + ": " + what + " root is not a directory" +
                     (std::filesystem::exists(root, ec) ? "" : " (it does not exist)"));
}

/// Image files below `dir`, recursively, sorted by path; what was left out
/// is added to `skipped`. `walked` holds the canonical paths of the folders
/// not to enter (those walked already, other class folders); `dir` is walked
/// whether or not it is in it, and every folder walked is added. Throws
/// data_error when `dir` itself cannot be listed.
inline std::vector<std::filesystem::path> image_files_below(
    const std::filesystem::path& dir, skipped_entries& skipped,
    std::set<std::filesystem::path>& walked) {
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  std::error_code ec;
  walked.insert(fs::canonical(dir, ec));
  if (ec) throw data_error(dir.string() + ": cannot list: " + ec.message());
  const auto note = [&](std::size_t& count, const fs::path& p, const std::string& why) {
    ++count;
    if (skipped.first.empty()) skipped.first = p.string() + ": " + why;
  };
  std::vector<fs::path> pending{dir};  // depth first, in sorted order
  while (!pending.empty()) {
    const fs::path folder = std::move(pending.back());
    pending.pop_back();
    std::vector<fs::directory_entry> entries;
    fs::directory_iterator it(folder, ec);
    for (const fs::directory_iterator end; !ec && it != end; it.increment(ec))
      entries.push_back(*it);
    if (ec) {
      if (folder == dir) throw data_error(dir.string() + ": cannot list: " + ec.message());
      note(skipped.unreadable, folder, "cannot list: " + ec.message());
      if (entries.empty()) continue;  // else keep what was listed before the error
    }
    std::sort(entries.begin(), entries.end());
    std::vector<fs::path> subfolders;
    for (const auto& entry : entries) {
      const fs::path& p = entry.path();
      const fs::file_status status = fs::status(p, ec);  // follows links
      if (ec || !fs::exists(status)) {
        std::error_code link_ec;
        if (fs::is_symlink(fs::symlink_status(p, link_ec)))
          note(skipped.broken_links, p, "broken symbolic link (" + ec.message() + ")");
        else
          note(skipped.unreadable, p, "cannot read: " + ec.message());
        continue;
      }
      if (fs::is_directory(status)) {
        const fs::path target = fs::canonical(p, ec);
        if (ec) {
          note(skipped.unreadable, p, "cannot resolve: " + ec.message());
        } else if (!walked.insert(target).second) {
          note(skipped.repeated_folders, p,
               "folder " + target.string() +
                   " is walked already (a symbolic link loop, a second path to it, or a class "
                   "folder)");
        } else {
          subfolders.push_back(p);
        }
      } else if (fs::is_regular_file(status) && is_image_file(p)) {
        files.push_back(p);
      } else {
        ++skipped.not_images;
      }
    }
    pending.insert(pending.end(), subfolders.rbegin(), subfolders.rend());
  }
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
    for (const auto& entry : std::filesystem::directory_iterator(root, ec)) {
      std::error_code entry_ec;  // a broken link is no class, and no reason to stop
      if (entry.is_directory(entry_ec)) classes_.push_back(entry.path().filename().string());
    }
    if (ec) throw data_error(root.string() + ": cannot list: " + ec.message());
    if (classes_.empty())
      throw data_error(root.string() +
                       ": no class folders (ImageFolder expects root/<class>/<image files>)");
    std::sort(classes_.begin(), classes_.end());
    std::set<std::filesystem::path> walked;  // every class folder is walked as its own class only
    for (const auto& c : classes_) walked.insert(std::filesystem::canonical(root / c, ec));
    for (std::size_t c = 0; c < classes_.size(); ++c) {
      const auto files = detail::image_files_below(root / classes_[c], skipped_, walked);
      if (files.empty())
        throw data_error((root / classes_[c]).string() +
                         ": class folder without image files (.jpg .jpeg .png .bmp .gif "
                         ".ppm .pgm)");
      for (const auto& f : files) samples_.emplace_back(f, static_cast<int>(c));
    }
  }

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
                                read_options options = {.channels = 3})
      : options_(options) {
    detail::require_directory(root, "UnlabeledImageFolder");
    std::set<std::filesystem::path> walked;
    files_ = detail::image_files_below(root, skipped_, walked);
    if (files_.empty())
      throw data_error(root.string() +
                       ": no image files (.jpg .jpeg .png .bmp .gif .ppm .pgm) below it" +
                       (skipped_.total() ? "; skipped " + std::to_string(skipped_.total()) +
                                               " entries, first " + skipped_.first
                                         : std::string()));
  }

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
