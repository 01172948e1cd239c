#include "reproduce_parts.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>

#include "output_files.hpp"
#include "self_process.hpp"
#include "stop_signal.hpp"

namespace dissect::cli {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Runs this executable with `args`, its stdout into `stdout_path`; returns its exit code (128 + signal when killed).
int RunChild(const std::vector<std::string>& args, const fs::path& stdout_path) {
  return WaitForExit(StartSelf(args, {stdout_path, -1}));
}

}  // namespace

const std::string& BuildFingerprint() {
  static const std::string fingerprint = [] {
    // FNV-1a over the executable: dissect's own libraries are linked in statically, so a change to any of them
    // changes it.
    std::ifstream in("/proc/self/exe", std::ios::binary);
    if (!in) return std::string("unknown");
    std::uint64_t hash = 14695981039346656037ULL;
    std::vector<char> buffer(1 << 16);
    while (in.read(buffer.data(), static_cast<std::streamsize>(buffer.size())) || in.gcount() > 0) {
      for (std::streamsize i = 0; i < in.gcount(); ++i) {
        hash = (hash ^ static_cast<unsigned char>(buffer[static_cast<std::size_t>(i)])) * 1099511628211ULL;
      }
    }
    return fmt::format("{:016x}", hash);
  }();
  return fingerprint;
}

double Number(const Json& value) { return value.is_number() ? value.get<double>() : std::nan(""); }

Json RunPart(const fs::path& dir, const std::string& name, std::vector<std::string> args) {
  const fs::path result = dir / "parts" / (name + ".json");
  args.push_back("--json");
  if (fs::exists(result)) {
    Json kept;
    try {
      kept = Json::parse(ReadFile(result));
    } catch (const std::exception&) {
      throw std::runtime_error(
          fmt::format("reproduce: {} is corrupt (not JSON); delete it or rerun with --fresh", result.string()));
    }
    const bool same_arguments = kept.value("arguments", Json()) == Json(args);
    const bool same_build = kept.value("build", Json()) == Json(BuildFingerprint());
    if (same_arguments && same_build) {
      std::cerr << fmt::format("reproduce: {}: reusing {}\n", name, result.string());
      return kept;
    }
    std::cerr << fmt::format("reproduce: {}: {} was made {}; running it again\n",
                             name,
                             result.string(),
                             same_arguments ? "by another build of dissect" : "with other arguments");
  }
  fs::create_directories(dir / "parts");
  const fs::path stdout_path = dir / "parts" / (name + ".stdout.tmp");
  std::cerr << fmt::format("reproduce: {}: dissect {}\n", name, fmt::join(args, " "));
  const auto start = std::chrono::steady_clock::now();
  const int code = RunChild(args, stdout_path);
  if (StopOnSignal::Requested() != 0 || code == 130 || code == 143) {
    fs::remove(stdout_path);
    throw std::runtime_error(fmt::format("reproduce: stopped during {}; rerun the same command to go on", name));
  }
  const std::string text = ReadFile(stdout_path);
  fs::remove(stdout_path);
  Json parsed;
  try {
    parsed = Json::parse(text);
  } catch (const std::exception&) {
    throw std::runtime_error(fmt::format(
        "reproduce: {} (dissect {}) exited with code {} and printed no JSON result", name, fmt::join(args, " "), code));
  }
  // Exit code 1 is a check that failed: a result, kept and judged. Anything else is an error.
  if (code != 0 && code != 1) {
    throw std::runtime_error(
        fmt::format("reproduce: {} (dissect {}) failed with exit code {}", name, fmt::join(args, " "), code));
  }
  parsed["arguments"] = args;
  parsed["build"] = BuildFingerprint();
  parsed["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  WriteTextFileAtomic(result, parsed.dump(1) + "\n");
  return parsed;
}

}  // namespace dissect::cli
