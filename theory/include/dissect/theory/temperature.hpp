#pragma once
// The scale of the similarities <z_i, z_j> / tau. Paper: "rho_Z^2 = 1/tau" (docs/theory.md, Objects and symbols): unit
// features at temperature tau give the same logits as features on the sphere of radius rho = 1/sqrt(tau). Every API
// that needs a scale takes a Temperature, built from either form, so both give identical numbers.

namespace dissect::theory {

class Temperature {
 public:
  // tau > 0 and finite, else std::invalid_argument.
  static Temperature FromTemperature(double temperature);
  // rho > 0 and finite, else std::invalid_argument; tau = 1 / rho^2.
  static Temperature FromRadius(double radius);

  // tau.
  double temperature() const { return temperature_; }
  // rho = 1 / sqrt(tau).
  double radius() const { return radius_; }
  // 1 / tau = rho^2: the factor applied to inner products. Computed from the form the caller gave (1/tau or
  // rho*rho), so that exactly representable pairs such as tau = 0.25, rho = 2 agree to the last bit.
  double inverse_temperature() const { return inverse_temperature_; }

 private:
  Temperature(double temperature, double radius, double inverse_temperature)
      : temperature_(temperature), radius_(radius), inverse_temperature_(inverse_temperature) {}
  double temperature_;
  double radius_;
  double inverse_temperature_;
};

}  // namespace dissect::theory
