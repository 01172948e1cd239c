#include "dissect/train/device.hpp"

#include <torch/torch.h>

#include "dissect/train/trainer.hpp"

namespace dissect::train {

void RequireDevice(const std::string& device) { ResolveDevice(device); }

std::string TorchVersion() { return TORCH_VERSION; }

}  // namespace dissect::train
