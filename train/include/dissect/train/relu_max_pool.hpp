#pragma once
// The ReLU and 2 x 2 max-pool of the small CNN (encoder.hpp) in one pass over the activations.

#include <torch/torch.h>

namespace dissect::train {

// max_pool2d(relu(input), 2): B x C x H x W -> B x C x floor(H/2) x floor(W/2), with the same values and the same
// gradient as those two LibTorch operations bit for bit (the first maximum of a window gets its gradient, as
// max-pool picks it; NaN, -0 and ties included). A contiguous float or double CPU tensor goes through one kernel that
// reads the activations once forward and once backward (instead of relu's copy, max-pool's indices and the zeroed
// gradient of each); anything else (CUDA, bfloat16, channels-last, other shapes) runs the two operations.
// Differentiable once (no second derivative). Throws what max_pool2d throws for a tensor that is not 3- or
// 4-dimensional.
torch::Tensor ReluMaxPool2d(const torch::Tensor& input);

}  // namespace dissect::train
