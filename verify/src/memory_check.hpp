#pragma once
// Work that cannot fit is refused before it starts (docs/cli.md, Memory): a command estimates the memory it needs
// and compares it with what this machine offers, instead of failing late with std::bad_alloc or an allocator's
// message.

#include <string>

namespace dissect::cli {

// The memory this process may use, in bytes: the physical memory, or a smaller cgroup limit (v2 memory.max, v1
// memory.limit_in_bytes) where one is set. NaN where neither can be read.
double MachineMemoryBytes();

// Throws std::invalid_argument when `needed_bytes` exceeds `available_bytes` ("minimize: needs 43.7 TiB (100000000
// points in 1000 dimensions, full mode, estimated) but this machine has 23.5 GiB of memory"); `what` says what was
// counted and whether it is an estimate or a lower bound. A NaN `available_bytes` (unknown) refuses nothing.
void RequireMemory(const std::string& command,
                   double needed_bytes,
                   const std::string& what,
                   double available_bytes = MachineMemoryBytes());

// "43.7 TiB", "12.0 MiB".
std::string FormatBytes(double bytes);

}  // namespace dissect::cli
