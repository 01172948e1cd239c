#pragma once
// How commands print results: a readable table on stdout, or one JSON object with --json (docs/development.md, Output).

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace dissect::cli {

// Key-value results of one command. JSON keeps the insertion order; doubles are printed so that they read back
// exactly, and a value that is not finite becomes null in JSON (JSON has no inf) and "inf"/"nan" in the table.
class Report {
 public:
  // `key` is the JSON field (snake_case); `label` the table's row name (the key when empty).
  void Add(const std::string& key, double value, const std::string& label = "");
  void Add(const std::string& key, long long value, const std::string& label = "");
  void Add(const std::string& key, const std::string& value, const std::string& label = "");
  // A value that was not computed (unknown, not false): null in JSON, `why` in the table.
  void AddNotComputed(const std::string& key, const std::string& label = "", const std::string& why = "not computed");
  // A JSON-only field holding structured data (arrays, nested objects); not shown in the table.
  void AddJson(const std::string& key, nlohmann::ordered_json value);

  void Print(bool as_json, std::ostream& out) const;
  // The JSON object Print(true, ...) writes.
  const nlohmann::ordered_json& json() const { return json_; }

 private:
  nlohmann::ordered_json json_ = nlohmann::ordered_json::object();
  std::vector<std::pair<std::string, std::string>> rows_;
};

// Formats a double with the fewest digits that read back exactly ({:.17g} when needed).
std::string FormatDouble(double value);

}  // namespace dissect::cli
