#pragma once
// The differences between the LibTorch versions dissect builds against (Debian 12's 1.13, Debian 13's 2.6, a CUDA
// LibTorch 2.x inside a pip PyTorch), each behind one named adapter, so that no other file tests a version:
// - CollectiveGroup: the class whose collectives c10d's Gloo and NCCL groups implement (ProcessGroup in 1.x, Backend
//   since 2.0, where ProcessGroup wraps backends);
// - QuietTorchLogging: keeps LibTorch's own log lines (glog where c10 is built with it, c10's logger otherwise) to
//   fatal ones for the lifetime of the object;
// - AutocastGuard: mixed precision on one device type (the per-device API since 2.4, the per-device functions before);
// - UseClassicTcpStoreServer: TCPStore without libuv, which some LibTorch 2.x builds lack.
// Private to train/: its .cpp files include it after torch's headers.

#include <ATen/autocast_mode.h>
#include <c10/macros/cmake_macros.h>
#include <c10/util/Logging.h>
#include <torch/version.h>
#include <torch/csrc/distributed/c10d/Work.hpp>

#include <algorithm>

#include "dissect/theory/scoped_assignment.hpp"

#if TORCH_VERSION_MAJOR >= 2
#include <torch/csrc/distributed/c10d/Backend.hpp>
#else
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#endif

namespace dissect::train::detail {

#if TORCH_VERSION_MAJOR >= 2
using CollectiveGroup = c10d::Backend;
#else
using CollectiveGroup = c10d::ProcessGroup;
#endif

// TCPStore's server on libuv, the default since 2.4, is missing from builds without libuv (Debian 13's 2.6: "use_libuv
// was requested but PyTorch was build without libuv support"): the classic server, present in every version, is
// asked for where the option exists (1.13 has no such field and only the classic server).
template <typename StoreOptions>
auto UseClassicTcpStoreServer(StoreOptions& options, int) -> decltype(options.useLibUV = false, void()) {
  options.useLibUV = false;
}
template <typename StoreOptions>
void UseClassicTcpStoreServer(StoreOptions&, long) {}

// Library code never prints, and changes process-wide state only for the span of a call, restoring it after.
class QuietTorchLogging {
#ifdef C10_USE_GLOG
 public:
  QuietTorchLogging() : quiet_(FLAGS_minloglevel, std::max(FLAGS_minloglevel, static_cast<int>(google::GLOG_FATAL))) {}

 private:
  dissect::theory::ScopedAssignment<decltype(FLAGS_minloglevel)> quiet_;
#else
  // c10's own logger (no glog, no gflags): the threshold is the global FLAGS_caffe2_log_level.
 public:
  QuietTorchLogging()
      : quiet_(::FLAGS_caffe2_log_level, std::max(::FLAGS_caffe2_log_level, static_cast<int>(c10::GLOG_FATAL))) {}

 private:
  dissect::theory::ScopedAssignment<decltype(::FLAGS_caffe2_log_level)> quiet_;
#endif
};

// Autocast (automatic mixed precision) to `dtype` on `device_type` (kCUDA or kCPU) while the guard lives, when
// `enabled`; the previous state of this thread is restored and the cast cache cleared on exit. Autocast state is
// thread-local in LibTorch, so the guard changes nothing outside the calling thread.
class AutocastGuard {
 public:
  AutocastGuard(c10::DeviceType device_type, at::ScalarType dtype, bool enabled)
      : device_type_(device_type), enabled_(enabled) {
    if (!enabled_) return;
    saved_enabled_ = IsEnabled();
    saved_dtype_ = Dtype();
    SetEnabled(true);
    SetDtype(dtype);
    at::autocast::increment_nesting();
  }
  ~AutocastGuard() {
    if (!enabled_) return;
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    SetEnabled(saved_enabled_);
    SetDtype(saved_dtype_);
  }
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
  bool IsEnabled() const { return at::autocast::is_autocast_enabled(device_type_); }
  void SetEnabled(bool on) const { at::autocast::set_autocast_enabled(device_type_, on); }
  at::ScalarType Dtype() const { return at::autocast::get_autocast_dtype(device_type_); }
  void SetDtype(at::ScalarType dtype) const { at::autocast::set_autocast_dtype(device_type_, dtype); }
#else
  bool IsEnabled() const {
    return device_type_ == c10::DeviceType::CUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
  }
  void SetEnabled(bool on) const {
    device_type_ == c10::DeviceType::CUDA ? at::autocast::set_enabled(on) : at::autocast::set_cpu_enabled(on);
  }
  at::ScalarType Dtype() const {
    return device_type_ == c10::DeviceType::CUDA ? at::autocast::get_autocast_gpu_dtype()
                                                 : at::autocast::get_autocast_cpu_dtype();
  }
  void SetDtype(at::ScalarType dtype) const {
    device_type_ == c10::DeviceType::CUDA ? at::autocast::set_autocast_gpu_dtype(dtype)
                                          : at::autocast::set_autocast_cpu_dtype(dtype);
  }
#endif

  c10::DeviceType device_type_;
  bool enabled_;
  bool saved_enabled_ = false;
  at::ScalarType saved_dtype_ = at::kFloat;
};

}  // namespace dissect::train::detail
