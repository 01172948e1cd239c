#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

#include "dissect/theory/check.hpp"

namespace dissect::theory {

void ThrowInvalidArgument(std::string_view function, std::string_view message) {
  throw std::invalid_argument(fmt::format("{}(): {}", function, message));
}

void RequirePositive(std::string_view function, std::string_view name, double value) {
  if (!(std::isfinite(value) && value > 0.0)) {
    ThrowInvalidArgument(function, fmt::format("expected {} > 0, got {}", name, value));
  }
}

void RequireAtLeast(std::string_view function, std::string_view name, long long value, long long minimum) {
  if (value < minimum) {
    ThrowInvalidArgument(function, fmt::format("expected {} >= {}, got {}", name, minimum, value));
  }
}

void RequireFinite(std::string_view function, std::string_view name, const Eigen::Ref<const Eigen::MatrixXd>& values) {
  if (values.allFinite()) return;
  for (Eigen::Index col = 0; col < values.cols(); ++col) {
    for (Eigen::Index row = 0; row < values.rows(); ++row) {
      if (!std::isfinite(values(row, col))) {
        ThrowInvalidArgument(
            function, fmt::format("expected finite {}, got {} at row {}, column {}", name, values(row, col), row, col));
      }
    }
  }
}

void RequireLabels(std::string_view function,
                   const Eigen::Ref<const Eigen::VectorXi>& labels,
                   Eigen::Index expected_size,
                   int num_classes) {
  if (labels.size() != expected_size) {
    ThrowInvalidArgument(function,
                         fmt::format("expected {} labels (one per point), got {}", expected_size, labels.size()));
  }
  for (Eigen::Index i = 0; i < labels.size(); ++i) {
    const int label = labels[i];
    if (label < 0 || (num_classes >= 0 && label >= num_classes)) {
      if (num_classes >= 0) {
        ThrowInvalidArgument(function,
                             fmt::format("expected labels in [0, {}), got {} at index {}", num_classes, label, i));
      }
      ThrowInvalidArgument(function, fmt::format("expected labels >= 0, got {} at index {}", label, i));
    }
  }
}

}  // namespace dissect::theory
