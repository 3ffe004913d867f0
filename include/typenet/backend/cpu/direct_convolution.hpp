// typenet/backend/cpu/direct_convolution.hpp — stride-1 float convolution
// without im2col.
//
// With stride 1 every kernel tap reads the input at a fixed offset from the
// output position. Pad the image once and number the positions of the padded
// grid row by row: output (oy, ox) is grid position q = oy * Wp + ox, and tap
// (ky, kx) of channel c reads padded[c][q + ky * dil_h * Wp + kx * dil_w]. A
// run of consecutive q is then a contiguous vector in the padded image for
// every tap, so the GEMM micro-tile (mr output channels x nr positions, weights
// broadcast, image loaded) runs straight on the image: the im2col matrix,
// which repeats each input value KH * KW times, is neither built nor packed.
// The grid's last Wp - out_w columns of each row are computed and dropped, a
// waste of 2 * pad / Wp (3% at 56x56, 22% at 7x7, like a GEMM's partial
// tiles).
#pragma once

#include <algorithm>
#include <boost/mp11/algorithm.hpp>
#include <boost/mp11/list.hpp>
#include <cstdint>
#include <cstring>
#include <utility>

#include "typenet/backend/cpu/arch/store_tile.hpp"
#include "typenet/backend/cpu/padded_copy.hpp"
#include "typenet/backend/cpu/parallel.hpp"
#include "typenet/backend/cpu/scratch.hpp"
#include "typenet/backend/cpu/sgemm_kernel.hpp"
#include "typenet/core/geometry.hpp"

namespace typenet::cpu {

namespace direct {

using sgemm::mr;
using sgemm::nr;
using sgemm::vec;
using sgemm::vec_floats;

/// Where one channel block's taps read: the padded image and its strides.
struct tap_walk {
  int channels;               // in this block
  int kernel_h, kernel_w;     //
  std::int64_t channel_step;  // floats between padded planes
  std::int64_t tap_row_step;  // dilation_h * padded width
  std::int64_t tap_col_step;  // dilation_w
};

/// The weights of `out_channels` x `row_length` (one group) packed for the
/// tiles, in blocks of mr output channels, each block's mr weights of a
/// (channel, tap) side by side, zeros past the last channel:
/// packed[((o / mr) * row_length + k) * mr + o % mr] = w[o * row_length + k].
/// A tile's broadcasts then read one sequential stream instead of mr rows a
/// whole row of weights apart (ConvTranspose2d 64->32 k4 s2's forward,
/// 128 stacked output channels whose weights do not fit L1: 4-7% faster).
inline std::int64_t packed_weights_size(int out_channels, std::int64_t row_length) {
  return (out_channels + mr - 1) / mr * mr * row_length;
}
inline void pack_weights(int out_channels, std::int64_t row_length, const float* w, float* packed) {
  // A block's mr rows go through an L1 buffer `strip` weights at a time:
  // the reads stay mr sequential streams, and the interleave, from L1 and
  // without a bounds test per weight, runs twice as fast as one gathered
  // straight from the rows (512 x 4608 weights, ResNet's last layers: 0.9
  // -> 0.5 ms on one core, where ResNet-18 at batch 1 spent 14% packing).
  constexpr int strip = 16;
  const std::int64_t blocks = (out_channels + mr - 1) / mr;
  parallel_for(blocks, mr * row_length, [&](std::int64_t block) {
    const float* src = w + block * mr * row_length;
    float* dst = packed + block * mr * row_length;
    const int rows = static_cast<int>(std::min<std::int64_t>(mr, out_channels - block * mr));
    alignas(64) float buffer[mr][strip] = {};  // rows past out_channels stay zero
    std::int64_t k0 = 0;
    for (; k0 + strip <= row_length; k0 += strip) {
      for (int i = 0; i < rows; ++i)
        std::memcpy(buffer[i], src + i * row_length + k0, sizeof buffer[i]);
      for (int k = 0; k < strip; ++k)
        for (int i = 0; i < mr; ++i) dst[(k0 + k) * mr + i] = buffer[i][k];
    }
    for (; k0 < row_length; ++k0)
      for (int i = 0; i < mr; ++i) dst[k0 * mr + i] = i < rows ? src[i * row_length + k0] : 0.0f;
  });
}

/// The kernel rows [begin, end) whose taps read the image (not only the
/// padding) for some position of a tile.
struct tap_rows {
  int begin, end;
};

/// The tap rows of a tile of grid positions [q0, q1): those of every output
/// row it touches. A tile only a row or two from the top or bottom of the
/// grid skips the rest, which read padding rows of zeros; that is a fifth of
/// LeNet's second input gradient, the adjoint convolution padded by 4.
inline tap_rows tap_rows_of(const window_geometry& g, std::int64_t grid_width, std::int64_t q0,
                            std::int64_t q1) {
  const int first_row = static_cast<int>(q0 / grid_width);
  const int last_row = static_cast<int>((q1 - 1) / grid_width);
  // Tap row ky of output row oy reads padded row oy + ky * dil, an image
  // row when it lies in [pad_h, pad_h + in_h).
  const int d = g.dilation_h;
  const int begin = std::max(0, (g.pad_h - last_row + d - 1) / d);
  // (A padding wider than the kernel's reach leaves rows with no tap at all.)
  const int end = std::clamp((g.pad_h + g.in_h - first_row + d - 1) / d, 0, g.kernel_h);
  return {std::min(begin, end), end};
}

/// out[i][j] = sum over the block's channels and taps of
/// w[(c * taps + t) * mr + i] * image[c * channel_step + offset(t) + j]
/// (w packed by pack_weights), for Rows output channels and nr consecutive
/// grid positions, the taps in the kernel rows `rows` (the others read zeros
/// for these positions).
template <int Rows>
void tile(const tap_walk& walk, tap_rows rows, const float* image, const float* w,
          float (&out)[mr][nr]) {
  vec acc[Rows][2];
  for (int i = 0; i < Rows; ++i) acc[i][0] = acc[i][1] = sgemm::vec_zero();
  const int channel_weights = walk.kernel_h * walk.kernel_w * mr;
  for (int c = 0; c < walk.channels; ++c, image += walk.channel_step, w += channel_weights) {
    const float* image_row = image + rows.begin * walk.tap_row_step;
    const float* wt = w + rows.begin * walk.kernel_w * mr;
    for (int ky = rows.begin; ky < rows.end; ++ky, image_row += walk.tap_row_step) {
      const float* b = image_row;
      for (int kx = 0; kx < walk.kernel_w; ++kx, b += walk.tap_col_step, wt += mr) {
        const vec b0 = sgemm::vec_load(b), b1 = sgemm::vec_load(b + vec_floats);
#pragma GCC unroll 16
        for (int i = 0; i < Rows; ++i) {
          const vec ai = sgemm::vec_broadcast(wt[i]);
          acc[i][0] = sgemm::vec_fmadd(ai, b0, acc[i][0]);
          acc[i][1] = sgemm::vec_fmadd(ai, b1, acc[i][1]);
        }
      }
    }
  }
  for (int i = 0; i < Rows; ++i) {
    sgemm::vec_store(out[i], acc[i][0]);
    sgemm::vec_store(out[i] + vec_floats, acc[i][1]);
  }
}

/// tile<rows> for a run-time row count in [1, mr].
template <int... Rows>
void tile_rows(int rows, const tap_walk& walk, tap_rows kernel_rows, const float* image,
               const float* w, float (&out)[mr][nr], std::integer_sequence<int, Rows...>) {
  ((rows == Rows + 1 ? tile<Rows + 1>(walk, kernel_rows, image, w, out) : void()), ...);
}

using arch::store_tile;

/// The padded grid of a stride-1 geometry: its width, plane and the number
/// of grid positions up to the last output position.
struct padded_grid {
  std::int64_t width, plane, positions;
  explicit padded_grid(const window_geometry& g)
      : width(g.in_w + 2 * g.pad_w),
        plane(width * (g.in_h + 2 * g.pad_h)),
        positions(std::int64_t{g.out_h - 1} * width + g.out_w) {}
};

/// `channels` planes of each of `samples` images (`sample_step` floats apart)
/// on the padded grid, followed by nr zeros: a tile of the last positions
/// reads up to nr - 1 floats past the last plane (for positions it drops).
inline const float* pad(const window_geometry& g, const padded_grid& grid, int channels,
                        const float* image, std::int64_t samples = 1,
                        std::int64_t sample_step = 0) {
  return padded_copy(g, channels, image, samples, sample_step, grid.plane / grid.width, grid.width,
                     nr);
}

/// Where weight column p = (c, t) of a weight gradient reads the padded
/// image: the window of tap t of channel c at grid position 0.
inline const float* window(const window_geometry& g, const padded_grid& grid, const float* padded,
                           std::int64_t p) {
  const int taps = g.kernel_h * g.kernel_w;
  const std::int64_t c = p / taps, t = p % taps;
  return padded + c * grid.plane + t / g.kernel_w * g.dilation_h * grid.width +
         t % g.kernel_w * g.dilation_w;
}

/// Accumulators of the weight-gradient tile: three quarters of the vector
/// registers (24 of AVX-512's 32, 12 of AVX2's 16); the rest hold operands.
inline constexpr int dot_accumulators = arch::vector_registers * 3 / 4;

inline float horizontal_sum(vec v) {
  alignas(64) float lanes[vec_floats];
  sgemm::vec_store(lanes, v);
  float sum = 0.0f;
  for (float x : lanes) sum += x;
  return sum;
}

/// dw[r][j] += sum over samples s and q in [0, length) of
/// dy[r][s * dy_step + q] * image[j][s * image_step + q], for Rows gradient
/// rows and dot_accumulators / Rows image windows given as pointers; `length`
/// is a multiple of vec_floats. Summing every sample before the horizontal
/// sums keeps those (16 scalar additions per accumulator) rare when the
/// planes are small.
template <int Rows>
void dot_tile(const float* const* dy, const float* const* image, std::int64_t length,
              std::int64_t samples, std::int64_t dy_step, std::int64_t image_step, float* dw,
              std::int64_t dw_row_step, int rows, int cols) {
  constexpr int Cols = dot_accumulators / Rows;
  vec acc[Rows][Cols];
  for (int r = 0; r < Rows; ++r)
    for (int j = 0; j < Cols; ++j) acc[r][j] = sgemm::vec_zero();
  for (std::int64_t s = 0; s < samples; ++s) {
    const std::int64_t dy_offset = s * dy_step, image_offset = s * image_step;
    for (std::int64_t q = 0; q < length; q += vec_floats) {
      vec d[Rows];
      for (int r = 0; r < Rows; ++r) d[r] = sgemm::vec_load(dy[r] + dy_offset + q);
#pragma GCC unroll 24
      for (int j = 0; j < Cols; ++j) {
        const vec x = sgemm::vec_load(image[j] + image_offset + q);
        for (int r = 0; r < Rows; ++r) acc[r][j] = sgemm::vec_fmadd(d[r], x, acc[r][j]);
      }
    }
  }
  for (int r = 0; r < rows; ++r)
    for (int j = 0; j < cols; ++j) dw[r * dw_row_step + j] += horizontal_sum(acc[r][j]);
}

/// The row counts of dot_tile's shapes, tallest first: those that divide the
/// accumulators into whole columns (8 only with AVX-512's 24).
template <class Rows>
using fills_accumulators = boost::mp11::mp_bool<dot_accumulators % Rows::value == 0>;
using dot_row_counts =
    boost::mp11::mp_copy_if<boost::mp11::mp_list_c<int, 8, 6, 4, 2, 1>, fills_accumulators>;

/// The gradient rows of dot_tile for a weight gradient of `rows` x `columns`:
/// the shape of tile that computes the fewest accumulators (partial tiles
/// compute and drop theirs), the taller on a tie, since each step loads a
/// tile's rows once and its columns, usually unaligned, once per row block.
/// LeNet's 6 output channels fit one tile of 6 x 4, not two of 4 x 6.
inline int dot_rows(std::int64_t rows, std::int64_t columns) {
  int best = 1;
  std::int64_t best_cost = -1;
  boost::mp11::mp_for_each<dot_row_counts>([&](auto row_count) {
    constexpr int r = decltype(row_count)::value;
    constexpr std::int64_t c = dot_accumulators / r;
    const std::int64_t cost = (rows + r - 1) / r * r * ((columns + c - 1) / c * c);
    if (best_cost < 0 || cost < best_cost) best = r, best_cost = cost;
  });
  return best;
}

}  // namespace direct

/// Whether conv2d_direct should compute this geometry (float): stride 1, and
/// either few output channels, where packing the im2col matrix costs more
/// than the products it feeds, or a grid that wastes at most 1/8 more lanes
/// than the GEMM's tiles over the output plane (not 8x8 maps: 96 lanes for 64).
inline bool direct_convolution_applies(const window_geometry& g) {
  if (g.stride_h != 1 || g.stride_w != 1 || g.is_pointwise()) return false;
  using direct::nr;
  if (g.out_c / g.groups < 2 * direct::mr) return true;
  const std::int64_t grid_tiles = (direct::padded_grid(g).positions + nr - 1) / nr;
  const std::int64_t plane_tiles = (g.out_plane() + nr - 1) / nr;
  return grid_tiles * 8 <= plane_tiles * 9;
}

/// y[out_channels x out_plane] = conv(image, w) + bias for one group of one
/// sample: `image` holds `channels` planes of in_h x in_w, `w` is
/// [out_channels][channels][kernel_h][kernel_w], `bias` [out_channels] or
/// null. Stride 1 (direct_convolution_applies). Outside a parallel region
/// the output positions are split across threads.
inline void conv2d_direct(const window_geometry& g, int channels, int out_channels,
                          const float* image, const float* w, const float* bias, float* y) {
  const direct::padded_grid grid(g);
  const float* padded = direct::pad(g, grid, channels, image);

  const int taps = g.kernel_h * g.kernel_w;
  const std::int64_t row_length = std::int64_t{channels} * taps;
  // Packed on every call (every sample): one copy per out_plane products,
  // and packing once per batch in the caller measured 4% slower on the
  // transposed convolution, whose packed weights were then cold in cache.
  float* packed = scratch<float>(
      scratch_slot::packed_weights,
      static_cast<std::size_t>(direct::packed_weights_size(out_channels, row_length)));
  direct::pack_weights(out_channels, row_length, w, packed);
  // A tile accumulates over up to 4096 steps (455 channels of a 3x3 kernel)
  // before it is written to y: its image windows and weight rows are read from
  // L2 either way, and fewer blocks mean fewer scattered additions into y,
  // which cost as much as the tile itself when the grid is small (7x7).
  const int block = static_cast<int>(std::max<std::int64_t>(1, 4096 / taps));
  const std::int64_t tiles = (grid.positions + direct::nr - 1) / direct::nr;
  const std::int64_t work = 2 * out_channels * g.out_plane() * row_length;
  parallel_chunks(tiles, 1, work, [&](std::int64_t first, std::int64_t last) {
    alignas(64) float out[direct::mr][direct::nr];
    for (int c0 = 0; c0 < channels; c0 += block) {
      const direct::tap_walk walk{
          std::min(block, channels - c0), g.kernel_h,  g.kernel_w, grid.plane,
          g.dilation_h * grid.width,      g.dilation_w};
      const float* image_block = padded + c0 * grid.plane;
      for (std::int64_t t = first; t < last; ++t) {
        const std::int64_t q0 = t * direct::nr, q1 = std::min(grid.positions, q0 + direct::nr);
        const direct::tap_rows kernel_rows = direct::tap_rows_of(g, grid.width, q0, q1);
        for (int o = 0; o < out_channels; o += direct::mr) {
          const int rows = std::min(direct::mr, out_channels - o);
          const float* w_block = packed + (o * row_length + std::int64_t{c0} * taps * direct::mr);
          direct::tile_rows(rows, walk, kernel_rows, image_block + q0, w_block, out,
                            std::make_integer_sequence<int, direct::mr>{});
          // The first channel block writes y (with the bias), later ones add to it.
          direct::store_tile(out, rows, q0, q1, grid.width, g.out_w, g.out_plane(),
                             bias ? bias + o : nullptr, c0 > 0,
                             y + std::int64_t{o} * g.out_plane());
        }
      }
    }
  });
}

/// Whether conv2d_direct_weight_gradient should compute this geometry's weight
/// gradient: stride 1 and few output channels or few weights per channel. The
/// GEMM form (output channels x unfolded image) fills a micro-tile's rows only
/// from about two tiles' worth of output channels, and its columns from the
/// weights per output channel (9 for a 3x3 kernel on one input channel);
/// dot products along the image use every lane whatever those counts.
inline bool direct_weight_gradient_applies(const window_geometry& g) {
  if (g.stride_h != 1 || g.stride_w != 1 || g.is_pointwise()) return false;
  return g.out_c / g.groups < 2 * direct::mr || g.column_rows() < 64;
}

/// dw[out_channels][channels * KH * KW] += the weight gradient of
/// conv2d_direct for one group, summed over `samples` samples (`image_step`
/// and `dy_step` floats apart): dw[o][c, t] is the dot product of dy[o] with
/// the image window that tap t of channel c reads, both laid on the padded
/// grid (dy with zeros at the grid positions that are not outputs). Samples
/// are taken a few MiB at a time. Outside a parallel region the tiles of dw
/// are split across threads.
inline void conv2d_direct_weight_gradient(const window_geometry& g, int channels, int out_channels,
                                          std::int64_t samples, const float* image,
                                          std::int64_t image_step, const float* dy,
                                          std::int64_t dy_step, float* dw) {
  using direct::vec_floats;
  const direct::padded_grid grid(g);
  const std::int64_t length = (grid.positions + vec_floats - 1) / vec_floats * vec_floats;
  const std::int64_t per_sample = channels * grid.plane + out_channels * length;
  const std::int64_t chunk = std::clamp<std::int64_t>((1 << 20) / per_sample, 1, samples);
  const int taps = g.kernel_h * g.kernel_w;
  const std::int64_t columns = std::int64_t{channels} * taps;

  for (std::int64_t first = 0; first < samples; first += chunk) {
    const std::int64_t count = std::min(chunk, samples - first);
    const float* padded =
        direct::pad(g, grid, channels, image + first * image_step, count, image_step);
    float* dy_grid = scratch<float>(scratch_slot::gemm, count * out_channels * length);
    parallel_for(count * out_channels, length, [&](std::int64_t row) {
      const float* src =
          dy + (first + row / out_channels) * dy_step + row % out_channels * g.out_plane();
      float* dst = dy_grid + row * length;
      std::fill(dst, dst + length, 0.0f);
      for (int oy = 0; oy < g.out_h; ++oy)
        std::memcpy(dst + oy * grid.width, src + std::int64_t{oy} * g.out_w,
                    sizeof(float) * g.out_w);
    });

    const auto run = [&]<int Rows>(std::integral_constant<int, Rows>) {
      constexpr int Cols = direct::dot_accumulators / Rows;
      const std::int64_t row_tiles = (out_channels + Rows - 1) / Rows;
      const std::int64_t col_tiles = (columns + Cols - 1) / Cols;
      parallel_for(row_tiles * col_tiles, Rows * Cols * length * count, [&](std::int64_t tile) {
        const int o0 = static_cast<int>(tile / col_tiles * Rows);
        const std::int64_t p0 = tile % col_tiles * Cols;
        const int rows = std::min(Rows, out_channels - o0);
        const int cols = static_cast<int>(std::min<std::int64_t>(Cols, columns - p0));
        // A partial tile repeats its last row or window and drops the result.
        const float* dy_rows[Rows];
        const float* windows[Cols];
        for (int r = 0; r < Rows; ++r) dy_rows[r] = dy_grid + (o0 + std::min(r, rows - 1)) * length;
        for (int j = 0; j < Cols; ++j)
          windows[j] = direct::window(g, grid, padded, p0 + std::min(j, cols - 1));
        direct::dot_tile<Rows>(dy_rows, windows, length, count, out_channels * length,
                               channels * grid.plane, dw + o0 * columns + p0, columns, rows, cols);
      });
    };
    const int rows_per_tile = direct::dot_rows(out_channels, columns);
    boost::mp11::mp_for_each<direct::dot_row_counts>([&](auto r) {
      if (r() == rows_per_tile) run(r);
    });
  }
}

/// The output channels per group that the channel-vector kernels
/// (conv2d_channel_vector and its weight gradient) take, in vectors: one or
/// two vectors of one output channel per lane (LeNet's 16 are one AVX-512
/// vector or two AVX2 vectors); 0 when they do not apply. They need stride
/// 1, a narrow map, where the direct kernels' grid wastes most (LeNet's
/// second layer: 10 outputs on a 14-wide grid), and at least 64 weights per
/// output channel, so that a tile's epilogue is paid over enough products.
/// On 56x56 and 112x112 maps, or over 27 weights, they measured up to 2x
/// slower than the direct kernels.
inline int channel_vectors(const window_geometry& g) {
  if (g.stride_h != 1 || g.stride_w != 1 || g.is_pointwise() || g.out_w > 16 ||
      g.column_rows() < 64)
    return 0;
  const int out_per_group = g.out_c / g.groups;
  return out_per_group == direct::vec_floats ? 1 : out_per_group == 2 * direct::vec_floats ? 2 : 0;
}

/// Calls `body(std::integral_constant<int, V>{})` for V = channel_vectors(g) > 0.
template <class Body>
void with_channel_vectors(const window_geometry& g, Body&& body) {
  switch (channel_vectors(g)) {
    case 1:
      body(std::integral_constant<int, 1>{});
      break;
    case 2:
      body(std::integral_constant<int, 2>{});
      break;
    default:
      break;
  }
}

/// y[V * vec_floats x out_plane] = conv(image, w) + bias for one group of one
/// sample with V vectors of output channels; `wt` is the group's weights
/// transposed, wt[c * taps + t][o]. A tile of dot_accumulators / V
/// consecutive grid positions keeps V vectors of output channels per
/// position, and each tap of each channel loads V vectors of weights and
/// broadcasts the image value under it at each position: dot_accumulators
/// multiply-adds per V + positions loads, all from one base pointer. Grid
/// positions that are not outputs are computed and dropped, as in
/// conv2d_direct.
template <int V>
void conv2d_channel_vector(const window_geometry& g, int channels, const float* image,
                           const float* wt, const float* bias, float* y) {
  using direct::vec, direct::vec_floats;
  constexpr int out_channels = V * vec_floats;
  // At most nr: direct::pad leaves nr floats of slack after the last plane.
  constexpr int positions_per_tile = std::min(direct::dot_accumulators / V, direct::nr);
  const direct::padded_grid grid(g);
  const float* padded = direct::pad(g, grid, channels, image);
  const int taps = g.kernel_h * g.kernel_w;
  const std::int64_t tiles = (grid.positions + positions_per_tile - 1) / positions_per_tile;
  parallel_for(tiles, std::int64_t{positions_per_tile} * out_channels * channels * taps,
               [&](std::int64_t tile) {
                 const std::int64_t q0 = tile * positions_per_tile;
                 vec acc[positions_per_tile][V];
                 for (auto& position : acc)
                   for (auto& a : position) a = sgemm::vec_zero();
                 const float* weights = wt;
                 for (int c = 0; c < channels; ++c) {
                   const float* plane = padded + c * grid.plane + q0;
                   for (int ky = 0; ky < g.kernel_h; ++ky) {
                     for (int kx = 0; kx < g.kernel_w; ++kx, weights += out_channels) {
                       const float* src =
                           plane + ky * g.dilation_h * grid.width + kx * g.dilation_w;
                       vec wv[V];
                       for (int v = 0; v < V; ++v)
                         wv[v] = sgemm::vec_load(weights + v * vec_floats);
#pragma GCC unroll 24
                       for (int i = 0; i < positions_per_tile; ++i) {
                         const vec x = sgemm::vec_broadcast(src[i]);
                         for (int v = 0; v < V; ++v)
                           acc[i][v] = sgemm::vec_fmadd(x, wv[v], acc[i][v]);
                       }
                     }
                   }
                 }
                 alignas(64) float lanes[out_channels];
                 for (int i = 0; i < positions_per_tile; ++i) {
                   const std::int64_t q = q0 + i;
                   if (q >= grid.positions) break;
                   const std::int64_t oy = q / grid.width, ox = q % grid.width;
                   if (ox >= g.out_w) continue;
                   for (int v = 0; v < V; ++v) sgemm::vec_store(lanes + v * vec_floats, acc[i][v]);
                   float* out = y + oy * g.out_w + ox;
                   for (int o = 0; o < out_channels; ++o)
                     out[o * g.out_plane()] = lanes[o] + (bias ? bias[o] : 0.0f);
                 }
               });
}

/// dw[V * vec_floats][channels * KH * KW] += the weight gradient of one group
/// of V vectors of output channels, summed over `samples` samples: column
/// (c, t) of dw is the sum over output positions of the image under tap t of
/// channel c there times dy's vectors of channels there. A tile of
/// dot_accumulators / V columns broadcasts one image value per column and
/// loads V dy vectors per position (dy transposed to channels-last first), so
/// there are no horizontal sums, and only output positions are visited, row
/// by row of the padded grid.
template <int V>
void conv2d_channel_vector_weight_gradient(const window_geometry& g, int channels,
                                           std::int64_t samples, const float* image,
                                           std::int64_t image_step, const float* dy,
                                           std::int64_t dy_step, float* dw) {
  using direct::vec, direct::vec_floats;
  constexpr int out_channels = V * vec_floats;
  constexpr int columns_per_tile = direct::dot_accumulators / V;
  const direct::padded_grid grid(g);
  const int taps = g.kernel_h * g.kernel_w;
  const std::int64_t columns = std::int64_t{channels} * taps, plane = g.out_plane();
  const std::int64_t per_sample = channels * grid.plane + plane * out_channels;
  const std::int64_t chunk = std::clamp<std::int64_t>((1 << 20) / per_sample, 1, samples);
  for (std::int64_t first = 0; first < samples; first += chunk) {
    const std::int64_t count = std::min(chunk, samples - first);
    const float* padded =
        direct::pad(g, grid, channels, image + first * image_step, count, image_step);
    float* dyt = scratch<float>(scratch_slot::gemm, count * plane * out_channels);
    parallel_for(count, plane * out_channels, [&](std::int64_t n) {
      const float* src = dy + (first + n) * dy_step;
      float* dst = dyt + n * plane * out_channels;
      for (int o = 0; o < out_channels; ++o)
        for (std::int64_t p = 0; p < plane; ++p) dst[p * out_channels + o] = src[o * plane + p];
    });
    const std::int64_t tiles = (columns + columns_per_tile - 1) / columns_per_tile;
    parallel_for(tiles, columns_per_tile * out_channels * plane * count, [&](std::int64_t tile) {
      const std::int64_t p0 = tile * columns_per_tile;
      const int cols = static_cast<int>(std::min<std::int64_t>(columns_per_tile, columns - p0));
      // A partial tile repeats its last window and drops the result.
      const float* windows[columns_per_tile];
      for (int j = 0; j < columns_per_tile; ++j)
        windows[j] = direct::window(g, grid, padded, p0 + std::min(j, cols - 1));
      vec acc[columns_per_tile][V];
      for (auto& column : acc)
        for (auto& a : column) a = sgemm::vec_zero();
      for (std::int64_t n = 0; n < count; ++n) {
        for (int oy = 0; oy < g.out_h; ++oy) {
          const std::int64_t q0 = n * channels * grid.plane + oy * grid.width;
          const float* d = dyt + (n * plane + std::int64_t{oy} * g.out_w) * out_channels;
          for (int ox = 0; ox < g.out_w; ++ox) {
            vec dv[V];
            for (int v = 0; v < V; ++v)
              dv[v] = sgemm::vec_load(d + ox * out_channels + v * vec_floats);
#pragma GCC unroll 24
            for (int j = 0; j < columns_per_tile; ++j) {
              const vec x = sgemm::vec_broadcast(windows[j][q0 + ox]);
              for (int v = 0; v < V; ++v) acc[j][v] = sgemm::vec_fmadd(x, dv[v], acc[j][v]);
            }
          }
        }
      }
      alignas(64) float lanes[out_channels];
      for (int j = 0; j < cols; ++j) {
        for (int v = 0; v < V; ++v) sgemm::vec_store(lanes + v * vec_floats, acc[j][v]);
        for (int o = 0; o < out_channels; ++o) dw[o * columns + p0 + j] += lanes[o];
      }
    });
  }
}

}  // namespace typenet::cpu
