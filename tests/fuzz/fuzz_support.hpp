#pragma once
// Shared by the fuzz targets: the accepted outcomes of reading outside input, and a scratch location per process.

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace dissect::fuzz {

// Runs `read`; loading or a std::runtime_error / std::invalid_argument are the accepted outcomes. Anything else
// (another exception, a crash, a sanitizer report) escapes to the fuzzer as a finding.
template <typename Read>
void Expect(Read read) {
  try {
    read();
  } catch (const std::runtime_error&) {
  } catch (const std::invalid_argument&) {
  }
}

// A path under the temporary directory, unique to this process.
inline std::filesystem::path ScratchPath(const std::string& name) {
  return std::filesystem::temp_directory_path() / ("dissect_fuzz_" + std::to_string(::getpid()) + "_" + name);
}

// Writes `bytes` to `path`, replacing it.
inline void WriteFile(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace dissect::fuzz
