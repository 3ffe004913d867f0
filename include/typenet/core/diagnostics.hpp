// typenet/core/diagnostics.hpp — compile-time errors that read like sentences.
//
// A network that cannot work must not compile, and the first line of the
// compiler's output must say where and why. Each check instantiates one of
// these carriers; its name says what is wrong, its arguments say where
// (at_child<3, ...> / at_named<"fc", ...>), which layer, and the shape that
// came in, and its static_assert message says how to fix it. g++ prints the
// carrier on the first line ("In instantiation of 'struct typenet::
// diagnostic::linear_needs_flat_input<at_child<7>, Linear<120>, Shape<16, 5, 5>>'").
#pragma once

namespace typenet::diagnostic {

template <class...>
inline constexpr bool always_false = false;

template <class Where, class Layer, class In>
struct linear_needs_flat_input {
  static_assert(always_false<Where>,
                "Linear needs a flat input Shape<N>: insert Flatten before it");
  static constexpr bool value = false;
};

template <class Where, class Layer, class In>
struct layer_needs_image_input {
  static_assert(always_false<Where>,
                "this layer needs an image input Shape<C, H, W>; a flat Shape<N> cannot be "
                "convolved, pooled, upsampled or batch-normalized as an image");
  static constexpr bool value = false;
};

template <class Where, class Layer, class In>
struct layer_needs_flat_input {
  static_assert(always_false<Where>,
                "this layer needs a flat input Shape<N>; use the 2d variant for Shape<C, H, W>");
  static constexpr bool value = false;
};

template <class Where, class Layer, class In>
struct output_would_be_empty {
  static_assert(always_false<Where>,
                "the output of this layer would be empty: its (dilated) kernel is larger than the "
                "padded input; use a smaller kernel or stride, more padding, or a larger input");
  static constexpr bool value = false;
};

template <class Where, class Layer, class In>
struct flatten_needs_static_extents {
  static_assert(always_false<Where>,
                "Flatten needs static extents: the feature count of a Shape with tn::dyn is known "
                "only at run time; put AdaptiveAvgPool2d<H, W> before it (as torchvision does) to "
                "fix the extents");
  static constexpr bool value = false;
};

template <class Where, class Layer, class In>
struct groups_must_divide_channels {
  static_assert(always_false<Where>,
                "Groups<G> must divide both the input channels and the output channels");
  static constexpr bool value = false;
};

template <class Where, class Layer, class In>
struct padding_must_be_at_most_half_the_kernel {
  static_assert(always_false<Where>,
                "pooling padding must be at most half of the kernel size (PyTorch's rule)");
  static constexpr bool value = false;
};

template <class Where, class Layer, class In>
struct output_padding_must_be_smaller_than_stride_or_dilation {
  static_assert(always_false<Where>,
                "OutputPadding must be smaller than either the stride or the dilation");
  static constexpr bool value = false;
};

template <class Where, class Layer, class In>
struct output_would_overflow_int {
  static_assert(always_false<Where>,
                "the output of this layer would have more elements per sample than an int holds; "
                "use a smaller scale factor or input");
  static constexpr bool value = false;
};

template <class Where, class Layer, class Option>
struct option_does_not_apply {
  static_assert(always_false<Where>,
                "this option does not apply to this layer; see docs/layers.md for the options "
                "each layer accepts");
  static constexpr bool value = false;
};

template <class Where, class Layer, class BodyShape, class ShortcutShape>
struct residual_branches_disagree {
  static_assert(always_false<Where>,
                "the two branches of a Residual produce different shapes: give the shortcut a "
                "downsample branch (e.g. a 1x1 Conv2d with the body's stride and channels); to "
                "join feature maps along the channels instead of adding them (a U-Net skip), use "
                "Concat (nn/merge.hpp) with From<\"name\"> (nn/from.hpp)");
  static constexpr bool value = false;
};

template <class Where, class Merge, class FirstShape, class BranchShape>
struct concat_branches_disagree {
  static_assert(always_false<Where>,
                "the branches of a Concat must agree on every extent after the channels (and on "
                "the rank): crop, pad (PadLike<\"name\">) or resample the branch named here");
  static constexpr bool value = false;
};

template <class Where, class Merge, class FirstShape, class BranchShape>
struct sum_branches_disagree {
  static_assert(always_false<Where>,
                "the branches of a Sum must produce the same shape; to join different channel "
                "counts use Concat");
  static constexpr bool value = false;
};

template <class Where, class Layer, class HeadsOutputs>
struct nothing_follows_heads {
  static_assert(always_false<Where>,
                "a layer follows Heads<...>, whose outputs are separate tensors: Heads must be the "
                "last child of the network; put the layers into the head they belong to");
  static constexpr bool value = false;
};

template <class Where, class Layer, class Visible>
struct no_earlier_output_named {
  static_assert(always_false<Where>,
                "this layer reads an earlier output by name, but no earlier child of an "
                "enclosing Sequential has that Named<...> name (Visible lists the names it can "
                "see; a name is visible only after the child that bears it)");
  static constexpr bool value = false;
};

template <class Where, class Container, class Name>
struct duplicate_child_name {
  static_assert(always_false<Where>,
                "two children of one Sequential have the same Named<...> name; names must be "
                "unique so every parameter has its own state_dict key");
  static constexpr bool value = false;
};

/// Used by checks: instantiates the carrier (a compile error) only when diagnosing;
/// otherwise the check just answers false (for concepts such as LayerFor).
template <bool Diagnose, class Carrier>
constexpr bool reject() {
  if constexpr (Diagnose) {
    return Carrier::value;
  } else {
    return false;
  }
}

template <class Where, class Net, class In, class OtherIn>
struct parameters_differ_between_input_shapes {
  static_assert(always_false<Where>,
                "these two input shapes give the network different parameter shapes, so the "
                "models cannot share parameters (e.g. a Linear after Flatten sees a different "
                "number of features)");
  static constexpr bool value = false;
};

}  // namespace typenet::diagnostic
