#include "dissect/theory/representation_geometry.hpp"

#include <fmt/format.h>

#include <Eigen/Eigenvalues>
#include <Eigen/QR>
#include <Eigen/SVD>
#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <stdexcept>
#include <utility>

#include "blas.hpp"
#include "dissect/theory/bounds.hpp"
#include "dissect/theory/check.hpp"
#include "dissect/theory/geometry.hpp"
#include "dissect/theory/iid_supcon_estimate.hpp"
#include "dissect/theory/regular_simplex.hpp"
#include "dissect/theory/supcon_loss.hpp"

namespace dissect::theory {
namespace {

constexpr const char* kFunction = "MeasureRepresentationGeometry";
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Cosine of two columns; NaN when either is zero.
double Cosine(const Eigen::Ref<const Eigen::VectorXd>& u, const Eigen::Ref<const Eigen::VectorXd>& v) {
  const double norms = u.norm() * v.norm();
  return norms > 0.0 ? u.dot(v) / norms : kNaN;
}

// The cosines of all column pairs k < l of `vectors` whose columns are non-zero.
std::vector<double> PairCosines(const Eigen::MatrixXd& vectors) {
  std::vector<double> cosines;
  for (Eigen::Index k = 0; k < vectors.cols(); ++k) {
    for (Eigen::Index l = k + 1; l < vectors.cols(); ++l) {
      const double cosine = Cosine(vectors.col(k), vectors.col(l));
      if (!std::isnan(cosine)) cosines.push_back(cosine);
    }
  }
  return cosines;
}

SummaryStatistics SimilarityStatistics(const std::vector<double>& cosines) {
  std::vector<double> similarities(cosines.size());
  std::transform(cosines.begin(), cosines.end(), similarities.begin(), AngularSimilarityFromCosine);
  return Summarize(&similarities);
}

// A uniform double in [0, 1) from the top 53 bits.
double UniformUnit(std::mt19937_64& engine) { return static_cast<double>(engine() >> 11) * 0x1.0p-53; }

// `count` of the indices [0, n) drawn uniformly without replacement, in increasing order (Knuth's Algorithm S:
// O(n) time, no O(n) memory).
std::vector<Eigen::Index> SortedSample(Eigen::Index n, Eigen::Index count, std::uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::vector<Eigen::Index> sample;
  sample.reserve(static_cast<std::size_t>(count));
  for (Eigen::Index i = 0; i < n && static_cast<Eigen::Index>(sample.size()) < count; ++i) {
    const double needed = static_cast<double>(count - static_cast<Eigen::Index>(sample.size()));
    if (static_cast<double>(n - i) * UniformUnit(engine) < needed) sample.push_back(i);
  }
  return sample;
}

// A normalized point to copy into column `column` of `target` when pass 1 reads point `point`.
struct Gather {
  Eigen::Index point;
  Eigen::MatrixXd* target;
  Eigen::Index column;
};

// Sum over pairs i < j of exp(-2 ||u_i - u_j||^2) = exp(4 <u_i, u_j> - 4) for unit columns, in blocks of columns
// (the Gram blocks come from BLAS); per-column partial sums are added in a fixed order, so the value does not depend
// on the number of threads. Returns false when the progress callback asked to stop.
bool UniformityPairSum(const Eigen::MatrixXd& unit_points,
                       const std::function<bool(Eigen::Index, Eigen::Index)>& progress,
                       double* sum) {
  constexpr Eigen::Index kBlock = 2048;
  const Eigen::Index n = unit_points.cols();
  const Eigen::Index num_blocks = (n + kBlock - 1) / kBlock;
  const Eigen::Index total = num_blocks * (num_blocks + 1) / 2;
  Eigen::MatrixXd gram(std::min(kBlock, n), std::min(kBlock, n));
  Eigen::VectorXd column_sums(std::min(kBlock, n));
  double total_sum = 0.0;
  Eigen::Index done = 0;
  for (Eigen::Index a = 0; a < n; a += kBlock) {
    const Eigen::Index rows = std::min(kBlock, n - a);
    for (Eigen::Index b = a; b < n; b += kBlock) {
      const Eigen::Index cols = std::min(kBlock, n - b);
      auto block = gram.topLeftCorner(rows, cols);
      detail::ScaledProductTransposedA<double>(
          unit_points.middleCols(a, rows), unit_points.middleCols(b, cols), 1.0, block);
      const bool diagonal = a == b;
#pragma omp parallel for schedule(static)
      for (Eigen::Index j = 0; j < cols; ++j) {
        const Eigen::Index end = diagonal ? j : rows;  // the diagonal block: i < j only
        double s = 0.0;
        for (Eigen::Index i = 0; i < end; ++i) s += std::exp(4.0 * block(i, j) - 4.0);
        column_sums[j] = s;
      }
      for (Eigen::Index j = 0; j < cols; ++j) total_sum += column_sums[j];
      if (progress(++done, total)) return false;
    }
  }
  *sum = total_sum;
  return true;
}

// The validated inputs that every stage reads.
struct GeometryInputs {
  EmbeddingSource* embeddings;
  const Eigen::Ref<const Eigen::VectorXi>& labels;
  const Eigen::MatrixXd* weights;  // K x h, or null
  const RepresentationGeometryOptions& options;
  Eigen::Index n;
  Eigen::Index dim;
  int k_count;
};

// Whether the progress callback asks to stop after `done` of `total` steps of `stage`; a stop is noted in the result,
// which the caller then returns as it stands (later stages keep their "not run" values).
class StopCheck {
 public:
  StopCheck(const RepresentationGeometryOptions* options, RepresentationGeometryResult* result)
      : options_(options), result_(result) {}
  bool operator()(const std::string& stage, Eigen::Index done, Eigen::Index total) const {
    if (options_->progress && options_->progress(GeometryProgress{stage, done, total})) {
      result_->message = "stopped by the progress callback";
      return true;
    }
    return false;
  }

 private:
  const RepresentationGeometryOptions* options_;
  RepresentationGeometryResult* result_;
};

// K, from W, the options or the labels, after checking the sizes of the inputs, the labels and W.
int ValidatedNumClasses(Eigen::Index n,
                        Eigen::Index dim,
                        const Eigen::Ref<const Eigen::VectorXi>& labels,
                        const Eigen::MatrixXd* weights,
                        int num_classes) {
  RequireAtLeast(kFunction, "number of points (N)", n, 1);
  RequireAtLeast(kFunction, "dimension (h)", dim, 1);
  if (labels.size() != n) {
    ThrowInvalidArgument(kFunction, fmt::format("expected {} labels (one per point), got {}", n, labels.size()));
  }
  if (labels.minCoeff() < 0) RequireLabels(kFunction, labels, n, -1);  // names the first negative label

  if (weights != nullptr) {
    if (weights->cols() != dim) {
      ThrowInvalidArgument(
          kFunction,
          fmt::format("expected W of shape (K, h = {}), got ({}, {})", dim, weights->rows(), weights->cols()));
    }
    if (num_classes > 0 && weights->rows() != num_classes) {
      ThrowInvalidArgument(
          kFunction,
          fmt::format("expected W with K = {} rows, got ({}, {})", num_classes, weights->rows(), weights->cols()));
    }
    RequireFinite(kFunction, "W", *weights);
    num_classes = static_cast<int>(weights->rows());
  }
  if (num_classes == 0) {
    // Labels are class indices 0..K-1; a stray huge label would otherwise allocate h x K sums.
    constexpr long long kMaxClasses = 1000000;
    const long long largest = static_cast<long long>(labels.maxCoeff()) + 1;
    if (largest > kMaxClasses) {
      ThrowInvalidArgument(
          kFunction,
          fmt::format("expected labels that are class indices below {}, got label {}", kMaxClasses, largest - 1));
    }
    num_classes = static_cast<int>(largest);
  }
  RequireAtLeast(kFunction, "num_classes (K)", num_classes, 2);
  RequireLabels(kFunction, labels, n, num_classes);
  return num_classes;
}

// The sizes and settings of the run, copied into the result before any stage can stop it.
void RecordInputs(const GeometryInputs& inputs, RepresentationGeometryResult* result) {
  const RepresentationGeometryOptions& options = inputs.options;
  result->num_points = inputs.n;
  result->dim = inputs.dim;
  result->num_classes = inputs.k_count;
  result->has_weights = inputs.weights != nullptr;
  result->temperature = options.temperature.temperature();
  result->radius = options.temperature.radius();
  result->batch_size = options.batch_size;
  result->num_batches = options.num_batches;
  result->simplex_similarity = SimplexAngularSimilarity(inputs.k_count);
}

// What pass 1 copies: all normalized points (full batch, exact uniformity), or the uniformity subset and the points
// of the SC batches. Neither copyable nor movable: `gathers` point at the matrices inside.
struct PassOneCopies {
  PassOneCopies() = default;
  PassOneCopies(const PassOneCopies&) = delete;
  PassOneCopies& operator=(const PassOneCopies&) = delete;

  bool full_batch = false;        // the full-batch SC loss runs
  bool uniformity_exact = false;  // uniformity over all points
  bool keep_all = false;          // all_unit is kept
  Eigen::MatrixXd all_unit;       // h x N when keep_all
  Eigen::MatrixXd uniformity_subset;
  Eigen::MatrixXd batch_points;  // h x M b
  Eigen::VectorXi batch_labels;  // M b
  std::vector<Gather> gathers;   // sorted by point
};

// Draws the uniformity subset and the SC batches (subset first, then batches: the order of the random draws) and
// sorts the copies by point. Drawn now, copied while streaming, so no file is read at random.
void PlanPassOneCopies(const GeometryInputs& inputs, PassOneCopies* copies) {
  const RepresentationGeometryOptions& options = inputs.options;
  const Eigen::Index n = inputs.n;
  copies->full_batch = n <= options.full_batch_limit;
  copies->uniformity_exact = n <= options.uniformity_exact_limit;
  copies->keep_all = copies->full_batch || copies->uniformity_exact;
  if (copies->keep_all) copies->all_unit.resize(inputs.dim, n);
  std::vector<Gather>& gathers = copies->gathers;
  if (!copies->uniformity_exact) {
    const std::vector<Eigen::Index> sample =
        SortedSample(n, options.uniformity_exact_limit, options.seed ^ 0x9e3779b97f4a7c15ULL);
    copies->uniformity_subset.resize(inputs.dim, static_cast<Eigen::Index>(sample.size()));
    for (std::size_t c = 0; c < sample.size(); ++c) {
      gathers.push_back({sample[c], &copies->uniformity_subset, static_cast<Eigen::Index>(c)});
    }
  }
  const Eigen::Index batch_points_count = static_cast<Eigen::Index>(options.batch_size) * options.num_batches;
  copies->batch_points.resize(inputs.dim, batch_points_count);
  copies->batch_labels.resize(batch_points_count);
  const std::vector<Eigen::Index> drawn = DrawIidBatchIndices(n, options.batch_size, options.num_batches, options.seed);
  for (Eigen::Index c = 0; c < batch_points_count; ++c) {
    const Eigen::Index point = drawn[static_cast<std::size_t>(c)];
    copies->batch_labels[c] = inputs.labels[point];
    gathers.push_back({point, &copies->batch_points, c});
  }
  std::stable_sort(gathers.begin(), gathers.end(), [](const Gather& a, const Gather& b) { return a.point < b.point; });
}

// What pass 1 adds up.
struct ClassSums {
  Eigen::MatrixXd sums;              // h x K: sum of z per class
  Eigen::MatrixXd unit_sums;         // h x K: sum of u = z/||z|| per class
  std::vector<Eigen::Index> counts;  // K
  double max_norm = 0.0;             // max_i ||z_i||
};

// Pass 1: class sums (of z and of u = z/||z||), counts, the largest norm, the copies. False when stopped.
bool ReadPassOne(const GeometryInputs& inputs,
                 const StopCheck& stopped,
                 PassOneCopies* copies,
                 Eigen::MatrixXd* chunk,
                 ClassSums* sums) {
  const Eigen::Index n = inputs.n;
  const Eigen::Index dim = inputs.dim;
  const int k_count = inputs.k_count;
  sums->sums = Eigen::MatrixXd::Zero(dim, k_count);
  sums->unit_sums = Eigen::MatrixXd::Zero(dim, k_count);
  Eigen::MatrixXd chunk_sums(dim, k_count), chunk_unit_sums(dim, k_count);
  sums->counts.assign(k_count, 0);
  std::vector<Eigen::Index>& counts = sums->counts;
  double max_norm = 0.0;
  Eigen::RowVectorXd norms;
  std::size_t next_gather = 0;
  const std::vector<Gather>& gathers = copies->gathers;
  for (Eigen::Index first = 0; first < n; first += inputs.options.chunk_size) {
    const Eigen::Index count = std::min(inputs.options.chunk_size, n - first);
    inputs.embeddings->Read(first, count, chunk);
    const Eigen::MatrixXd& points = *chunk;
    norms = points.colwise().norm();
    // Sums per block first, then into the totals: the rounding error grows with the number of blocks, not of points.
    chunk_sums.setZero();
    chunk_unit_sums.setZero();
    for (Eigen::Index i = 0; i < count; ++i) {
      if (!(norms[i] > 0.0)) {
        ThrowInvalidArgument(kFunction,
                             fmt::format("expected non-zero points (the normalized metrics need a direction), got "
                                         "||z_i|| = 0 at point {}",
                                         first + i));
      }
      const int label = inputs.labels[first + i];
      ++counts[label];
      max_norm = std::max(max_norm, norms[i]);
      chunk_sums.col(label) += points.col(i);
      chunk_unit_sums.col(label) += points.col(i) / norms[i];
      if (copies->keep_all) copies->all_unit.col(first + i) = points.col(i) / norms[i];
    }
    for (; next_gather < gathers.size() && gathers[next_gather].point < first + count; ++next_gather) {
      const Gather& g = gathers[next_gather];
      g.target->col(g.column) = points.col(g.point - first) / norms[g.point - first];
    }
    sums->sums += chunk_sums;
    sums->unit_sums += chunk_unit_sums;
    if (stopped("pass 1 of 2", first + count, n)) return false;
  }
  sums->max_norm = max_norm;
  return true;
}

// Records the counts, the largest norm, the singleton classes and the balance; returns the present classes (with
// points), in increasing order.
std::vector<int> RecordClassCounts(const ClassSums& sums, int k_count, RepresentationGeometryResult* result) {
  const std::vector<Eigen::Index>& counts = sums.counts;
  result->max_point_norm = sums.max_norm;
  result->class_counts = counts;
  std::vector<int> present;
  for (int k = 0; k < k_count; ++k) {
    if (counts[k] > 0) present.push_back(k);
    if (counts[k] == 1) ++result->num_singleton_classes;
  }
  result->num_present_classes = static_cast<int>(present.size());
  result->balanced = ClassesBalanced(counts);
  return present;
}

// The means of the K' present classes, column p for class present[p].
struct PresentClassMeans {
  std::vector<int> present;        // slot -> class
  int k_present = 0;               // K'
  std::vector<int> slot_of_class;  // class -> slot, -1 for a missing class
  Eigen::MatrixXd means;           // h x K'
  Eigen::MatrixXd unit_means;      // h x K': means of u = z/||z||
  Eigen::MatrixXd centered;        // h x K': means - mu_G
};

// Means of the present classes (h x K'), their unit-point means, the global mean and the centred means.
PresentClassMeans MeansOfPresentClasses(const GeometryInputs& inputs,
                                        const ClassSums& sums,
                                        std::vector<int> present,
                                        RepresentationGeometryResult* result) {
  const RepresentationGeometryOptions& options = inputs.options;
  PresentClassMeans m;
  m.present = std::move(present);
  m.k_present = static_cast<int>(m.present.size());
  const int k_present = m.k_present;
  m.means.resize(inputs.dim, k_present);
  m.unit_means.resize(inputs.dim, k_present);
  for (int p = 0; p < k_present; ++p) {
    const Eigen::Index count = sums.counts[m.present[p]];
    m.means.col(p) = sums.sums.col(m.present[p]) / static_cast<double>(count);
    m.unit_means.col(p) = sums.unit_sums.col(m.present[p]) / static_cast<double>(count);
  }
  const Eigen::VectorXd global_mean = options.global_mean == GlobalMean::kSample || k_present == 0
                                          ? Eigen::VectorXd(sums.sums.rowwise().sum() / static_cast<double>(inputs.n))
                                          : Eigen::VectorXd(m.means.rowwise().mean());
  result->global_mean = ToString(options.global_mean);
  result->pseudo_inverse_cutoff = options.pseudo_inverse_cutoff;
  m.centered = m.means.colwise() - global_mean;
  m.slot_of_class.assign(inputs.k_count, -1);
  for (int p = 0; p < k_present; ++p) m.slot_of_class[m.present[p]] = p;
  return m;
}

// What the later stages reuse from the angles and norms of the means.
struct MeanAngles {
  std::vector<double> centered_cosines;  // cos(mu_k - mu_G, mu_l - mu_G) over non-zero pairs k < l
  Eigen::VectorXd mean_norms;            // ||mu_k|| per slot
};

// Angles and norms of the means and of W.
MeanAngles MeasureMeanAngles(const PresentClassMeans& m,
                             const Eigen::MatrixXd* weights,
                             RepresentationGeometryResult* result) {
  MeanAngles angles;
  std::vector<double> mean_similarities = PairAngularSimilarities(m.means);
  result->class_mean_similarity = Summarize(&mean_similarities);
  angles.centered_cosines = PairCosines(m.centered);
  result->centered_class_mean_similarity = SimilarityStatistics(angles.centered_cosines);
  angles.mean_norms = m.means.colwise().norm().transpose();
  if (m.k_present > 0) result->class_mean_norm_mean = angles.mean_norms.mean();
  result->class_mean_norm_spread = RelativeSpread(angles.mean_norms);
  if (weights != nullptr) {
    const Eigen::MatrixXd rows = weights->transpose();
    std::vector<double> row_similarities = PairAngularSimilarities(rows);
    result->weight_similarity = Summarize(&row_similarities);
    const Eigen::VectorXd row_norms = rows.colwise().norm().transpose();
    result->weight_norm_mean = row_norms.mean();
    result->weight_norm_spread = RelativeSpread(row_norms);
    result->max_weight_norm = row_norms.maxCoeff();
  }
  return angles;
}

// Neural collapse metrics that need only the means: equinorm and equiangularity (NC2), self-duality (NC3).
void RecordCollapseOfMeans(const PresentClassMeans& m,
                           const std::vector<double>& centered_cosines,
                           const Eigen::MatrixXd* weights,
                           RepresentationGeometryResult* result) {
  const int k_present = m.k_present;
  const Eigen::VectorXd centered_norms = m.centered.colwise().norm().transpose();
  if (k_present >= 2) {
    result->equinorm = RelativeSpread(centered_norms);
    if (centered_cosines.size() == static_cast<std::size_t>(k_present) * (k_present - 1) / 2) {
      const Eigen::Map<const Eigen::VectorXd> cosines(centered_cosines.data(),
                                                      static_cast<Eigen::Index>(centered_cosines.size()));
      result->equiangularity = std::sqrt((cosines.array() - cosines.mean()).square().mean());
      result->max_angle_equiangularity = (cosines.array() + 1.0 / (k_present - 1)).abs().mean();
    }
  }
  if (weights != nullptr && k_present >= 1) {
    Eigen::MatrixXd present_rows(k_present, m.centered.rows());
    for (int p = 0; p < k_present; ++p) present_rows.row(p) = weights->row(m.present[p]);
    const double w_norm = present_rows.norm();
    const double m_norm = m.centered.norm();
    if (w_norm > 0.0 && m_norm > 0.0) {
      result->self_duality = (present_rows / w_norm - m.centered.transpose() / m_norm).norm();
    }
  }
}

// The r x h projector T of NC1 (r = 0 rows for K' < 2). NC1 = Tr(Sigma_W Sigma_B^+)/K'. Sigma_B = C C^T/K' (C =
// centred means) has the eigenpairs (g_j/K', C e_j/sqrt(g_j)) of the K' x K' Gram matrix C^T C = E diag(g) E^T, so
// Tr(Sigma_W Sigma_B^+) = (1/N) sum_i ||T d_i||^2 with d_i = z_i - mu_{y_i} and the rows of T equal to
// sqrt(K') e_j^T C^T / g_j over the kept eigenvalues: pass 2 then projects each point onto at most K'-1 directions
// instead of building the h x h Sigma_W.
Eigen::MatrixXd Nc1Projector(const PresentClassMeans& m,
                             double pseudo_inverse_cutoff,
                             RepresentationGeometryResult* result) {
  Eigen::MatrixXd projector;
  if (m.k_present < 2) return projector;
  const Eigen::MatrixXd& centered = m.centered;
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eigen(centered.transpose() * centered);
  const Eigen::VectorXd& g = eigen.eigenvalues();
  const double largest = g.maxCoeff();
  std::vector<Eigen::Index> kept;
  for (Eigen::Index j = 0; j < g.size(); ++j) {
    if (largest > 0.0 && g[j] > pseudo_inverse_cutoff * largest) kept.push_back(j);
  }
  projector.resize(static_cast<Eigen::Index>(kept.size()), centered.rows());
  for (std::size_t r = 0; r < kept.size(); ++r) {
    const Eigen::Index j = kept[r];
    projector.row(static_cast<Eigen::Index>(r)) =
        (centered * eigen.eigenvectors().col(j)).transpose() * (std::sqrt(static_cast<double>(m.k_present)) / g[j]);
  }
  result->between_class_rank = static_cast<int>(kept.size());
  return projector;
}

// What pass 2 adds up.
struct PassTwoSums {
  std::vector<double> sample_similarities;  // s(z_i, mu_{y_i}) where mu_{y_i} != 0
  double nc1_sum = 0.0;                     // sum_i ||T d_i||^2
  Eigen::VectorXd alignment_sums;           // per slot: sum_i ||u_i - mean of u in its class||^2
  Eigen::Index nearest_mean_correct = 0;
  Eigen::Index classifier_correct = 0;
  Eigen::Index agreements = 0;  // classifier and nearest mean agree
  double cross_entropy_sum = 0.0;
};

// Pass 2: residuals to the class means (NC1, alignment), similarity to the own mean, the classifiers, CE. False
// when stopped.
bool ReadPassTwo(const GeometryInputs& inputs,
                 const PresentClassMeans& m,
                 const Eigen::VectorXd& mean_norms,
                 const Eigen::MatrixXd& projector,
                 const StopCheck& stopped,
                 Eigen::MatrixXd* chunk,
                 PassTwoSums* sums) {
  const Eigen::Index n = inputs.n;
  const Eigen::MatrixXd* weights = inputs.weights;
  const Eigen::MatrixXd& means = m.means;
  sums->sample_similarities.reserve(static_cast<std::size_t>(n));
  sums->alignment_sums = Eigen::VectorXd::Zero(m.k_present);
  const Eigen::VectorXd mean_squared_norms = means.colwise().squaredNorm().transpose();
  Eigen::MatrixXd residuals, projections, mean_scores, logits;
  for (Eigen::Index first = 0; first < n; first += inputs.options.chunk_size) {
    const Eigen::Index count = std::min(inputs.options.chunk_size, n - first);
    inputs.embeddings->Read(first, count, chunk);
    const Eigen::MatrixXd& points = *chunk;
    residuals.resize(inputs.dim, count);
    double chunk_cross_entropy = 0.0;
    for (Eigen::Index i = 0; i < count; ++i) {
      const int slot = m.slot_of_class[inputs.labels[first + i]];
      const auto z = points.col(i);
      residuals.col(i) = z - means.col(slot);
      const double z_norm = z.norm();  // > 0: pass 1 refused zero points
      if (mean_norms[slot] > 0.0) {
        sums->sample_similarities.push_back(
            AngularSimilarityFromCosine(z.dot(means.col(slot)) / (z_norm * mean_norms[slot])));
      }
      sums->alignment_sums[slot] += (z / z_norm - m.unit_means.col(slot)).squaredNorm();
    }
    if (projector.rows() > 0) {
      projections.resize(projector.rows(), count);
      detail::ScaledProductTransposedA<double>(projector.transpose(), residuals, 1.0, projections);
      sums->nc1_sum += projections.squaredNorm();
    }
    // Nearest class mean: argmin_k ||z - mu_k||^2 = argmin_k ||mu_k||^2 - 2 <mu_k, z>.
    mean_scores.resize(m.k_present, count);
    detail::ScaledProductTransposedA<double>(means, points, -2.0, mean_scores);
    mean_scores.colwise() += mean_squared_norms;
    if (weights != nullptr) {
      logits.resize(inputs.k_count, count);
      detail::ScaledProductTransposedA<double>(weights->transpose(), points, 1.0, logits);
    }
    for (Eigen::Index i = 0; i < count; ++i) {
      const int label = inputs.labels[first + i];
      Eigen::Index nearest_slot = 0;
      mean_scores.col(i).minCoeff(&nearest_slot);
      const int nearest = m.present[nearest_slot];
      if (nearest == label) ++sums->nearest_mean_correct;
      if (weights != nullptr) {
        Eigen::Index predicted = 0;
        const double largest = logits.col(i).maxCoeff(&predicted);
        if (predicted == label) ++sums->classifier_correct;
        if (predicted == nearest) ++sums->agreements;
        // -log softmax_y = log sum_k exp(l_k - max) + max - l_y (log-sum-exp).
        chunk_cross_entropy += std::log((logits.col(i).array() - largest).exp().sum()) + largest - logits(label, i);
      }
    }
    sums->cross_entropy_sum += chunk_cross_entropy;
    if (stopped("pass 2 of 2", first + count, n)) return false;
  }
  return true;
}

// The sample similarities, NC1 and the accuracies from pass 2's sums; frees the per-point similarities.
void RecordPassTwo(const GeometryInputs& inputs,
                   int k_present,
                   bool has_projector,
                   PassTwoSums* sums,
                   RepresentationGeometryResult* result) {
  const double num_points = static_cast<double>(inputs.n);
  result->sample_similarity = Summarize(&sums->sample_similarities);
  std::vector<double>().swap(sums->sample_similarities);
  if (has_projector) result->within_class_variability = sums->nc1_sum / num_points / k_present;
  result->nearest_mean_accuracy = static_cast<double>(sums->nearest_mean_correct) / num_points;
  if (inputs.weights != nullptr) {
    result->classifier_accuracy = static_cast<double>(sums->classifier_correct) / num_points;
    result->classifier_agreement = static_cast<double>(sums->agreements) / num_points;
  }
}

// Alignment: sum over ordered pairs of one class of ||u_i - u_j||^2 = 2 n_k sum_i ||u_i - mean_k(u)||^2, which keeps
// its relative precision near collapse (the form with ||sum u||^2 cancels).
void RecordAlignment(const std::vector<Eigen::Index>& counts,
                     const PresentClassMeans& m,
                     const Eigen::VectorXd& alignment_sums,
                     RepresentationGeometryResult* result) {
  double alignment_total = 0.0;
  for (int p = 0; p < m.k_present; ++p) {
    const double class_size = static_cast<double>(counts[m.present[p]]);
    alignment_total += 2.0 * class_size * alignment_sums[p];
    result->alignment_pairs += counts[m.present[p]] * (counts[m.present[p]] - 1);
  }
  if (result->alignment_pairs > 0) result->alignment = alignment_total / static_cast<double>(result->alignment_pairs);
}

// CE against its bound (Paper: CE bound; rho and r taken from the data), or why the bound does not apply.
void RecordCrossEntropy(const GeometryInputs& inputs,
                        double cross_entropy_sum,
                        double max_norm,
                        RepresentationGeometryResult* result) {
  if (inputs.weights == nullptr) {
    result->cross_entropy_note = "not computed: no classifier W";
    return;
  }
  result->cross_entropy = cross_entropy_sum / static_cast<double>(inputs.n);
  const double r = result->max_weight_norm;
  const BoundApplicability bound = CrossEntropyBoundApplicability(result->class_counts, inputs.dim, max_norm, r);
  result->cross_entropy_bound_applies = bound.applies;
  if (bound.applies) {
    result->cross_entropy_bound = CrossEntropyBound(inputs.k_count, max_norm, r);
    result->cross_entropy_gap = result->cross_entropy - result->cross_entropy_bound;
    result->cross_entropy_note = "bound at rho = max ||z_i||, r = max ||w_k||";
  } else {
    result->cross_entropy_note = "CE bound not applicable: " + bound.reason;
  }
}

// Distance of the class means to the nearest regular simplex, or why it is not applicable.
void RecordSimplexDistance(const GeometryInputs& inputs,
                           const PresentClassMeans& m,
                           const Eigen::VectorXd& mean_norms,
                           RepresentationGeometryResult* result) {
  const int k_count = inputs.k_count;
  if (inputs.dim < k_count - 1) {
    result->simplex_distance_note = fmt::format(
        "not applicable: h = {} < K-1 = {} (no regular simplex with K vertices fits)", inputs.dim, k_count - 1);
  } else if (!(mean_norms.array() > 0.0).all()) {
    result->simplex_distance_note = "not applicable: a class mean is 0 (it has no direction)";
  } else {
    result->simplex_distance = SimplexProcrustesDistance(m.means, k_count);
    result->simplex_distance_note =
        m.k_present == k_count ? "ok"
                               : fmt::format("over the {} present classes (K' vertices of the K-simplex)", m.k_present);
  }
}

// Uniformity on all points or on the seeded subset. False when stopped.
bool MeasureUniformity(const PassOneCopies& copies, const StopCheck& stopped, RepresentationGeometryResult* result) {
  const Eigen::MatrixXd& uniformity_points = copies.uniformity_exact ? copies.all_unit : copies.uniformity_subset;
  result->uniformity_exact = copies.uniformity_exact;
  result->uniformity_points = uniformity_points.cols();
  if (uniformity_points.cols() >= 2) {
    double pair_sum = 0.0;
    const auto progress = [&](Eigen::Index done, Eigen::Index total) { return stopped("uniformity", done, total); };
    if (!UniformityPairSum(uniformity_points, progress, &pair_sum)) return false;
    const double m = static_cast<double>(uniformity_points.cols());
    result->uniformity = std::log(pair_sum) - std::log(m * (m - 1.0) / 2.0);
  }
  return true;
}

// SC (a): one batch of all N points (Paper: SC loss; simplex value of the composition, docs/theory.md), or why it
// was not computed. False when stopped.
bool MeasureFullBatchSupCon(const GeometryInputs& inputs,
                            const PassOneCopies& copies,
                            const std::vector<Eigen::Index>& counts,
                            const StopCheck& stopped,
                            RepresentationGeometryResult* result) {
  const RepresentationGeometryOptions& options = inputs.options;
  std::vector<int> composition(counts.begin(), counts.end());
  if (!copies.full_batch) {
    result->supcon_full_batch_note =
        fmt::format("not computed: N = {} > {} (O(N^2 h) time, O(N h) memory)", inputs.n, options.full_batch_limit);
    return true;
  }
  if (stopped("SC full batch", 0, 1)) return false;
  SupConOptions supcon;
  supcon.temperature = options.temperature;
  supcon.reduction = SupConReduction::kSum;
  result->supcon_full_batch = SupConLoss(copies.all_unit, inputs.labels, supcon, /*with_gradient=*/false).value;
  result->supcon_full_batch_simplex = SupConCompositionValue(composition, options.temperature);
  result->supcon_full_batch_gap = result->supcon_full_batch - result->supcon_full_batch_simplex;
  result->supcon_full_batch_is_bound = result->balanced;
  result->supcon_full_batch_note =
      result->balanced ? "balanced classes: the simplex value is the minimum of this batch"
                       : "classes not balanced: the simplex value is not a lower bound for one batch (docs/theory.md)";
  return !stopped("SC full batch", 1, 1);
}

// SC (b): M i.i.d. batches of size b, reduction sum/b, against the expected per-sample floor. False when stopped.
bool MeasureIidBatchSupCon(const GeometryInputs& inputs,
                           const PassOneCopies& copies,
                           const StopCheck& stopped,
                           RepresentationGeometryResult* result) {
  const RepresentationGeometryOptions& options = inputs.options;
  if (stopped("SC batches", 0, options.num_batches)) return false;
  const IidSupConEstimate estimate =
      EstimateIidSupCon(copies.batch_points, copies.batch_labels, options.batch_size, options.temperature);
  result->supcon_batch_mean = estimate.mean;
  result->supcon_batch_standard_error = estimate.standard_error;
  if (stopped("SC batches", options.num_batches, options.num_batches)) return false;
  result->supcon_iid_floor = SupConIidFloor(inputs.k_count, options.batch_size, options.temperature);
  result->supcon_iid_gap = result->supcon_batch_mean - result->supcon_iid_floor;
  result->supcon_iid_floor_applies = result->balanced;
  result->supcon_iid_note = result->balanced ? "balanced classes: the floor bounds the expected batch loss"
                                             : "classes not balanced: the floor assumes each class has probability 1/K";
  return true;
}

}  // namespace

std::string ToString(GlobalMean value) { return theory::NameOf(kGlobalMeanNames, value); }

GlobalMean ParseGlobalMean(std::string_view name) {
  return theory::ParseName(kGlobalMeanNames, name, "ParseGlobalMean", "global mean");
}

MatrixEmbeddingSource::MatrixEmbeddingSource(const Eigen::MatrixXd& points)
    : MatrixEmbeddingSource(points.data(), points.rows(), points.cols()) {}

MatrixEmbeddingSource::MatrixEmbeddingSource(const double* data, Eigen::Index dim, Eigen::Index num_points)
    : points_(data, std::max<Eigen::Index>(dim, 0), std::max<Eigen::Index>(num_points, 0)) {
  if (dim <= 0 || num_points <= 0 || data == nullptr) {
    ThrowInvalidArgument("MatrixEmbeddingSource",
                         fmt::format("expected a non-empty h x N matrix, got {} x {}", dim, num_points));
  }
}

void MatrixEmbeddingSource::Read(Eigen::Index first, Eigen::Index count, Eigen::MatrixXd* points) {
  constexpr const char* kRead = "MatrixEmbeddingSource::Read";
  const Eigen::Index n = points_.cols();
  if (points == nullptr) ThrowInvalidArgument(kRead, "expected an output matrix, got null");
  if (first < 0 || count < 0 || first > n || count > n - first) {
    ThrowInvalidArgument(
        kRead,
        fmt::format(
            "expected points [first, first + count) within [0, {}), got first = {}, count = {}", n, first, count));
  }
  *points = points_.middleCols(first, count);
  if (points->allFinite()) return;
  for (Eigen::Index i = 0; i < count; ++i) {
    for (Eigen::Index d = 0; d < points->rows(); ++d) {
      if (!std::isfinite((*points)(d, i))) {
        ThrowInvalidArgument(kRead,
                             fmt::format("non-finite value {} at row {}, column {}", (*points)(d, i), first + i, d));
      }
    }
  }
}

void RepresentationGeometryOptions::Validate() const {
  constexpr const char* kValidate = "RepresentationGeometryOptions::Validate";
  RequireAtLeast(kValidate, "num_classes (K, 0 = from the data)", num_classes, 0);
  RequireAtLeast(kValidate, "batch_size (b)", batch_size, 2);
  RequireAtLeast(kValidate, "num_batches (M)", num_batches, 2);
  RequireAtLeast(kValidate, "chunk_size", chunk_size, 1);
  RequireAtLeast(kValidate, "uniformity_exact_limit", uniformity_exact_limit, 2);
  RequireAtLeast(kValidate, "full_batch_limit", full_batch_limit, 0);
  if (!(pseudo_inverse_cutoff > 0.0 && pseudo_inverse_cutoff < 1.0)) {
    ThrowInvalidArgument(kValidate,
                         fmt::format("expected 0 < pseudo_inverse_cutoff < 1, got {}", pseudo_inverse_cutoff));
  }
}

SummaryStatistics Summarize(std::vector<double>* values) {
  SummaryStatistics stats;
  if (values == nullptr || values->empty()) return stats;
  for (const double v : *values) {
    if (std::isnan(v)) ThrowInvalidArgument("Summarize", "expected values that are not NaN");
  }
  std::vector<double>& v = *values;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  stats.count = static_cast<Eigen::Index>(n);
  // Two-pass mean and variance: the values are often nearly equal (collapse), where one pass cancels.
  stats.mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(n);
  double squares = 0.0;
  for (const double x : v) squares += (x - stats.mean) * (x - stats.mean);
  stats.standard_deviation = std::sqrt(squares / static_cast<double>(n));
  // numpy.quantile's default: position q (n - 1), linear between the neighbours.
  const auto quantile = [&](double q) {
    const double position = q * static_cast<double>(n - 1);
    const std::size_t below = static_cast<std::size_t>(std::floor(position));
    const std::size_t above = std::min(below + 1, n - 1);
    const double fraction = position - static_cast<double>(below);
    return v[below] + fraction * (v[above] - v[below]);
  };
  stats.minimum = v.front();
  stats.first_quartile = quantile(0.25);
  stats.median = quantile(0.5);
  stats.third_quartile = quantile(0.75);
  stats.maximum = v.back();
  return stats;
}

double SimplexProcrustesDistance(const Eigen::Ref<const Eigen::MatrixXd>& means, int num_classes) {
  constexpr const char* kProcrustes = "SimplexProcrustesDistance";
  RequireAtLeast(kProcrustes, "num_classes (K)", num_classes, 2);
  RequireAtLeast(kProcrustes, "number of class means (K')", means.cols(), 1);
  if (means.cols() > num_classes) {
    ThrowInvalidArgument(kProcrustes,
                         fmt::format("expected at most K = {} class means, got {}", num_classes, means.cols()));
  }
  if (means.rows() < num_classes - 1) {
    ThrowInvalidArgument(kProcrustes,
                         fmt::format("a regular simplex with K = {} vertices needs h >= K-1 = {}, got h = {}",
                                     num_classes,
                                     num_classes - 1,
                                     means.rows()));
  }
  RequireFinite(kProcrustes, "class means", means);
  const Eigen::Index dim = means.rows();
  const Eigen::Index count = means.cols();
  Eigen::MatrixXd unit = means;
  for (Eigen::Index k = 0; k < count; ++k) {
    const double norm = unit.col(k).norm();
    if (!(norm > 0.0))
      ThrowInvalidArgument(kProcrustes, fmt::format("expected non-zero class means, got 0 in column {}", k));
    unit.col(k) /= norm;
  }
  const Eigen::MatrixXd simplex = RegularSimplex(num_classes, static_cast<int>(dim), 1.0).leftCols(count);
  // Both sets live in p = min(h, K') dimensions: U = Q_U R_U, S = Q_S R_S (thin QR, Q with orthonormal columns). The
  // best rotation maps span(Q_S) onto span(Q_U): R = Q_U A B^T Q_S^T with R_U R_S^T = A Sigma B^T, so that
  // R S - U = Q_U (A B^T R_S - R_U) and the residual's norm is that of a small p x K' matrix (no h x h SVD).
  const Eigen::Index p = std::min(dim, count);
  const auto thin_q = [&](const Eigen::MatrixXd& a) {
    const Eigen::HouseholderQR<Eigen::MatrixXd> qr(a);
    return Eigen::MatrixXd(qr.householderQ() * Eigen::MatrixXd::Identity(dim, p));
  };
  const Eigen::MatrixXd q_unit = thin_q(unit);
  const Eigen::MatrixXd q_simplex = thin_q(simplex);
  const Eigen::MatrixXd r_unit = q_unit.transpose() * unit;
  const Eigen::MatrixXd r_simplex = q_simplex.transpose() * simplex;
  const Eigen::BDCSVD<Eigen::MatrixXd> svd(r_unit * r_simplex.transpose(), Eigen::ComputeFullU | Eigen::ComputeFullV);
  const Eigen::MatrixXd rotation = svd.matrixU() * svd.matrixV().transpose();
  return (rotation * r_simplex - r_unit).norm() / std::sqrt(static_cast<double>(count));
}

RepresentationGeometryResult MeasureRepresentationGeometry(EmbeddingSource& embeddings,
                                                           const Eigen::Ref<const Eigen::VectorXi>& labels,
                                                           const Eigen::MatrixXd* weights,
                                                           const RepresentationGeometryOptions& options) {
  options.Validate();
  RepresentationGeometryResult result;
  const Eigen::Index n = embeddings.num_points();
  const Eigen::Index dim = embeddings.dim();
  const int k_count = ValidatedNumClasses(n, dim, labels, weights, options.num_classes);
  const GeometryInputs inputs{&embeddings, labels, weights, options, n, dim, k_count};
  RecordInputs(inputs, &result);
  const StopCheck stopped(&options, &result);

  // Pass 1: the class sums and the copies drawn beforehand; then the means and everything that needs only them.
  PassOneCopies copies;
  PlanPassOneCopies(inputs, &copies);
  Eigen::MatrixXd chunk;  // one block of points, reused by both passes
  ClassSums sums;
  if (!ReadPassOne(inputs, stopped, &copies, &chunk, &sums)) return result;
  std::vector<int> present = RecordClassCounts(sums, k_count, &result);
  const PresentClassMeans means = MeansOfPresentClasses(inputs, sums, std::move(present), &result);
  const MeanAngles angles = MeasureMeanAngles(means, weights, &result);
  RecordCollapseOfMeans(means, angles.centered_cosines, weights, &result);
  const Eigen::MatrixXd projector = Nc1Projector(means, options.pseudo_inverse_cutoff, &result);

  // Pass 2: what needs the means, point by point; then the metrics of its sums.
  PassTwoSums pass_two;
  if (!ReadPassTwo(inputs, means, angles.mean_norms, projector, stopped, &chunk, &pass_two)) return result;
  RecordPassTwo(inputs, means.k_present, projector.rows() > 0, &pass_two, &result);
  RecordAlignment(sums.counts, means, pass_two.alignment_sums, &result);
  RecordCrossEntropy(inputs, pass_two.cross_entropy_sum, sums.max_norm, &result);
  RecordSimplexDistance(inputs, means, angles.mean_norms, &result);

  // The stages on the copies.
  if (!MeasureUniformity(copies, stopped, &result)) return result;
  if (!MeasureFullBatchSupCon(inputs, copies, sums.counts, stopped, &result)) return result;
  copies.all_unit.resize(0, 0);  // N h doubles, not needed by the batches
  if (!MeasureIidBatchSupCon(inputs, copies, stopped, &result)) return result;

  result.message = "ok";
  return result;
}

}  // namespace dissect::theory
