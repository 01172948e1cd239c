#pragma once
// Input checks shared by every entry point of dissect. Each throws std::invalid_argument with the message form of
// docs/development.md: "Function(): expected temperature > 0, got -1". Checks are never compiled out.

#include <Eigen/Core>
#include <string_view>

namespace dissect::theory {

// Throws std::invalid_argument("function(): message").
[[noreturn]] void ThrowInvalidArgument(std::string_view function, std::string_view message);

// Requires a finite value > 0 (NaN and inf are rejected).
void RequirePositive(std::string_view function, std::string_view name, double value);

// Requires an integer count >= minimum.
void RequireAtLeast(std::string_view function, std::string_view name, long long value, long long minimum);

// Requires every entry of a matrix to be finite; the message names the first bad entry (row, column).
void RequireFinite(std::string_view function, std::string_view name, const Eigen::Ref<const Eigen::MatrixXd>& values);

// Requires labels.size() == expected_size and every label in [0, num_classes). num_classes < 0 means "any
// non-negative label".
void RequireLabels(std::string_view function,
                   const Eigen::Ref<const Eigen::VectorXi>& labels,
                   Eigen::Index expected_size,
                   int num_classes);

}  // namespace dissect::theory
