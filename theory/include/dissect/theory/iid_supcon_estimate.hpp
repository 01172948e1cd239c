#pragma once
// Paper: SC loss under i.i.d. batches (docs/theory.md, expected per-sample floor): the expected loss of a batch of b
// points drawn uniformly with replacement, as training draws them, estimated from M seeded batches. One definition for
// the evaluation of `dissect train` and for `dissect geometry`: the same points, seed, b and M give the same numbers.

#include <Eigen/Core>
#include <cstdint>
#include <limits>
#include <vector>

#include "dissect/theory/temperature.hpp"

namespace dissect::theory {

// The M b point indices of M batches of b points, drawn uniformly with replacement from [0, n), batch after batch
// (multiply-shift of 64 random bits of std::mt19937_64(seed): the same on every platform). Throws
// std::invalid_argument for n < 1, b < 1 or M < 1.
std::vector<Eigen::Index> DrawIidBatchIndices(Eigen::Index n, int batch_size, int num_batches, std::uint64_t seed);

struct IidSupConEstimate {
  double mean = std::numeric_limits<double>::quiet_NaN();            // over the batches, reduction sum/b
  double standard_error = std::numeric_limits<double>::quiet_NaN();  // sample std (M - 1) / sqrt(M); NaN for M = 1
  int num_batches = 0;                                               // M
};

// The estimate from the drawn points in draw order: `points` h x (M b) (unit vectors for the paper's SC loss; nothing
// is normalized here), `labels` M b. Throws std::invalid_argument when the columns are not a multiple of b >= 2 or
// the labels do not match.
IidSupConEstimate EstimateIidSupCon(const Eigen::Ref<const Eigen::MatrixXd>& points,
                                    const Eigen::Ref<const Eigen::VectorXi>& labels,
                                    int batch_size,
                                    Temperature temperature);

}  // namespace dissect::theory
