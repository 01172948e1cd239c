#pragma once
// Shared pieces of the benchmarks: running the PyTorch baseline as a child process and timing.

#include <malloc.h>
#include <omp.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
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

// The CPU this runs on, for the header of a benchmark's table: /proc/cpuinfo's "model name" and the widest x86
// vector instruction set its "flags" list, e.g. "Intel(R) Xeon(R) Processor, AVX-512". "unknown CPU" and "no AVX"
// stand in where /proc/cpuinfo has no such line (another kernel, another architecture).
inline std::string CpuDescription() {
  std::string model = "unknown CPU";
  std::string flags;
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string key = line.substr(0, line.find_last_not_of(" \t", colon - 1) + 1);
    const auto value_start = line.find_first_not_of(' ', colon + 1);
    const std::string value = value_start == std::string::npos ? std::string() : line.substr(value_start);
    if (key == "model name" && model == "unknown CPU" && !value.empty()) model = value;
    if (key == "flags" && flags.empty()) flags = " " + value + " ";
    if (model != "unknown CPU" && !flags.empty()) break;
  }
  const auto has = [&](const char* flag) { return flags.find(std::string(" ") + flag + " ") != std::string::npos; };
  const char* instructions = has("avx512f") ? "AVX-512" : has("avx2") ? "AVX2" : has("avx") ? "AVX" : "no AVX";
  return model + ", " + instructions;
}

inline double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace dissect::bench
