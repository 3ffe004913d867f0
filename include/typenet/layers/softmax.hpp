// typenet/layers/softmax.hpp — Softmax and LogSoftmax over the channel axis.
//
// PyTorch's nn.Softmax(dim=1) / nn.LogSoftmax(dim=1): over the features of
// Shape<N>, or per pixel over the channels of Shape<C, H, W>.
#pragma once

#include <string>

#include "typenet/backend/interface.hpp"
#include "typenet/core/layer.hpp"

namespace typenet {

template <bool Log>
struct softmax_layer : layer_base {
  template <class In>
  static constexpr std::int64_t flops = 4 * In::size;

  template <class In, class Device, class T>
  struct node : node_io<In, In, Device, T> {
    const Tensor<In, Device, T>& forward(no_parameters&, const Tensor<In, Device, T>& x,
                                         const run_context&) {
      backend::softmax_forward(Device{}, Log, backend::channel_view(x),
                               backend::channel_view(this->y));
      return this->y;
    }
    const Tensor<In, Device, T>& backward(no_parameters&, const Tensor<In, Device, T>&,
                                          const Tensor<In, Device, T>& dy, const run_context& ctx) {
      if (ctx.need_input_grad)
        backend::softmax_backward(Device{}, Log, backend::channel_view(this->y),
                                  backend::channel_view(dy), backend::channel_view(this->dx));
      return this->dx;
    }
  };
};

struct Softmax : softmax_layer<false> {
  static std::string type_name() { return "Softmax"; }
};
struct LogSoftmax : softmax_layer<true> {
  static std::string type_name() { return "LogSoftmax"; }
};

}  // namespace typenet
