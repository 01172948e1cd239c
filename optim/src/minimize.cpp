#include "dissect/optim/minimize.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <dissect/theory/check.hpp>
#include <dissect/theory/geometry.hpp>
#include <dissect/theory/regular_simplex.hpp>
#include <dissect/theory/supcon_loss.hpp>
#include <memory>
#include <numeric>
#include <random>

#include "dissect/optim/lbfgs.hpp"
#include "dissect/optim/multisets.hpp"
#include "dissect/optim/point_objectives.hpp"
#include "newton_polish.hpp"
#include "sampled_sgd.hpp"

namespace dissect::optim {
namespace {

using theory::RequireAtLeast;
using theory::ThrowInvalidArgument;

constexpr const char* kFunction = "Minimize";
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Temperature continuation: iterations and stationarity at which a stage at a smaller radius hands over.
constexpr int kStageIterations = 200;
constexpr double kStageGradientTolerance = 1e-6;
// Newton polish: the tangent dimension up to which the finite-difference Hessian is built (2 gradients per column).
constexpr Eigen::Index kPolishMaxTangentDim = 600;
// The span rank of the certificate: points converged to the precision floor stick out of the simplex's subspace by
// ~1e-8 of its scale.
constexpr double kSpanRankTolerance = 1e-5;

bool Balanced(const std::vector<int>& counts) {
  return std::all_of(counts.begin(), counts.end(), [&](int c) { return c == counts.front() && c > 0; });
}

Eigen::VectorXi LabelsFromCounts(const std::vector<int>& counts) {
  Eigen::VectorXi labels(std::accumulate(counts.begin(), counts.end(), 0));
  Eigen::Index next = 0;
  for (std::size_t k = 0; k < counts.size(); ++k) {
    for (int j = 0; j < counts[k]; ++j) labels[next++] = static_cast<int>(k);
  }
  return labels;
}

// Points: N blocks of size h (spheres for SC, balls for CE). CE then adds the classifier: K row balls of radius r,
// or one ball of radius r_F holding all of W.
std::vector<Block> MakeBlocks(const MinimizeOptions& options, Eigen::Index num_points) {
  const Eigen::Index h = options.dim;
  const double rho = options.temperature.radius();
  const BlockKind point_kind = options.loss == LossKind::kSupCon ? BlockKind::kSphere : BlockKind::kBall;
  std::vector<Block> blocks;
  for (Eigen::Index i = 0; i < num_points; ++i) blocks.push_back(Block{h * i, h, rho, point_kind});
  if (options.loss == LossKind::kCrossEntropy) {
    const Eigen::Index offset = h * num_points;
    if (options.weight_norm_kind == theory::WeightNorm::kRow) {
      for (int k = 0; k < options.num_classes; ++k) {
        blocks.push_back(Block{offset + h * k, h, options.weight_norm, BlockKind::kBall});
      }
    } else {
      blocks.push_back(Block{offset, h * options.num_classes, options.weight_norm, BlockKind::kBall});
    }
  }
  return blocks;
}

// The objective over the point vector, and the constant it leaves out: SC is minimized as its excess over the
// collapsed value (SupConValue::kExcess), which keeps full precision near the optimum; loss = offset + objective.
struct PointProblem {
  std::unique_ptr<Objective> objective;
  double offset = 0.0;
};

PointProblem MakePointObjective(const MinimizeOptions& options, const Eigen::VectorXi& labels) {
  const int n = static_cast<int>(labels.size());
  if (options.loss == LossKind::kCrossEntropy) {
    return {std::make_unique<CrossEntropyPointObjective>(options.dim, options.num_classes, labels), 0.0};
  }
  std::vector<WeightedBatch> batches;
  if (options.mode == Mode::kMultiset) {
    for (auto& indices : EnumerateMultisets(n, options.batch_size, options.max_batches)) {
      batches.push_back(WeightedBatch{std::move(indices), 1.0});
    }
  } else {
    WeightedBatch all;
    all.indices.resize(n);
    std::iota(all.indices.begin(), all.indices.end(), 0);
    batches.push_back(std::move(all));
  }
  auto objective =
      std::make_unique<SupConPointObjective>(options.dim, labels, std::move(batches), SupConValue::kExcess);
  const double offset = objective->CollapseValue();
  return {std::move(objective), offset};
}

// Seeded Gaussian start: unit-norm directions for spheres, norm about 0.5 (inside, sin map) for balls.
Eigen::VectorXd RandomStart(const std::vector<Block>& blocks, Eigen::Index size, std::mt19937_64* engine) {
  std::normal_distribution<double> normal(0.0, 1.0);
  Eigen::VectorXd u(size);
  for (Eigen::Index i = 0; i < size; ++i) u[i] = normal(*engine);
  for (const Block& block : blocks) {
    auto ub = u.segment(block.offset, block.size);
    ub *= (block.kind == BlockKind::kSphere ? 1.0 : 0.5) / ub.norm();
  }
  return u;
}

// The same problem at a radius-rho simplex: z_i = zeta_{y_i}, w_k = (r_row/rho) zeta_k.
Eigen::VectorXd SimplexPoints(const MinimizeOptions& options, const Eigen::VectorXi& labels) {
  const double rho = options.temperature.radius();
  const Eigen::MatrixXd simplex = theory::RegularSimplex(options.num_classes, options.dim, rho);
  const Eigen::Index h = options.dim;
  const Eigen::Index n = labels.size();
  const Eigen::Index extra = options.loss == LossKind::kCrossEntropy ? options.num_classes : 0;
  Eigen::VectorXd z(h * (n + extra));
  for (Eigen::Index i = 0; i < n; ++i) z.segment(h * i, h) = simplex.col(labels[i]);
  if (extra > 0) {
    const double row_norm = options.weight_norm_kind == theory::WeightNorm::kRow
                                ? options.weight_norm
                                : options.weight_norm / std::sqrt(static_cast<double>(options.num_classes));
    for (int k = 0; k < options.num_classes; ++k) z.segment(h * (n + k), h) = (row_norm / rho) * simplex.col(k);
  }
  return z;
}

// Largest |<mu_k, mu_l> - G_kl| over the classes that have points, G the K-simplex Gram matrix of radius rho.
double GramErrorOfPresentClasses(const theory::ClassMeans& means, double radius) {
  const int k = static_cast<int>(means.counts.size());
  const Eigen::MatrixXd target = theory::SimplexGram(k, radius);
  double worst = 0.0;
  for (int a = 0; a < k; ++a) {
    for (int b = 0; b < k; ++b) {
      if (means.counts[a] == 0 || means.counts[b] == 0) continue;
      worst = std::max(worst, std::abs(means.means.col(a).dot(means.means.col(b)) - target(a, b)));
    }
  }
  return worst;
}

// Remembers the parameters and gradient of its last evaluation with a gradient.
class RecordingObjective : public Objective {
 public:
  explicit RecordingObjective(const Objective& inner) : inner_(inner) {}
  Eigen::Index NumParameters() const override { return inner_.NumParameters(); }
  double Evaluate(const Eigen::Ref<const Eigen::VectorXd>& x, Eigen::VectorXd* gradient) const override {
    const double value = inner_.Evaluate(x, gradient);
    if (gradient != nullptr) {
      last_x_ = x;
      last_gradient_ = *gradient;
    }
    return value;
  }
  // Copies the last gradient into *gradient when it was evaluated at exactly x.
  bool LastGradientAt(const Eigen::Ref<const Eigen::VectorXd>& x, Eigen::VectorXd* gradient) const {
    if (last_x_.size() != x.size() || !(last_x_.array() == x.array()).all()) return false;
    *gradient = last_gradient_;
    return true;
  }

 private:
  const Objective& inner_;
  mutable Eigen::VectorXd last_x_;
  mutable Eigen::VectorXd last_gradient_;
};

// One pass of sign moves for h = 1, where a sphere is two points: negate one block of size 1, then all points of one
// class together (with its classifier row for CE; a collapsed class cannot move one point at a time), keeping each
// move that lowers f. Returns whether any move was kept.
bool FlipSignsWhileImproving(const Objective& objective,
                             const std::vector<Block>& blocks,
                             const Eigen::VectorXi& labels,
                             int num_classes,
                             Eigen::VectorXd* u) {
  double best = objective.Evaluate(*u, nullptr);
  bool improved = false;
  const auto try_move = [&](const std::vector<Eigen::Index>& offsets) {
    for (Eigen::Index offset : offsets) (*u)[offset] = -(*u)[offset];
    const double value = objective.Evaluate(*u, nullptr);
    if (value < best) {
      best = value;
      improved = true;
      return;
    }
    for (Eigen::Index offset : offsets) (*u)[offset] = -(*u)[offset];
  };
  for (const Block& block : blocks) {
    if (block.size == 1) try_move({block.offset});
  }
  const Eigen::Index num_points = labels.size();
  for (int k = 0; k < num_classes; ++k) {
    std::vector<Eigen::Index> offsets;
    for (Eigen::Index i = 0; i < num_points; ++i) {
      if (labels[i] == k) offsets.push_back(blocks[i].offset);
    }
    const auto row = static_cast<std::size_t>(num_points + k);
    if (row < blocks.size() && blocks[row].size == 1) offsets.push_back(blocks[row].offset);
    if (!offsets.empty()) try_move(offsets);
  }
  return improved;
}

// CE: re-draws the parameters of every point block whose point lies inside its ball (norm below 99.9% of the
// radius) with a random direction at ||u|| = pi/4. Returns whether any was re-drawn.
bool RestartInteriorPoints(const std::vector<Block>& blocks,
                           Eigen::Index num_points,
                           std::mt19937_64* engine,
                           Eigen::VectorXd* u) {
  std::normal_distribution<double> normal(0.0, 1.0);
  const Eigen::VectorXd z = PointsFromParameters(blocks, *u);
  bool restarted = false;
  for (Eigen::Index i = 0; i < num_points; ++i) {
    const Block& block = blocks[i];
    if (z.segment(block.offset, block.size).norm() >= 0.999 * block.radius) continue;
    auto ub = u->segment(block.offset, block.size);
    for (Eigen::Index j = 0; j < block.size; ++j) ub[j] = normal(*engine);
    ub *= (M_PI / 4.0) / ub.norm();
    restarted = true;
  }
  return restarted;
}

struct Bound {
  double value = kNaN;
  std::string note;
  double excess = kNaN;  // value minus the collapsed offset (SC), computed without cancellation; = value for CE
};

Bound LowerBound(const MinimizeOptions& options, const std::vector<int>& counts) {
  const int k = options.num_classes;
  const bool attained = options.dim >= k - 1;
  const std::string attainment =
      attained ? "attained at the simplex (h >= K-1)" : "a lower bound that is not attained: h < K-1, no simplex fits";
  if (!Balanced(counts)) {
    return {kNaN,
            options.mode == Mode::kComposition
                ? "none: one unbalanced batch is not minimized by the simplex (docs/theory.md); see simplex_value"
                : "none: the bounds of docs/theory.md need balanced classes; see simplex_value"};
  }
  const double rho = options.temperature.radius();
  if (options.loss == LossKind::kCrossEntropy) {
    const double bound = theory::CrossEntropyBound(k, rho, options.weight_norm, options.weight_norm_kind);
    return {bound, "Paper: CE bound, " + attainment, bound};
  }
  // The optimization places the scale in the radius: logits <z, z'> with ||z|| = rho.
  const theory::Temperature scale = theory::Temperature::FromRadius(rho);
  switch (options.mode) {
    case Mode::kMultiset: {
      const auto bound = theory::SupConMultisetBound(k, counts.front(), options.batch_size, scale);
      return {bound.value, "Paper: SC bound (sum over all multiset batches), " + attainment, bound.excess};
    }
    case Mode::kSampled:
      return {theory::SupConIidFloor(k, options.batch_size, scale),
              "Paper: expected per-sample floor under i.i.d. batches, " + attainment};
    case Mode::kFull:
    case Mode::kComposition:
      return {theory::SupConCompositionValue(counts, scale),
              "SC of one balanced batch at the simplex, " + attainment,
              theory::SupConCompositionExcess(counts, scale)};
  }
  return {kNaN, "none"};
}

// The problem of one call, built once from the options and shared by every stage.
struct MinimizeSetup {
  std::vector<int> counts;
  Eigen::VectorXi labels;
  std::vector<Block> blocks;
  double radius = 0.0;  // rho
  Bound bound;
  PointProblem problem;  // empty in sampled mode, whose objective is a fresh batch at every step
};

// Validates the options and builds the problem. The objective is built here, before the start, so that an impossible
// multiset is refused before any work.
MinimizeSetup SetUp(const MinimizeOptions& options) {
  options.Validate();
  MinimizeSetup setup;
  setup.counts = options.ClassCounts();
  setup.labels = LabelsFromCounts(setup.counts);
  setup.blocks = MakeBlocks(options, setup.labels.size());
  setup.radius = options.temperature.radius();
  setup.bound = LowerBound(options, setup.counts);
  if (options.mode != Mode::kSampled) setup.problem = MakePointObjective(options, setup.labels);
  return setup;
}

// Stage announcements and the trace of one call. Every stage's iterations go into one trace, numbered through, with
// the stage, its radius and the time since the call began.
class StageTrace {
 public:
  StageTrace(const MinimizeOptions& options,
             std::chrono::steady_clock::time_point start,
             std::vector<IterationInfo>* trace)
      : options_(options), start_(start), trace_(trace) {}

  void Begin(const std::string& stage) const {
    if (options_.on_stage) options_.on_stage(stage);
  }

  // Appends the iterate, renumbered from first_iteration, and returns what was appended (for the callback).
  IterationInfo Record(IterationInfo info, int first_iteration, const char* stage, double radius) {
    info.iteration += first_iteration;
    info.stage = stage;
    info.radius = radius;
    info.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    trace_->push_back(info);
    return info;
  }

  const std::vector<IterationInfo>& entries() const { return *trace_; }

 private:
  const MinimizeOptions& options_;
  const std::chrono::steady_clock::time_point start_;
  std::vector<IterationInfo>* trace_;
};

// Sampled mode: SGD on fresh i.i.d. batches (no exact objective, so none of the LBFGS stages).
void RunSgdStage(const MinimizeOptions& options,
                 const MinimizeSetup& setup,
                 const StageTrace& stages,
                 std::mt19937_64* engine,
                 Eigen::VectorXd* u,
                 MinimizeResult* result) {
  bool cancelled = false;
  stages.Begin("sgd");
  result->iterations =
      detail::RunSampledSgd(options, setup.labels, setup.blocks, engine, u, &result->trace, &cancelled);
  result->cancelled = cancelled;
  result->converged = !cancelled;
  result->message =
      cancelled ? "cancelled by the callback" : fmt::format("ran {} SGD steps (poly-5 schedule)", result->iterations);
}

// SC at small tau (rho > 1): temperature continuation. The landscape at rho = 1 is benign, while at rho^2 = 20 the
// pull between far points is ~exp(-20) and random starts stall in metastable configurations. The simplex is optimal
// at every radius, so the points are first minimized at rho = 1, 2, 4, ... (< rho), each warm-starting the next; the
// parametrization is radius-free, so u carries over unchanged. Adds the stages' iterations to *iterations and
// returns whether the callback asked to stop.
bool RunContinuation(const MinimizeOptions& options,
                     const MinimizeSetup& setup,
                     StageTrace* stages,
                     Eigen::VectorXd* u,
                     int* iterations) {
  bool stopped = false;
  if (options.loss != LossKind::kSupCon || !options.continuation) return stopped;
  for (double stage_radius = 1.0; stage_radius < setup.radius && !stopped; stage_radius *= 2.0) {
    stages->Begin(fmt::format("continuation at radius {:g}", stage_radius));
    std::vector<Block> stage_blocks = setup.blocks;
    for (Block& block : stage_blocks) block.radius = stage_radius;
    const ParametrizedObjective stage(*setup.problem.objective, stage_blocks);
    // A stage only has to reach the right basin for the next one: a loose stop keeps the stages cheap.
    LbfgsOptions stage_options;
    stage_options.max_iterations = std::min(options.max_iterations, kStageIterations);
    stage_options.gradient_tolerance = kStageGradientTolerance;
    const int first_iteration = *iterations;
    stage_options.callback = [&](const IterationInfo& excess_info) {
      IterationInfo info = excess_info;
      info.loss = setup.problem.offset + excess_info.loss;  // the collapsed value does not depend on the radius
      info = stages->Record(info, first_iteration, "continuation", stage_radius);
      return options.callback && options.callback(info);
    };
    const LbfgsSummary stage_summary = MinimizeLbfgs(stage, u, stage_options);
    stopped = stage_summary.cancelled;
    *iterations += stage_summary.iterations;
    NormalizeSphereParameters(setup.blocks, *u);
  }
  return stopped;
}

// LBFGS at the target radius, run again from where it ended while that can still help: fresh curvature pairs after
// a stop far above the precision floor, sign flips on the line (h = 1), re-drawn interior points (CE). Its callback
// shares the state of the runs (gap reached, iterations of the earlier runs), hence a class, fixed in memory.
class TargetRadiusLbfgs {
 public:
  TargetRadiusLbfgs(const MinimizeOptions& options, const MinimizeSetup& setup, StageTrace* stages, int first_iteration)
      : options_(options),
        setup_(setup),
        stages_(stages),
        first_iteration_(first_iteration),
        parametrized_(*setup.problem.objective, setup.blocks),
        objective_(parametrized_),
        stop_at_gap_(options.relative_gap_tolerance > 0.0 && std::isfinite(setup.bound.excess)) {
    lbfgs_.max_iterations = options.max_iterations;
    lbfgs_.gradient_tolerance = options.gradient_tolerance;
    lbfgs_.stationarity = [this](const Eigen::Ref<const Eigen::VectorXd>& x) { return Stationarity(x); };
    lbfgs_.callback = [this](const IterationInfo& excess_info) { return OnIteration(excess_info); };
  }
  TargetRadiusLbfgs(const TargetRadiusLbfgs&) = delete;
  TargetRadiusLbfgs& operator=(const TargetRadiusLbfgs&) = delete;

  // `stopped`: the callback asked to stop in a continuation stage, which skips this stage.
  LbfgsSummary Run(bool stopped, std::mt19937_64* engine, Eigen::VectorXd* u);
  // The loss came within relative_gap_tolerance of the bound, which ended the runs.
  bool gap_reached() const { return gap_reached_; }

 private:
  // Stationarity from the gradient of the last evaluation when it was at the same parameters (Ceres evaluates the
  // accepted point last in almost every iteration), else from a fresh evaluation.
  double Stationarity(const Eigen::Ref<const Eigen::VectorXd>& x) {
    if (!objective_.LastGradientAt(x, &gradient_u_)) objective_.Evaluate(x, &gradient_u_);
    if (options_.loss == LossKind::kCrossEntropy) return gradient_u_.norm();
    // Sphere blocks: g_u = (rho/||u||) P g_z, so ||P g_z|| = (||u||/rho) ||g_u|| block by block.
    double sum = 0.0;
    for (const Block& block : setup_.blocks) {
      sum += (x.segment(block.offset, block.size).squaredNorm() / (block.radius * block.radius)) *
             gradient_u_.segment(block.offset, block.size).squaredNorm();
    }
    return std::sqrt(sum);
  }

  bool OnIteration(const IterationInfo& excess_info) {
    // A rerun's iteration 0 is the previous run's last iterate: not traced twice.
    if (iteration_offset_ > 0 && excess_info.iteration == 0) return false;
    // The solver sees the excess over the collapsed value; the trace and the caller see the loss.
    IterationInfo info = excess_info;
    info.loss = setup_.problem.offset + excess_info.loss;
    info = stages_->Record(info, first_iteration_ + iteration_offset_, "lbfgs", setup_.radius);
    if (options_.callback && options_.callback(info)) return true;
    gap_reached_ = stop_at_gap_ && excess_info.loss - setup_.bound.excess <=
                                       options_.relative_gap_tolerance * std::abs(setup_.bound.value);
    return gap_reached_;
  }

  // LBFGS again from *u, numbered on from `previous`, whose iterations it includes.
  LbfgsSummary Rerun(const LbfgsSummary& previous, Eigen::VectorXd* u) {
    const int done = previous.iterations;
    iteration_offset_ = done;
    LbfgsSummary summary = MinimizeLbfgs(objective_, u, lbfgs_);
    summary.iterations += done;
    return summary;
  }

  bool FlipSigns(Eigen::VectorXd* u) const {
    return FlipSignsWhileImproving(objective_, setup_.blocks, setup_.labels, options_.num_classes, u);
  }

  const MinimizeOptions& options_;
  const MinimizeSetup& setup_;
  StageTrace* stages_;
  const int first_iteration_;
  const ParametrizedObjective parametrized_;
  const RecordingObjective objective_;  // of parametrized_, declared before it
  const bool stop_at_gap_;
  LbfgsOptions lbfgs_;
  Eigen::VectorXd gradient_u_;  // Stationarity()'s buffer
  bool gap_reached_ = false;
  int iteration_offset_ = 0;  // iterations of earlier LBFGS runs on this problem (reruns), for the trace
};

LbfgsSummary TargetRadiusLbfgs::Run(bool stopped, std::mt19937_64* engine, Eigen::VectorXd* u) {
  // On the line, signs are chosen before the descent too: a start on the wrong side flows into the saddle at 0.
  if (options_.dim == 1) {
    for (int round = 0; round < 100 && FlipSigns(u); ++round) {
    }
  }
  // A stop requested in a continuation stage skips the final stage.
  LbfgsSummary summary;
  if (stopped) {
    summary.cancelled = true;
    summary.message = "cancelled by the callback";
    summary.grad_norm = stages_->entries().empty() ? summary.grad_norm : stages_->entries().back().grad_norm;
  } else {
    summary = MinimizeLbfgs(objective_, u, lbfgs_);
  }
  // A stop far above the precision floor (a failed line search, steps too small for |u|) restarts from the same
  // points with fresh curvature pairs and unit-norm sphere parameters.
  for (int restart = 0; restart < 3 && !summary.converged && !summary.cancelled && !gap_reached_ &&
                        summary.iterations < options_.max_iterations;
       ++restart) {
    NormalizeSphereParameters(setup_.blocks, *u);
    summary = Rerun(summary, u);
  }
  // On the line (h = 1) a sphere is two points and a ball's boundary too: no gradient step moves a point to the
  // other side. Flip single points while that lowers the loss, then let LBFGS settle again.
  if (options_.dim == 1 && !summary.cancelled && !gap_reached_) {
    for (int round = 0; round < 100 && FlipSigns(u); ++round) summary = Rerun(summary, u);
  }
  // CE: the minimizer puts every point on the sphere of radius rho (Paper: CE bound), but a misclassified point can
  // flow to an interior stationary point (the origin is one). Such points restart from a random boundary-near
  // direction, and LBFGS runs again.
  int escapes = 0;
  if (options_.loss == LossKind::kCrossEntropy) {
    while (escapes < 10 && !summary.cancelled && !gap_reached_ &&
           RestartInteriorPoints(setup_.blocks, setup_.labels.size(), engine, u)) {
      ++escapes;
      summary = Rerun(summary, u);
    }
    if (escapes > 0) summary.message += fmt::format(" (after {} restarts of interior points)", escapes);
  }
  return summary;
}

// Newton steps where LBFGS stalls on ill-conditioning: SC at small tau, where the between-class curvature
// exp(-rho^2 K/(K-1)) is below 1e-3 of the within-class one.
bool IllConditioned(const MinimizeOptions& options, double radius) {
  return options.loss == LossKind::kSupCon && radius * radius * options.num_classes / (options.num_classes - 1.0) > 7.0;
}

// Riemannian Newton steps from the LBFGS result, on small problems with the points on their spheres; the steps go
// into the trace after the LBFGS iterations (first_iteration is LBFGS' own first) and into *summary.
void PolishWithNewton(const MinimizeOptions& options,
                      const MinimizeSetup& setup,
                      StageTrace* stages,
                      int first_iteration,
                      Eigen::VectorXd* u,
                      LbfgsSummary* summary) {
  const std::vector<Block>& blocks = setup.blocks;
  Eigen::VectorXd z_polish = PointsFromParameters(blocks, *u);
  const bool on_spheres = std::all_of(blocks.begin(), blocks.end(), [&](const Block& block) {
    return std::abs(z_polish.segment(block.offset, block.size).norm() - block.radius) <= 1e-9 * block.radius;
  });
  if (!on_spheres) return;
  stages->Begin("newton");
  const Objective& point_objective = *setup.problem.objective;
  const auto on_step = [&](int step, const Eigen::VectorXd& z_step, double excess, double length) {
    Eigen::VectorXd gradient_z;
    point_objective.Evaluate(z_step, &gradient_z);
    IterationInfo info;
    info.iteration = step;
    info.loss = setup.problem.offset + excess;
    info.grad_norm = TangentialGradientNorm(blocks, z_step, gradient_z);
    info.step_size = length;
    info = stages->Record(info, first_iteration + summary->iterations, "newton", setup.radius);
    // The callback sees the steps but cannot stop them: they are few.
    if (options.callback) options.callback(info);
  };
  const int steps = detail::NewtonPolish(point_objective, blocks, kPolishMaxTangentDim, 20, &z_polish, on_step);
  if (steps > 0) {
    *u = ParametersFromPoints(blocks, z_polish);
    summary->iterations += steps;
    summary->grad_norm = stages->entries().back().grad_norm;
    summary->message += fmt::format(", then {} Riemannian Newton steps", steps);
  }
}

// The modes with an exact objective: continuation, LBFGS at the target radius, Newton polish.
void RunDescent(const MinimizeOptions& options,
                const MinimizeSetup& setup,
                StageTrace* stages,
                std::mt19937_64* engine,
                Eigen::VectorXd* u,
                MinimizeResult* result) {
  const bool stopped = RunContinuation(options, setup, stages, u, &result->iterations);
  if (!stopped) stages->Begin("lbfgs");
  const int lbfgs_first_iteration = result->iterations;
  TargetRadiusLbfgs lbfgs(options, setup, stages, lbfgs_first_iteration);
  LbfgsSummary summary = lbfgs.Run(stopped, engine, u);
  if (options.newton_polish && IllConditioned(options, setup.radius) && !summary.cancelled && !lbfgs.gap_reached()) {
    PolishWithNewton(options, setup, stages, lbfgs_first_iteration, u, &summary);
  }
  if (lbfgs.gap_reached()) {
    summary.cancelled = false;
    summary.converged = true;
    summary.message = fmt::format("converged: relative gap to the bound <= {:.3g}", options.relative_gap_tolerance);
  }
  result->iterations += summary.iterations;
  result->converged = summary.converged;
  result->cancelled = summary.cancelled;
  result->message = summary.message;
  result->grad_norm = summary.grad_norm;
}

// The sampled mode's Monte-Carlo estimate of the loss at `points` over the given batches, and its standard error.
double SampledEstimate(const MinimizeOptions& options,
                       const Eigen::VectorXi& labels,
                       const std::vector<WeightedBatch>& batches,
                       const Eigen::VectorXd& points,
                       double* stderr_out) {
  if (options.loss == LossKind::kCrossEntropy) {
    // CE is a per-sample mean: its expectation over i.i.d. batches is the mean over all points, exactly.
    if (stderr_out != nullptr) *stderr_out = 0.0;
    return CrossEntropyPointObjective(options.dim, options.num_classes, labels).Evaluate(points, nullptr);
  }
  Eigen::VectorXd values(batches.size());
  for (std::size_t b = 0; b < batches.size(); ++b) {
    const SupConPointObjective one(options.dim, labels, {batches[b]});
    values[b] = one.Evaluate(points, nullptr);
  }
  const double mean = values.mean();
  if (stderr_out != nullptr) {
    *stderr_out =
        std::sqrt((values.array() - mean).square().sum() / std::max<double>(1.0, values.size() - 1.0) / values.size());
  }
  return mean;
}

// Sampled mode: the final loss over fresh i.i.d. batches, the simplex on the same batches (common random numbers),
// stationarity of the full-batch objective.
void EvaluateSampled(const MinimizeOptions& options,
                     const MinimizeSetup& setup,
                     const Eigen::VectorXd& z,
                     std::mt19937_64* engine,
                     MinimizeResult* result) {
  const Eigen::VectorXi& labels = setup.labels;
  const std::vector<WeightedBatch> batches =
      detail::DrawBatches(static_cast<int>(labels.size()), options.batch_size, options.evaluation_batches, engine);
  result->final_loss = SampledEstimate(options, labels, batches, z, &result->final_loss_stderr);
  if (options.dim >= options.num_classes - 1) {
    result->simplex_value = SampledEstimate(options, labels, batches, SimplexPoints(options, labels), nullptr);
  }
  Eigen::VectorXd full_gradient;
  MinimizeOptions full_options = options;
  full_options.mode = Mode::kFull;
  MakePointObjective(full_options, labels).objective->Evaluate(z, &full_gradient);
  result->grad_norm = TangentialGradientNorm(setup.blocks, z, full_gradient);
  result->gap = result->final_loss - result->bound;
}

// The exact objective at the minimizer and at the simplex.
void EvaluateExact(const MinimizeOptions& options,
                   const MinimizeSetup& setup,
                   const Eigen::VectorXd& z,
                   MinimizeResult* result) {
  const Objective& point_objective = *setup.problem.objective;
  const double excess = point_objective.Evaluate(z, nullptr);
  result->final_loss = setup.problem.offset + excess;
  if (options.dim >= options.num_classes - 1) {
    result->simplex_value =
        setup.problem.offset + point_objective.Evaluate(SimplexPoints(options, setup.labels), nullptr);
  }
  // Both excesses leave out the same constant: their difference is the gap, without the rounding of the loss.
  result->gap = excess - setup.bound.excess;
}

// The evaluation stage: the points (and classifier) from u, the final loss, the gap and the class geometry. Returns
// the point vector z(u).
Eigen::VectorXd EvaluateResult(const MinimizeOptions& options,
                               const MinimizeSetup& setup,
                               const StageTrace& stages,
                               const Eigen::VectorXd& u,
                               std::mt19937_64* engine,
                               MinimizeResult* result) {
  stages.Begin("evaluation");
  const Eigen::Index h = options.dim;
  const Eigen::Index num_points = setup.labels.size();
  Eigen::VectorXd z = PointsFromParameters(setup.blocks, u);
  result->points = Eigen::Map<const Eigen::MatrixXd>(z.data(), h, num_points);
  if (options.loss == LossKind::kCrossEntropy) {
    result->weights = Eigen::Map<const Eigen::MatrixXd>(z.data() + h * num_points, h, options.num_classes).transpose();
  }
  if (options.mode == Mode::kSampled) {
    EvaluateSampled(options, setup, z, engine, result);
  } else {
    EvaluateExact(options, setup, z, result);
  }
  result->rel_gap = result->gap / std::abs(result->bound);

  const theory::ClassMeans means = theory::ComputeClassMeans(result->points, setup.labels, options.num_classes);
  result->max_gram_error = GramErrorOfPresentClasses(means, setup.radius);
  const Eigen::VectorXd spread = theory::WithinClassSpread(result->points, setup.labels, options.num_classes);
  result->max_within_class_spread = 0.0;
  for (Eigen::Index k = 0; k < spread.size(); ++k) {
    if (!std::isnan(spread[k])) result->max_within_class_spread = std::max(result->max_within_class_spread, spread[k]);
  }
  return z;
}

// The matrix-free certificate of a minimization: its rotations act on dim-sized columns, its progress goes to
// certificate_callback.
MatrixFreeCertificateOptions MatrixFreeOptions(const MinimizeOptions& options) {
  MatrixFreeCertificateOptions certificate;
  certificate.dim = options.dim;
  certificate.rank_tolerance = kSpanRankTolerance;
  certificate.seed = options.seed;
  certificate.callback = options.certificate_callback;
  return certificate;
}

// The certificate stage: the Hessian at z of the exact objective (none in sampled mode), where enabled; dense up to
// max_certificate_dim tangent directions, matrix-free beyond.
void Certify(const MinimizeOptions& options,
             const MinimizeSetup& setup,
             const StageTrace& stages,
             const Eigen::VectorXd& z,
             MinimizeResult* result) {
  if (!options.certificate || !setup.problem.objective) {
    result->certificate.message =
        options.mode == Mode::kSampled ? "not computed: sampled mode has no exact objective" : "not computed: disabled";
    return;
  }
  stages.Begin("certificate");
  const Objective& objective = *setup.problem.objective;
  if (TangentDimension(setup.blocks) <= options.max_certificate_dim) {
    // The columns the rotations act on: the points, and for CE the classifier's rows after them.
    const Eigen::Map<const Eigen::MatrixXd> columns(z.data(), options.dim, z.size() / options.dim);
    const Eigen::Index flat = RotationOrbitDimension(options.dim, SpanRank(columns, kSpanRankTolerance));
    result->certificate = CertifyLocalMinimum(objective, z, setup.blocks, flat, options.max_certificate_dim);
  } else {
    result->certificate = CertifyLocalMinimumMatrixFree(objective, z, setup.blocks, MatrixFreeOptions(options));
  }
  result->min_hessian_eigenvalue = result->certificate.min_eigenvalue;
}

}  // namespace

std::string ToString(Mode value) { return theory::NameOf(kModeNames, value); }

Mode ParseMode(std::string_view name) { return theory::ParseName(kModeNames, name, "ParseMode", "mode"); }

std::vector<int> MinimizeOptions::ClassCounts() const {
  if (!class_counts.empty()) return class_counts;
  return std::vector<int>(std::max(num_classes, 0), per_class);
}

void MinimizeOptions::Validate() const {
  RequireAtLeast(kFunction, "num_classes (K)", num_classes, 2);
  RequireAtLeast(kFunction, "dim (h)", dim, 1);
  if (class_counts.empty()) {
    if (mode == Mode::kComposition) ThrowInvalidArgument(kFunction, "composition mode needs class_counts");
    RequireAtLeast(kFunction, "per_class (n)", per_class, 1);
  } else {
    if (static_cast<int>(class_counts.size()) != num_classes) {
      ThrowInvalidArgument(
          kFunction, fmt::format("expected {} class counts (one per class), got {}", num_classes, class_counts.size()));
    }
    for (std::size_t k = 0; k < class_counts.size(); ++k) {
      if (class_counts[k] < 0) {
        ThrowInvalidArgument(kFunction,
                             fmt::format("expected class counts >= 0, got {} for class {}", class_counts[k], k));
      }
    }
    RequireAtLeast(kFunction,
                   "number of points (sum of class counts)",
                   std::accumulate(class_counts.begin(), class_counts.end(), 0LL),
                   2);
  }
  if (loss == LossKind::kCrossEntropy && (mode == Mode::kMultiset || mode == Mode::kComposition)) {
    ThrowInvalidArgument(kFunction,
                         fmt::format("CE is a per-sample mean, so batches do not change its minimizer: use mode full "
                                     "or sampled, got {}",
                                     ToString(mode)));
  }
  theory::RequirePositive(kFunction, "weight_norm", weight_norm);
  if (mode == Mode::kMultiset || mode == Mode::kSampled) RequireAtLeast(kFunction, "batch_size (b)", batch_size, 2);
  RequireAtLeast(kFunction, "max_iterations", max_iterations, 0);
  if (!(gradient_tolerance >= 0.0)) {
    ThrowInvalidArgument(kFunction, fmt::format("expected gradient_tolerance >= 0, got {}", gradient_tolerance));
  }
  if (!(relative_gap_tolerance >= 0.0)) {
    ThrowInvalidArgument(kFunction,
                         fmt::format("expected relative_gap_tolerance >= 0, got {}", relative_gap_tolerance));
  }
  RequireAtLeast(kFunction, "sgd_iterations", sgd_iterations, 1);
  theory::RequirePositive(kFunction, "learning_rate", learning_rate);
  if (!(momentum >= 0.0 && momentum < 1.0)) {
    ThrowInvalidArgument(kFunction, fmt::format("expected 0 <= momentum < 1, got {}", momentum));
  }
  RequireAtLeast(kFunction, "evaluation_batches", evaluation_batches, 1);
}

MinimizeResult Minimize(const MinimizeOptions& options) {
  const auto call_start = std::chrono::steady_clock::now();
  const MinimizeSetup setup = SetUp(options);
  std::mt19937_64 engine(options.seed);

  MinimizeResult result;
  result.labels = setup.labels;
  result.bound = setup.bound.value;
  result.bound_note = setup.bound.note;
  const Block& last = setup.blocks.back();
  Eigen::VectorXd u = RandomStart(setup.blocks, static_cast<Eigen::Index>(last.offset + last.size), &engine);

  StageTrace stages(options, call_start, &result.trace);
  if (options.mode == Mode::kSampled) {
    RunSgdStage(options, setup, stages, &engine, &u, &result);
  } else {
    RunDescent(options, setup, &stages, &engine, &u, &result);
  }
  const Eigen::VectorXd z = EvaluateResult(options, setup, stages, u, &engine, &result);
  Certify(options, setup, stages, z, &result);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - call_start).count();
  return result;
}

double EstimateMinimizeBytes(const MinimizeOptions& options) {
  options.Validate();
  const std::vector<int> counts = options.ClassCounts();
  const double n = std::accumulate(counts.begin(), counts.end(), 0.0);
  const double h = options.dim;
  const double k = options.num_classes;
  const bool ce = options.loss == LossKind::kCrossEntropy;
  const double parameters = h * (n + (ce ? k : 0.0));
  constexpr double kDouble = sizeof(double);
  // Vectors of the parameters' length alive at once: u, z, both gradients, the recording objective's copies and
  // Ceres' line-search vectors (about 16), and LBFGS' 2 m curvature pairs (SGD keeps a velocity instead).
  const double vectors = options.mode == Mode::kSampled ? 12.0 : 2.0 * LbfgsOptions{}.memory + 16.0;
  double bytes = vectors * parameters * kDouble;
  const double batch = options.mode == Mode::kFull ? n : options.batch_size;
  if (ce) {
    bytes += 4.0 * n * k * kDouble;  // logits, probabilities and their gradient, N x K
  } else {
    const theory::SupConOptions kernel;
    const double tile = std::min<double>(
        batch,
        static_cast<double>(kernel.TileColumns(static_cast<Eigen::Index>(batch), 8, static_cast<Eigen::Index>(h))));
    bytes += 2.0 * batch * tile * kDouble + 4.0 * batch * h * kDouble;  // similarity tile; a batch's points, gradient
  }
  if (options.mode == Mode::kSampled) bytes += options.evaluation_batches * (batch + 1.0) * sizeof(int);
  if (options.mode == Mode::kMultiset) {
    // The multiset's batches are enumerated and held with their weights.
    const double count = std::min<double>(CountMultisets(static_cast<int>(n), options.batch_size), options.max_batches);
    bytes += count * (batch + 2.0) * sizeof(int);
  }
  const double tangent = ce ? parameters : h * n - n;  // SC: each point on its sphere
  if (options.certificate && options.mode != Mode::kSampled) {
    if (tangent <= options.max_certificate_dim) {
      bytes += 3.0 * tangent * tangent * kDouble;  // the dense Hessian, its eigen solver's workspace
    } else {
      // The Lanczos vectors live after the descent's have been freed: u, z and the result's points stay.
      const double certificate =
          EstimateMatrixFreeCertificateBytes(MatrixFreeOptions(options), static_cast<Eigen::Index>(parameters)) +
          3.0 * parameters * kDouble;
      bytes += std::max(0.0, certificate - vectors * parameters * kDouble);
    }
  }
  return bytes;
}

}  // namespace dissect::optim
