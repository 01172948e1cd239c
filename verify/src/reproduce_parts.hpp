#pragma once
// The parts of `dissect reproduce`: other dissect commands run as child processes of this binary, each result kept
// as DIR/parts/NAME.json, so that a rerun reuses the parts that finished (same arguments, same build of dissect).

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace dissect::cli {

// Runs `dissect ARGS --json` as a child (its progress goes to this stderr) unless DIR/parts/NAME.json holds the
// result of a run with the same ARGS by the same build; the JSON it printed is kept there (written once the child
// succeeded), with "arguments", "build" (BuildFingerprint) and "seconds" added. Exit code 1 (a check that failed) is a
// result; any other non-zero code, no JSON on stdout, or a stop by SIGINT/SIGTERM throws std::runtime_error naming the
// part. A corrupt NAME.json throws too.
nlohmann::ordered_json RunPart(const std::filesystem::path& dir,
                               const std::string& name,
                               std::vector<std::string> args);

// A hash of this executable (16 hex digits): a part made by another build of dissect is not reused.
const std::string& BuildFingerprint();

// A number of a part's JSON, NaN where it is missing or null.
double Number(const nlohmann::ordered_json& value);

}  // namespace dissect::cli
