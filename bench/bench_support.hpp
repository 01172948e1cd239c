#pragma once
// Shared pieces of the benchmarks: running the PyTorch baseline as a child process and timing.

#include <malloc.h>
#include <omp.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace dissect::bench {

// Runs a command (the Python baseline) and parses the last line of its stdout as JSON.
inline nlohmann::json RunJsonCommand(const std::string& command) {
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("cannot run: " + command);
  std::string output;
  std::array<char, 4096> buffer{};
  while (std::fgets(buffer.data(), buffer.size(), pipe) != nullptr) output += buffer.data();
  const int status = ::pclose(pipe);
  if (status != 0) throw std::runtime_error("the baseline failed (status " + std::to_string(status) + "): " + command);
  const auto last = output.find_last_of('{');
  if (last == std::string::npos) throw std::runtime_error("the baseline printed no JSON: " + output);
  return nlohmann::json::parse(output.substr(last));
}

// Parses "--name value" pairs into the given numbers; returns false (after printing an error) for an unknown flag.
inline bool ParseFlags(int argc, char** argv, const std::map<std::string, double*>& flags) {
  for (int i = 1; i < argc; i += 2) {
    const auto found = flags.find(argv[i]);
    if (found == flags.end() || i + 1 >= argc) {
      std::fprintf(stderr, "error: unknown flag or missing value: %s\n", argv[i]);
      return false;
    }
    *found->second = std::stod(argv[i + 1]);
  }
  return true;
}

// The thread count of the run, and the malloc settings of the dissect command line (no fresh mapping, and page
// faults, for every vector of a few hundred KB).
inline void ConfigureProcess(int threads) {
  omp_set_num_threads(threads);
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
}

inline double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace dissect::bench
