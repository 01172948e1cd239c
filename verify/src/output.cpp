#include "output.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <cmath>

namespace dissect::cli {

std::string FormatDouble(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  return fmt::format("{}", value);  // fmt's shortest round-trip representation
}

void Report::Add(const std::string& key, double value, const std::string& label) {
  json_[key] = std::isfinite(value) ? nlohmann::ordered_json(value) : nlohmann::ordered_json(nullptr);
  rows_.emplace_back(label.empty() ? key : label, FormatDouble(value));
}

void Report::Add(const std::string& key, long long value, const std::string& label) {
  json_[key] = value;
  rows_.emplace_back(label.empty() ? key : label, std::to_string(value));
}

void Report::Add(const std::string& key, const std::string& value, const std::string& label) {
  json_[key] = value;
  rows_.emplace_back(label.empty() ? key : label, value);
}

void Report::AddNotComputed(const std::string& key, const std::string& label, const std::string& why) {
  json_[key] = nullptr;
  rows_.emplace_back(label.empty() ? key : label, why);
}

void Report::AddJson(const std::string& key, nlohmann::ordered_json value) { json_[key] = std::move(value); }

void Report::Print(bool as_json, std::ostream& out) const {
  if (as_json) {
    out << json_.dump() << '\n';
    return;
  }
  std::size_t width = 0;
  for (const auto& row : rows_) width = std::max(width, row.first.size());
  for (const auto& row : rows_) out << fmt::format("{:<{}}  {}\n", row.first, width, row.second);
}

}  // namespace dissect::cli
