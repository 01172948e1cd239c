#pragma once
// The paper's claims as decisions over typed part results (docs/claims.md states each test, its margin and why):
// 1a-1d theory (exact numbers: PASS or FAIL), 2a-2b trained encoders (paired intervals over seeds), 3 closeness and
// generalization (bootstrap interval of Spearman's rho), 4a-4c label noise (intervals of the curvature over seeds).

#include <map>
#include <string>
#include <vector>

#include "dissect/verify/label_noise_analysis.hpp"
#include "dissect/verify/part_results.hpp"
#include "dissect/verify/verdict.hpp"

namespace dissect::verify {

// The margins of the named tests.
struct ClaimMargins {
  double confidence = 0.95;
  // 2a: SC's probe accuracy may be this many points below CE's and still count as on par.
  double accuracy_points = 1.0;
  // 2b: SC's distance to the reachable similarity may exceed CE's by this much.
  double similarity = 0.01;
  // 4: "about linear" is |kappa| < this (for T = T(0) + a p^e: exponents 0.68 to 1.42).
  double linear_curvature = 1.0;
  // 4b: CE's iterations must grow at least this much from p = 0 to p = 1 for its shape to be measurable.
  double min_growth_ratio = 1.5;
};

// The multiset objective's known answer for Figure 5 (K = 3, n = 2, b = 9, rho = 1), computed by theory/.
double Figure5KnownAnswer();

Claim SweepClaim(const SweepResult& sweep);
Claim Figure5Claim(const MultisetMinimum& minimum, const Figure5Result& figure5);
Claim Figure6Claim(const Figure6Result& figure6);
Claim Figure1Claim(const Figure1Result& figure1);

// 2a: the linear-probe test accuracy of SC against CE's, paired by seed (runs of both losses with the same seeds;
// std::invalid_argument otherwise). `suffix` tells datasets apart ("" or " (mnist)").
Claim AccuracyParityClaim(const std::vector<TrainedRun>& supcon,
                          const std::vector<TrainedRun>& ce,
                          const std::string& suffix,
                          const ClaimMargins& margins = {});

// 2b: the distance of the class-mean similarity to the similarity the encoder can reach, SC against CE, paired by
// seed: 0.5 (an orthogonal frame) for post-ReLU features, the simplex's -1/(K-1) angle with a final linear layer.
// Its id is "2b" for post-ReLU encoders and "2b-linear" with a final linear layer (then `suffix`).
double ReachableSimilarity(const TrainedRun& run);
Claim GeometryClaim(const std::vector<TrainedRun>& supcon,
                    const std::vector<TrainedRun>& ce,
                    const std::string& suffix,
                    const ClaimMargins& margins = {});

// 3: Spearman's rho between the gap to the bound and the test accuracy of the class means, per loss.
Claim CorrelationClaim(const std::map<std::string, std::vector<TrainedRun>>& by_loss);

// 4a SC superlinear, 4b CE about linear, 4c SC's curvature above CE's (paired by seed).
std::vector<Claim> NoiseClaims(const LossCurvature& supcon, const LossCurvature& ce, const ClaimMargins& margins = {});

}  // namespace dissect::verify
