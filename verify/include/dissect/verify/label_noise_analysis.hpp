#pragma once
// The label-noise experiment over replicates (docs/claims.md, claim 4): per seed, the curvature of iterations to
// fit over the flipped fraction p, kappa = 4 (T(1) - 2 T(1/2) + T(0)) / (T(1) - T(0)) (0 for linear growth, > 0
// convex, < 0 concave; 4 (1 - 2^(1-e)) for T = T(0) + a p^e), and its interval over the seeds. A run that did not
// fit within its budget is censored: its T is the budget, a lower bound. kappa grows with T(1) when T(1/2) > T(0),
// so a censored T(1) gives a lower bound of kappa; a censored T(0) or T(1/2) leaves the seed without a value.

#include <string>
#include <vector>

#include "dissect/verify/part_results.hpp"
#include "dissect/verify/power_law.hpp"
#include "dissect/verify/statistics.hpp"

namespace dissect::verify {

// kappa of three iterations-to-fit; NaN unless T(1) > T(0).
double Curvature(double t0, double t_half, double t1);

struct SeedCurvature {
  static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  int replicate = 0;
  double t0 = kNaN, t_half = kNaN, t1 = kNaN;
  bool lower_bound = false;  // T(1) censored: kappa is a lower bound
  bool usable = false;       // T(0), T(1/2), T(1) present, the first two fitted, T(1) > T(0)
  double kappa = kNaN;
  double growth_ratio = kNaN;  // T(1) / T(0)
  std::string note;            // why not usable
};

struct LossCurvature {
  std::string loss;
  std::vector<SeedCurvature> seeds;  // by replicate
  int usable = 0;
  int lower_bounds = 0;   // usable seeds whose kappa is a lower bound
  int runs = 0;           // runs of this loss
  int censored_runs = 0;  // of them, not fitted within the budget
  Interval kappa;         // over the usable seeds
  Interval growth_ratio;  // T(1) / T(0) over the usable seeds
  PowerLawFit power_law;  // description: T(p) - mean T(0) = a flipped^e over every fitted run
};

// The curvature of `loss` over the replicates in `runs`. Throws std::invalid_argument for a replicate with two
// runs at one fraction.
LossCurvature AnalyzeCurvature(const std::vector<NoiseRunResult>& runs,
                               const std::string& loss,
                               double confidence,
                               int bootstrap = 2000);

// The paired difference kappa(a) - kappa(b) over the replicates usable for both; `lower_bound` is set when a
// kappa of `a` is a lower bound (the difference is then one too), `invalid` when one of `b` is.
struct PairedCurvature {
  Interval difference;
  bool lower_bound = false;
  bool invalid = false;
};
PairedCurvature PairCurvatures(const LossCurvature& a, const LossCurvature& b, double confidence);

}  // namespace dissect::verify
