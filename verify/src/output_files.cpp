#include "output_files.hpp"

#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <chrono>
#include <ctime>
#include <stdexcept>
#include <system_error>

#include "dissect/theory/atomic_file.hpp"
#include "dissect_revision.hpp"

namespace dissect::cli {
namespace {

namespace fs = std::filesystem;

std::vector<std::string>& MutableCommandLine() {
  static std::vector<std::string> command_line;
  return command_line;
}

}  // namespace

void SetCommandLine(int argc, char** argv) { MutableCommandLine().assign(argv, argv + argc); }

const std::vector<std::string>& CommandLine() { return MutableCommandLine(); }

void PrepareOutputDirectory(const fs::path& dir, bool force) {
  std::error_code error;
  if (fs::exists(dir, error)) {
    if (!fs::is_directory(dir, error))
      throw std::runtime_error(fmt::format("--out {}: exists and is not a folder", dir.string()));
    if (!force && fs::directory_iterator(dir, error) != fs::directory_iterator()) {
      throw std::runtime_error(
          fmt::format("--out {}: the folder already holds files; choose another or pass --force", dir.string()));
    }
  } else if (!fs::create_directories(dir, error) || error) {
    throw std::runtime_error(fmt::format("--out {}: cannot create the folder: {}", dir.string(), error.message()));
  }
  if (::access(dir.c_str(), W_OK) != 0) {
    throw std::runtime_error(fmt::format("--out {}: the folder is not writable", dir.string()));
  }
}

void WriteTextFileAtomic(const fs::path& path, const std::string& content) {
  theory::WriteStreamAtomically(path, path.string(), [&](std::ostream& out) { out << content; });
}

nlohmann::ordered_json MetaJson(std::uint64_t seed) {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char time_text[32];
  std::strftime(time_text, sizeof time_text, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return {{"command_line", CommandLine()},
          {"seed", seed},
          {"version", DISSECT_VERSION},
          {"git_revision", DISSECT_GIT_REVISION},
          {"time_utc", time_text}};
}

std::string CsvTable(const std::vector<std::string>& header, const std::vector<std::vector<double>>& rows) {
  std::string csv = fmt::format("{}\n", fmt::join(header, ","));
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < row.size(); ++c) csv += fmt::format("{}{:.17g}", c ? "," : "", row[c]);
    csv += '\n';
  }
  return csv;
}

}  // namespace dissect::cli
