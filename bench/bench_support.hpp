#pragma once
// Shared pieces of the benchmarks: running the PyTorch baseline as a child process and timing.

#include <array>
#include <chrono>
#include <cstdio>
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

inline double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace dissect::bench
