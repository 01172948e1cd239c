#pragma once
// The (--radius RHO | --temperature TAU) pair shared by every command that needs the logit scale (docs/theory.md: rho^2
// = 1/tau). Exactly one must be given.

#include <CLI/CLI.hpp>
#include <dissect/theory/temperature.hpp>

namespace dissect::cli {

class TemperatureFlags {
 public:
  // Adds --radius and --temperature to `command`. Where the points are the command's own (bound, minimize) rho is
  // the radius of their sphere; where they are the user's embeddings (loss, geometry) it is only the scale 1/sqrt(tau),
  // so those commands pass kEmbeddingsRadiusHelp.
  void AddTo(CLI::App* command, const std::string& radius_help = kPointsRadiusHelp);

  static constexpr const char* kPointsRadiusHelp = "Radius rho of the points' sphere (tau = 1/rho^2)";
  static constexpr const char* kEmbeddingsRadiusHelp =
      "rho = 1/sqrt(tau): the radius the paper's points would have; the embeddings are not projected onto it";
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
