#pragma once
// Device checks without torch's headers, for code that only needs to know whether a device can be used (the
// torch headers cost about half a minute of compile time per file).

#include <string>

namespace dissect::train {

// Throws std::invalid_argument, as ResolveDevice does, for an unknown --device value or CUDA without CUDA.
void RequireDevice(const std::string& device);

// The LibTorch version this build was compiled against, e.g. "1.13.1".
std::string TorchVersion();

}  // namespace dissect::train
