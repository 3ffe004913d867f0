// typenet/backend/interface.hpp — every kernel a backend provides, in one place.
//
// Layers, losses and optimizers run their arithmetic through the functions
// below, with a device tag first and typed views (backend/view.hpp) of their
// operands: `backend::conv2d_forward(Device{}, g, batch_view(x), sample_view(w), bias,
// batch_view(y))`. Each function
//   1. checks that a backend is declared for the device and that it provides
//      the kernel, at compile time, with a message naming the kernel;
//   2. checks the operands' extents against one another and the geometry
//      (a shape_error naming the kernel and the operand, before any work);
//   3. calls `kernels<Device>::<kernel>` with the operands' memory and
//      run-time extents.
// Parameter gradients (dw, db, dgamma, dbeta) accumulate, as PyTorch's
// .grad does; everything else is overwritten.
//
// A backend is a specialization `template <> struct kernels<Device>` whose
// static member functions implement these kernels on raw device memory:
// backend/cpu/kernels.hpp declares the Cpu one, backend/cuda/kernels.cuh the
// Cuda one. A new backend declares its own and implements what it needs;
// what it lacks fails here, at the interface, not inside a layer.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <type_traits>

#include "typenet/backend/shared/loss_math.hpp"
#include "typenet/backend/shared/update_rules.hpp"
#include "typenet/backend/view.hpp"
#include "typenet/core/errors.hpp"
#include "typenet/core/geometry.hpp"
#include "typenet/core/windows.hpp"

namespace typenet::backend {

/// The kernels of one device's backend, as static member functions; each
/// backend specializes it (backend/cpu/kernels.hpp, backend/cuda/kernels.cuh).
template <class Device>
struct kernels;

/// Whether a backend is declared for `Device` in this translation unit.
template <class Device>
concept declared_backend = requires {
  sizeof(kernels<Device>);
};

/// A read-only operand. Not deduced, so a mutable view converts to it; the
/// scalar type is deduced from the kernel's outputs.
template <class T, std::size_t Rank>
using input = std::type_identity_t<view<const T, Rank>>;

namespace checks {

template <class Device>
consteval void require_backend() {
  static_assert(declared_backend<Device>,
                "typenet::backend: no backend is declared for this device: <typenet/nn.hpp> "
                "declares the Cpu one, <typenet/cuda.cuh> (nvcc) the Cuda one");
}

// The failures are out of line: one copy of the message building, not one
// inlined into every layer's forward and backward.
[[noreturn, gnu::noinline, gnu::cold]] inline void wrong_operand(const char* kernel,
                                                                 const char* operand,
                                                                 const std::string& found,
                                                                 const std::string& expected) {
  throw shape_error(std::string("typenet::backend::") + kernel + ": operand `" + operand +
                    "` has extents " + found + ", expected " + expected);
}
[[noreturn, gnu::noinline, gnu::cold]] inline void wrong_extents(
    const char* kernel, const char* operand, std::span<const std::int64_t> found,
    std::span<const std::int64_t> expected) {
  wrong_operand(kernel, operand, typenet::detail::extents_string(found),
                typenet::detail::extents_string(expected));
}
[[noreturn, gnu::noinline, gnu::cold]] inline void strided_operand(const char* kernel,
                                                                   const char* operand) {
  throw shape_error(std::string("typenet::backend::") + kernel + ": operand `" + operand +
                    "` is strided; kernels take packed row-major memory");
}

/// Throws unless `v` has exactly the extents `expected` and is packed.
template <class T, std::size_t Rank>
void expect(const char* kernel, const char* operand, const view<T, Rank>& v,
            const std::array<std::int64_t, Rank>& expected) {
  if (v.extents != expected) [[unlikely]]
    wrong_extents(kernel, operand, v.extents, expected);
  if (!v.is_contiguous()) [[unlikely]]
    strided_operand(kernel, operand);
}

/// Like expect for an operand that may be absent (a null view).
template <class T, std::size_t Rank>
void expect_optional(const char* kernel, const char* operand, const view<T, Rank>& v,
                     const std::array<std::int64_t, Rank>& expected) {
  if (v.data != nullptr) expect(kernel, operand, v, expected);
}

/// Throws unless the vector `v` holds `n` elements.
template <class T>
void expect_size(const char* kernel, const char* operand, const view<T, 1>& v, std::int64_t n) {
  expect(kernel, operand, v, {n});
}

/// Checks a window kernel's operands: `in` (N, in_c, in_h, in_w) and `out`
/// (N, out_c, out_h, out_w) of geometry g; returns N.
template <class T, class U>
std::int64_t expect_window(const char* kernel, const window_geometry& g, const view<T, 4>& in,
                           const char* in_name, const view<U, 4>& out, const char* out_name) {
  const std::int64_t n = in.extent(0);
  expect(kernel, in_name, in, {n, g.in_c, g.in_h, g.in_w});
  expect(kernel, out_name, out, {n, g.out_c, g.out_h, g.out_w});
  return n;
}

}  // namespace checks

// ---- element-wise ---------------------------------------------------------------------------

/// out = a + b.
template <class D, class T>
void add(D, input<T, 1> a, input<T, 1> b, view<T, 1> out) {
  checks::require_backend<D>();
  static_assert(
      requires(const T* p, T* q) { kernels<D>::add(std::int64_t{}, p, p, q); },
      "typenet::backend: this device's backend lacks the kernel `add`");
  checks::expect_size("add", "b", b, a.size());
  checks::expect_size("add", "out", out, a.size());
  kernels<D>::add(a.size(), a.data, b.data, out.data);
}

/// out = a * b (element by element).
template <class D, class T>
void multiply(D, input<T, 1> a, input<T, 1> b, view<T, 1> out) {
  checks::require_backend<D>();
  static_assert(
      requires(const T* p, T* q) { kernels<D>::multiply(std::int64_t{}, p, p, q); },
      "typenet::backend: this device's backend lacks the kernel `multiply`");
  checks::expect_size("multiply", "b", b, a.size());
  checks::expect_size("multiply", "out", out, a.size());
  kernels<D>::multiply(a.size(), a.data, b.data, out.data);
}

/// out = in.
template <class D, class T>
void copy_values(D, input<T, 1> in, view<T, 1> out) {
  checks::require_backend<D>();
  static_assert(
      requires(const T* p, T* q) { kernels<D>::copy_values(std::int64_t{}, p, q); },
      "typenet::backend: this device's backend lacks the kernel `copy_values`");
  checks::expect_size("copy_values", "out", out, in.size());
  kernels<D>::copy_values(in.size(), in.data, out.data);
}

/// Every element of out = value.
template <class D, class T>
void fill_values(D, view<T, 1> out, std::type_identity_t<T> value) {
  checks::require_backend<D>();
  static_assert(
      requires(T * q) { kernels<D>::fill_values(std::int64_t{}, q, value); },
      "typenet::backend: this device's backend lacks the kernel `fill_values`");
  kernels<D>::fill_values(out.size(), out.data, value);
}

/// Dropout in training: mask = Bernoulli(1 - p) / (1 - p) from counter-based
/// random `stream`, y = x * mask.
template <class D, class T>
void dropout_forward(D, double p, std::uint64_t stream, input<T, 1> x, view<T, 1> mask,
                     view<T, 1> y) {
  checks::require_backend<D>();
  static_assert(
      requires(const T* a, T* q) {
        kernels<D>::dropout_forward(std::int64_t{}, p, stream, a, q, q);
      },
      "typenet::backend: this device's backend lacks the kernel `dropout_forward`");
  checks::expect_size("dropout_forward", "mask", mask, x.size());
  checks::expect_size("dropout_forward", "y", y, x.size());
  kernels<D>::dropout_forward(x.size(), p, stream, x.data, mask.data, y.data);
}

/// y = Fn::forward(x) element by element (the activations of layers/activations.hpp).
template <class Fn, class D, class T>
void map_forward(D, input<T, 1> x, view<T, 1> y) {
  checks::require_backend<D>();
  static_assert(
      requires(const T* a, T* q) { kernels<D>::template map_forward<Fn>(std::int64_t{}, a, q); },
      "typenet::backend: this device's backend lacks the kernel `map_forward`");
  checks::expect_size("map_forward", "y", y, x.size());
  kernels<D>::template map_forward<Fn>(x.size(), x.data, y.data);
}

/// dx = Fn::backward(x, y, dy) element by element.
template <class Fn, class D, class T>
void map_backward(D, input<T, 1> x, input<T, 1> y, input<T, 1> dy, view<T, 1> dx) {
  checks::require_backend<D>();
  static_assert(
      requires(const T* a, T* q) {
        kernels<D>::template map_backward<Fn>(std::int64_t{}, a, a, a, q);
      },
      "typenet::backend: this device's backend lacks the kernel `map_backward`");
  checks::expect_size("map_backward", "y", y, x.size());
  checks::expect_size("map_backward", "dy", dy, x.size());
  checks::expect_size("map_backward", "dx", dx, x.size());
  kernels<D>::template map_backward<Fn>(x.size(), x.data, y.data, dy.data, dx.data);
}

/// dst[:, first : first + C] = src (or += with `accumulate`), src (N, C, plane) and
/// dst (N, C', plane): one branch of a concatenation along channels.
template <class D, class T>
void copy_into_channels(D, input<T, 3> src, view<T, 3> dst, std::int64_t first, bool accumulate) {
  checks::require_backend<D>();
  static_assert(
      requires(const T* p, T* q) {
        kernels<D>::copy_blocks(std::int64_t{}, std::int64_t{}, p, std::int64_t{}, q,
                                std::int64_t{}, bool{});
      },
      "typenet::backend: this device's backend lacks the kernel `copy_blocks`");
  checks::expect("copy_into_channels", "dst", dst, {src.extent(0), dst.extent(1), src.extent(2)});
  checks::expect("copy_into_channels", "src", src, src.extents);
  if (first < 0 || first + src.extent(1) > dst.extent(1))
    checks::wrong_operand("copy_into_channels", "src", src.extents_string(),
                          std::to_string(dst.extent(1) - first) + " channels or fewer");
  const std::int64_t plane = src.extent(2);
  kernels<D>::copy_blocks(src.extent(0), src.extent(1) * plane, src.data, src.extent(1) * plane,
                          dst.data + first * plane, dst.extent(1) * plane, accumulate);
}

/// dst = src[:, first : first + C] (or += with `accumulate`), src (N, C', plane) and
/// dst (N, C, plane): the gradient of one branch of a concatenation.
template <class D, class T>
void copy_from_channels(D, input<T, 3> src, std::int64_t first, view<T, 3> dst, bool accumulate) {
  checks::require_backend<D>();
  static_assert(
      requires(const T* p, T* q) {
        kernels<D>::copy_blocks(std::int64_t{}, std::int64_t{}, p, std::int64_t{}, q,
                                std::int64_t{}, bool{});
      },
      "typenet::backend: this device's backend lacks the kernel `copy_blocks`");
  checks::expect("copy_from_channels", "src", src, {dst.extent(0), src.extent(1), dst.extent(2)});
  checks::expect("copy_from_channels", "dst", dst, dst.extents);
  if (first < 0 || first + dst.extent(1) > src.extent(1))
    checks::wrong_operand("copy_from_channels", "dst", dst.extents_string(),
                          std::to_string(src.extent(1) - first) + " channels or fewer");
  const std::int64_t plane = dst.extent(2);
  kernels<D>::copy_blocks(dst.extent(0), dst.extent(1) * plane, src.data + first * plane,
                          src.extent(1) * plane, dst.data, dst.extent(1) * plane, accumulate);
}

/// y (N, C, H, W) = x (N, C, h, w) placed with its first row at `top` and its
/// first column at `left`, zeros around it (torch.nn.functional.pad with
/// constant zeros; a negative offset crops). Its adjoint is pad_planes of
/// dy with the offsets negated.
template <class D, class T>
void pad_planes(D, input<T, 4> x, int top, int left, view<T, 4> y) {
  checks::require_backend<D>();
  static_assert(
      requires(const T* p, T* q) {
        kernels<D>::pad_planes(std::int64_t{}, int{}, int{}, int{}, int{}, int{}, int{}, p, q);
      },
      "typenet::backend: this device's backend lacks the kernel `pad_planes`");
  checks::expect("pad_planes", "x", x, x.extents);
  checks::expect("pad_planes", "y", y, {x.extent(0), x.extent(1), y.extent(2), y.extent(3)});
  kernels<D>::pad_planes(x.extent(0) * x.extent(1), static_cast<int>(x.extent(2)),
                         static_cast<int>(x.extent(3)), static_cast<int>(y.extent(2)),
                         static_cast<int>(y.extent(3)), top, left, x.data, y.data);
}

// ---- host transfers -------------------------------------------------------------------------

/// Copies host memory into device memory (weights, optimizer state).
template <class D, class T>
void copy_from_host(D, input<T, 1> host, view<T, 1> out) {
  checks::require_backend<D>();
  static_assert(
      requires(const T* p, T* q) { kernels<D>::copy_from_host(std::int64_t{}, p, q); },
      "typenet::backend: this device's backend lacks the kernel `copy_from_host`");
  checks::expect_size("copy_from_host", "out", out, host.size());
  kernels<D>::copy_from_host(host.size(), host.data, out.data);
}

/// Copies device memory into host memory (saving weights).
template <class D, class T>
void copy_to_host(D, input<T, 1> values, view<T, 1> host) {
  checks::require_backend<D>();
  static_assert(
      requires(const T* p, T* q) { kernels<D>::copy_to_host(std::int64_t{}, p, q); },
      "typenet::backend: this device's backend lacks the kernel `copy_to_host`");
  checks::expect_size("copy_to_host", "host", host, values.size());
  kernels<D>::copy_to_host(values.size(), values.data, host.data);
}

// ---- convolution ----------------------------------------------------------------------------

/// y (N, out_c, out_h, out_w) = x (N, in_c, in_h, in_w) convolved with w
/// (out_c, in_c / groups, kh, kw), plus bias (out_c; may be absent).
template <class D, class T>
void conv2d_forward(D, const window_geometry& g, input<T, 4> x, input<T, 4> w, input<T, 1> bias,
                    view<T, 4> y) {
  checks::require_backend<D>();
  static_assert(
      requires(const T* p, T* q) { kernels<D>::conv2d_forward(g, int{}, p, p, p, q); },
      "typenet::backend: this device's backend lacks the kernel `conv2d_forward`");
  const std::int64_t n = x.extent(0);
  checks::expect("conv2d_forward", "x", x, {n, g.in_c, g.in_h, g.in_w});
  checks::expect("conv2d_forward", "w", w, {g.out_c, g.in_c / g.groups, g.kernel_h, g.kernel_w});
  checks::expect_optional("conv2d_forward", "bias", bias, {g.out_c});
  checks::expect("conv2d_forward", "y", y, {n, g.out_c, g.out_h, g.out_w});
  kernels<D>::conv2d_forward(g, static_cast<int>(n), x.data, w.data, bias.data, y.data);
}

/// The adjoint of conv2d_forward: y (N, in_c, in_h, in_w) from x (N, out_c,
/// out_h, out_w) and the same w, plus bias (in_c; may be absent).
template <class D, class T>
void conv_transpose2d_forward(D, const window_geometry& g, input<T, 4> x, input<T, 4> w,
                              input<T, 1> bias, view<T, 4> y) {
  checks::require_backend<D>();
  static_assert(
      requires(const T* p, T* q) { kernels<D>::conv_transpose2d_forward(g, int{}, p, p, p, q); },
      "typenet::backend: this device's backend lacks the kernel `conv_transpose2d_forward`");
  const std::int64_t n = x.extent(0);
  checks::expect("conv_transpose2d_forward", "x", x, {n, g.out_c, g.out_h, g.out_w});
  checks::expect("conv_transpose2d_forward", "w", w,
                 {g.out_c, g.in_c / g.groups, g.kernel_h, g.kernel_w});
  checks::expect_optional("conv_transpose2d_forward", "bias", bias, {g.in_c});
  checks::expect("conv_transpose2d_forward", "y", y, {n, g.in_c, g.in_h, g.in_w});
  kernels<D>::conv_transpose2d_forward(g, static_cast<int>(n), x.data, w.data, bias.data, y.data);
}

/// dx (N, in_c, in_h, in_w) of conv2d_forward from dy (N, out_c, out_h, out_w).
template <class D, class T>
void conv2d_backward_data(D, const window_geometry& g, input<T, 4> dy, input<T, 4> w,
                          view<T, 4> dx) {
  checks::require_backend<D>();
  static_assert(
      requires(const T* p, T* q) { kernels<D>::conv2d_backward_data(g, int{}, p, p, q); },
      "typenet::backend: this device's backend lacks the kernel `conv2d_backward_data`");
  const std::int64_t n = dy.extent(0);
  checks::expect("conv2d_backward_data", "dy", dy, {n, g.out_c, g.out_h, g.out_w});
  checks::expect("conv2d_backward_data", "w", w,
                 {g.out_c, g.in_c / g.groups, g.kernel_h, g.kernel_w});
  checks::expect("conv2d_backward_data", "dx", dx, {n, g.in_c, g.in_h, g.in_w});
  kernels<D>::conv2d_backward_data(g, static_cast<int>(n), dy.data, w.data, dx.data);
}

/// dw (out_c, in_c / groups, kh, kw) += the gradient of conv2d_forward, from x and dy.
template <class D, class T>
void conv2d_backward_weight(D, const window_geometry& g, input<T, 4> x, input<T, 4> dy,
                            view<T, 4> dw) {
  checks::require_backend<D>();
  static_assert(
      requires(const T* p, T* q) { kernels<D>::conv2d_backward_weight(g, int{}, p, p, q); },
      "typenet::backend: this device's backend lacks the kernel `conv2d_backward_weight`");
  const std::int64_t n = x.extent(0);
  checks::expect("conv2d_backward_weight", "x", x, {n, g.in_c, g.in_h, g.in_w});
  checks::expect("conv2d_backward_weight", "dy", dy, {n, g.out_c, g.out_h, g.out_w});
  checks::expect("conv2d_backward_weight", "dw", dw,
                 {g.out_c, g.in_c / g.groups, g.kernel_h, g.kernel_w});
  kernels<D>::conv2d_backward_weight(g, static_cast<int>(n), x.data, dy.data, dw.data);
}

/// y (N, C, plane) += bias (C), per channel.
template <class D, class T>
void add_channel_bias(D, input<T, 1> bias, view<T, 3> y) {
  checks::require_backend<D>();
  static_assert(
      requires(const T* p, T* q) {
        kernels<D>::add_channel_bias(int{}, int{}, std::int64_t{}, p, q);
      },
      "typenet::backend: this device's backend lacks the kernel `add_channel_bias`");
  checks::expect_size("add_channel_bias", "bias", bias, y.extent(1));
  kernels<D>::add_channel_bias(static_cast<int>(y.extent(0)), static_cast<int>(y.extent(1)),
                               y.extent(2), bias.data, y.data);
}

/// db (C) += the sum of dy (N, C, plane) over samples and positions.
template <class D, class T>
void channel_bias_backward(D, input<T, 3> dy, view<T, 1> db) {
  checks::require_backend<D>();
  static_assert(
      requires(const T* p, T* q) {
        kernels<D>::channel_bias_backward(int{}, int{}, std::int64_t{}, p, q);
      },
      "typenet::backend: this device's backend lacks the kernel `channel_bias_backward`");
  checks::expect_size("channel_bias_backward", "db", db, dy.extent(1));
  kernels<D>::channel_bias_backward(static_cast<int>(dy.extent(0)), static_cast<int>(dy.extent(1)),
                                    dy.extent(2), dy.data, db.data);
}

// ---- linear ---------------------------------------------------------------------------------

/// y (N, out) = x (N, in) w^T, w (out, in), plus bias (out; may be absent).
template <class D, class T>
void linear_forward(D, input<T, 2> x, input<T, 2> w, input<T, 1> bias, view<T, 2> y) {
  checks::require_backend<D>();
  static_assert(
      requires(const T* p, T* q) { kernels<D>::linear_forward(int{}, int{}, int{}, p, p, p, q); },
      "typenet::backend: this device's backend lacks the kernel `linear_forward`");
  const std::int64_t n = x.extent(0), in = x.extent(1), out = w.extent(0);
  checks::expect("linear_forward", "w", w, {out, in});
  checks::expect_optional("linear_forward", "bias", bias, {out});
  checks::expect("linear_forward", "y", y, {n, out});
  kernels<D>::linear_forward(static_cast<int>(n), static_cast<int>(in), static_cast<int>(out),
                             x.data, w.data, bias.data, y.data);
}

/// The gradients of linear_forward: dx = dy w, dw += dy^T x, db += the column
/// sums of dy; each of dx, dw and db may be absent.
template <class D, class T>
void linear_backward(D, input<T, 2> x, input<T, 2> w, input<T, 2> dy, view<T, 2> dx, view<T, 2> dw,
                     view<T, 1> db) {
  checks::require_backend<D>();
  static_assert(
      requires(const T* p, T* q) {
        kernels<D>::linear_backward(int{}, int{}, int{}, p, p, p, q, q, q);
      },
      "typenet::backend: this device's backend lacks the kernel `linear_backward`");
  const std::int64_t n = x.extent(0), in = x.extent(1), out = w.extent(0);
  checks::expect("linear_backward", "w", w, {out, in});
  checks::expect("linear_backward", "dy", dy, {n, out});
  checks::expect_optional("linear_backward", "dx", dx, {n, in});
  checks::expect_optional("linear_backward", "dw", dw, {out, in});
  checks::expect_optional("linear_backward", "db", db, {out});
  kernels<D>::linear_backward(static_cast<int>(n), static_cast<int>(in), static_cast<int>(out),
                              x.data, w.data, dy.data, dx.data, dw.data, db.data);
}

// ---- batch normalization --------------------------------------------------------------------

/// Training-mode BatchNorm of x (N, C, plane): batch statistics into
/// save_mean/save_invstd (C), running statistics (C) updated with `momentum`.
template <class D, class T>
void batch_norm_forward_train(D, double momentum, double eps, input<T, 3> x, input<T, 1> gamma,
                              input<T, 1> beta, view<T, 1> running_mean, view<T, 1> running_var,
                              view<T, 1> save_mean, view<T, 1> save_invstd, view<T, 3> y) {
  checks::require_backend<D>();
  const batch_norm_config c{static_cast<int>(x.extent(0)), static_cast<int>(x.extent(1)),
                            x.extent(2), momentum, eps};
  static_assert(
      requires(const T* p, T* q) {
        kernels<D>::batch_norm_forward_train(c, p, p, p, q, q, q, q, q);
      },
      "typenet::backend: this device's backend lacks the kernel `batch_norm_forward_train`");
  const std::int64_t channels = x.extent(1);
  for (auto [name, v] : {std::pair<const char*, view<const T, 1>>{"gamma", gamma},
                         {"beta", beta},
                         {"running_mean", running_mean},
                         {"running_var", running_var},
                         {"save_mean", save_mean},
                         {"save_invstd", save_invstd}})
    checks::expect_size("batch_norm_forward_train", name, v, channels);
  checks::expect("batch_norm_forward_train", "y", y, x.extents);
  kernels<D>::batch_norm_forward_train(c, x.data, gamma.data, beta.data, running_mean.data,
                                       running_var.data, save_mean.data, save_invstd.data, y.data);
}

/// Evaluation-mode BatchNorm of x (N, C, plane) with the running statistics.
template <class D, class T>
void batch_norm_forward_eval(D, double eps, input<T, 3> x, input<T, 1> gamma, input<T, 1> beta,
                             input<T, 1> running_mean, input<T, 1> running_var, view<T, 3> y) {
  checks::require_backend<D>();
  const batch_norm_config c{static_cast<int>(x.extent(0)), static_cast<int>(x.extent(1)),
                            x.extent(2), 0.0, eps};
  static_assert(
      requires(const T* p, T* q) { kernels<D>::batch_norm_forward_eval(c, p, p, p, p, p, q); },
      "typenet::backend: this device's backend lacks the kernel `batch_norm_forward_eval`");
  const std::int64_t channels = x.extent(1);
  for (auto [name, v] : {std::pair<const char*, view<const T, 1>>{"gamma", gamma},
                         {"beta", beta},
                         {"running_mean", running_mean},
                         {"running_var", running_var}})
    checks::expect_size("batch_norm_forward_eval", name, v, channels);
  checks::expect("batch_norm_forward_eval", "y", y, x.extents);
  kernels<D>::batch_norm_forward_eval(c, x.data, gamma.data, beta.data, running_mean.data,
                                      running_var.data, y.data);
}

/// mean and invstd (C) of evaluation mode from the running statistics, for batch_norm_backward.
template <class D, class T>
void batch_norm_eval_statistics(D, double eps, input<T, 1> running_mean, input<T, 1> running_var,
                                view<T, 1> mean, view<T, 1> invstd) {
  checks::require_backend<D>();
  static_assert(
      requires(const T* p, T* q) {
        kernels<D>::batch_norm_eval_statistics(int{}, eps, p, p, q, q);
      },
      "typenet::backend: this device's backend lacks the kernel `batch_norm_eval_statistics`");
  const std::int64_t channels = running_mean.size();
  checks::expect_size("batch_norm_eval_statistics", "running_var", running_var, channels);
  checks::expect_size("batch_norm_eval_statistics", "mean", mean, channels);
  checks::expect_size("batch_norm_eval_statistics", "invstd", invstd, channels);
  kernels<D>::batch_norm_eval_statistics(static_cast<int>(channels), eps, running_mean.data,
                                         running_var.data, mean.data, invstd.data);
}

/// The gradients of BatchNorm (training: through the batch statistics): dx
/// written, dgamma and dbeta accumulated; each may be absent.
template <class D, class T>
void batch_norm_backward(D, bool training, input<T, 3> x, input<T, 3> dy, input<T, 1> gamma,
                         input<T, 1> mean, input<T, 1> invstd, view<T, 3> dx, view<T, 1> dgamma,
                         view<T, 1> dbeta) {
  checks::require_backend<D>();
  const batch_norm_config c{static_cast<int>(x.extent(0)), static_cast<int>(x.extent(1)),
                            x.extent(2)};
  static_assert(
      requires(const T* p, T* q) {
        kernels<D>::batch_norm_backward(c, training, p, p, p, p, p, q, q, q);
      },
      "typenet::backend: this device's backend lacks the kernel `batch_norm_backward`");
  const std::int64_t channels = x.extent(1);
  checks::expect("batch_norm_backward", "dy", dy, x.extents);
  for (auto [name, v] : {std::pair<const char*, view<const T, 1>>{"gamma", gamma},
                         {"mean", mean},
                         {"invstd", invstd}})
    checks::expect_size("batch_norm_backward", name, v, channels);
  checks::expect_optional("batch_norm_backward", "dx", dx, x.extents);
  checks::expect_optional("batch_norm_backward", "dgamma", dgamma, {channels});
  checks::expect_optional("batch_norm_backward", "dbeta", dbeta, {channels});
  kernels<D>::batch_norm_backward(c, training, x.data, dy.data, gamma.data, mean.data, invstd.data,
                                  dx.data, dgamma.data, dbeta.data);
}

// ---- pooling and resampling -----------------------------------------------------------------

/// y (N, C, out_h, out_w) = the window maxima of x (N, C, in_h, in_w); argmax
/// (like y) = the index of each maximum in its input plane.
template <class D, class T>
void max_pool2d_forward(D, const window_geometry& g, input<T, 4> x, view<T, 4> y,
                        view<std::int32_t, 4> argmax) {
  checks::require_backend<D>();
  static_assert(
      requires(const T* p, T* q, std::int32_t* i) {
        kernels<D>::max_pool2d_forward(g, int{}, p, q, i);
      },
      "typenet::backend: this device's backend lacks the kernel `max_pool2d_forward`");
  const std::int64_t n = x.extent(0);
  checks::expect("max_pool2d_forward", "x", x, {n, g.in_c, g.in_h, g.in_w});
  checks::expect("max_pool2d_forward", "y", y, {n, g.out_c, g.out_h, g.out_w});
  checks::expect("max_pool2d_forward", "argmax", argmax, y.extents);
  kernels<D>::max_pool2d_forward(g, static_cast<int>(n), x.data, y.data, argmax.data);
}

/// dx = dy routed to the maxima recorded by max_pool2d_forward.
template <class D, class T>
void max_pool2d_backward(D, const window_geometry& g, input<T, 4> dy,
                         view<const std::int32_t, 4> argmax, view<T, 4> dx) {
  checks::require_backend<D>();
  static_assert(
      requires(const T* p, T* q, const std::int32_t* i) {
        kernels<D>::max_pool2d_backward(g, int{}, p, i, q);
      },
      "typenet::backend: this device's backend lacks the kernel `max_pool2d_backward`");
  const std::int64_t n = dy.extent(0);
  checks::expect("max_pool2d_backward", "dy", dy, {n, g.out_c, g.out_h, g.out_w});
  checks::expect("max_pool2d_backward", "argmax", argmax, dy.extents);
  checks::expect("max_pool2d_backward", "dx", dx, {n, g.in_c, g.in_h, g.in_w});
  kernels<D>::max_pool2d_backward(g, static_cast<int>(n), dy.data, argmax.data, dx.data);
}

/// y = the window means of x (count_include_pad and ceil_mode are in g's padding).
template <class D, class T>
void avg_pool2d_forward(D, const window_geometry& g, typenet::detail::avg_pool_divisor d,
                        input<T, 4> x, view<T, 4> y) {
  checks::require_backend<D>();
  static_assert(
      requires(const T* p, T* q) { kernels<D>::avg_pool2d_forward(g, d, int{}, p, q); },
      "typenet::backend: this device's backend lacks the kernel `avg_pool2d_forward`");
  const std::int64_t n = checks::expect_window("avg_pool2d_forward", g, x, "x", y, "y");
  kernels<D>::avg_pool2d_forward(g, d, static_cast<int>(n), x.data, y.data);
}

/// dx of avg_pool2d_forward.
template <class D, class T>
void avg_pool2d_backward(D, const window_geometry& g, typenet::detail::avg_pool_divisor d,
                         input<T, 4> dy, view<T, 4> dx) {
  checks::require_backend<D>();
  static_assert(
      requires(const T* p, T* q) { kernels<D>::avg_pool2d_backward(g, d, int{}, p, q); },
      "typenet::backend: this device's backend lacks the kernel `avg_pool2d_backward`");
  const std::int64_t n = checks::expect_window("avg_pool2d_backward", g, dx, "dx", dy, "dy");
  kernels<D>::avg_pool2d_backward(g, d, static_cast<int>(n), dy.data, dx.data);
}

/// y = the means of PyTorch's adaptive windows of x.
template <class D, class T>
void adaptive_avg_pool2d_forward(D, const window_geometry& g, input<T, 4> x, view<T, 4> y) {
  checks::require_backend<D>();
  static_assert(
      requires(const T* p, T* q) { kernels<D>::adaptive_avg_pool2d_forward(g, int{}, p, q); },
      "typenet::backend: this device's backend lacks the kernel `adaptive_avg_pool2d_forward`");
  const std::int64_t n = checks::expect_window("adaptive_avg_pool2d_forward", g, x, "x", y, "y");
  kernels<D>::adaptive_avg_pool2d_forward(g, static_cast<int>(n), x.data, y.data);
}

/// dx of adaptive_avg_pool2d_forward.
template <class D, class T>
void adaptive_avg_pool2d_backward(D, const window_geometry& g, input<T, 4> dy, view<T, 4> dx) {
  checks::require_backend<D>();
  static_assert(
      requires(const T* p, T* q) { kernels<D>::adaptive_avg_pool2d_backward(g, int{}, p, q); },
      "typenet::backend: this device's backend lacks the kernel `adaptive_avg_pool2d_backward`");
  const std::int64_t n =
      checks::expect_window("adaptive_avg_pool2d_backward", g, dx, "dx", dy, "dy");
  kernels<D>::adaptive_avg_pool2d_backward(g, static_cast<int>(n), dy.data, dx.data);
}

/// y = x upsampled (nearest, or bilinear with align_corners=False) to g's output size.
template <class D, class T>
void upsample_forward(D, bool bilinear, const window_geometry& g, input<T, 4> x, view<T, 4> y) {
  checks::require_backend<D>();
  static_assert(
      requires(const T* p, T* q) { kernels<D>::upsample_forward(bilinear, g, int{}, p, q); },
      "typenet::backend: this device's backend lacks the kernel `upsample_forward`");
  const std::int64_t n = checks::expect_window("upsample_forward", g, x, "x", y, "y");
  kernels<D>::upsample_forward(bilinear, g, static_cast<int>(n), x.data, y.data);
}

/// dx of upsample_forward.
template <class D, class T>
void upsample_backward(D, bool bilinear, const window_geometry& g, input<T, 4> dy, view<T, 4> dx) {
  checks::require_backend<D>();
  static_assert(
      requires(const T* p, T* q) { kernels<D>::upsample_backward(bilinear, g, int{}, p, q); },
      "typenet::backend: this device's backend lacks the kernel `upsample_backward`");
  const std::int64_t n = checks::expect_window("upsample_backward", g, dx, "dx", dy, "dy");
  kernels<D>::upsample_backward(bilinear, g, static_cast<int>(n), dy.data, dx.data);
}

// ---- softmax --------------------------------------------------------------------------------

/// y (N, C, inner) = softmax (or log-softmax) of x over C.
template <class D, class T>
void softmax_forward(D, bool log, input<T, 3> x, view<T, 3> y) {
  checks::require_backend<D>();
  static_assert(
      requires(const T* p, T* q) {
        kernels<D>::softmax_forward(log, int{}, int{}, std::int64_t{}, p, q);
      },
      "typenet::backend: this device's backend lacks the kernel `softmax_forward`");
  checks::expect("softmax_forward", "y", y, x.extents);
  kernels<D>::softmax_forward(log, static_cast<int>(x.extent(0)), static_cast<int>(x.extent(1)),
                              x.extent(2), x.data, y.data);
}

/// dx of softmax_forward, from its output y.
template <class D, class T>
void softmax_backward(D, bool log, input<T, 3> y, input<T, 3> dy, view<T, 3> dx) {
  checks::require_backend<D>();
  static_assert(
      requires(const T* p, T* q) {
        kernels<D>::softmax_backward(log, int{}, int{}, std::int64_t{}, p, p, q);
      },
      "typenet::backend: this device's backend lacks the kernel `softmax_backward`");
  checks::expect("softmax_backward", "dy", dy, y.extents);
  checks::expect("softmax_backward", "dx", dx, y.extents);
  kernels<D>::softmax_backward(log, static_cast<int>(y.extent(0)), static_cast<int>(y.extent(1)),
                               y.extent(2), y.data, dy.data, dx.data);
}

// ---- losses ---------------------------------------------------------------------------------

/// The sum over elements of f(p - t).value, and when g is present g =
/// f(p - t).derivative / norm (MSELoss, L1Loss, SmoothL1Loss).
template <class D, class T, class F>
double pointwise_loss_sum(D, input<T, 1> p, input<T, 1> t, view<T, 1> g, double norm, F f) {
  checks::require_backend<D>();
  static_assert(
      requires(const T* a, T* q) {
        kernels<D>::pointwise_loss_sum(std::int64_t{}, a, a, q, norm, f);
      },
      "typenet::backend: this device's backend lacks the kernel `pointwise_loss_sum`");
  checks::expect_size("pointwise_loss_sum", "t", t, p.size());
  checks::expect_optional("pointwise_loss_sum", "g", g, {p.size()});
  return kernels<D>::pointwise_loss_sum(p.size(), p.data, t.data, g.data, norm, f);
}

/// The sum of BCEWithLogits terms of logits z and targets t; g (may be absent) its gradient.
template <class D, class T>
double binary_cross_entropy_sum(D, input<T, 1> z, input<T, 1> t,
                                const typenet::detail::binary_cross_entropy_terms& terms,
                                view<T, 1> g) {
  checks::require_backend<D>();
  static_assert(
      requires(const T* a, T* q) {
        kernels<D>::binary_cross_entropy_sum(std::int64_t{}, a, a, terms, q);
      },
      "typenet::backend: this device's backend lacks the kernel `binary_cross_entropy_sum`");
  checks::expect_size("binary_cross_entropy_sum", "t", t, z.size());
  checks::expect_optional("binary_cross_entropy_sum", "g", g, {z.size()});
  return kernels<D>::binary_cross_entropy_sum(z.size(), z.data, t.data, terms, g.data);
}

/// The index of the first element of v outside [0, 1] (NaN is inside), -1 if
/// none; its value goes to `value`.
template <class D, class T>
std::int64_t first_outside_unit_interval(D, view<const T, 1> v, T& value) {
  checks::require_backend<D>();
  static_assert(
      requires(const T* a) { kernels<D>::first_outside_unit_interval(std::int64_t{}, a, value); },
      "typenet::backend: this device's backend lacks the kernel `first_outside_unit_interval`");
  return kernels<D>::first_outside_unit_interval(v.size(), v.data, value);
}

/// The sum of cross-entropy terms of logits z (N, classes, positions) and one
/// label per sample and position; g (like z, may be absent) its gradient.
template <class D, class T>
double cross_entropy_sum(D, input<T, 3> z, std::span<const int> labels,
                         const typenet::detail::cross_entropy_terms& terms, view<T, 3> g) {
  checks::require_backend<D>();
  static_assert(
      requires(const T* a, T* q) { kernels<D>::cross_entropy_sum(a, labels, terms, q); },
      "typenet::backend: this device's backend lacks the kernel `cross_entropy_sum`");
  checks::expect("cross_entropy_sum", "z", z, {z.extent(0), terms.classes, terms.positions});
  checks::expect_optional("cross_entropy_sum", "g", g, z.extents);
  if (static_cast<std::int64_t>(labels.size()) != z.extent(0) * z.extent(2))
    checks::wrong_operand("cross_entropy_sum", "labels", "[" + std::to_string(labels.size()) + "]",
                          "[" + std::to_string(z.extent(0) * z.extent(2)) + "]");
  return kernels<D>::cross_entropy_sum(z.data, labels, terms, g.data);
}

// ---- optimizers -----------------------------------------------------------------------------

/// One SGD step of value from grad (momentum_buffer may be absent without momentum).
template <class D, class T>
void sgd_update(D, const sgd_config& c, bool first, view<T, 1> value, input<T, 1> grad,
                view<T, 1> momentum_buffer) {
  checks::require_backend<D>();
  static_assert(
      requires(const T* p, T* q) { kernels<D>::sgd_update(c, first, std::int64_t{}, q, p, q); },
      "typenet::backend: this device's backend lacks the kernel `sgd_update`");
  checks::expect_size("sgd_update", "grad", grad, value.size());
  checks::expect_optional("sgd_update", "momentum_buffer", momentum_buffer, {value.size()});
  kernels<D>::sgd_update(c, first, value.size(), value.data, grad.data, momentum_buffer.data);
}

/// One Adam/AdamW step of value from grad (max_exp_avg_sq only with amsgrad).
template <class D, class T>
void adam_update(D, const adam_config& c, view<T, 1> value, input<T, 1> grad, view<T, 1> exp_avg,
                 view<T, 1> exp_avg_sq, view<T, 1> max_exp_avg_sq) {
  checks::require_backend<D>();
  static_assert(
      requires(const T* p, T* q) { kernels<D>::adam_update(c, std::int64_t{}, q, p, q, q, q); },
      "typenet::backend: this device's backend lacks the kernel `adam_update`");
  checks::expect_size("adam_update", "grad", grad, value.size());
  checks::expect_size("adam_update", "exp_avg", exp_avg, value.size());
  checks::expect_size("adam_update", "exp_avg_sq", exp_avg_sq, value.size());
  checks::expect_optional("adam_update", "max_exp_avg_sq", max_exp_avg_sq, {value.size()});
  kernels<D>::adam_update(c, value.size(), value.data, grad.data, exp_avg.data, exp_avg_sq.data,
                          max_exp_avg_sq.data);
}

/// sum |g|^norm_type over grad (the maximum for norm_type = inf), for clip_grad_norm_.
template <class D, class T>
double gradient_norm_part(D, view<const T, 1> grad, double norm_type) {
  checks::require_backend<D>();
  static_assert(
      requires(const T* p) { kernels<D>::gradient_norm_part(std::int64_t{}, p, norm_type); },
      "typenet::backend: this device's backend lacks the kernel `gradient_norm_part`");
  return kernels<D>::gradient_norm_part(grad.size(), grad.data, norm_type);
}

/// grad *= coef.
template <class D, class T>
void scale_gradient(D, view<T, 1> grad, std::type_identity_t<T> coef) {
  checks::require_backend<D>();
  static_assert(
      requires(T * q) { kernels<D>::scale_gradient(std::int64_t{}, q, coef); },
      "typenet::backend: this device's backend lacks the kernel `scale_gradient`");
  kernels<D>::scale_gradient(grad.size(), grad.data, coef);
}

}  // namespace typenet::backend
