// The float kernels compiled for this machine's widest instruction set
// (-march=native, as the examples and benchmarks are): typenet's packed GEMM
// against a double-precision reference, and the packed convolution paths
// against the plain im2col + GEMM path run in double. typenet_tests is
// compiled for baseline x86-64 and covers the SSE2 variant of the same code.
#define BOOST_TEST_MODULE typenet_native_kernels
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "typenet/backend/cpu/convolution.hpp"
#include "typenet/backend/cpu/gemm.hpp"
#include "typenet/backend/cpu/pooling.hpp"

namespace tn = typenet;

namespace {

std::vector<float> random_floats(std::size_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

std::vector<double> widen(const std::vector<float>& v) {
  return {v.begin(), v.end()};
}

/// Largest |a - b| / (1 + |b|).
/// The largest relative error; NaN when any value is NaN (std::max would skip it).
double worst_error(const std::vector<float>& a, const std::vector<double>& b) {
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double error = std::abs(a[i] - b[i]) / (1.0 + std::abs(b[i]));
    if (!(error <= worst)) worst = error;
  }
  return worst;
}

}  // namespace

BOOST_AUTO_TEST_CASE(sgemm_matches_a_double_reference_for_every_transpose_and_edge) {
  std::mt19937 rng(11);
  const int sizes[] = {1, 3, 12, 13, 31, 33, 64, 97, 300};
  int cases = 0;
  for (int m : sizes)
    for (int n : sizes)
      for (int k : {1, 7, 255, 257, 600}) {
        if (std::int64_t{m} * n * k > 3'000'000) continue;
        for (int trans = 0; trans < 4; ++trans) {
          const bool ta = trans & 1, tb = trans & 2;
          const auto a = random_floats(std::size_t(m) * k, rng);
          const auto b = random_floats(std::size_t(k) * n, rng);
          auto c = random_floats(std::size_t(m) * n, rng);
          std::vector<double> expected = widen(c);
          const int lda = ta ? m : k, ldb = tb ? k : n;
          for (int i = 0; i < m; ++i)
            for (int j = 0; j < n; ++j) {
              double sum = 0;
              for (int p = 0; p < k; ++p)
                sum += double(ta ? a[p * lda + i] : a[i * lda + p]) *
                       (tb ? b[j * ldb + p] : b[p * ldb + j]);
              expected[i * n + j] += 0.75 * sum;
            }
          tn::cpu::gemm(ta, tb, m, n, k, 0.75f, a.data(), lda, b.data(), ldb, c.data(), n);
          const double error = worst_error(c, expected);
          BOOST_TEST_INFO("m " << m << " n " << n << " k " << k << " ta " << ta << " tb " << tb);
          BOOST_TEST(error < 2e-5 * std::sqrt(double(k)));
          ++cases;
        }
      }
  BOOST_TEST(cases > 400);
}

BOOST_AUTO_TEST_CASE(packed_convolution_matches_the_im2col_path) {
  struct shape {
    int in_c, out_c, size, kernel, stride, pad, dilation, groups;
  };
  const shape shapes[] = {
      {3, 8, 17, 3, 1, 1, 1, 1},
      {8, 16, 13, 3, 2, 1, 1, 1},
      {6, 4, 9, 5, 1, 2, 1, 1},
      {4, 6, 11, 3, 1, 2, 2, 2},
      {16, 8, 7, 1, 1, 0, 1, 1},
      {5, 7, 40, 7, 2, 3, 1, 1},
      {64, 64, 8, 3, 1, 1, 1, 1},
      {2, 3, 6, 4, 2, 1, 1, 1},
      {4, 4, 10, 3, 1, 0, 1, 4},
      // Stride 1 runs the direct convolution: partial channel tiles, grids
      // wider than a tile, LeNet's layers, a 1x1 kernel with padding, more
      // padding than the kernel reaches, and more channels than one block.
      {1, 6, 28, 5, 1, 2, 1, 1},
      {6, 16, 14, 5, 1, 0, 1, 1},
      {9, 25, 37, 3, 1, 1, 1, 1},
      {5, 7, 6, 1, 1, 1, 1, 1},
      {3, 13, 9, 3, 1, 3, 1, 1},
      {470, 13, 5, 3, 1, 1, 1, 1},
      {40, 2, 7, 3, 1, 1, 1, 1},
      {8, 8, 12, 7, 1, 3, 2, 2},
      // Planes this large make the weight gradient take one sample at a time.
      {2, 3, 420, 3, 1, 1, 1, 1},
      // Many output channels, few weights each (the weight gradient's dot products).
      {1, 32, 12, 3, 1, 1, 1, 1},
      // One output channel, many weights: the dot products' one-row tiles.
      {30, 1, 9, 3, 1, 1, 1, 1},
      // 3x3 with enough channels runs Winograd's F(2x2, 3x3): odd widths,
      // no padding, padding wider than the input reaches, more channels
      // than a GEMM depth block, and more tiles than one block.
      {64, 64, 14, 3, 1, 1, 1, 1},
      {16, 24, 9, 3, 1, 0, 1, 1},
      {17, 33, 5, 3, 1, 2, 1, 1},
      {300, 20, 12, 3, 1, 1, 1, 1},
      {24, 40, 31, 3, 1, 1, 1, 1},
      // Output channels outnumbering the tiles at batch 1: the threads split
      // the channels (not an mr multiple) over two blocks of tiles.
      {256, 40, 10, 3, 1, 1, 1, 1},
      // strided adjoints by phases: ConvTranspose2d's k4 s2 p1 (whose forward
      // also runs on its input's phases), positions no window reaches (k2 s3,
      // groups), phases without taps (k3 s4), k5 s2.
      {32, 64, 12, 4, 2, 1, 1, 1},
      {6, 8, 14, 2, 3, 0, 1, 2},
      {3, 5, 9, 3, 4, 2, 1, 1},
      {4, 6, 11, 5, 2, 0, 1, 1},
      // ConvTranspose2d's column phases written in pairs: even padding, a
      // kernel of three strides.
      {16, 24, 10, 4, 2, 2, 1, 1},
      {8, 12, 9, 6, 2, 0, 1, 1},
      // The weight gradient's packer by kernel rows: 4-wide kernels (a
      // partial panel, stride 1), 11-wide with stride 4 (rows cut by panels).
      {3, 30, 9, 4, 2, 1, 1, 1},
      {8, 32, 11, 4, 1, 1, 1, 1},
      {3, 8, 30, 11, 4, 2, 1, 1},
      // strided forwards on the input's phases (kernel a multiple of the
      // stride): k2 s2 with groups, k6 s3 padded by 2.
      {8, 6, 13, 2, 2, 0, 1, 2},
      {6, 4, 17, 6, 3, 2, 1, 1},
      // one output channel per lane, in one or two vectors (16 or 32 per
      // group on AVX-512, 8 or 16 on AVX2): a partial column tile, groups
      // with padding and dilation, LeNet's second layer at 32 channels.
      {9, 16, 9, 3, 1, 1, 1, 1},
      {16, 32, 11, 3, 1, 2, 2, 2},
      {8, 8, 10, 3, 1, 1, 1, 1},
      {6, 32, 12, 5, 1, 0, 1, 1},
  };
  std::mt19937 rng(12);
  for (const auto& s : shapes) {
    tn::window_geometry g;
    g.in_c = s.in_c, g.out_c = s.out_c, g.in_h = s.size, g.in_w = s.size + 3;
    g.kernel_h = g.kernel_w = s.kernel, g.stride_h = g.stride_w = s.stride;
    g.pad_h = g.pad_w = s.pad, g.dilation_h = g.dilation_w = s.dilation, g.groups = s.groups;
    g.out_h = (g.in_h + 2 * s.pad - s.dilation * (s.kernel - 1) - 1) / s.stride + 1;
    g.out_w = (g.in_w + 2 * s.pad - s.dilation * (s.kernel - 1) - 1) / s.stride + 1;
    // Batch 1 splits one sample's work across threads; batch 3 gives each
    // thread whole samples.
    for (const int batch : {1, 3}) {
      const auto x = random_floats(std::size_t(batch) * g.in_size(), rng);
      const auto w = random_floats(std::size_t(g.out_c) * g.column_rows(), rng);
      const auto dy = random_floats(std::size_t(batch) * g.out_size(), rng);
      const auto bias = random_floats(std::size_t(g.out_c), rng);
      // y and dx start as NaN: both must be overwritten, not added to.
      const float nan = std::numeric_limits<float>::quiet_NaN();
      // The transposed convolution's bias is one per input channel of g.
      const auto bias_t = random_floats(std::size_t(g.in_c), rng);
      std::vector<float> y(dy.size(), nan), dx(x.size(), nan), dw(w.size(), 0.5f);
      std::vector<float> yt(x.size(), nan);
      tn::backend::kernels<tn::Cpu>::conv2d_forward(g, batch, x.data(), w.data(), bias.data(),
                                                    y.data());
      tn::backend::kernels<tn::Cpu>::conv2d_backward_data(g, batch, dy.data(), w.data(), dx.data());
      tn::backend::kernels<tn::Cpu>::conv2d_backward_weight(g, batch, x.data(), dy.data(),
                                                            dw.data());
      tn::backend::kernels<tn::Cpu>::conv_transpose2d_forward(g, batch, dy.data(), w.data(),
                                                              bias_t.data(), yt.data());

      const auto xd = widen(x), wd = widen(w), dyd = widen(dy), bd = widen(bias);
      const auto btd = widen(bias_t);
      std::vector<double> yd(y.size()), dxd(dx.size()), dwd(dw.size(), 0.5), ytd(x.size());
      tn::backend::kernels<tn::Cpu>::conv2d_forward(g, batch, xd.data(), wd.data(), bd.data(),
                                                    yd.data());
      tn::backend::kernels<tn::Cpu>::conv2d_backward_data(g, batch, dyd.data(), wd.data(),
                                                          dxd.data());
      tn::backend::kernels<tn::Cpu>::conv2d_backward_weight(g, batch, xd.data(), dyd.data(),
                                                            dwd.data());
      tn::backend::kernels<tn::Cpu>::conv_transpose2d_forward(g, batch, dyd.data(), wd.data(),
                                                              btd.data(), ytd.data());
      BOOST_TEST_INFO("batch " << batch << " in_c " << s.in_c << " out_c " << s.out_c << " kernel "
                               << s.kernel << " stride " << s.stride << " pad " << s.pad
                               << " dilation " << s.dilation << " groups " << s.groups);
      // Rounding in a float sum of k terms grows like sqrt(k).
      const auto tolerance = [](double base, std::int64_t k) {
        return base * std::max(1.0, std::sqrt(k / 64.0));
      };
      const std::int64_t taps = s.kernel * s.kernel;
      BOOST_TEST(worst_error(y, yd) < tolerance(1e-5, g.column_rows()));
      BOOST_TEST(worst_error(dx, dxd) < tolerance(1e-5, s.out_c / s.groups * taps));
      BOOST_TEST(worst_error(yt, ytd) < tolerance(1e-5, s.out_c / s.groups * taps));
      BOOST_TEST(worst_error(dw, dwd) < tolerance(1e-4, batch * g.out_plane()));
    }
  }
}

BOOST_AUTO_TEST_CASE(stride2_max_pooling_matches_a_plain_reference) {
  // Ties (values from a small set), a NaN in some planes, odd and even
  // widths, with and without padding: values and argmax as PyTorch, where
  // the first maximum wins and the last NaN wins.
  std::mt19937 rng(13);
  std::uniform_int_distribution<int> level(-3, 3);
  for (const int kernel : {2, 3})
    for (const int pad : {0, 1})
      for (const int width : {7, 14, 28, 37, 64, 113}) {
        if (pad * 2 > kernel) continue;
        tn::window_geometry g;
        g.in_c = g.out_c = 3, g.in_h = 21, g.in_w = width;
        g.kernel_h = g.kernel_w = kernel, g.stride_h = g.stride_w = 2, g.pad_h = g.pad_w = pad;
        g.out_h = (g.in_h + 2 * pad - kernel) / 2 + 1;
        g.out_w = (g.in_w + 2 * pad - kernel) / 2 + 1;
        std::vector<float> x(std::size_t(g.in_size()));
        for (auto& v : x) v = 0.5f * level(rng);
        x[g.in_plane() + 5 * width + 20] = std::nanf("");
        x[2 * g.in_plane() + 7 * width + 3] = std::nanf("");
        x[2 * g.in_plane() + 7 * width + 4] = std::nanf("");
        std::vector<float> y(std::size_t(g.out_size()));
        std::vector<std::int32_t> argmax(y.size());
        tn::backend::kernels<tn::Cpu>::max_pool2d_forward(g, 1, x.data(), y.data(), argmax.data());
        int mismatches = 0;
        for (int c = 0; c < g.in_c; ++c)
          for (int oh = 0; oh < g.out_h; ++oh)
            for (int ow = 0; ow < g.out_w; ++ow) {
              const float* plane = x.data() + c * g.in_plane();
              float best = -INFINITY;
              int best_at = -1;
              for (int ki = 0; ki < kernel; ++ki)
                for (int kj = 0; kj < kernel; ++kj) {
                  const int ih = oh * 2 - pad + ki, iw = ow * 2 - pad + kj;
                  if (ih < 0 || iw < 0 || ih >= g.in_h || iw >= g.in_w) continue;
                  const int at = ih * g.in_w + iw;
                  const float v = plane[at];
                  if (best_at < 0 || std::isnan(v) || (!std::isnan(best) && v > best))
                    best = v, best_at = at;
                }
              const std::size_t o = (std::size_t(c) * g.out_h + oh) * g.out_w + ow;
              const bool same_value = std::isnan(best) ? std::isnan(y[o]) : y[o] == best;
              mismatches += !same_value || argmax[o] != best_at;
            }
        BOOST_TEST_INFO("kernel " << kernel << " pad " << pad << " width " << width);
        BOOST_TEST(mismatches == 0);
      }
}
