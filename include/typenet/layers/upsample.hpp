// typenet/layers/upsample.hpp — Upsample<ScaleH, ScaleW = ScaleH, Mode = Nearest>.
//
// PyTorch's nn.Upsample(scale_factor=(ScaleH, ScaleW), mode=...) for integer
// factors on Shape<C, H, W>: `Upsample<2>` (nearest), `Upsample<2, 3>`,
// `Upsample<2, 2, Bilinear>` (align_corners=False). An output too large for
// an int is a compile error.
#pragma once

#include <climits>
#include <cstdint>
#include <string>
#include <type_traits>

#include "typenet/backend/interface.hpp"
#include "typenet/core/diagnostics.hpp"
#include "typenet/core/geometry.hpp"
#include "typenet/core/layer.hpp"

namespace typenet {

/// Upsampling modes.
struct Nearest {
  static std::string name() { return "Nearest"; }
};
struct Bilinear {
  static std::string name() { return "Bilinear"; }
};

template <int ScaleH, int ScaleW = ScaleH, class Mode = Nearest>
struct Upsample : layer_base {
  static_assert(ScaleH > 0 && ScaleW > 0, "Upsample needs positive integer scale factors");
  static_assert(std::is_same_v<Mode, Nearest> || std::is_same_v<Mode, Bilinear>,
                "Upsample's mode is Nearest or Bilinear");
  static constexpr bool bilinear = std::is_same_v<Mode, Bilinear>;

  /// Whether the output's element count fits an int (checked at run time for dynamic extents).
  static constexpr bool fits_int(const std::array<int, 3>& in) {
    return std::int64_t{in[0]} * in[1] * in[2] * ScaleH * ScaleW <= INT_MAX;
  }
  template <class In>
  static constexpr bool static_fits_int =
      In::rank != 3 || !In::is_static || fits_int(image_dims<In>());

  static constexpr window_geometry geometry(const std::array<int, 3>& in) {
    window_geometry g;
    g.in_c = g.out_c = in[0];
    g.in_h = in[1];
    g.in_w = in[2];
    g.out_h = fits_int(in) ? in[1] * ScaleH : 0;
    g.out_w = fits_int(in) ? in[2] * ScaleW : 0;
    g.stride_h = ScaleH;
    g.stride_w = ScaleW;
    return g;
  }

  template <class In, class Where, bool Diagnose = true>
  static constexpr bool check() {
    if constexpr (In::rank != 3) {
      return diagnostic::reject<Diagnose,
                                diagnostic::layer_needs_image_input<Where, Upsample, In>>();
    } else if constexpr (!static_fits_int<In>) {
      return diagnostic::reject<Diagnose,
                                diagnostic::output_would_overflow_int<Where, Upsample, In>>();
    } else {
      return true;
    }
  }

  template <class In>
  using output_shape =
      Shape<image_dims<In>()[0], static_or_dyn(image_dims<In>()[1], image_dims<In>()[1] * ScaleH),
            static_or_dyn(image_dims<In>()[2], image_dims<In>()[2] * ScaleW)>;

  /// An output too large for an int gives extents of 0, refused before any work.
  template <class In>
  static constexpr extents_t<output_shape<In>> output_extents(const extents_t<In>& in) {
    const window_geometry g = geometry(in);
    return {g.out_c, g.out_h, g.out_w};
  }

  template <class In>
  static constexpr std::int64_t flops = bilinear ? 8 * geometry(image_dims<In>()).out_size() : 0;

  template <class In, class Device, class T>
  struct node : node_io<In, output_shape<In>, Device, T> {
    window_geometry g;

    void plan(int batch, const extents_t<In>& in, const extents_t<output_shape<In>>& out) {
      node_io<In, output_shape<In>, Device, T>::plan(batch, in, out);
      g = geometry(in);
    }
    const Tensor<output_shape<In>, Device, T>& forward(no_parameters&,
                                                       const Tensor<In, Device, T>& x,
                                                       const run_context&) {
      backend::upsample_forward(Device{}, bilinear, g, backend::batch_view(x),
                                backend::batch_view(this->y));
      return this->y;
    }
    const Tensor<In, Device, T>& backward(no_parameters&, const Tensor<In, Device, T>&,
                                          const Tensor<output_shape<In>, Device, T>& dy,
                                          const run_context& ctx) {
      if (ctx.need_input_grad)
        backend::upsample_backward(Device{}, bilinear, g, backend::batch_view(dy),
                                   backend::batch_view(this->dx));
      return this->dx;
    }
  };

  static std::string type_name() {
    return "Upsample<" + std::to_string(ScaleH) +
           (ScaleH == ScaleW && !bilinear ? "" : ", " + std::to_string(ScaleW)) +
           (bilinear ? ", Bilinear" : "") + ">";
  }
};

}  // namespace typenet
