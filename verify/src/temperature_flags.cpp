#include "temperature_flags.hpp"

#include <stdexcept>

namespace dissect::cli {

void TemperatureFlags::AddTo(CLI::App* command, const std::string& radius_help) {
  radius_option_ = command->add_option("--radius", radius_, radius_help);
  temperature_option_ = command->add_option("--temperature", temperature_, "Temperature tau (rho = 1/sqrt(tau))");
  radius_option_->excludes(temperature_option_);
}

theory::Temperature TemperatureFlags::Get() const {
  if (radius_option_->count() > 0) return theory::Temperature::FromRadius(radius_);
  if (temperature_option_->count() > 0) return theory::Temperature::FromTemperature(temperature_);
  throw std::invalid_argument("give one of --radius and --temperature");
}

bool TemperatureFlags::Given() const { return radius_option_->count() + temperature_option_->count() > 0; }

}  // namespace dissect::cli
