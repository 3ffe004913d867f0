// typenet/backend/cpu/winograd_convolution.hpp — 3x3 stride-1 float
// convolution and its weight gradient by Winograd's minimal filtering
// F(2x2, 3x3).
//
// A 2x2 block of one output channel is a 4x4 input patch d correlated with
// the 3x3 kernel g: Y = A^T [(G g G^T) ⊙ (B^T d B)] A (Lavin and Gray, 2016),
// 16 products instead of 36. Summed over input channels, the element-wise
// products become 16 independent GEMMs, one per position ξ of the 4x4
// transformed tile: M[ξ] (out_c x tiles) = U[ξ] (out_c x in_c) · V[ξ]
// (in_c x tiles). The multiplications drop 2.25x; what is added, the three
// transforms, costs O(in_c + out_c) per tile against the products'
// O(in_c * out_c). The transforms' factors are 0, ±1 and ±1/2, and the
// results stay within the tolerances the direct path is tested to against a
// double-precision reference (tests/native). The weight gradient runs the
// same algebra backwards: dU[ξ] = Σ over tiles of (A dY A^T)[ξ] V[ξ]^T,
// dg = G^T dU G.
// The input gradient needs nothing here: with stride 1 it is a convolution
// of dy with the flipped kernel (convolution.hpp), which lands here again.
//
// The tiles of the whole batch are numbered together (sample, tile row, tile
// column), so small maps still fill the GEMM's panels, and are taken in
// blocks whose V and M stay in L2. Each block is transformed, multiplied and
// transformed back by one thread; threads take contiguous runs of blocks,
// or, where there are at least half as many output channels as tiles,
// slices of the output channels and of U.
// The transforms work on `lanes` tiles (or channels) at a time, written with
// GCC/Clang vector extensions that compile to vector code for whatever
// instruction set the translation unit targets.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <utility>

#include "typenet/backend/cpu/padded_copy.hpp"
#include "typenet/backend/cpu/parallel.hpp"
#include "typenet/backend/cpu/scratch.hpp"
#include "typenet/backend/cpu/sgemm_kernel.hpp"
#include "typenet/core/geometry.hpp"

namespace typenet::cpu {

namespace winograd {

/// Tiles of one tile row transformed together: one SIMD register of floats
/// (wider would pass vectors between functions in memory, and GCC warns that
/// this depends on the instruction set).
inline constexpr int lanes = std::max(4, sgemm::vec_floats);

/// The sizes of a convolution's Winograd form over a batch.
struct plan {
  int channels, out_channels;
  int out_h, out_w;
  int tile_rows, tile_cols;         // ceil(out / 2)
  std::int64_t tiles;               // over the whole batch
  std::int64_t padded_w, padded_h;  // 2 * tiles + 2: the input every tile reads
  std::int64_t padded_plane;

  plan(const window_geometry& g, int batch)
      : channels(g.in_c),
        out_channels(g.out_c),
        out_h(g.out_h),
        out_w(g.out_w),
        tile_rows((g.out_h + 1) / 2),
        tile_cols((g.out_w + 1) / 2),
        tiles(std::int64_t{batch} * tile_rows * tile_cols),
        padded_w(2 * std::int64_t{tile_cols} + 2),
        padded_h(2 * std::int64_t{tile_rows} + 2),
        padded_plane(padded_w * padded_h) {}

  /// Tiles per block: as many as keep the block's V and M (16 floats per
  /// tile and channel, in and out) within about 512 KiB, whole GEMM panels.
  std::int64_t block_tiles() const {
    const std::int64_t fit = (std::int64_t{1} << 17) / (16 * (channels + out_channels));
    return std::max<std::int64_t>(sgemm::nr, fit / sgemm::nr * sgemm::nr);
  }
};

/// Floats between the 16 matrices V[ξ] (or M[ξ], ...) of `rows` rows of ld:
/// one cache line more than the matrix, because a transform reads or writes
/// all 16 at once, and at a multiple of 4 KiB apart (64 channels of 64 tiles)
/// their lines would all fall into one set of the L1 cache.
inline std::int64_t xi_step(std::int64_t rows, std::int64_t ld) {
  return rows * ld + 16;
}

/// `lanes` floats as one value (GCC/Clang vector extensions): arithmetic
/// and shuffles on it compile to the target's vector instructions, whatever
/// their width, where loops over strided lanes would be gathered one float
/// at a time.
using pack = float __attribute__((vector_size(lanes * sizeof(float))));

inline pack load(const float* p) {
  pack v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store(float* p, pack v) {
  std::memcpy(p, &v, sizeof v);
}

/// Lanes I... of the 2 * lanes floats of a then b. GCC's __builtin_shuffle
/// takes them as a vector, clang's __builtin_shufflevector as arguments
/// (nvcc's front end drops the expansion of a pack there).
template <int... I>
pack shuffle(pack a, pack b) {
#if defined(__clang__)
  return __builtin_shufflevector(a, b, I...);
#else
  using indices = int __attribute__((vector_size(lanes * sizeof(int))));
  return __builtin_shuffle(a, b, indices{I...});
#endif
}
/// The even (Odd = 0) or odd floats of the 2 * lanes in a, b.
template <int Odd, int... I>
pack deinterleave(pack a, pack b, std::integer_sequence<int, I...>) {
  return shuffle<(2 * I + Odd)...>(a, b);
}
/// a[0], b[0], a[1], b[1], ... from the first (Half = 0) or second half of a and b.
template <int Half, int... I>
pack interleave(pack a, pack b, std::integer_sequence<int, I...>) {
  return shuffle<(Half * lanes / 2 + I / 2 + I % 2 * lanes)...>(a, b);
}
inline constexpr auto lane_indices = std::make_integer_sequence<int, lanes>{};

/// pack{p[0], p[step], p[2 * step], ...}.
template <int... I>
pack gather(const float* p, std::int64_t step, std::integer_sequence<int, I...>) {
  return pack{p[I * step]...};
}

/// U[ξ][o - o_first][c] = (G g G^T)[ξ] for each kernel g = w[o][c] (3x3)
/// of output channels [o_first, o_last), with
/// G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1], for `lanes` input channels
/// at a time: the deep layers have many kernels and few tiles, so the
/// transform must cost no more than a few tiles' products per kernel.
inline void transform_weights(const plan& p, int o_first, int o_last, const float* w, float* u) {
  const std::int64_t matrix = std::int64_t{o_last - o_first} * p.channels;
  parallel_for(o_last - o_first, 64 * p.channels, [&](std::int64_t slice_row) {
    const std::int64_t o = o_first + slice_row;
    for (int c0 = 0; c0 < p.channels; c0 += lanes) {
      const int count = std::min(lanes, p.channels - c0);
      const float* kernels = w + (o * p.channels + c0) * 9;
      pack g[9];  // g[t][l]: tap t of channel c0 + l
      if (count == lanes) {
        for (int t = 0; t < 9; ++t) g[t] = gather(kernels + t, 9, lane_indices);
      } else {
        alignas(64) float taps[9][lanes] = {};
        for (int t = 0; t < 9; ++t)
          for (int l = 0; l < count; ++l) taps[t][l] = kernels[l * 9 + t];
        for (int t = 0; t < 9; ++t) g[t] = load(taps[t]);
      }
      pack out[16];
      for (int i = 0; i < 4; ++i) {
        // Row i of G g, then of (G g) G^T.
        pack gg[3];
        for (int j = 0; j < 3; ++j) {
          const pack top = g[j], middle = g[3 + j], bottom = g[6 + j];
          gg[j] = i == 0   ? top
                  : i == 1 ? 0.5f * (top + middle + bottom)
                  : i == 2 ? 0.5f * (top - middle + bottom)
                           : bottom;
        }
        out[4 * i] = gg[0];
        out[4 * i + 1] = 0.5f * (gg[0] + gg[1] + gg[2]);
        out[4 * i + 2] = 0.5f * (gg[0] - gg[1] + gg[2]);
        out[4 * i + 3] = gg[2];
      }
      float* dst = u + slice_row * p.channels + c0;
      for (int xi = 0; xi < 16; ++xi) {
        if (count == lanes) {
          store(dst + xi * matrix, out[xi]);
        } else {
          alignas(64) float values[lanes];
          store(values, out[xi]);
          std::memcpy(dst + xi * matrix, values, sizeof(float) * count);
        }
      }
    }
  });
}

/// The batch's planes with their zero border, padded_h x padded_w each
/// (padded_h >= pad_h + in_h: 2 * tile_rows + 2 >= out_h + 2 = in_h + 2 *
/// pad_h), followed by 4 * lanes zeros: a run of lanes tiles reads up to 2 *
/// lanes + 2 floats from its first column whether or not all of them are
/// tiles.
inline const float* pad(const window_geometry& g, const plan& p, int batch, const float* x) {
  return padded_copy(g, p.channels, x, batch, g.in_size(), p.padded_h, p.padded_w, 4 * lanes);
}

/// Calls `run(column, sample, tile_row, tile_col, count)` for the runs of at
/// most `lanes` tiles of one tile row that make up tiles [first, last);
/// `column` counts from `first`.
template <class Run>
void for_each_run(const plan& p, std::int64_t first, std::int64_t last, Run&& run) {
  const std::int64_t per_sample = std::int64_t{p.tile_rows} * p.tile_cols;
  for (std::int64_t t = first; t < last;) {
    const std::int64_t n = t / per_sample, r = t % per_sample;
    const int ty = static_cast<int>(r / p.tile_cols), tx = static_cast<int>(r % p.tile_cols);
    const int count = static_cast<int>(std::min<std::int64_t>({lanes, p.tile_cols - tx, last - t}));
    run(t - first, n, ty, tx, count);
    t += count;
  }
}

/// V[ξ][c][column + l] = (B^T d B)[ξ] for the patches d of a run of lanes
/// tiles of channel c, B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]. All
/// lanes are written: those past the run hold garbage that the next run, or
/// the block's zeroed tail, overwrites.
inline void transform_input_run(const plan& p, const float* patch, float* v,
                                std::int64_t row_step) {
  pack h[4][4];  // d B, row by row
  for (int r = 0; r < 4; ++r) {
    // Tile l's columns are 2l .. 2l + 3 of the row: the even and odd floats
    // of the row and of the row shifted by one tile.
    const float* row = patch + r * p.padded_w;
    const pack a = load(row), b = load(row + lanes), c = load(row + 2), d = load(row + lanes + 2);
    const pack d0 = deinterleave<0>(a, b, lane_indices);
    const pack d1 = deinterleave<1>(a, b, lane_indices);
    const pack d2 = deinterleave<0>(c, d, lane_indices);
    const pack d3 = deinterleave<1>(c, d, lane_indices);
    h[r][0] = d0 - d2;
    h[r][1] = d1 + d2;
    h[r][2] = d2 - d1;
    h[r][3] = d1 - d3;
  }
  for (int j = 0; j < 4; ++j) {
    store(v + (0 + j) * row_step, h[0][j] - h[2][j]);
    store(v + (4 + j) * row_step, h[1][j] + h[2][j]);
    store(v + (8 + j) * row_step, h[2][j] - h[1][j]);
    store(v + (12 + j) * row_step, h[1][j] - h[3][j]);
  }
}

/// The 2x2 outputs of a run of `count` tiles of one output channel from
/// M[ξ][column + l] (ξ `row_step` floats apart), A^T = [1 1 1 0; 0 1 -1 -1],
/// plus `bias`, written to y at the run's first output (y's rows out_w apart).
inline void transform_output_run(const plan& p, const float* m, std::int64_t row_step, int count,
                                 float bias, int out_row, int out_col, float* y) {
  pack s[2][4];  // A^T M, column by column
  for (int j = 0; j < 4; ++j) {
    const pack m0 = load(m + j * row_step), m1 = load(m + (4 + j) * row_step);
    const pack m2 = load(m + (8 + j) * row_step), m3 = load(m + (12 + j) * row_step);
    s[0][j] = m0 + m1 + m2;
    s[1][j] = m1 - m2 - m3;
  }
  const int width = std::min(2 * count, p.out_w - out_col);
  for (int i = 0; i < 2 && out_row + i < p.out_h; ++i) {
    const pack left = bias + s[i][0] + s[i][1] + s[i][2];
    const pack right = bias + s[i][1] - s[i][2] - s[i][3];
    // Tile l's two outputs are columns 2l and 2l + 1 of the run.
    const pack first = interleave<0>(left, right, lane_indices);
    const pack second = interleave<1>(left, right, lane_indices);
    float* dst = y + std::int64_t{i} * p.out_w;
    if (width == 2 * lanes) {
      store(dst, first);
      store(dst + lanes, second);
    } else {
      float out[2 * lanes];
      store(out, first);
      store(out + lanes, second);
      for (int l = 0; l < width; ++l) dst[l] = out[l];
    }
  }
}

/// C[rows x columns] += A[rows x depth] · B[depth x columns], all row-major,
/// on the micro-tile with B read in place (its rows are contiguous runs of
/// nr floats at the columns' multiples of nr: no packing); columns is a
/// multiple of nr.
inline void multiply_in_place(std::int64_t rows, std::int64_t columns, std::int64_t depth,
                              const float* a, std::int64_t lda, const float* b, std::int64_t ldb,
                              float* c, std::int64_t ldc) {
  using sgemm::mr;
  using sgemm::nr;
  for (std::int64_t pc = 0; pc < depth; pc += sgemm::kc_max) {
    const std::int64_t kc = std::min(sgemm::kc_max, depth - pc);
    for (std::int64_t jr = 0; jr < columns; jr += nr) {
      const float* panel = b + pc * ldb + jr;
      for (std::int64_t ir = 0; ir < rows; ir += mr) {
        const int tile_rows = static_cast<int>(std::min<std::int64_t>(mr, rows - ir));
        const float* a_tile = a + ir * lda + pc;
        float* c_tile = c + ir * ldc + jr;
        if (tile_rows == mr)
          sgemm::micro_tile<mr>(kc, a_tile, lda, 1, panel, ldb, c_tile, ldc, nr, 1.0f);
        else
          sgemm::micro_tile_rows(tile_rows, kc, a_tile, lda, 1, panel, ldb, c_tile, ldc, nr, 1.0f,
                                 std::make_integer_sequence<int, mr - 1>{});
      }
    }
  }
}

/// M[ξ] (rows x columns, leading dimension ld) = U[ξ] (rows x depth) · V[ξ]
/// (depth x columns) for the 16 ξ; columns is a multiple of nr.
inline void multiply(const float* u, std::int64_t rows, std::int64_t depth, const float* v,
                     std::int64_t columns, std::int64_t ld, float* m) {
  for (int xi = 0; xi < 16; ++xi) {
    float* m_xi = m + xi * xi_step(rows, ld);
    for (std::int64_t o = 0; o < rows; ++o) std::fill(m_xi + o * ld, m_xi + o * ld + columns, 0.0f);
    multiply_in_place(rows, columns, depth, u + xi * rows * depth, depth,
                      v + xi * xi_step(depth, ld), ld, m_xi, ld);
  }
}

/// `count` rounded up to whole GEMM panels: the columns a block of `count`
/// tiles computes, or the padded output channels of the weight gradient.
inline std::int64_t block_columns(std::int64_t count) {
  return (count + sgemm::nr - 1) / sgemm::nr * sgemm::nr;
}
/// The leading dimension of a block's V and M: room for a run's full-width
/// stores past its last column.
inline std::int64_t block_ld(std::int64_t count) {
  return block_columns(count) + lanes;
}

/// V[ξ][c][0, block_columns) for tiles [first, last): the input transform,
/// zeros past the last tile.
inline void transform_input_block(const plan& p, std::int64_t first, std::int64_t last,
                                  const float* padded, float* v) {
  const std::int64_t count = last - first, columns = block_columns(count), ld = block_ld(count);
  const std::int64_t v_row_step = xi_step(p.channels, ld);
  for (int c = 0; c < p.channels; ++c) {
    for_each_run(p, first, last, [&](std::int64_t column, std::int64_t n, int ty, int tx, int) {
      const float* patch =
          padded + (n * p.channels + c) * p.padded_plane + 2 * ty * p.padded_w + 2 * tx;
      transform_input_run(p, patch, v + c * ld + column, v_row_step);
    });
    // The panels' columns past the block's tiles: zeros, so that garbage in
    // them cannot slow the products down (denormals) or leak into a result.
    for (int xi = 0; xi < 16; ++xi)
      std::fill(v + xi * v_row_step + c * ld + count, v + xi * v_row_step + c * ld + columns, 0.0f);
  }
}

/// Tiles [first, last) of the batch and output channels [o_first, o_last),
/// whose transformed weights u holds (transform_weights): V, M and the
/// output transform into y.
inline void block(const plan& p, std::int64_t first, std::int64_t last, const float* padded,
                  const float* u, int o_first, int o_last, const float* bias, float* y, float* v,
                  float* m) {
  const std::int64_t ld = block_ld(last - first);
  const int rows = o_last - o_first;
  transform_input_block(p, first, last, padded, v);
  multiply(u, rows, p.channels, v, block_columns(last - first), ld, m);
  const std::int64_t m_row_step = xi_step(rows, ld);
  const std::int64_t out_plane = std::int64_t{p.out_h} * p.out_w;
  for_each_run(p, first, last, [&](std::int64_t column, std::int64_t n, int ty, int tx, int run) {
    for (int o = o_first; o < o_last; ++o)
      transform_output_run(
          p, m + (o - o_first) * ld + column, m_row_step, run, bias ? bias[o] : 0.0f, 2 * ty,
          2 * tx,
          y + (n * p.out_channels + o) * out_plane + std::int64_t{2 * ty} * p.out_w + 2 * tx);
  });
}

/// dy in channels-last order with a zero border: dyt[n][y][x][o] for
/// y < 2 * tile_rows, x < 2 * tile_cols, o < ldk (a multiple of nr), zero
/// where no output is. The gradient's transform then loads `lanes` output
/// channels of one position as one vector.
inline void transpose_output_gradient(const plan& p, int batch, const float* dy, std::int64_t ldk,
                                      float* dyt) {
  const std::int64_t rows = 2 * std::int64_t{p.tile_rows}, cols = 2 * std::int64_t{p.tile_cols};
  const std::int64_t out_plane = std::int64_t{p.out_h} * p.out_w;
  parallel_for(batch * rows, cols * ldk, [&](std::int64_t row) {
    const std::int64_t n = row / rows, oy = row % rows;
    float* dst = dyt + row * cols * ldk;
    std::fill(dst, dst + cols * ldk, 0.0f);
    if (oy >= p.out_h) return;
    for (int o = 0; o < p.out_channels; ++o) {
      const float* src = dy + (n * p.out_channels + o) * out_plane + oy * p.out_w;
      for (int ox = 0; ox < p.out_w; ++ox) dst[ox * ldk + o] = src[ox];
    }
  });
}

/// dmt[ξ][column][o] = (A dY A^T)[ξ] for the 2x2 output-gradient tiles dY
/// of tiles [first, last), A = [1 0; 1 1; 1 -1; 0 -1]: the gradient of the
/// output transform. Rows past the last tile are zeros.
inline void transform_output_gradient_block(const plan& p, std::int64_t first, std::int64_t last,
                                            const float* dyt, std::int64_t ldk, float* dmt) {
  const std::int64_t count = last - first, columns = block_columns(count);
  const std::int64_t cols = 2 * std::int64_t{p.tile_cols};
  const std::int64_t per_sample = std::int64_t{p.tile_rows} * p.tile_cols;
  const std::int64_t dmt_step = xi_step(columns, ldk);
  for (std::int64_t column = 0; column < count; ++column) {
    const std::int64_t t = first + column, n = t / per_sample, r = t % per_sample;
    const std::int64_t ty = r / p.tile_cols, tx = r % p.tile_cols;
    const float* top = dyt + ((n * 2 * p.tile_rows + 2 * ty) * cols + 2 * tx) * ldk;
    const float* bottom = top + cols * ldk;
    float* dst = dmt + column * ldk;
    for (std::int64_t o = 0; o < ldk; o += lanes) {
      const pack y00 = load(top + o), y01 = load(top + ldk + o);
      const pack y10 = load(bottom + o), y11 = load(bottom + ldk + o);
      // A dY: rows y0, y0 + y1, y0 - y1, -y1; then (A dY) A^T by columns.
      const pack rows[4][2] = {
          {y00, y01}, {y00 + y10, y01 + y11}, {y00 - y10, y01 - y11}, {-y10, -y11}};
      for (int i = 0; i < 4; ++i) {
        store(dst + (4 * i + 0) * dmt_step + o, rows[i][0]);
        store(dst + (4 * i + 1) * dmt_step + o, rows[i][0] + rows[i][1]);
        store(dst + (4 * i + 2) * dmt_step + o, rows[i][0] - rows[i][1]);
        store(dst + (4 * i + 3) * dmt_step + o, -rows[i][1]);
      }
    }
  }
  for (int xi = 0; xi < 16; ++xi)
    std::fill(dmt + xi * dmt_step + count * ldk, dmt + xi * dmt_step + columns * ldk, 0.0f);
}

/// dut[ξ] (channels x ldk) += V[ξ] (channels x columns, leading dimension
/// ld) · dmt[ξ] (columns x ldk): the gradient of U, transposed, summed over a
/// block's tiles.
inline void multiply_gradient(const float* v, std::int64_t channels, std::int64_t columns,
                              std::int64_t ld, const float* dmt, std::int64_t ldk, float* dut) {
  for (int xi = 0; xi < 16; ++xi)
    multiply_in_place(channels, ldk, columns, v + xi * xi_step(channels, ld), ld,
                      dmt + xi * xi_step(columns, ldk), ldk, dut + xi * channels * ldk, ldk);
}

/// dw[o][c] += G^T dU[o][c] G (3x3 from 4x4), dU[ξ][o][c] = dut[ξ][c][o].
inline void transform_weight_gradient(const plan& p, const float* dut, std::int64_t ldk,
                                      float* dw) {
  const std::int64_t matrix = std::int64_t{p.channels} * ldk;
  parallel_for(p.out_channels, 64 * p.channels, [&](std::int64_t o) {
    for (int c = 0; c < p.channels; ++c) {
      float d[4][4];
      for (int xi = 0; xi < 16; ++xi) d[xi / 4][xi % 4] = dut[xi * matrix + c * ldk + o];
      // G^T = [1 1/2 1/2 0; 0 1/2 -1/2 0; 0 1/2 1/2 1], on the rows, then the columns.
      float r[3][4];
      for (int j = 0; j < 4; ++j) {
        r[0][j] = d[0][j] + 0.5f * (d[1][j] + d[2][j]);
        r[1][j] = 0.5f * (d[1][j] - d[2][j]);
        r[2][j] = 0.5f * (d[1][j] + d[2][j]) + d[3][j];
      }
      float* kernel = dw + (o * p.channels + c) * 9;
      for (int i = 0; i < 3; ++i) {
        kernel[3 * i + 0] += r[i][0] + 0.5f * (r[i][1] + r[i][2]);
        kernel[3 * i + 1] += 0.5f * (r[i][1] - r[i][2]);
        kernel[3 * i + 2] += 0.5f * (r[i][1] + r[i][2]) + r[i][3];
      }
    }
  });
}

}  // namespace winograd

/// Whether conv2d_winograd should compute this float convolution: a 3x3
/// kernel, stride and dilation 1, one group, enough channels on both sides
/// for the products to outweigh the transforms, and enough tiles that the
/// GEMM's panels are mostly full (a 7x7 map of one sample has 16 tiles).
inline bool winograd_convolution_applies(const window_geometry& g, int batch) {
  if (g.kernel_h != 3 || g.kernel_w != 3 || g.stride_h != 1 || g.stride_w != 1 ||
      g.dilation_h != 1 || g.dilation_w != 1 || g.groups != 1)
    return false;
  if (g.in_c < 16 || g.out_c < 16) return false;
  const winograd::plan p(g, batch);
  // Few tiles cannot repay the weight transform and U's reads: measured at
  // one sample, 512 channels on 7x7 (16 tiles) ran 1.5-3x slower than
  // direct, 256 on 14x14 (49 tiles) 1.2x faster.
  if (p.tiles < 32) return false;
  // 16 products per tile against the direct form's 9 per output.
  return 16 * winograd::block_columns(p.tiles) * 3 <= 9 * std::int64_t{batch} * g.out_plane() * 2;
}

/// y = conv(x, w) + bias for a whole batch (winograd_convolution_applies):
/// x is [batch][in_c][in_h][in_w], w [out_c][in_c][3][3], bias [out_c] or
/// null, y [batch][out_c][out_h][out_w], overwritten. Outside a parallel
/// region the tiles, or the output channels, are split across threads.
inline void conv2d_winograd(const window_geometry& g, int batch, const float* x, const float* w,
                            const float* bias, float* y) {
  const winograd::plan p(g, batch);
  const float* padded = winograd::pad(g, p, batch, x);
  const std::int64_t block_tiles = p.block_tiles();
  const std::int64_t work = 2 * 16 * std::int64_t{p.channels} * p.out_channels * p.tiles;
  const std::int64_t ld = winograd::block_ld(block_tiles);
  // U for output channels [o_first, o_last), in this thread's scratch.
  const auto transformed_weights = [&](int o_first, int o_last) {
    float* u = scratch<float>(scratch_slot::winograd,
                              16 * static_cast<std::size_t>(o_last - o_first) * p.channels);
    winograd::transform_weights(p, o_first, o_last, w, u);
    return u;
  };
  // Tiles [first, last) of output channels [o_first, o_last), block by block.
  const auto run = [&](std::int64_t first, std::int64_t last, int o_first, int o_last,
                       const float* u) {
    float* v = scratch<float>(
        scratch_slot::gemm, 16 * static_cast<std::size_t>(winograd::xi_step(p.channels, ld) +
                                                          winograd::xi_step(o_last - o_first, ld)));
    float* m = v + 16 * winograd::xi_step(p.channels, ld);
    for (std::int64_t t = first; t < last; t += block_tiles)
      winograd::block(p, t, std::min(last, t + block_tiles), padded, u, o_first, o_last, bias, y, v,
                      m);
  };
  // Threads take output channels when there are at least half as many as
  // tiles, each with its own slice of U, transformed and then read from its
  // own cache; the input transform is repeated per thread. Split by tiles,
  // every thread reads all of U, half of it written by the other threads.
  // Two threads (Zen 5): 256 channels on 14x14 at batch 1 0.94 -> 0.53 ms,
  // 512 on 7x7 at batch 8 5.6 -> 4.3; 64 on 56x56 at batch 8 would go
  // 3.3 -> 4.8 ms the other way. The results are the same bits either way.
  if (2 * std::int64_t{p.out_channels} >= p.tiles) {
    parallel_chunks(p.out_channels, sgemm::mr, work,
                    [&](std::int64_t o_first, std::int64_t o_last) {
                      const int first = static_cast<int>(o_first), last = static_cast<int>(o_last);
                      run(0, p.tiles, first, last, transformed_weights(first, last));
                    });
    return;
  }
  const float* u = transformed_weights(0, p.out_channels);
  parallel_chunks(p.tiles, sgemm::nr, work, [&](std::int64_t first, std::int64_t last) {
    run(first, last, 0, p.out_channels, u);
  });
}

/// dw += the weight gradient of conv2d_winograd, summed over the batch, by
/// the same transforms: dU[ξ] = Σ over tiles of (A dY A^T)[ξ] V[ξ]^T, 16
/// GEMMs whose depth is the tiles, then dw = G^T dU G. Each thread sums its
/// blocks into its own dU; the threads' sums are added in thread order, so
/// the result does not depend on timing. Outside a parallel region the tiles
/// are split across threads.
inline void conv2d_winograd_weight_gradient(const window_geometry& g, int batch, const float* x,
                                            const float* dy, float* dw) {
  const winograd::plan p(g, batch);
  const std::int64_t ldk = winograd::block_columns(p.out_channels);
  const std::int64_t gradient = 16 * std::int64_t{p.channels} * ldk;
  const float* padded = winograd::pad(g, p, batch, x);
  float* dyt = scratch<float>(scratch_slot::extra,
                              static_cast<std::size_t>(p.tiles) * 4 * ldk + 4 * winograd::lanes);
  winograd::transpose_output_gradient(p, batch, dy, ldk, dyt);
  const std::int64_t block_tiles = p.block_tiles();
  const std::int64_t work = 2 * 16 * std::int64_t{p.channels} * p.out_channels * p.tiles;
  const int team = team_size(p.tiles, work);
  float* sums = scratch<float>(scratch_slot::winograd, static_cast<std::size_t>(team) * gradient);
  parallel_ranges(p.tiles, work, [&](int thread, std::int64_t first, std::int64_t last) {
    float* dut = sums + thread * gradient;
    std::fill(dut, dut + gradient, 0.0f);
    const std::int64_t ld = winograd::block_ld(block_tiles);
    float* v = scratch<float>(scratch_slot::gemm,
                              16 * static_cast<std::size_t>(winograd::xi_step(p.channels, ld) +
                                                            winograd::xi_step(block_tiles, ldk)));
    float* dmt = v + 16 * winograd::xi_step(p.channels, ld);
    for (std::int64_t t = first; t < last; t += block_tiles) {
      const std::int64_t end = std::min(last, t + block_tiles);
      winograd::transform_input_block(p, t, end, padded, v);
      winograd::transform_output_gradient_block(p, t, end, dyt, ldk, dmt);
      winograd::multiply_gradient(v, p.channels, winograd::block_columns(end - t),
                                  winograd::block_ld(end - t), dmt, ldk, dut);
    }
  });
  parallel_for(gradient, team, [&](std::int64_t i) {
    for (int t = 1; t < team; ++t) sums[i] += sums[t * gradient + i];
  });
  winograd::transform_weight_gradient(p, sums, ldk, dw);
}

}  // namespace typenet::cpu
