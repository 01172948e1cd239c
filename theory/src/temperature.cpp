#include "dissect/theory/temperature.hpp"

#include <cmath>

#include "dissect/theory/check.hpp"

namespace dissect::theory {

Temperature Temperature::FromTemperature(double temperature) {
  RequirePositive("Temperature::FromTemperature", "temperature", temperature);
  return Temperature(temperature, 1.0 / std::sqrt(temperature), 1.0 / temperature);
}

Temperature Temperature::FromRadius(double radius) {
  RequirePositive("Temperature::FromRadius", "radius", radius);
  const double inverse = radius * radius;
  RequirePositive("Temperature::FromRadius", "radius^2 (finite)", inverse);
  return Temperature(1.0 / inverse, radius, inverse);
}

}  // namespace dissect::theory
