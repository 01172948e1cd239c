#pragma once
// Files that commands write with --out DIR (docs/development.md, Output): CSV with a header row and {:.17g} doubles,
// JSON, and meta.json; each written to a temporary name and renamed into place, so an interrupted run leaves no half
// file.

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace dissect::cli {

// The command line as given, recorded by main() for meta.json.
void SetCommandLine(int argc, char** argv);
const std::vector<std::string>& CommandLine();

// Creates DIR (and parents). Refuses, with std::runtime_error, a DIR that already holds files unless `force`, and a
// DIR that cannot be created or written, before any work starts.
void PrepareOutputDirectory(const std::filesystem::path& dir, bool force);

// Writes `content` to path atomically (temporary name in the same folder, then rename). Throws std::runtime_error.
void WriteTextFileAtomic(const std::filesystem::path& path, const std::string& content);

// meta.json: command line, seed, version, git revision (when built from a checkout), UTC time.
nlohmann::ordered_json MetaJson(std::uint64_t seed);

// A CSV table: header row, then rows of doubles printed with {:.17g}.
std::string CsvTable(const std::vector<std::string>& header, const std::vector<std::vector<double>>& rows);

}  // namespace dissect::cli
