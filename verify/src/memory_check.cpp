#include "memory_check.hpp"

#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <stdexcept>

namespace dissect::cli {
namespace {

// The number in a cgroup file ("max" or a missing file: no limit).
double CgroupLimit(const char* path) {
  std::ifstream in(path);
  std::string text;
  if (!(in >> text) || text == "max") return std::numeric_limits<double>::infinity();
  try {
    return std::stod(text);
  } catch (const std::exception&) {
    return std::numeric_limits<double>::infinity();
  }
}

}  // namespace

double MachineMemoryBytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page_size = ::sysconf(_SC_PAGE_SIZE);
  double bytes = (pages > 0 && page_size > 0) ? static_cast<double>(pages) * static_cast<double>(page_size)
                                              : std::numeric_limits<double>::infinity();
  bytes = std::min(
      {bytes, CgroupLimit("/sys/fs/cgroup/memory.max"), CgroupLimit("/sys/fs/cgroup/memory/memory.limit_in_bytes")});
  return std::isfinite(bytes) ? bytes : std::numeric_limits<double>::quiet_NaN();
}

std::string FormatBytes(double bytes) {
  constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  int unit = 0;
  while (bytes >= 1024.0 && unit < 6) {
    bytes /= 1024.0;
    ++unit;
  }
  return unit == 0 ? fmt::format("{:.0f} B", bytes) : fmt::format("{:.1f} {}", bytes, kUnits[unit]);
}

void RequireMemory(const std::string& command, double needed_bytes, const std::string& what, double available_bytes) {
  if (std::isnan(available_bytes) || !(needed_bytes > available_bytes)) return;
  throw std::invalid_argument(fmt::format("{}: needs {} ({}) but this machine has {} of memory",
                                          command,
                                          FormatBytes(needed_bytes),
                                          what,
                                          FormatBytes(available_bytes)));
}

}  // namespace dissect::cli
