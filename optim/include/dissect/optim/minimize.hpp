#pragma once
// Free-point minimization of the CE and SC losses: the paper's central claim (both are minimized by class collapse
// onto a regular simplex) as a measured fact, and what the optimum is where no simplex fits.

#include <Eigen/Core>
#include <array>
#include <cstdint>
#include <dissect/theory/bounds.hpp>
#include <dissect/theory/temperature.hpp>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "dissect/optim/certificate.hpp"
#include "dissect/optim/matrix_free_certificate.hpp"
#include "dissect/optim/objective.hpp"
#include "dissect/theory/enum_names.hpp"
#include "dissect/theory/loss_family.hpp"

namespace dissect::optim {

// The loss of the free points: theory's LossFamily (kSupCon, kCrossEntropy; names "supcon", "ce").
using LossKind = theory::LossFamily;
enum class Mode {
  kFull,         // "full": all N points in one batch (SC) / the mean over all points (CE)
  kMultiset,     // "multiset": SC summed over every multiset batch of size b (the paper's bound), enumerated
  kSampled,      // "sampled": i.i.d. batches with replacement, SGD with the poly-5 schedule (large N)
  kComposition,  // "composition": one SC batch with given class counts
};
// The names of Mode, for ToString, ParseMode and the command line's choices.
inline constexpr std::array<theory::EnumName<Mode>, 4> kModeNames = {{{Mode::kFull, "full"},
                                                                      {Mode::kMultiset, "multiset"},
                                                                      {Mode::kSampled, "sampled"},
                                                                      {Mode::kComposition, "composition"}}};
std::string ToString(Mode mode);
Mode ParseMode(std::string_view name);  // "full" | "multiset" | "sampled" | "composition"

struct MinimizeOptions {
  LossKind loss = LossKind::kSupCon;
  Mode mode = Mode::kFull;
  int num_classes = 0;  // K >= 2
  int per_class = 0;    // n >= 1 (balanced classes); ignored when class_counts is set
  // Points per class (imbalanced classes), or the class counts of the one batch in composition mode. Size K.
  std::vector<int> class_counts;
  int dim = 0;  // h >= 1 (h < K-1 is allowed: no simplex fits, the optimum is still reported)
  // rho = 1/sqrt(tau): SC points lie on the sphere of radius rho, CE points in the ball of radius rho.
  theory::Temperature temperature = theory::Temperature::FromTemperature(1.0);
  double weight_norm = 1.0;  // CE: the bound r on W
  theory::WeightNorm weight_norm_kind = theory::WeightNorm::kRow;
  int batch_size = 0;           // b (multiset, sampled)
  std::uint64_t seed = 0;       // the random start (and the sampled batches)
  int max_iterations = 100000;  // LBFGS iterations
  // Stop when grad_norm <= this. The default 0 runs to the precision floor (no step changes the loss any more):
  // at small tau the between-class curvature is ~exp(-rho^2 K/(K-1)), so no fixed gradient tolerance tells a
  // simplex from a configuration far from it.
  double gradient_tolerance = 0.0;
  // Also stop once the loss is within this relative gap of the bound (where a bound is known): (loss - bound) <=
  // relative_gap_tolerance * |bound|. 0 disables it.
  double relative_gap_tolerance = 0.0;
  std::uint64_t max_batches = 10000000;  // multiset: refuse beyond this many batches
  int sgd_iterations = 20000;            // sampled: SGD steps T
  double learning_rate = 1.0;            // sampled: lr0 of lr_i = lr0 (1 - i/T)^5
  double momentum = 0.9;                 // sampled: heavy-ball momentum
  int evaluation_batches = 4000;         // sampled: i.i.d. batches of the final loss estimate
  // SC with rho > 1: minimize first at radii 1, 2, 4, ... below rho, each stage warm-starting the next
  // (temperature continuation; avoids the metastable configurations of random starts at small tau).
  bool continuation = true;
  // After LBFGS, Riemannian Newton steps (finite-difference Hessian, saddle-free) for SC at small tau
  // (rho^2 K/(K-1) > 7) on problems of up to 600 tangent directions: they finish the between-class geometry that
  // LBFGS cannot resolve when its curvature is ~1e-12 of the within-class one.
  bool newton_polish = true;
  bool certificate = true;  // compute the Hessian certificate
  // Tangent dimensions up to this get the dense certificate (the whole spectrum); beyond it the matrix-free one
  // (the extremes by Lanczos, memory linear in the parameters).
  Eigen::Index max_certificate_dim = 3000;
  IterationCallback callback;  // progress and cancellation (true = stop)
  // The matrix-free certificate's progress after each Lanczos iteration; true stops it ("not computed: stopped").
  std::function<bool(const MatrixFreeCertificateProgress&)> certificate_callback;
  // Called as each stage begins ("continuation at radius 2", "lbfgs", "newton", "evaluation", "certificate"), for
  // progress between iterations; the work after the last iteration (evaluation, certificate) can take as long as
  // the iterations at large N.
  std::function<void(const std::string& stage)> on_stage;

  // Throws std::invalid_argument naming the first bad field ("Minimize(): expected per_class (n) >= 1, got 0").
  void Validate() const;
  // Points per class, from per_class or class_counts.
  std::vector<int> ClassCounts() const;
};

struct MinimizeResult {
  Eigen::MatrixXd points;   // dim x N, the minimizer
  Eigen::VectorXi labels;   // N
  Eigen::MatrixXd weights;  // K x dim (CE), empty for SC
  double final_loss = std::numeric_limits<double>::quiet_NaN();
  double final_loss_stderr = std::numeric_limits<double>::quiet_NaN();  // sampled: Monte-Carlo standard error
  // The lower bound of this objective (docs/theory.md) where one is proven (balanced classes): attained iff h >= K-1.
  double bound = std::numeric_limits<double>::quiet_NaN();
  std::string bound_note = "not run";
  double gap = std::numeric_limits<double>::quiet_NaN();      // final_loss - bound
  double rel_gap = std::numeric_limits<double>::quiet_NaN();  // gap / |bound|
  // The objective at a radius-rho simplex (classifier aligned) for the same problem, where h >= K-1: for one
  // unbalanced batch this is what the minimizer beats.
  double simplex_value = std::numeric_limits<double>::quiet_NaN();
  double max_gram_error = std::numeric_limits<double>::quiet_NaN();  // class-mean Gram vs the simplex's, norms incl.
  double max_within_class_spread = std::numeric_limits<double>::quiet_NaN();
  // Stationarity: the norm of the Riemannian gradient on the product of spheres (SC), of the gradient in the
  // parameters (CE, ball parametrization; zero at a KKT point on the boundary).
  double grad_norm = std::numeric_limits<double>::quiet_NaN();
  HessianCertificate certificate;
  double min_hessian_eigenvalue = std::numeric_limits<double>::quiet_NaN();  // certificate.min_eigenvalue
  // LBFGS iterations, continuation stages included, then Newton steps (a callback returning true does not stop the
  // Newton steps, which are few).
  int iterations = 0;
  double seconds = 0.0;  // wall time of the whole call: set-up, every stage, evaluation and certificate
  bool converged = false;
  bool cancelled = false;
  std::string message = "not run";
  // One entry per iteration of every stage, numbered through (continuation stages, then LBFGS with its restarts,
  // then Newton steps); a stage's first entry is the previous stage's last iterate at the stage's own radius.
  std::vector<IterationInfo> trace;
};

// Minimizes the loss over free points from a seeded random start. Numerical failure (no convergence) is data in the
// result; invalid options throw std::invalid_argument (multiset beyond max_batches included).
MinimizeResult Minimize(const MinimizeOptions& options);

// About the peak memory Minimize(options) uses, in bytes, for refusing a problem that cannot fit before it starts:
// the parameter-sized vectors (points, gradients, the LBFGS history, Ceres' own), the SC kernel's similarity tile,
// CE's logits, the sampled mode's evaluation batches and the certificate's dense Hessian (or the matrix-free
// certificate's Lanczos vectors, alive after the descent's are freed). An estimate, not a bound
// (docs/cli.md, Memory, gives how it compares with measured peaks). Throws what Validate() throws.
double EstimateMinimizeBytes(const MinimizeOptions& options);

}  // namespace dissect::optim
