#pragma once
// One name table per enum: each enum of the library lists its (value, name) pairs once, beside its declaration, and
// its ToString, its Parse and the command line's list of choices (CLI::IsMember) all read that table, so a name
// cannot be spelled two ways or missing from one of them.

#include <fmt/format.h>

#include <array>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace dissect::theory {

template <typename Enum>
struct EnumName {
  Enum value;
  const char* name;
};

// The name of `value` in `table` ("unknown" for a value the table lacks, which a complete table never has).
template <typename Enum, std::size_t N>
std::string NameOf(const std::array<EnumName<Enum>, N>& table, Enum value) {
  for (const EnumName<Enum>& entry : table) {
    if (entry.value == value) return entry.name;
  }
  return "unknown";
}

// Every name of `table` in its order: the choices of a command-line flag.
template <typename Enum, std::size_t N>
std::vector<std::string> NamesOf(const std::array<EnumName<Enum>, N>& table) {
  std::vector<std::string> names;
  for (const EnumName<Enum>& entry : table) names.emplace_back(entry.name);
  return names;
}

// The value named `name`. Throws std::invalid_argument "<function>(): expected <what> a, b or c, got '<name>'".
template <typename Enum, std::size_t N>
Enum ParseName(const std::array<EnumName<Enum>, N>& table,
               std::string_view name,
               std::string_view function,
               std::string_view what) {
  for (const EnumName<Enum>& entry : table) {
    if (name == entry.name) return entry.value;
  }
  std::string choices;
  for (std::size_t i = 0; i < N; ++i) {
    choices += i == 0 ? "" : (i + 1 == N ? " or " : ", ");
    choices += table[i].name;
  }
  throw std::invalid_argument(
      fmt::format("{}(): expected {}{}{}, got '{}'", function, what, what.empty() ? "" : " ", choices, name));
}

}  // namespace dissect::theory
