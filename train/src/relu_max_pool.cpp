#include "dissect/train/relu_max_pool.hpp"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace dissect::train {
namespace {

// The rules of LibTorch's CPU kernels (1.13's; tests/train/encoder_test.cpp compares the two on the LibTorch of the
// build), so that every bit agrees with relu then max_pool2d:
// - relu is clamp_min(x, 0): 0 where x < 0, x otherwise (NaN and -0 pass through);
// - max-pool scans a window row by row from -inf and takes a value greater than the maximum so far, or NaN: the
//   first maximum, or the last NaN;
// - its backward adds the output gradient to a zeroed input gradient at that position (0 + g, so -0 becomes +0);
// - relu's backward passes the gradient where the relu output is > 0 or NaN, 0 elsewhere.
template <typename T>
inline T Relu(T x) {
  return x < T(0) ? T(0) : x;
}

// Takes `value` over the maximum so far where max-pool does: greater, or NaN. (With `||` GCC vectorizes the forward
// loop; with `|` it does not.)
template <typename T>
inline bool Takes(T value, T maximum) {
  return value > maximum || value != value;
}

// The maximum max-pool picks among the relu values of one 2 x 2 window (a b / c d), scanned row by row.
template <typename T>
inline T PickMaximum(T a, T b, T c, T d) {
  T m = Relu(a);
  const T rb = Relu(b), rc = Relu(c), rd = Relu(d);
  m = Takes(rb, m) ? rb : m;
  m = Takes(rc, m) ? rc : m;
  return Takes(rd, m) ? rd : m;
}

// Planes are the N x C images of H x W; the output planes are floor(H/2) x floor(W/2).
constexpr std::int64_t kPlanesPerTask = 16;

template <typename T>
void Forward(const T* input, T* output, std::int64_t planes, std::int64_t height, std::int64_t width) {
  const std::int64_t out_height = height / 2, out_width = width / 2;
  at::parallel_for(0, planes, kPlanesPerTask, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t p = begin; p < end; ++p) {
      const T* plane = input + p * height * width;
      T* out = output + p * out_height * out_width;
      for (std::int64_t oh = 0; oh < out_height; ++oh) {
        const T* row0 = plane + 2 * oh * width;
        const T* row1 = row0 + width;
        for (std::int64_t ow = 0; ow < out_width; ++ow) {
          out[oh * out_width + ow] = PickMaximum(row0[2 * ow], row0[2 * ow + 1], row1[2 * ow], row1[2 * ow + 1]);
        }
      }
    }
  });
}

// cond ? a : b through the bits, which compiles without a branch.
template <typename T>
inline T Select(bool cond, T a, T b) {
  using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
  Bits a_bits, b_bits;
  std::memcpy(&a_bits, &a, sizeof(T));
  std::memcpy(&b_bits, &b, sizeof(T));
  const Bits mask = Bits(0) - static_cast<Bits>(cond);
  const Bits bits = (a_bits & mask) | (b_bits & ~mask);
  T result;
  std::memcpy(&result, &bits, sizeof(T));
  return result;
}

// Relu and Takes without a branch, for the scalar backward loop: the signs of activations and the maximum's
// position are unpredictable, and the branches GCC makes of `?:` and `||` here made the backward 8x slower (40 ms
// instead of 5 ms for 256 x 32 x 28 x 28 floats on one thread).
template <typename T>
inline T ReluWithoutBranch(T x) {
  return Select(x < T(0), T(0), x);
}
template <typename T>
inline bool TakesWithoutBranch(T value, T maximum) {
  return (value > maximum) | (value != value);
}

// The gradients of one output row's windows (a b / c d), each 0 or the output gradient, written to the two input
// rows: the window's maximum is found again from the input (cheaper than storing its index, and the same position).
template <typename T>
void RowGradients(const T* __restrict row0,
                  const T* __restrict row1,
                  const T* __restrict grad_out,
                  std::int64_t out_width,
                  T* __restrict grad0,
                  T* __restrict grad1) {
  for (std::int64_t ow = 0; ow < out_width; ++ow) {
    const T ra = ReluWithoutBranch(row0[2 * ow]), rb = ReluWithoutBranch(row0[2 * ow + 1]);
    const T rc = ReluWithoutBranch(row1[2 * ow]), rd = ReluWithoutBranch(row1[2 * ow + 1]);
    const bool take_b = TakesWithoutBranch(rb, ra);
    const T m_ab = Select(take_b, rb, ra);
    const bool take_c = TakesWithoutBranch(rc, m_ab);
    const T m_abc = Select(take_c, rc, m_ab);
    const bool take_d = TakesWithoutBranch(rd, m_abc);
    const T maximum = Select(take_d, rd, m_abc);
    const T g = Select(maximum <= T(0), T(0), T(0) + grad_out[ow]);
    grad1[2 * ow + 1] = Select(take_d, g, T(0));
    grad1[2 * ow] = Select(take_c & !take_d, g, T(0));
    grad0[2 * ow + 1] = Select(take_b & !take_c & !take_d, g, T(0));
    grad0[2 * ow] = Select(!take_b & !take_c & !take_d, g, T(0));
  }
}

template <typename T>
void Backward(
    const T* input, const T* grad_output, T* grad_input, std::int64_t planes, std::int64_t height, std::int64_t width) {
  const std::int64_t out_height = height / 2, out_width = width / 2;
  at::parallel_for(0, planes, kPlanesPerTask, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t p = begin; p < end; ++p) {
      const T* plane = input + p * height * width;
      const T* grad_out = grad_output + p * out_height * out_width;
      T* grad = grad_input + p * height * width;
      for (std::int64_t oh = 0; oh < out_height; ++oh) {
        const T* row0 = plane + 2 * oh * width;
        T* grad0 = grad + 2 * oh * width;
        T* grad1 = grad0 + width;
        RowGradients(row0, row0 + width, grad_out + oh * out_width, out_width, grad0, grad1);
        if (width % 2 == 1) grad0[width - 1] = grad1[width - 1] = T(0);
      }
      if (height % 2 == 1) std::fill(grad + (height - 1) * width, grad + height * width, T(0));
    }
  });
}

torch::Tensor ForwardKernel(const torch::Tensor& input) {
  const std::int64_t height = input.size(2), width = input.size(3);
  torch::Tensor output = torch::empty({input.size(0), input.size(1), height / 2, width / 2}, input.options());
  AT_DISPATCH_FLOATING_TYPES(input.scalar_type(), "ReluMaxPool2d", [&] {
    Forward(input.data_ptr<scalar_t>(), output.data_ptr<scalar_t>(), input.size(0) * input.size(1), height, width);
  });
  return output;
}

class ReluMaxPool2dFunction : public torch::autograd::Function<ReluMaxPool2dFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* context, const torch::Tensor& input) {
    context->save_for_backward({input});
    return ForwardKernel(input);
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* context,
                                               torch::autograd::tensor_list grad_outputs) {
    const torch::Tensor input = context->get_saved_variables().at(0);
    const torch::Tensor grad_output = grad_outputs.at(0).contiguous();
    torch::Tensor grad_input = torch::empty_like(input, torch::MemoryFormat::Contiguous);
    AT_DISPATCH_FLOATING_TYPES(input.scalar_type(), "ReluMaxPool2dBackward", [&] {
      Backward(input.data_ptr<scalar_t>(),
               grad_output.data_ptr<scalar_t>(),
               grad_input.data_ptr<scalar_t>(),
               input.size(0) * input.size(1),
               input.size(2),
               input.size(3));
    });
    return {grad_input};
  }
};

}  // namespace

torch::Tensor ReluMaxPool2d(const torch::Tensor& input) {
  const bool fused = input.defined() && input.dim() == 4 && input.device().is_cpu() &&
                     (input.scalar_type() == torch::kFloat || input.scalar_type() == torch::kDouble) &&
                     input.is_contiguous() && input.size(2) >= 2 && input.size(3) >= 2;
  if (!fused) return torch::max_pool2d(torch::relu(input), 2);
  if (!torch::GradMode::is_enabled() || !input.requires_grad()) {
    torch::NoGradGuard no_grad;
    return ForwardKernel(input);
  }
  return ReluMaxPool2dFunction::apply(input);
}

}  // namespace dissect::train
