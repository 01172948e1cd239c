#pragma once
// The (--radius RHO | --temperature TAU) pair shared by every command that needs the logit scale (docs/theory.md: rho^2 =
// 1/tau). Exactly one must be given.

#include <CLI/CLI.hpp>
#include <dissect/theory/temperature.hpp>

namespace dissect::cli {

class TemperatureFlags {
 public:
  // Adds --radius and --temperature to `command`.
  void AddTo(CLI::App* command);
  // The scale the user gave; throws std::invalid_argument when neither or both were given, or the value is not > 0.
  theory::Temperature Get() const;
  // Whether either flag was given.
  bool Given() const;

 private:
  double radius_ = 0.0;
  double temperature_ = 0.0;
  CLI::Option* radius_option_ = nullptr;
  CLI::Option* temperature_option_ = nullptr;
};

}  // namespace dissect::cli
