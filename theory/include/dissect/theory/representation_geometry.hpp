#pragma once
// The geometry of learned representations against the regular simplex, streamed over embeddings too large for
// memory: angular similarities (Paper: angular similarity s(u, v) = 1 - arccos(cos(u, v))/pi; docs/theory.md,
// Geometry), neural-collapse metrics (Papyan, Han, Donoho 2020), alignment and uniformity on the sphere (Wang, Isola
// 2020), the SC and CE losses against their bounds (Paper: SC bound, CE bound, expected per-sample floor) and the
// distance of the class means to the nearest regular simplex.

#include <Eigen/Core>
#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "dissect/theory/enum_names.hpp"
#include "dissect/theory/npy.hpp"
#include "dissect/theory/temperature.hpp"

namespace dissect::theory {

// Embeddings z_1..z_N in R^h, read a block of consecutive points at a time (they need not fit in memory).
class EmbeddingSource {
 public:
  virtual ~EmbeddingSource() = default;
  // N.
  virtual Eigen::Index num_points() const = 0;
  // h.
  virtual Eigen::Index dim() const = 0;
  // Fills `points` (resized to h x count) with the points first .. first + count - 1 as columns. Throws for a range
  // outside [0, N) and for a non-finite value (naming the point's index and the coordinate).
  virtual void Read(Eigen::Index first, Eigen::Index count, Eigen::MatrixXd* points) = 0;
};

// The columns of an in-memory h x N matrix, which must outlive the source.
class MatrixEmbeddingSource final : public EmbeddingSource {
 public:
  // Throws std::invalid_argument for an empty matrix.
  explicit MatrixEmbeddingSource(const Eigen::MatrixXd& points);
  // The same over memory held elsewhere: `data` holds the h x N matrix column by column (a row-major (N, h) array,
  // as numpy and torch keep one); it must outlive the source.
  MatrixEmbeddingSource(const double* data, Eigen::Index dim, Eigen::Index num_points);
  Eigen::Index num_points() const override { return points_.cols(); }
  Eigen::Index dim() const override { return points_.rows(); }
  // Throws std::invalid_argument for a bad range or "non-finite value nan at row i, column j" (row = point).
  void Read(Eigen::Index first, Eigen::Index count, Eigen::MatrixXd* points) override;

 private:
  Eigen::Map<const Eigen::MatrixXd> points_;
};

// The rows of a float32/float64 (N, h) .npy file (NpyRowReader: errors name the path, the row and the column).
class NpyEmbeddingSource final : public EmbeddingSource {
 public:
  // Throws std::runtime_error naming the path, as NpyRowReader does.
  explicit NpyEmbeddingSource(const std::filesystem::path& path) : reader_(path) {}
  Eigen::Index num_points() const override { return reader_.num_rows(); }
  Eigen::Index dim() const override { return reader_.num_cols(); }
  void Read(Eigen::Index first, Eigen::Index count, Eigen::MatrixXd* points) override {
    reader_.ReadRows(first, count, points);
  }
  // The reader (dtype, path).
  const NpyRowReader& reader() const { return reader_; }

 private:
  NpyRowReader reader_;
};

// Where MeasureRepresentationGeometry is; passed to the progress callback.
struct GeometryProgress {
  std::string stage;       // "pass 1 of 2", "pass 2 of 2", "uniformity", "SC full batch", "SC batches"
  Eigen::Index done = 0;   // points read (passes), pairs of blocks (uniformity) or batches (SC batches)
  Eigen::Index total = 0;  // of that many
};

// The global mean mu_G that centres the class means of the neural-collapse metrics (NC1, NC2, NC3).
enum class GlobalMean {
  kSample,      // "sample": the mean of all N points (Papyan et al.; the class means weighted by their counts)
  kClassMeans,  // "class_means": the unweighted mean of the K' present class means (rhubarbwu/neural-collapse's
                // default); the two agree on balanced classes and differ on imbalanced ones
};
// The names of GlobalMean, for ToString, ParseGlobalMean and the command line's choices.
inline constexpr std::array<EnumName<GlobalMean>, 2> kGlobalMeanNames = {
    {{GlobalMean::kSample, "sample"}, {GlobalMean::kClassMeans, "class_means"}}};
std::string ToString(GlobalMean mean);  // "sample", "class_means"
// Parses the names above; throws std::invalid_argument naming the accepted values.
GlobalMean ParseGlobalMean(std::string_view name);

struct RepresentationGeometryOptions {
  // tau of the SC loss on the normalized embeddings (or rho = 1/sqrt(tau)); the paper's runs use 0.1.
  Temperature temperature = Temperature::FromTemperature(0.1);
  // K; 0 means the rows of W when W is given, else the largest label + 1. Needs K >= 2.
  int num_classes = 0;
  // b of the i.i.d. SC batches (drawn uniformly with replacement, as training draws them); >= 2.
  int batch_size = 256;
  // M: how many i.i.d. SC batches estimate the expected batch loss; >= 2 (for a standard error).
  int num_batches = 64;
  // Seeds the SC batches and the uniformity subset.
  std::uint64_t seed = 0;
  // Points per block read from the source; memory holds a few h x chunk_size blocks. >= 1.
  Eigen::Index chunk_size = 8192;
  // Uniformity is exact (all N(N-1) pairs, O(N^2 h) time, O(limit * h) memory) up to this many points; beyond, it
  // is estimated on a seeded uniform subset of this size (without replacement). >= 2.
  Eigen::Index uniformity_exact_limit = 20000;
  // The full-batch SC loss (one batch of all N points) is computed up to this many points (O(N h) memory,
  // O(N^2 h) time); beyond, it is reported as not computed. >= 0.
  Eigen::Index full_batch_limit = 50000;
  // Eigenvalues of Sigma_B below this fraction of the largest are treated as 0 by the pseudo-inverse in NC1;
  // in (0, 1).
  double pseudo_inverse_cutoff = 1e-10;
  // mu_G of the neural-collapse metrics.
  GlobalMean global_mean = GlobalMean::kSample;
  // Called after every block and stage; returning true stops the run (result.message says so).
  std::function<bool(const GeometryProgress&)> progress;

  // Throws std::invalid_argument of the form "RepresentationGeometryOptions::Validate(): expected batch_size (b) >=
  // 2, got 1".
  void Validate() const;
};

// Summary of a set of values; count 0 and NaN elsewhere for an empty set.
struct SummaryStatistics {
  Eigen::Index count = 0;  // values summarized
  double mean = std::numeric_limits<double>::quiet_NaN();
  double standard_deviation = std::numeric_limits<double>::quiet_NaN();  // population (divides by count)
  double minimum = std::numeric_limits<double>::quiet_NaN();
  double first_quartile = std::numeric_limits<double>::quiet_NaN();  // numpy's default (linear) quantile 0.25
  double median = std::numeric_limits<double>::quiet_NaN();
  double third_quartile = std::numeric_limits<double>::quiet_NaN();
  double maximum = std::numeric_limits<double>::quiet_NaN();
};

// Mean, population standard deviation, minimum, quartiles (linear interpolation, as numpy.quantile) and maximum.
// Reorders `values`; NaN entries are not allowed (std::invalid_argument).
SummaryStatistics Summarize(std::vector<double>* values);

// The result; NaN and "not run" mean "not computed", and each *_note says why.
struct RepresentationGeometryResult {
  static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  std::string message = "not run";  // "ok", or "stopped by the progress callback"

  // --- The data ---------------------------------------------------------------------------------------------------
  Eigen::Index num_points = 0;             // N
  Eigen::Index dim = 0;                    // h
  int num_classes = 0;                     // K
  int num_present_classes = 0;             // K': classes with at least one point; class means are over these
  int num_singleton_classes = 0;           // classes with exactly one point
  std::vector<Eigen::Index> class_counts;  // K entries
  bool balanced = false;                   // every one of the K classes has N/K points
  bool has_weights = false;                // W was given
  double max_point_norm = kNaN;            // max_i ||z_i|| (rho of the CE bound)

  // --- Angular similarity s(u, v) = 1 - arccos(cos(u, v))/pi (Paper: angular similarity) -------------------------
  double simplex_similarity = kNaN;                  // 1 - arccos(-1/(K-1))/pi
  SummaryStatistics class_mean_similarity;           // s(mu_k, mu_l), k < l present (means of the raw embeddings)
  SummaryStatistics centered_class_mean_similarity;  // s(mu_k - mu_G, mu_l - mu_G), k < l present
  SummaryStatistics weight_similarity;               // s(w_k, w_l), k < l over the K rows of W (with W)
  SummaryStatistics sample_similarity;               // s(z_i, mu_{y_i}) over the points (z_i and mu non-zero)
  double class_mean_norm_mean = kNaN;                // mean of ||mu_k|| over present classes
  double class_mean_norm_spread = kNaN;              // std / mean of ||mu_k||
  double weight_norm_mean = kNaN;                    // mean of ||w_k|| (with W)
  double weight_norm_spread = kNaN;                  // std / mean of ||w_k|| (with W)
  double max_weight_norm = kNaN;                     // max_k ||w_k|| (r of the CE bound; with W)

  // --- Neural collapse (Papyan et al. 2020), over the K' present classes; mu_G per options.global_mean --------------
  // NC1 = Tr(Sigma_W Sigma_B^+)/K', Sigma_W = (1/N) sum_i (z_i - mu_{y_i})(...)^T,
  // Sigma_B = (1/K') sum_k (mu_k - mu_G)(...)^T, ^+ the pseudo-inverse (options.pseudo_inverse_cutoff).
  double within_class_variability = kNaN;
  std::string global_mean;                 // ToString(options.global_mean): which mu_G centred the means
  double pseudo_inverse_cutoff = kNaN;     // options.pseudo_inverse_cutoff: the pseudo-inverse's relative cutoff
  int between_class_rank = 0;              // rank of Sigma_B kept by the pseudo-inverse (K'-1 at a simplex)
  double equinorm = kNaN;                  // std / mean of ||mu_k - mu_G||
  double equiangularity = kNaN;            // std over k < l of cos(mu_k - mu_G, mu_l - mu_G)
  double max_angle_equiangularity = kNaN;  // mean over k < l of |cos(mu_k - mu_G, mu_l - mu_G) + 1/(K'-1)|
  double self_duality = kNaN;              // ||W/||W||_F - M/||M||_F||_F, rows of M = mu_k - mu_G (with W)
  double classifier_agreement = kNaN;      // fraction of points with argmax_k <w_k,z> = argmin_k ||z - mu_k||
  double classifier_accuracy = kNaN;       // fraction with argmax_k <w_k, z_i> = y_i (with W)
  double nearest_mean_accuracy = kNaN;     // fraction with argmin_k ||z_i - mu_k|| = y_i

  // --- Alignment and uniformity of the normalized embeddings u_i = z_i/||z_i|| (Wang, Isola 2020) -----------------
  double alignment = kNaN;             // mean over same-class pairs i != j of ||u_i - u_j||^2 (exact)
  Eigen::Index alignment_pairs = 0;    // ordered same-class pairs: sum_k n_k (n_k - 1)
  double uniformity = kNaN;            // log mean over pairs i != j of exp(-2 ||u_i - u_j||^2)
  bool uniformity_exact = false;       // all N points (true) or a seeded uniform subset (false)
  Eigen::Index uniformity_points = 0;  // points it was computed on

  // --- SC loss of the normalized embeddings at tau (Paper: SC loss) -----------------------------------------------
  double temperature = kNaN;  // tau
  double radius = kNaN;       // rho = 1/sqrt(tau), as the options gave it
  // (a) One batch of all N points, reduction sum, against the simplex value of the class counts
  // (SupConCompositionValue): a lower bound only when the classes are balanced.
  double supcon_full_batch = kNaN;
  double supcon_full_batch_simplex = kNaN;
  double supcon_full_batch_gap = kNaN;      // loss - simplex value
  bool supcon_full_batch_is_bound = false;  // balanced classes: the simplex value is the minimum
  std::string supcon_full_batch_note = "not run";
  // (b) Mean over M i.i.d. batches of size b (drawn with replacement), reduction sum/b, against SupConIidFloor.
  int batch_size = 0;   // b
  int num_batches = 0;  // M
  double supcon_batch_mean = kNaN;
  double supcon_batch_standard_error = kNaN;  // sample std (M-1) / sqrt(M)
  double supcon_iid_floor = kNaN;
  double supcon_iid_gap = kNaN;           // mean - floor
  bool supcon_iid_floor_applies = false;  // balanced classes (each point's class uniform over K)
  std::string supcon_iid_note = "not run";

  // --- CE loss with W (Paper: CE bound) ---------------------------------------------------------------------------
  double cross_entropy = kNaN;               // exact mean over the N points
  double cross_entropy_bound = kNaN;         // CrossEntropyBound(K, rho = max ||z_i||, r = max ||w_k||)
  double cross_entropy_gap = kNaN;           // loss - bound
  bool cross_entropy_bound_applies = false;  // balanced, h >= K-1, rho > 0, r > 0
  std::string cross_entropy_note = "not run";

  // --- Distance to the nearest regular simplex --------------------------------------------------------------------
  // With U the h x K' unit class means and S the first K' vertices of RegularSimplex(K, h, 1):
  // min over orthogonal R of ||R S - U||_F / sqrt(K') (orthogonal Procrustes, R from the SVD of U S^T). 0 at an exact
  // simplex; invariant to rotations and scalings of the embeddings; the vertex order does not matter (every
  // permutation of the vertices is a symmetry of the simplex).
  double simplex_distance = kNaN;
  std::string simplex_distance_note = "not run";
};

// Measures all of the above in two passes over `embeddings` (class sums and counts first, then everything that needs
// the means), reading options.chunk_size points at a time: memory is O(h * chunk_size + h^2 + K h + N) plus the SC
// batches (M b h) and the uniformity points (limit * h), whatever N is; the full-batch SC loss adds N h when it runs
// (N <= options.full_batch_limit). The sample-to-mean similarities keep one double per point for the quartiles.
// labels: N entries in [0, K). weights: the K x h classifier W (rows w_k), or null for none.
// Empty and one-point classes are reported in the counts; they are not errors. h < K-1 leaves the simplex distance
// not applicable (note says so). Throws std::invalid_argument for bad options, mismatched sizes (N, h, K), labels
// out of range (or >= 10^6 when K comes from the labels), K < 2, non-finite W, and a point of norm 0 (it has no
// direction on the sphere); the source's
// exceptions (file errors, non-finite values) pass through.
RepresentationGeometryResult MeasureRepresentationGeometry(EmbeddingSource& embeddings,
                                                           const Eigen::Ref<const Eigen::VectorXi>& labels,
                                                           const Eigen::MatrixXd* weights,
                                                           const RepresentationGeometryOptions& options);

// Orthogonal Procrustes distance of the columns of `means` (h x K', non-zero, finite) to the first K' vertices of a
// unit regular simplex with K >= K' vertices: min_R ||R S - U||_F / sqrt(K') over orthogonal R, U the normalized
// columns. Throws std::invalid_argument for h < K-1, K' > K, K < 2, or a zero or non-finite column.
double SimplexProcrustesDistance(const Eigen::Ref<const Eigen::MatrixXd>& means, int num_classes);

}  // namespace dissect::theory
