// typenet/train/clip_grad.hpp — gradient clipping by total norm.
//
// clip_grad_norm(params, max_norm, norm_type) is torch.nn.utils.clip_grad_norm_:
// it computes the norm of all gradients together, as if concatenated into
// one vector (norm_type 2 by default, any p > 0, or infinity for the largest
// magnitude), and when that total exceeds max_norm scales every gradient by
// max_norm / (total + 1e-6). It returns the total norm before clipping.
//
//   model.backward(grad);
//   tn::clip_grad_norm(model.parameters(), 1.0);
//   optimizer.step();
//
// Guarantees: frozen parameters (requires_grad false) neither count nor
// change, as PyTorch skips parameters without a gradient; the sum is taken
// in double over fixed chunks, so the result does not depend on the thread
// count; nothing allocates. A non-finite total behaves as in PyTorch: it is
// returned and the gradients are scaled by the resulting 0 or NaN, unless
// error_if_nonfinite asks for a typenet::error instead.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "typenet/backend/interface.hpp"
#include "typenet/core/errors.hpp"
#include "typenet/nn/state.hpp"

namespace typenet {

/// Clips the gradients of `params` in place to a total norm of at most
/// `max_norm`; returns the total norm before clipping.
template <class T, class Device>
double clip_grad_norm(std::span<const ParameterRef<T, Device>> params, double max_norm,
                      double norm_type = 2.0, bool error_if_nonfinite = false) {
  if (!(norm_type > 0))
    throw usage_error("clip_grad_norm: norm_type must be positive or infinity, got " +
                      std::to_string(norm_type));
  if (std::isnan(max_norm)) throw usage_error("clip_grad_norm: max_norm is NaN");
  const bool inf = std::isinf(norm_type);
  double sum = 0;  // Σ |g|^p, or max |g|
  bool any = false;
  for (const auto& p : params) {
    if (!p.requires_grad()) continue;
    any = true;
    const double part = backend::gradient_norm_part(
        Device{}, backend::vector_view<const T>(p.grad_data(), p.size()), norm_type);
    sum = inf ? std::max(sum, part) : sum + part;
  }
  if (!any) return 0;
  const double total = inf              ? sum
                       : norm_type == 2 ? std::sqrt(sum)
                       : norm_type == 1 ? sum
                                        : std::pow(sum, 1 / norm_type);
  if (error_if_nonfinite && !std::isfinite(total))
    throw error("clip_grad_norm: the total norm of order " + std::to_string(norm_type) +
                " of the gradients is not finite, so they cannot be clipped");
  // PyTorch: clip_coef = max_norm / (total_norm + 1e-6) on a float tensor,
  // i.e. (1 / (total + 1e-6)) * max_norm in T, applied when below 1.
  const T coef = (T{1} / (static_cast<T>(total) + static_cast<T>(1e-6))) * static_cast<T>(max_norm);
  if (!(coef >= T{1}))  // NaN too, as PyTorch's clamp passes it on
    for (const auto& p : params)
      if (p.requires_grad())
        backend::scale_gradient(Device{}, backend::vector_view(p.grad_data(), p.size()), coef);
  return total;
}

template <class T, class Device>
double clip_grad_norm(const std::vector<ParameterRef<T, Device>>& params, double max_norm,
                      double norm_type = 2.0, bool error_if_nonfinite = false) {
  return clip_grad_norm(std::span<const ParameterRef<T, Device>>(params), max_norm, norm_type,
                        error_if_nonfinite);
}

}  // namespace typenet
