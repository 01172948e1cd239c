#pragma once
// Lower bounds of the CE and SC losses and the SC value at the simplex; docs/theory.md.

#include <Eigen/Core>
#include <array>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "dissect/theory/enum_names.hpp"
#include "dissect/theory/temperature.hpp"

namespace dissect::theory {

// Which norm bounds the classifier W.
enum class WeightNorm {
  kRow,        // "row": ||w_k|| <= r for every row
  kFrobenius,  // "frobenius": ||W||_F <= r_F; at the optimum r_F = sqrt(K) * r
};
// The names of WeightNorm, for ToString, ParseWeightNorm and the command line's choices.
inline constexpr std::array<EnumName<WeightNorm>, 2> kWeightNormNames = {
    {{WeightNorm::kRow, "row"}, {WeightNorm::kFrobenius, "frobenius"}}};
std::string ToString(WeightNorm norm);
// Parses "row" or "frobenius"; throws std::invalid_argument otherwise.
WeightNorm ParseWeightNorm(std::string_view name);

// Paper: CE bound. L_CE >= log(1 + (K-1) exp(-rho r K/(K-1))) for balanced labels, h >= K-1, ||z|| <= rho and
// ||w_k|| <= r (WeightNorm::kRow) or ||W||_F <= r_F (kFrobenius, r = r_F/sqrt(K)). Attained iff the points collapse
// onto a radius-rho simplex and w_k = (r/rho) zeta_k. Throws std::invalid_argument for K < 2, rho or r not > 0.
double CrossEntropyBound(int num_classes, double radius, double weight_norm, WeightNorm norm = WeightNorm::kRow);

// Whether a bound's conditions hold for given data, and if not, which one fails (for a note such as "CE bound not
// applicable: the classes are not balanced").
struct BoundApplicability {
  bool applies = false;
  std::string reason;  // empty when it applies
};

// True when every class has the same number of points (the CE bound and the SC i.i.d. floor assume it).
bool ClassesBalanced(const std::vector<std::int64_t>& class_counts);

// The CE bound's conditions for data with these class counts (K = their number) in dimension h, at rho = max ||z_i||
// and r = max ||w_k||: balanced classes, h >= K-1, rho > 0 and r > 0. The one check behind dissect loss, dissect
// geometry and the evaluations of dissect train.
BoundApplicability CrossEntropyBoundApplicability(const std::vector<std::int64_t>& class_counts,
                                                  int dim,
                                                  double radius,
                                                  double weight_norm);

// Paper: SC bound, the sum over all multisets B of size b drawn from N = K n points (docs/theory.md):
//   sum_B l_SC >= sum_{l=2..b} l M_l log(l - 1 + (b - l) exp(-rho^2 K/(K-1))),
//   M_l = K C(n+l-1, l) C(N-n+b-l-1, b-l),
// evaluated in log space (lgamma, log-sum-exp) so that it is finite in log form for any realistic N and b.
struct SupConMultisetBoundResult {
  double value = std::numeric_limits<double>::quiet_NaN();            // the total; +inf where it overflows double
  double log_value = std::numeric_limits<double>::quiet_NaN();        // log of the total (-inf when it is 0)
  double per_anchor_mean = std::numeric_limits<double>::quiet_NaN();  // total / (b * number of batches)
  // The total minus its collapsed part sum_B sum_i log P_i: sum_l l M_l log1p((b-l) e/(l-1)), accurate for tiny
  // e = exp(-rho^2 K/(K-1)); compare it with SupConResult::excess summed over the batches. +inf on overflow.
  double excess = std::numeric_limits<double>::quiet_NaN();
  double log_num_batches = std::numeric_limits<double>::quiet_NaN();  // log C(N+b-1, b)
  double num_batches = std::numeric_limits<double>::quiet_NaN();      // C(N+b-1, b); +inf where it overflows
};

// Throws std::invalid_argument for K < 2, n < 1, b < 2.
SupConMultisetBoundResult SupConMultisetBound(int num_classes, int per_class, int batch_size, Temperature temperature);

// Paper: SC at the simplex for one batch with class counts `composition` (one entry per class of the K-vertex
// simplex; b = the sum): sum over classes with count l >= 2 of l log(l - 1 + (b - l) exp(-rho^2 K/(K-1))).
// Not a lower bound for one batch: unbalanced compositions have lower minimizers (docs/theory.md).
// Throws std::invalid_argument for K < 2 entries, negative counts, b < 1.
double SupConCompositionValue(const std::vector<int>& composition, Temperature temperature);

// SupConCompositionValue minus its collapsed part sum over classes of l log(l-1): the sum of l log1p((b-l) e/(l-1)),
// accurate for tiny e (compare with SupConResult::excess). Same preconditions.
double SupConCompositionExcess(const std::vector<int>& composition, Temperature temperature);

// Paper: expected per-sample floor under i.i.d. sampling with replacement (code normalization sum/b):
//   (K/b) sum_{l=2..b} C(b,l) K^{-l} (1-1/K)^{b-l} l log(l-1 + (b-l) exp(-rho^2 K/(K-1))).
// Throws std::invalid_argument for K < 2, b < 2.
double SupConIidFloor(int num_classes, int batch_size, Temperature temperature);

// log C(n + k - 1, k): the number of multisets of size k from n items (integers n >= 1, k >= 0; else
// std::invalid_argument); exact binomials where they fit a double, lgamma beyond.
double LogMultisetCount(double num_items, double size);

// log(sum_i exp(x_i)) of a set of values; -inf for an empty set or all -inf; NaN if any value is NaN.
double LogSumExp(const std::vector<double>& values);

}  // namespace dissect::theory
