// typenet/data/impl/image_folder.ipp — the definitions of data/image_folder.hpp that are not
// templates: included by that header in the header-only default, compiled
// once into typenet::vision_compiled (src/vision.cpp) under
// TYPENET_COMPILED_VISION.
#pragma once

#include <algorithm>
#include <cctype>
#include <set>
#include <system_error>

#include "typenet/data/image_folder.hpp"

namespace typenet::data {

namespace detail {

TYPENET_VISION_DECL bool is_image_file(const std::filesystem::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const char* known : {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".ppm", ".pgm"})
    if (ext == known) return true;
  return false;
}

}  // namespace detail

namespace detail {

TYPENET_VISION_DECL void require_directory(const std::filesystem::path& root, const char* what) {
  std::error_code ec;
  if (!std::filesystem::is_directory(root, ec))
    throw data_error(root.string() + ": " + what + " root is not a directory" +
                     (std::filesystem::exists(root, ec) ? "" : " (it does not exist)"));
}

}  // namespace detail

namespace detail {

TYPENET_VISION_DECL std::vector<std::filesystem::path> image_files_below(
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
TYPENET_VISION_DECL ImageFolder::ImageFolder(const std::filesystem::path& root,
                                             read_options options)
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

TYPENET_VISION_DECL UnlabeledImageFolder::UnlabeledImageFolder(const std::filesystem::path& root,
                                                               read_options options)
    : options_(options) {
  detail::require_directory(root, "UnlabeledImageFolder");
  std::set<std::filesystem::path> walked;
  files_ = detail::image_files_below(root, skipped_, walked);
  if (files_.empty())
    throw data_error(
        root.string() + ": no image files (.jpg .jpeg .png .bmp .gif .ppm .pgm) below it" +
        (skipped_.total()
             ? "; skipped " + std::to_string(skipped_.total()) + " entries, first " + skipped_.first
             : std::string()));
}

}  // namespace typenet::data
