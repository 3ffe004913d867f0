// Images: decoding every format against PIL, PNG/JPEG round trips, refusal of
// bad, unsafe and hostile files (with bounded memory and time), colour spaces
// against skimage.color, resize and crops against torchvision, the
// colorization split, tensors, and the grid writer.
// Reference data: tools/make_image_fixtures.py --out $TYPENET_FIXTURES.
#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <set>
#include <span>
#include <string>
#include <vector>

#include <typenet/image/color.hpp>
#include <typenet/image/grid.hpp>
#include <typenet/image/image.hpp>
#include <typenet/image/transforms.hpp>

#include "fixtures.hpp"
#include "peak_memory.hpp"

namespace tn = typenet;
namespace fs = std::filesystem;
using typenet_test::FixtureTensor;
using typenet_test::Tolerance;

namespace {

std::string image_dir() {
  return typenet_test::fixture_directory() + "/image";
}

const typenet_test::Fixture& reference() {
  static const auto f = typenet_test::Fixture::read_file(image_dir() + "/reference.tnfx");
  return f;
}

/// An H x W x C fixture array as an image.
tn::image image_of(const FixtureTensor& t) {
  BOOST_REQUIRE_EQUAL(t.dims.size(), 3u);
  tn::image img(static_cast<int>(t.dims[1]), static_cast<int>(t.dims[0]),
                static_cast<int>(t.dims[2]));
  for (std::int64_t i = 0; i < img.size(); ++i) img.data()[i] = static_cast<float>(t.at(i));
  return img;
}

bool check_image(const std::string& what, const tn::image& got, const FixtureTensor& expected,
                 Tolerance tol) {
  const std::vector<std::int64_t> dims{got.height(), got.width(), got.channels()};
  if (dims != expected.dims) {
    BOOST_ERROR(what << ": typenet's image " << typenet_test::dims_string(dims)
                     << " (H, W, C) differs from the reference " << expected.describe());
    return false;
  }
  return typenet_test::check_close(what, got.data(), got.size(), expected, tol);
}

double mean_abs_diff(const tn::image& a, const tn::image& b) {
  double sum = 0;
  for (std::int64_t i = 0; i < a.size(); ++i) sum += std::abs(a.data()[i] - b.data()[i]);
  return sum / static_cast<double>(a.size());
}

/// A fresh directory under the system's temporary directory, removed at the end.
struct scratch {
  fs::path dir;
  scratch() {
    dir =
        fs::temp_directory_path() / ("typenet_image_" + std::to_string(std::random_device{}()) +
                                     "_" + std::to_string(reinterpret_cast<std::uintptr_t>(this)));
    fs::create_directories(dir);
  }
  ~scratch() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

tn::image photo() {
  return image_of(reference().at("photo"));
}

std::vector<std::uint8_t> file_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  BOOST_REQUIRE_MESSAGE(in, "cannot open " << path);
  return {std::istreambuf_iterator<char>(in), {}};
}

/// The message of the image_error that reading `path` throws, "" if none.
std::string message_of(const fs::path& path, const tn::read_options& options = {}) {
  try {
    tn::read_image(path, options);
  } catch (const tn::image_error& e) {
    return e.what();
  }
  return "";
}

// Exact: 8-bit values are k / 255 in float on both sides (1e-7 is float rounding).
constexpr Tolerance exact{0.0, 1e-7};
// LAB units: our double arithmetic rounded to float is within 128 * 2^-24 ~ 8e-6 of
// skimage's float64; 1e-4 leaves room and is 10x tighter than the 1e-3.
constexpr Tolerance lab_tolerance{0.0, 1e-4};
// RGB in [0, 1] from double arithmetic rounded to float.
constexpr Tolerance rgb_tolerance{0.0, 1e-6};
// Resize: torchvision computes in float32 (DESIGN.md §4b's forward tolerance).
constexpr Tolerance resize_tolerance{1e-4, 1e-5};

}  // namespace

BOOST_AUTO_TEST_SUITE(image)

// ---- reading and writing ---------------------------------------------------------------

BOOST_AUTO_TEST_CASE(lossless_formats_decode_like_pil) {
  int files = 0;
  for (const auto& file : reference().keys_with_prefix("decoded.")) {
    if (file.ends_with(".jpg")) continue;
    check_image(file, tn::read_image(image_dir() + "/" + file), reference().at("decoded." + file),
                exact);
    ++files;
  }
  // PNG: RGB, gray, RGBA, palette with and without tRNS, gray+alpha, 1-bit, gray and
  // RGB with tRNS, Adam7, 16-bit gray, RGB, interlaced RGBA; BMP x 4; GIF; PPM; PGM.
  BOOST_TEST(files >= 21);
}

BOOST_AUTO_TEST_CASE(jpegs_decode_like_pil) {
  // libjpeg-turbo decodes for both (same integer IDCT, same fancy upsampling).
  int files = 0;
  for (const auto& file : reference().keys_with_prefix("decoded.")) {
    if (!file.ends_with(".jpg")) continue;
    check_image(file, tn::read_image(image_dir() + "/" + file), reference().at("decoded." + file),
                exact);
    ++files;
  }
  BOOST_TEST(files == 5);  // baseline, progressive, gray, CMYK, stray bytes before a marker
}

BOOST_AUTO_TEST_CASE(channels_are_converted_on_request) {
  const auto rgb = tn::read_image(image_dir() + "/photo_gray.png", {.channels = 3});
  BOOST_TEST(rgb.channels() == 3);
  BOOST_TEST(rgb(5, 7, 0) == rgb(5, 7, 2));
  const auto gray = tn::read_image(image_dir() + "/photo.png", {.channels = 1});
  BOOST_TEST(gray.channels() == 1);
  const auto rgba = tn::read_image(image_dir() + "/photo.jpg", {.channels = 4});
  BOOST_TEST(rgba(3, 3, 3) == 1.0f);
  // stb_image's gray: (77 R + 150 G + 29 B) >> 8, on 8 and on 16 bits.
  const auto color = tn::read_image(image_dir() + "/photo.png");
  const auto stb_gray = [](float r, float g, float b, float full) {
    const auto level = [&](float v) { return static_cast<long>(std::lround(v * full)); };
    return static_cast<float>((77 * level(r) + 150 * level(g) + 29 * level(b)) >> 8) / full;
  };
  for (int y = 0; y < 48; y += 7)
    for (int x = 0; x < 64; x += 5)
      BOOST_TEST(gray(y, x) == stb_gray(color(y, x, 0), color(y, x, 1), color(y, x, 2), 255.0f));
  const auto rgb16 = tn::read_image(image_dir() + "/photo_rgb16.png");
  const auto gray16 = tn::read_image(image_dir() + "/photo_rgb16.png", {.channels = 2});
  BOOST_TEST(gray16(4, 5, 0) == stb_gray(rgb16(4, 5, 0), rgb16(4, 5, 1), rgb16(4, 5, 2), 65535.0f));
  BOOST_TEST(gray16(4, 5, 1) == 1.0f);
  const auto la = tn::read_image(image_dir() + "/photo_rgba.png", {.channels = 2});
  const auto rgba_png = tn::read_image(image_dir() + "/photo_rgba.png");
  BOOST_TEST(la(9, 8, 1) == rgba_png(9, 8, 3));
  const auto gif_rgb = tn::read_image(image_dir() + "/photo.gif", {.channels = 3});
  BOOST_TEST(gif_rgb.channels() == 3);
  BOOST_CHECK_THROW(tn::read_image(image_dir() + "/photo.png", {.channels = 5}), tn::usage_error);
}

BOOST_AUTO_TEST_CASE(png_round_trip_is_exact) {
  scratch s;
  const auto original = photo();
  tn::write_png(original, s.dir / "p.png");
  BOOST_TEST((tn::read_image(s.dir / "p.png") == original));
  // Every channel count, through memory.
  for (int c = 1; c <= 4; ++c) {
    tn::image img(5, 3, c);
    for (std::int64_t i = 0; i < img.size(); ++i)
      img.data()[i] = static_cast<float>(i * 37 % 256) / 255.0f;
    const auto back = tn::decode_image(tn::encode_png(img));
    BOOST_TEST((back == img), "PNG round trip of " << c << " channels");
  }
  // Out-of-range values are clamped, NaN becomes 0.
  tn::image odd(3, 1, 1);
  odd(0, 0) = -0.5f;
  odd(0, 1) = 2.0f;
  odd(0, 2) = std::nanf("");
  const auto clamped = tn::decode_image(tn::encode_png(odd));
  BOOST_TEST(clamped(0, 0) == 0.0f);
  BOOST_TEST(clamped(0, 1) == 1.0f);
  BOOST_TEST(clamped(0, 2) == 0.0f);
}

BOOST_AUTO_TEST_CASE(jpeg_round_trip_keeps_size_and_looks) {
  scratch s;
  const auto original = photo();
  tn::write_jpeg(original, s.dir / "p.jpg", 95);
  const auto back = tn::read_image(s.dir / "p.jpg");
  BOOST_TEST(tn::describe(back) == "64x48x3");
  BOOST_TEST(mean_abs_diff(back, original) < 0.02);
  tn::write_image(original, s.dir / "q.JPEG");
  BOOST_TEST(tn::read_image(s.dir / "q.JPEG").width() == 64);
  tn::write_image(tn::rgb_to_gray(original), s.dir / "g.png");
  BOOST_TEST(tn::read_image(s.dir / "g.png").channels() == 1);
  BOOST_CHECK_THROW(tn::write_image(original, s.dir / "p.webp"), tn::usage_error);
  BOOST_CHECK_THROW(tn::encode_jpeg(original, 0), tn::usage_error);
  BOOST_CHECK_THROW(tn::encode_png(tn::image{}), tn::usage_error);
}

BOOST_AUTO_TEST_CASE(bad_files_throw_with_the_reason) {
  int files = 0;
  for (const auto& entry : fs::directory_iterator(image_dir() + "/bad")) {
    ++files;
    const auto path = entry.path();
    const auto what = message_of(path);
    BOOST_TEST_INFO(path.filename().string() << ": " << what);
    BOOST_TEST(!what.empty(), path << " was decoded, not refused");
    BOOST_TEST(what.find(path.string()) != std::string::npos);
    const bool says_why = what.find("libjpeg: ") != std::string::npos ||
                          what.find("libpng: ") != std::string::npos ||
                          what.find("giflib: ") != std::string::npos ||
                          what.find("stb_image: ") != std::string::npos ||
                          what.find("truncated") != std::string::npos ||
                          what.find("unrecognized format") != std::string::npos ||
                          what.find("empty file") != std::string::npos;
    BOOST_TEST(says_why);
    if (path.filename().string().find("_cut") != std::string::npos && path.extension() != ".png" &&
        path.extension() != ".jpg")
      BOOST_TEST(what.find("truncated") != std::string::npos);
  }
  BOOST_TEST(files >= 17);

  const auto missing = message_of(image_dir() + "/no_such_image.png");
  BOOST_TEST(missing.find("no_such_image.png") != std::string::npos);
  BOOST_TEST(missing.find("no such file") != std::string::npos);
  // A directory is not an image either.
  BOOST_CHECK_THROW(tn::read_image(image_dir()), tn::image_error);
  // image_error is a format_error and a typenet::error.
  BOOST_CHECK_THROW(tn::read_image(image_dir() + "/bad/empty.png"), tn::format_error);
  // Refused before decoding when too large, in every decoder, saying how to read it.
  for (const std::string name : {"photo.png", "photo.jpg", "photo.gif", "photo.bmp", "photo.ppm"}) {
    const auto too_large = message_of(image_dir() + "/" + name, {.max_pixels = 100});
    BOOST_TEST_INFO(too_large);
    BOOST_TEST(too_large.find(name) != std::string::npos);
    BOOST_TEST(too_large.find("64x48 = 3072 pixels") != std::string::npos);
    BOOST_TEST(too_large.find("read_options::max_pixels = 100;") != std::string::npos);
  }
  BOOST_TEST(tn::read_options{}.max_pixels == 89'478'485);  // Pillow's MAX_IMAGE_PIXELS
  BOOST_CHECK_THROW(tn::write_png(photo(), image_dir() + "/no_dir/x.png"), tn::image_error);
}

BOOST_AUTO_TEST_CASE(every_prefix_of_a_file_is_refused_or_decoded_whole) {
  // No crash, no silent garbage: each truncation of each format throws.
  for (const std::string name :
       {"photo.png", "photo16.png", "photo_interlaced.png", "photo_rgba16_interlaced.png",
        "photo_palette_trns.png", "photo.jpg", "photo_progressive.jpg", "photo_cmyk.jpg",
        "photo.bmp", "photo_gray.bmp", "photo.gif", "photo.ppm", "photo.pgm"}) {
    const auto bytes = file_bytes(image_dir() + "/" + name);
    int accepted = 0;
    for (std::size_t n = 0; n + 30 < bytes.size(); n += 13) {
      try {
        tn::decode_image(std::span(bytes.data(), n), {}, name);
        ++accepted;
      } catch (const tn::image_error&) {
      }
    }
    BOOST_TEST(accepted == 0, name << ": " << accepted << " truncated copies decoded");
  }
}

BOOST_AUTO_TEST_CASE(unsafe_formats_are_refused_with_the_reason) {
  // TGA, PSD, HDR, PIC: stb_image is the only decoder at hand, and it is not
  // safe on hostile files (docs/images.md).
  int files = 0;
  for (const auto& entry : fs::directory_iterator(image_dir() + "/refused")) {
    ++files;
    const auto path = entry.path();
    std::string format = path.extension().string().substr(1);
    std::transform(format.begin(), format.end(), format.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
    const auto what = message_of(path);
    BOOST_TEST_INFO(what);
    BOOST_TEST(what.find(path.string() + " (" + format + ", ") == 0);
    BOOST_TEST(what.find(format + " is not decoded") != std::string::npos);
    BOOST_TEST(what.find("stb_image, is not safe on untrusted input") != std::string::npos);
    BOOST_TEST(what.find("convert the file to PNG") != std::string::npos);
  }
  BOOST_TEST(files == 7);
}

BOOST_AUTO_TEST_CASE(hostile_files_fail_fast_in_little_memory) {
  // Each of these once cost stb_image gigabytes, seconds or an out-of-bounds
  // write. Now each fails with its reason, adding well under 256 MB to the
  // peak resident size and taking well under 10 s (even under ASan), also with
  // max_pixels raised so that the decoder itself must notice the missing data.
  constexpr long limit_kb = 256 * 1024;
  const std::int64_t raised = std::int64_t{1} << 29;
  struct hostile {
    std::string file;
    tn::read_options options;
    std::vector<std::string> says;
  };
  const std::vector<hostile> cases{
      {"jpeg_16384x16384.jpg",
       {},
       {"(JPEG, 661 bytes): ", "16384x16384 = 268435456 pixels",
        "read_options::max_pixels = 89478485; raise read_options::max_pixels"}},
      {"jpeg_16384x16384.jpg",
       {.channels = 3, .max_pixels = raised},
       {"libjpeg: ", "remature end"}},
      {"jpeg_dht_300_codes.jpg", {}, {"libjpeg: Bogus Huffman table definition"}},
      {"png_100000x100000.png", {}, {"100000x100000 = 10000000000 pixels", "max_pixels"}},
      {"png_16384x16384.png", {.channels = 3, .max_pixels = raised}, {"libpng: "}},
      {"gif_65535x65535.gif", {}, {"65535x65535 = 4294836225 pixels", "max_pixels"}},
      {"gif_16384x16384.gif", {.max_pixels = raised}, {"giflib: "}},
      {"tga_65535x65535_rle.tga", {}, {"TGA is not decoded", "not safe on untrusted input"}},
      {"bmp_9000x9000_no_pixels.bmp", {}, {"truncated image: a BMP of 9000x9000 needs 324000054"}},
      // Found by fuzz/fuzz_image.cpp (signed overflow in stb_image's PNM header parser).
      {"pnm_long_number.pgm", {}, {"(PNM, 108 bytes): PNM: the header's width is too large"}},
  };
  for (const auto& c : cases) {
    const auto path = image_dir() + "/hostile/" + c.file;
    const auto bytes = file_bytes(path);
    std::string what;
    const auto start = std::chrono::steady_clock::now();
    const auto run = typenet_test::peak_growth([&] {
      try {
        tn::decode_image(bytes, c.options, path);
      } catch (const tn::image_error& e) {
        what = e.what();
      }
    });
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    BOOST_TEST(!run.error, c.file << ": not an image_error: " << typenet_test::error_message(run));
    const long added_kb = static_cast<long>(run.bytes / 1024);
    BOOST_TEST_MESSAGE(c.file << " (max_pixels " << c.options.max_pixels << "): +"
                              << added_kb / 1024 << " MB peak, " << seconds << " s: " << what);
    BOOST_TEST_CONTEXT(c.file << " (max_pixels " << c.options.max_pixels << "): " << what) {
      BOOST_TEST(what.find(path) == 0);
      for (const auto& part : c.says) BOOST_TEST(what.find(part) != std::string::npos, part);
      BOOST_TEST(added_kb < limit_kb, "peak memory grew by " << added_kb / 1024 << " MB");
      BOOST_TEST(seconds < 10.0);
    }
  }
}

// ---- colour ----------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(lab_matches_skimage) {
  check_image("rgb2lab(photo)", tn::rgb_to_lab(photo()), reference().at("lab.photo"),
              lab_tolerance);
  const auto colors = image_of(reference().at("colors"));
  check_image("rgb2lab(colors)", tn::rgb_to_lab(colors), reference().at("lab.colors"),
              lab_tolerance);
  // Including out-of-gamut LAB, which lab2rgb clips.
  check_image("lab2rgb(lab_grid)", tn::lab_to_rgb(image_of(reference().at("lab_grid"))),
              reference().at("rgb.lab_grid"), rgb_tolerance);
}

BOOST_AUTO_TEST_CASE(rgb_lab_rgb_round_trip) {
  const auto colors = image_of(reference().at("colors"));
  const auto back = tn::lab_to_rgb(tn::rgb_to_lab(colors));
  double worst = 0;
  for (std::int64_t i = 0; i < colors.size(); ++i)
    worst = std::max(worst, static_cast<double>(std::abs(back.data()[i] - colors.data()[i])));
  BOOST_TEST(worst < 1e-5, "worst |rgb - lab2rgb(rgb2lab(rgb))| = " << worst);
  const auto p = photo();
  BOOST_TEST(mean_abs_diff(tn::lab_to_rgb(tn::rgb_to_lab(p)), p) < 1e-6);
}

BOOST_AUTO_TEST_CASE(gray_matches_skimage) {
  check_image("rgb2gray(photo)", tn::rgb_to_gray(photo()), reference().at("gray.photo"),
              rgb_tolerance);
  const auto rec601 = tn::rgb_to_gray(photo(), tn::gray_weights::rec601);
  const auto p = photo();
  BOOST_TEST(std::abs(rec601(4, 9) -
                      (0.299f * p(4, 9, 0) + 0.587f * p(4, 9, 1) + 0.114f * p(4, 9, 2))) < 1e-6);
  const auto rgb = tn::gray_to_rgb(tn::rgb_to_gray(p));
  BOOST_TEST(rgb(2, 3, 0) == rgb(2, 3, 2));
  BOOST_CHECK_THROW(tn::rgb_to_lab(tn::image(2, 2, 4)), tn::shape_error);
  BOOST_CHECK_THROW(tn::gray_to_rgb(p), tn::shape_error);
}

BOOST_AUTO_TEST_CASE(colorization_split_and_merge) {
  const auto p = photo();
  const auto lab = tn::rgb_to_lab(p);
  for (auto scaling : {tn::lab_scaling::raw, tn::lab_scaling::centered, tn::lab_scaling::unit}) {
    const auto [input, target] = tn::colorization_split(p, scaling);
    BOOST_TEST(input.channels() == 1);
    BOOST_TEST(target.channels() == 2);
    BOOST_TEST(mean_abs_diff(tn::colorization_merge(input, target, scaling), p) < 1e-6);
  }
  const auto raw = tn::colorization_split(p, tn::lab_scaling::raw);
  const auto centered = tn::colorization_split(p, tn::lab_scaling::centered);
  const auto unit = tn::colorization_split(p, tn::lab_scaling::unit);
  BOOST_TEST(raw.input(7, 8) == lab(7, 8, 0));
  BOOST_TEST(raw.target(7, 8, 1) == lab(7, 8, 2));
  BOOST_TEST(std::abs(centered.input(7, 8) - lab(7, 8, 0) / 100) < 1e-6);
  BOOST_TEST(std::abs(centered.target(7, 8, 0) - lab(7, 8, 1) / 128) < 1e-6);
  BOOST_TEST(std::abs(unit.target(7, 8, 1) - (lab(7, 8, 2) + 128) / 255) < 1e-6);
  // A prediction of zero ab (unit: 128 / 255) is the gray of the same lightness.
  tn::image flat(p.width(), p.height(), 2, 0.0f);
  const auto gray = tn::colorization_merge(centered.input, flat, tn::lab_scaling::centered);
  BOOST_TEST(std::abs(gray(3, 3, 0) - gray(3, 3, 1)) < 1e-4);
  BOOST_TEST(std::abs(gray(3, 3, 2) - gray(3, 3, 1)) < 1e-4);
  // Wild predictions still give displayable RGB.
  tn::image wild(p.width(), p.height(), 2, 5.0f);
  const auto clipped = tn::colorization_merge(centered.input, wild, tn::lab_scaling::centered);
  BOOST_TEST(*std::min_element(clipped.data(), clipped.data() + clipped.size()) >= 0.0f);
  BOOST_TEST(*std::max_element(clipped.data(), clipped.data() + clipped.size()) <= 1.0f);
  BOOST_CHECK_THROW(tn::colorization_merge(centered.target, flat, tn::lab_scaling::centered),
                    tn::shape_error);
}

// ---- transforms ------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(resize_matches_torchvision_and_exact_area) {
  const auto p = photo();
  for (auto [w, h] : {std::pair{32, 24}, {21, 17}, {100, 75}, {97, 131}, {16, 60}}) {
    const auto size = std::to_string(w) + "x" + std::to_string(h);
    check_image("bilinear " + size, tn::resize(p, w, h, tn::interpolation::bilinear),
                reference().at("resize.bilinear." + size), resize_tolerance);
    check_image("area " + size, tn::resize(p, w, h, tn::interpolation::area),
                reference().at("resize.area." + size), resize_tolerance);
    check_image("nearest " + size, tn::resize(p, w, h, tn::interpolation::nearest),
                reference().at("resize.nearest." + size), exact);
  }
  BOOST_TEST((tn::resize(p, 64, 48) == p));
  const auto shorter = tn::resize_shorter(p, 24);
  BOOST_TEST(tn::describe(shorter) == "32x24x3");
  BOOST_CHECK_THROW(tn::resize(p, 0, 5), tn::shape_error);
}

BOOST_AUTO_TEST_CASE(pad_matches_numpy_and_tensors_take_any_size) {
  tn::image row(3, 1, 1);
  for (int x = 0; x < 3; ++x) row(0, x, 0) = static_cast<float>(x + 1);
  const auto values = [](const tn::image& img) {
    std::vector<float> v;
    for (int x = 0; x < img.width(); ++x) v.push_back(img(0, x, 0));
    return v;
  };
  // np.pad([1, 2, 3], (5, 2), "reflect"): borders wider than the image mirror again.
  const std::vector<float> reflect{2, 1, 2, 3, 2, 1, 2, 3, 2, 1};
  BOOST_TEST(values(tn::pad(row, 0, 5, 0, 2)) == reflect, boost::test_tools::per_element());
  // np.pad([1, 2, 3], (2, 4), "edge")
  const std::vector<float> edge{1, 1, 1, 2, 3, 3, 3, 3, 3};
  BOOST_TEST(values(tn::pad(row, 0, 2, 0, 4, tn::padding_mode::replicate)) == edge,
             boost::test_tools::per_element());
  const std::vector<float> zeros{0, 1, 2, 3, 0};
  BOOST_TEST(values(tn::pad(row, 0, 1, 0, 1, tn::padding_mode::zeros)) == zeros,
             boost::test_tools::per_element());
  BOOST_CHECK_THROW(tn::pad(row, -1, 0, 0, 0), tn::shape_error);
  BOOST_CHECK_THROW(tn::pad_to_multiple(row, 0), tn::shape_error);

  // A 13x9 photo padded to multiples of 8 becomes 16x16 and keeps its pixels.
  tn::image photo(13, 9, 3);
  for (int y = 0; y < 9; ++y)
    for (int x = 0; x < 13; ++x)
      for (int c = 0; c < 3; ++c) photo(y, x, c) = static_cast<float>(y * 100 + x * 3 + c);
  const auto padded = tn::pad_to_multiple(photo, 8);
  BOOST_TEST(padded.width() == 16);
  BOOST_TEST(padded.height() == 16);
  BOOST_TEST(padded(8, 12, 1) == photo(8, 12, 1));
  BOOST_TEST(padded(9, 13, 2) == photo(7, 11, 2));  // reflected about the last row and column

  // A dynamic tensor of the photo's own size, and back.
  const auto t = tn::to_tensor<3>(photo);
  BOOST_TEST(t.batch() == 1);
  BOOST_TEST(t.extent(1) == 9);
  BOOST_TEST(t.extent(2) == 13);
  BOOST_TEST(t(0, 2, 4, 5) == photo(4, 5, 2));
  const auto back = tn::from_tensor(t, 0);
  BOOST_TEST(std::equal(back.values().begin(), back.values().end(), photo.values().begin()));
  tn::Tensor<tn::Shape<3, tn::dyn, tn::dyn>> wrong(1, {3, 9, 12});
  BOOST_CHECK_THROW(tn::to_tensor(photo, wrong, 0), tn::shape_error);
  auto normalized = t;
  tn::normalize_imagenet(normalized);
  BOOST_TEST(std::abs(normalized(0, 1, 8, 12) - (photo(8, 12, 1) - 0.456f) / 0.224f) < 1e-3f);
}

BOOST_AUTO_TEST_CASE(center_crop_matches_torchvision) {
  const auto p = photo();
  for (auto [w, h] : {std::pair{32, 24}, {33, 23}, {31, 25}, {63, 47}, {70, 50}}) {
    const auto size = std::to_string(w) + "x" + std::to_string(h);
    check_image("center_crop " + size, tn::center_crop(p, w, h),
                reference().at("center_crop." + size), exact);
  }
}

BOOST_AUTO_TEST_CASE(random_crop_is_uniform_and_reproducible) {
  const auto p = photo();
  BOOST_TEST((tn::random_crop(p, 20, 10, 42) == tn::random_crop(p, 20, 10, 42)));
  std::mt19937_64 rng(7);
  std::set<std::pair<int, int>> seen;
  for (int i = 0; i < 2000; ++i) {
    const auto box = tn::random_crop_box(p.width(), p.height(), 60, 45, rng);
    BOOST_REQUIRE(box.left >= 0 && box.left <= 4 && box.top >= 0 && box.top <= 3);
    seen.insert({box.left, box.top});
  }
  BOOST_TEST(seen.size() == 20u);  // all 5 x 4 positions
  std::mt19937_64 a(3), b(3);
  const auto box = tn::random_crop_box(p.width(), p.height(), 20, 10, a);
  BOOST_TEST((tn::crop(p, box) == tn::random_crop(p, 20, 10, b)));
  BOOST_TEST(tn::crop(p, box)(0, 0, 1) == p(box.top, box.left, 1));
  BOOST_CHECK_THROW(tn::random_crop(p, 65, 10, 1), tn::shape_error);
}

BOOST_AUTO_TEST_CASE(flip_and_normalize) {
  const auto p = photo();
  const auto f = tn::horizontal_flip(p);
  BOOST_TEST(f(3, 0, 2) == p(3, 63, 2));
  BOOST_TEST((tn::horizontal_flip(f) == p));
  std::mt19937_64 rng(1);
  int flips = 0;
  for (int i = 0; i < 1000; ++i) {
    auto q = p;
    flips += tn::random_horizontal_flip(q, rng) ? 1 : 0;
  }
  BOOST_TEST((flips > 430 && flips < 570));

  auto n = p;
  tn::normalize_imagenet(n);
  BOOST_TEST(std::abs(n(1, 2, 1) - (p(1, 2, 1) - 0.456f) / 0.224f) < 1e-6);
  tn::denormalize(n, tn::imagenet_mean, tn::imagenet_std);
  BOOST_TEST(mean_abs_diff(n, p) < 1e-6);
  auto gray = tn::rgb_to_gray(p);
  BOOST_CHECK_THROW(tn::normalize_imagenet(gray), tn::shape_error);
}

BOOST_AUTO_TEST_CASE(tensor_round_trip) {
  const auto p = photo();
  tn::Tensor<tn::Shape<3, 48, 64>> t(3);
  t.fill(-1.0f);
  tn::to_tensor(p, t, 1);
  BOOST_TEST(t(1, 2, 5, 7) == p(5, 7, 2));
  BOOST_TEST(t(0, 0, 0, 0) == -1.0f);
  BOOST_TEST((tn::from_tensor(t, 1) == p));
  BOOST_CHECK_THROW(tn::to_tensor(p, t, 3), tn::shape_error);
  tn::Tensor<tn::Shape<3, 64, 48>> transposed(1);
  BOOST_CHECK_THROW(tn::to_tensor(p, transposed, 0), tn::shape_error);
  // The colorization pair goes into the network's input and target tensors.
  const auto pair = tn::colorization_split(p, tn::lab_scaling::centered);
  tn::Tensor<tn::Shape<1, 48, 64>> x(1);
  tn::Tensor<tn::Shape<2, 48, 64>> y(1);
  tn::to_tensor(pair.input, x, 0);
  tn::to_tensor(pair.target, y, 0);
  const auto merged = tn::colorization_merge(tn::from_tensor(x, 0), tn::from_tensor(y, 0),
                                             tn::lab_scaling::centered);
  BOOST_TEST(mean_abs_diff(merged, p) < 1e-6);
}

// ---- grid ------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(grid_png_has_the_expected_size) {
  scratch s;
  const auto p = photo();
  const auto gray = tn::rgb_to_gray(p);
  const auto small = tn::resize(p, 32, 24);
  tn::write_grid(s.dir / "grid.png", {{p, gray, small}, {small, p}});
  const auto grid = tn::read_image(s.dir / "grid.png");
  // Row height 48: 64 + 4 + 64 + 4 + 64 wide; two rows and one gap high.
  BOOST_TEST(tn::describe(grid) == "200x100x3");
  BOOST_TEST(grid(10, 65, 0) == 1.0f);             // the gap is white
  BOOST_TEST(grid(10, 70, 0) == grid(10, 70, 2));  // the gray image is gray
  BOOST_TEST(grid(60, 199, 1) == 1.0f);            // the shorter second row is padded
  BOOST_TEST(std::abs(grid(3, 5, 1) - p(3, 5, 1)) < 1.0f / 255);
  const auto tall = tn::make_grid({{p, small}}, {.height = 96, .gap = 0});
  BOOST_TEST(tn::describe(tall) == "256x96x3");
  BOOST_CHECK_THROW(tn::make_grid({{tn::image(4, 4, 2)}}), tn::shape_error);
  BOOST_CHECK_THROW(tn::make_grid({}), tn::usage_error);
}

BOOST_AUTO_TEST_SUITE_END()
