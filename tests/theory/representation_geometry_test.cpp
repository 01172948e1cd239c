// Tests of dissect/theory/representation_geometry.hpp: exact answers at a regular simplex (docs/theory.md: Regular
// simplex, CE bound, SC bound, expected per-sample floor), invariance under rotation and scaling, streaming in small
// blocks, alignment and uniformity against direct pair sums, degenerate data reported rather than refused, and bad
// input.

#include "dissect/theory/representation_geometry.hpp"

#include <Eigen/Core>
#include <Eigen/SVD>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "catch.hpp"
#include "dissect/theory/bounds.hpp"
#include "dissect/theory/geometry.hpp"
#include "dissect/theory/regular_simplex.hpp"
#include "dissect/theory/supcon_loss.hpp"
#include "test_support.hpp"

namespace dissect::theory {
namespace {

using test::kRoundingTolerance;
using test::kTightTolerance;
using test::MessageContains;

// Near-collapse quantities computed from sums of O(1) values: zero up to a few hundred ulps.
constexpr double kZeroTolerance = 1e-10;

RepresentationGeometryResult Measure(const Eigen::MatrixXd& points,
                                     const Eigen::VectorXi& labels,
                                     const Eigen::MatrixXd* weights,
                                     const RepresentationGeometryOptions& options = {}) {
  MatrixEmbeddingSource source(points);
  return MeasureRepresentationGeometry(source, labels, weights, options);
}

void RequireSameStatistics(const SummaryStatistics& a, const SummaryStatistics& b, double tolerance) {
  REQUIRE(a.count == b.count);
  if (a.count == 0) return;
  CHECK(a.mean == Approx(b.mean).margin(tolerance));
  CHECK(a.standard_deviation == Approx(b.standard_deviation).margin(tolerance));
  CHECK(a.minimum == Approx(b.minimum).margin(tolerance));
  CHECK(a.first_quartile == Approx(b.first_quartile).margin(tolerance));
  CHECK(a.median == Approx(b.median).margin(tolerance));
  CHECK(a.third_quartile == Approx(b.third_quartile).margin(tolerance));
  CHECK(a.maximum == Approx(b.maximum).margin(tolerance));
}

void RequireAllEqual(const SummaryStatistics& stats, double value, double tolerance) {
  REQUIRE(stats.count > 0);
  CHECK(stats.minimum == Approx(value).margin(tolerance));
  CHECK(stats.maximum == Approx(value).margin(tolerance));
  CHECK(stats.mean == Approx(value).margin(tolerance));
  CHECK(stats.standard_deviation == Approx(0.0).margin(tolerance));
}

// Relative comparison that also accepts two NaNs (a metric that is not computed in either run).
void RequireClose(double a, double b, double tolerance) {
  if (std::isnan(b)) {
    CHECK(std::isnan(a));
    return;
  }
  CHECK(a == Approx(b).epsilon(tolerance).margin(tolerance));
}

// Every number of two results, which should agree to `tolerance`.
void RequireSameResults(const RepresentationGeometryResult& a,
                        const RepresentationGeometryResult& b,
                        double tolerance) {
  REQUIRE(a.message == "ok");
  REQUIRE(b.message == "ok");
  REQUIRE(a.class_counts == b.class_counts);
  RequireSameStatistics(a.class_mean_similarity, b.class_mean_similarity, tolerance);
  RequireSameStatistics(a.centered_class_mean_similarity, b.centered_class_mean_similarity, tolerance);
  RequireSameStatistics(a.weight_similarity, b.weight_similarity, tolerance);
  RequireSameStatistics(a.sample_similarity, b.sample_similarity, tolerance);
  RequireClose(a.class_mean_norm_spread, b.class_mean_norm_spread, tolerance);
  RequireClose(a.within_class_variability, b.within_class_variability, tolerance);
  CHECK(a.between_class_rank == b.between_class_rank);
  RequireClose(a.equinorm, b.equinorm, tolerance);
  RequireClose(a.equiangularity, b.equiangularity, tolerance);
  RequireClose(a.max_angle_equiangularity, b.max_angle_equiangularity, tolerance);
  RequireClose(a.self_duality, b.self_duality, tolerance);
  RequireClose(a.classifier_agreement, b.classifier_agreement, tolerance);
  RequireClose(a.nearest_mean_accuracy, b.nearest_mean_accuracy, tolerance);
  RequireClose(a.alignment, b.alignment, tolerance);
  RequireClose(a.uniformity, b.uniformity, tolerance);
  RequireClose(a.supcon_full_batch, b.supcon_full_batch, tolerance);
  RequireClose(a.supcon_batch_mean, b.supcon_batch_mean, tolerance);
  RequireClose(a.supcon_batch_standard_error, b.supcon_batch_standard_error, tolerance);
  RequireClose(a.simplex_distance, b.simplex_distance, tolerance);
}

// Clusters around the vertices of a perturbed simplex: K classes of unequal sizes in R^h, every metric non-trivial.
struct Clusters {
  Eigen::MatrixXd points;
  Eigen::VectorXi labels;
  Eigen::MatrixXd weights;  // K x h
};

Clusters MakeClusters(int num_classes, int dim, int num_points, std::uint64_t seed) {
  Clusters c;
  const Eigen::MatrixXd centres =
      RegularSimplex(num_classes, dim, 2.0, seed) + 0.3 * test::RandomGaussianPoints(dim, num_classes, seed + 1);
  c.labels = test::RandomLabels(num_points, num_classes, seed + 2);
  c.points = test::PointsAtVertices(centres, c.labels) + 0.5 * test::RandomGaussianPoints(dim, num_points, seed + 3);
  c.weights = (centres + 0.2 * test::RandomGaussianPoints(dim, num_classes, seed + 4)).transpose();
  return c;
}

TEST_CASE("Summarize: quartiles and population standard deviation equal numpy's for a known set",
          "[representation_geometry]") {
  std::vector<double> values = {4.0, 1.0, 3.0, 2.0};
  const SummaryStatistics stats = Summarize(&values);
  REQUIRE(stats.count == 4);
  CHECK(stats.mean == Approx(2.5).epsilon(kRoundingTolerance));
  CHECK(stats.standard_deviation == Approx(std::sqrt(1.25)).epsilon(kRoundingTolerance));  // np.std (ddof 0)
  CHECK(stats.minimum == 1.0);
  CHECK(stats.first_quartile == Approx(1.75).epsilon(kRoundingTolerance));  // np.quantile(x, 0.25)
  CHECK(stats.median == Approx(2.5).epsilon(kRoundingTolerance));
  CHECK(stats.third_quartile == Approx(3.25).epsilon(kRoundingTolerance));
  CHECK(stats.maximum == 4.0);
  std::vector<double> empty;
  CHECK(Summarize(&empty).count == 0);
  CHECK(std::isnan(Summarize(&empty).mean));
}

TEST_CASE(
    "MeasureRepresentationGeometry: points at the vertices of a regular simplex have zero distance to it, "
    "NC1, equinorm and equiangularity 0, and simplex similarities",
    "[representation_geometry]") {
  const int k = 4, dim = 6;
  const Eigen::MatrixXd vertices = RegularSimplex(k, dim, 1.0, 7);
  const Eigen::VectorXi labels = test::BalancedLabels(k, 5);
  const Eigen::MatrixXd points = test::PointsAtVertices(vertices, labels);
  const Eigen::MatrixXd weights = vertices.transpose();  // unit rows w_k = zeta_k
  const RepresentationGeometryResult r = Measure(points, labels, &weights);
  REQUIRE(r.message == "ok");
  CHECK(r.num_points == 20);
  CHECK(r.dim == dim);
  CHECK(r.num_classes == k);
  CHECK(r.num_present_classes == k);
  CHECK(r.balanced);
  CHECK(r.simplex_similarity == Approx(SimplexAngularSimilarity(k)).epsilon(kRoundingTolerance));
  CHECK(r.simplex_distance == Approx(0.0).margin(kZeroTolerance));
  CHECK(r.simplex_distance_note == "ok");
  CHECK(r.within_class_variability == Approx(0.0).margin(kZeroTolerance));
  CHECK(r.between_class_rank == k - 1);
  CHECK(r.equinorm == Approx(0.0).margin(kZeroTolerance));
  CHECK(r.equiangularity == Approx(0.0).margin(kZeroTolerance));
  CHECK(r.max_angle_equiangularity == Approx(0.0).margin(kZeroTolerance));
  CHECK(r.self_duality == Approx(0.0).margin(kZeroTolerance));
  RequireAllEqual(r.class_mean_similarity, r.simplex_similarity, kTightTolerance);
  CHECK(r.class_mean_similarity.count == k * (k - 1) / 2);
  RequireAllEqual(r.centered_class_mean_similarity, r.simplex_similarity, kTightTolerance);
  RequireAllEqual(r.weight_similarity, r.simplex_similarity, kTightTolerance);
  RequireAllEqual(r.sample_similarity, 1.0, 1e-7);  // arccos near 1 amplifies rounding: s = 1 - O(sqrt(eps))
  CHECK(r.class_mean_norm_mean == Approx(1.0).epsilon(kTightTolerance));
  CHECK(r.class_mean_norm_spread == Approx(0.0).margin(kZeroTolerance));
  CHECK(r.classifier_agreement == 1.0);
  CHECK(r.classifier_accuracy == 1.0);
  CHECK(r.nearest_mean_accuracy == 1.0);
  CHECK(r.alignment == Approx(0.0).margin(kZeroTolerance));
  CHECK(r.alignment_pairs == k * 5 * 4);
  // CE at the collapse with w_k = zeta_k (rho = r = 1): equal to its bound (Paper: CE bound).
  CHECK(r.cross_entropy_bound_applies);
  CHECK(r.cross_entropy_bound == Approx(CrossEntropyBound(k, 1.0, 1.0)).epsilon(kRoundingTolerance));
  CHECK(r.cross_entropy_gap == Approx(0.0).margin(kTightTolerance));
  // One batch of all points, balanced: the simplex value is its minimum, reached (Paper: SC bound for one batch).
  CHECK(r.supcon_full_batch_is_bound);
  CHECK(r.supcon_full_batch == Approx(r.supcon_full_batch_simplex).epsilon(kTightTolerance));
  CHECK(r.supcon_full_batch_gap == Approx(0.0).margin(kTightTolerance * r.supcon_full_batch_simplex));
  CHECK(r.supcon_iid_floor ==
        Approx(SupConIidFloor(k, 256, Temperature::FromTemperature(0.1))).epsilon(kRoundingTolerance));
}

TEST_CASE("MeasureRepresentationGeometry: the CE known answers of docs/theory.md at a K=10 simplex, gap 0",
          "[representation_geometry]") {
  const int k = 10;
  const Eigen::MatrixXd vertices = RegularSimplex(k, 12, 1.0, 3);
  const Eigen::VectorXi labels = test::BalancedLabels(k, 3);
  const Eigen::MatrixXd weights = vertices.transpose();
  const RepresentationGeometryResult r = Measure(test::PointsAtVertices(vertices, labels), labels, &weights);
  CHECK(r.cross_entropy_bound == Approx(1.3769349204501935).epsilon(kTightTolerance));
  CHECK(r.cross_entropy == Approx(1.3769349204501935).epsilon(kTightTolerance));
  CHECK(r.cross_entropy_gap == Approx(0.0).margin(kTightTolerance));
  CHECK(r.simplex_distance == Approx(0.0).margin(kZeroTolerance));
}

TEST_CASE(
    "MeasureRepresentationGeometry: at a balanced simplex the i.i.d. batch mean matches the expected floor "
    "within its standard error",
    "[representation_geometry]") {
  const int k = 5;
  const Eigen::MatrixXd vertices = RegularSimplex(k, 4, 1.0, 11);
  const Eigen::VectorXi labels = test::BalancedLabels(k, 40);
  RepresentationGeometryOptions options;
  options.batch_size = 32;
  options.num_batches = 200;
  options.temperature = Temperature::FromTemperature(0.5);
  const RepresentationGeometryResult r = Measure(test::PointsAtVertices(vertices, labels), labels, nullptr, options);
  CHECK(r.supcon_iid_floor_applies);
  CHECK(r.supcon_iid_floor == Approx(SupConIidFloor(k, 32, options.temperature)).epsilon(kRoundingTolerance));
  REQUIRE(r.supcon_batch_standard_error > 0.0);
  // Under i.i.d. draws from balanced classes the floor is the expectation at the simplex: the estimate is unbiased.
  CHECK(std::abs(r.supcon_iid_gap) < 4.0 * r.supcon_batch_standard_error);
  CHECK(r.batch_size == 32);
  CHECK(r.num_batches == 200);
}

TEST_CASE(
    "MeasureRepresentationGeometry: a rotated and scaled copy gives the same angles, NC metrics and simplex "
    "distance",
    "[representation_geometry]") {
  const Clusters c = MakeClusters(5, 8, 200, 21);
  const Eigen::MatrixXd rotation = test::RandomRotation(8, 5);
  const Eigen::MatrixXd points = 3.7 * rotation * c.points;
  const Eigen::MatrixXd weights = 0.4 * c.weights * rotation.transpose();  // rows w_k -> 0.4 R w_k
  const RepresentationGeometryResult original = Measure(c.points, c.labels, &c.weights);
  const RepresentationGeometryResult transformed = Measure(points, c.labels, &weights);
  CHECK(original.simplex_distance > 0.01);  // not trivially zero
  CHECK(original.within_class_variability > 0.01);
  RequireSameResults(transformed, original, kTightTolerance);
  CHECK(transformed.class_mean_norm_mean == Approx(3.7 * original.class_mean_norm_mean).epsilon(kTightTolerance));
  CHECK(transformed.max_point_norm == Approx(3.7 * original.max_point_norm).epsilon(kTightTolerance));
}

TEST_CASE("MeasureRepresentationGeometry: streaming in blocks of 7 points equals reading all points at once",
          "[representation_geometry]") {
  const Clusters c = MakeClusters(4, 5, 123, 31);
  RepresentationGeometryOptions whole;
  whole.chunk_size = 1000;
  RepresentationGeometryOptions small = whole;
  small.chunk_size = 7;
  const RepresentationGeometryResult a = Measure(c.points, c.labels, &c.weights, whole);
  const RepresentationGeometryResult b = Measure(c.points, c.labels, &c.weights, small);
  RequireSameResults(b, a, kTightTolerance);
  RequireClose(b.cross_entropy, a.cross_entropy, kTightTolerance);
  CHECK(b.classifier_accuracy == a.classifier_accuracy);
}

TEST_CASE("MeasureRepresentationGeometry: uniformity and alignment equal direct sums over all pairs",
          "[representation_geometry]") {
  const Clusters c = MakeClusters(3, 4, 150, 41);
  const RepresentationGeometryResult r = Measure(c.points, c.labels, nullptr);
  const Eigen::MatrixXd unit = c.points.colwise().normalized();
  double uniform_sum = 0.0, aligned_sum = 0.0;
  long long pairs = 0, aligned_pairs = 0;
  for (Eigen::Index i = 0; i < unit.cols(); ++i) {
    for (Eigen::Index j = 0; j < unit.cols(); ++j) {
      if (i == j) continue;
      const double squared_distance = (unit.col(i) - unit.col(j)).squaredNorm();
      uniform_sum += std::exp(-2.0 * squared_distance);
      ++pairs;
      if (c.labels[i] == c.labels[j]) {
        aligned_sum += squared_distance;
        ++aligned_pairs;
      }
    }
  }
  CHECK(r.uniformity_exact);
  CHECK(r.uniformity_points == 150);
  CHECK(r.uniformity == Approx(std::log(uniform_sum / pairs)).epsilon(kTightTolerance));
  CHECK(r.alignment_pairs == aligned_pairs);
  CHECK(r.alignment == Approx(aligned_sum / aligned_pairs).epsilon(kTightTolerance));
}

TEST_CASE(
    "MeasureRepresentationGeometry: NC1 equals Tr(Sigma_W Sigma_B^+)/K computed densely, either global mean "
    "and any pseudo-inverse cutoff",
    "[representation_geometry]") {
  const Clusters c = MakeClusters(4, 6, 100, 51);  // random labels: imbalanced classes
  const ClassMeans class_means = ComputeClassMeans(c.points, c.labels, 4);
  Eigen::MatrixXd within = Eigen::MatrixXd::Zero(6, 6);
  for (Eigen::Index i = 0; i < c.points.cols(); ++i) {
    const Eigen::VectorXd d = c.points.col(i) - class_means.means.col(c.labels[i]);
    within += d * d.transpose() / static_cast<double>(c.points.cols());
  }
  std::vector<double> nc1_of_mean;
  for (const GlobalMean choice : {GlobalMean::kSample, GlobalMean::kClassMeans}) {
    for (const double cutoff : {1e-10, 0.3}) {
      CAPTURE(ToString(choice), cutoff);
      RepresentationGeometryOptions options;
      options.global_mean = choice;
      options.pseudo_inverse_cutoff = cutoff;
      const RepresentationGeometryResult r = Measure(c.points, c.labels, nullptr, options);
      const Eigen::VectorXd global_mean = choice == GlobalMean::kSample
                                              ? Eigen::VectorXd(c.points.rowwise().mean())
                                              : Eigen::VectorXd(class_means.means.rowwise().mean());
      const Eigen::MatrixXd centered = class_means.means.colwise() - global_mean;
      const Eigen::MatrixXd between = centered * centered.transpose() / 4.0;
      const Eigen::JacobiSVD<Eigen::MatrixXd> svd(between, Eigen::ComputeFullU | Eigen::ComputeFullV);
      Eigen::VectorXd inverse = svd.singularValues();
      int rank = 0;
      for (Eigen::Index j = 0; j < inverse.size(); ++j) {
        const bool kept = inverse[j] > cutoff * svd.singularValues()[0];
        rank += kept ? 1 : 0;
        inverse[j] = kept ? 1.0 / inverse[j] : 0.0;
      }
      const Eigen::MatrixXd pseudo_inverse = svd.matrixV() * inverse.asDiagonal() * svd.matrixU().transpose();
      CHECK(r.global_mean == ToString(choice));
      CHECK(r.pseudo_inverse_cutoff == cutoff);
      CHECK(r.between_class_rank == rank);
      CHECK(r.within_class_variability == Approx((within * pseudo_inverse).trace() / 4.0).epsilon(kTightTolerance));
      if (cutoff == 1e-10) {
        CHECK(rank == 3);
        nc1_of_mean.push_back(r.within_class_variability);
      } else {
        CHECK(rank < 3);  // the cutoff removed directions the default keeps
      }
    }
  }
  // On imbalanced classes the two global means give different NC1.
  CHECK(std::abs(nc1_of_mean[0] - nc1_of_mean[1]) > 1e-6 * nc1_of_mean[0]);
  CHECK(ParseGlobalMean("class_means") == GlobalMean::kClassMeans);
  CHECK_THROWS_WITH(ParseGlobalMean("mean"), Catch::Contains("expected global mean sample or class_means, got 'mean'"));
}

TEST_CASE(
    "MeasureRepresentationGeometry: beyond the limits uniformity uses a seeded subset and the full batch is "
    "skipped",
    "[representation_geometry]") {
  const Clusters c = MakeClusters(3, 4, 300, 61);
  RepresentationGeometryOptions options;
  options.uniformity_exact_limit = 120;
  options.full_batch_limit = 100;
  const RepresentationGeometryResult a = Measure(c.points, c.labels, nullptr, options);
  CHECK_FALSE(a.uniformity_exact);
  CHECK(a.uniformity_points == 120);
  CHECK(std::isnan(a.supcon_full_batch));
  CHECK_THAT(a.supcon_full_batch_note, Catch::Contains("not computed: N = 300 > 100"));
  const RepresentationGeometryResult exact = Measure(c.points, c.labels, nullptr);
  CHECK(exact.uniformity_exact);
  CHECK(std::abs(a.uniformity - exact.uniformity) < 0.1);  // an estimate from 120 of 300 points
  CHECK(a.uniformity != exact.uniformity);
  // Reproducible from the seed, different for another.
  CHECK(Measure(c.points, c.labels, nullptr, options).uniformity == a.uniformity);
  options.seed = 1;
  CHECK(Measure(c.points, c.labels, nullptr, options).uniformity != a.uniformity);
}

TEST_CASE("MeasureRepresentationGeometry: h < K-1, a missing class and a one-point class are reported, not refused",
          "[representation_geometry]") {
  // K = 6 (from W), h = 3: class 5 has no points, class 4 one point.
  const int dim = 3;
  Eigen::VectorXi labels(13);
  labels << 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 4;
  const Eigen::MatrixXd points = test::RandomGaussianPoints(dim, 13, 71);
  const Eigen::MatrixXd weights = test::RandomGaussianPoints(6, dim, 72);
  const RepresentationGeometryResult r = Measure(points, labels, &weights);
  REQUIRE(r.message == "ok");
  CHECK(r.num_classes == 6);
  CHECK(r.num_present_classes == 5);
  CHECK(r.num_singleton_classes == 1);
  CHECK(r.class_counts == std::vector<Eigen::Index>{3, 3, 3, 3, 1, 0});
  CHECK_FALSE(r.balanced);
  CHECK(std::isnan(r.simplex_distance));
  CHECK(r.simplex_distance_note == "not applicable: h = 3 < K-1 = 5 (no regular simplex with K vertices fits)");
  CHECK_FALSE(r.cross_entropy_bound_applies);
  CHECK(std::isnan(r.cross_entropy_bound));
  CHECK(std::isfinite(r.cross_entropy));
  CHECK_THAT(r.cross_entropy_note, Catch::Contains("not balanced"));
  CHECK_FALSE(r.supcon_full_batch_is_bound);
  CHECK(std::isfinite(r.supcon_full_batch));
  CHECK_THAT(r.supcon_full_batch_note, Catch::Contains("not a lower bound"));
  CHECK_FALSE(r.supcon_iid_floor_applies);
  CHECK(r.alignment_pairs == 4 * 3 * 2);  // the one-point class has no pairs
  CHECK(r.class_mean_similarity.count == 5 * 4 / 2);
  CHECK(r.weight_similarity.count == 6 * 5 / 2);
  CHECK(r.sample_similarity.count == 13);
  CHECK(std::isfinite(r.within_class_variability));
}

TEST_CASE("MeasureRepresentationGeometry: with a missing class, points at K-simplex vertices are at distance 0",
          "[representation_geometry]") {
  const Eigen::MatrixXd vertices = RegularSimplex(5, 4, 2.0, 81);
  Eigen::VectorXi labels(8);
  labels << 0, 1, 3, 4, 0, 1, 3, 4;  // class 2 missing
  RepresentationGeometryOptions options;
  options.num_classes = 5;
  const RepresentationGeometryResult r = Measure(test::PointsAtVertices(vertices, labels), labels, nullptr, options);
  CHECK(r.num_present_classes == 4);
  CHECK(r.simplex_distance == Approx(0.0).margin(kZeroTolerance));
  CHECK(r.simplex_distance_note == "over the 4 present classes (K' vertices of the K-simplex)");
  // Four vertices of a 5-simplex, recentred, are a regular 4-simplex: equiangular at cos = -1/3.
  CHECK(r.max_angle_equiangularity == Approx(0.0).margin(kZeroTolerance));
}

TEST_CASE("SimplexProcrustesDistance: equals ||R S - U||_F / sqrt(K) with R from a full SVD, for any vertex order",
          "[representation_geometry]") {
  const int k = 5, dim = 7;
  const Eigen::MatrixXd perturbed = RegularSimplex(k, dim, 1.0, 91) + 0.2 * test::RandomGaussianPoints(dim, k, 92);
  const Eigen::MatrixXd unit = perturbed.colwise().normalized();
  const Eigen::MatrixXd simplex = RegularSimplex(k, dim, 1.0);
  const Eigen::JacobiSVD<Eigen::MatrixXd> svd(unit * simplex.transpose(), Eigen::ComputeFullU | Eigen::ComputeFullV);
  const Eigen::MatrixXd rotation = svd.matrixU() * svd.matrixV().transpose();
  const double expected = (rotation * simplex - unit).norm() / std::sqrt(k);
  const double distance = SimplexProcrustesDistance(perturbed, k);
  CHECK(distance == Approx(expected).epsilon(kTightTolerance));
  CHECK(distance > 0.05);
  Eigen::MatrixXd permuted(dim, k);
  for (int j = 0; j < k; ++j) permuted.col(j) = 2.5 * perturbed.col((j + 2) % k);
  CHECK(SimplexProcrustesDistance(permuted, k) == Approx(distance).epsilon(kTightTolerance));
  REQUIRE_THROWS_MATCHES(SimplexProcrustesDistance(perturbed.topRows(3), k),
                         std::invalid_argument,
                         MessageContains("needs h >= K-1 = 4, got h = 3"));
}

TEST_CASE("MeasureRepresentationGeometry: a progress callback sees both passes and can stop the run",
          "[representation_geometry]") {
  const Clusters c = MakeClusters(3, 4, 50, 101);
  std::vector<std::string> stages;
  RepresentationGeometryOptions options;
  options.chunk_size = 20;
  options.progress = [&](const GeometryProgress& p) {
    stages.push_back(p.stage);
    return p.stage == "pass 2 of 2";
  };
  const RepresentationGeometryResult r = Measure(c.points, c.labels, nullptr, options);
  CHECK(r.message == "stopped by the progress callback");
  CHECK(stages == std::vector<std::string>{"pass 1 of 2", "pass 1 of 2", "pass 1 of 2", "pass 2 of 2"});
}

TEST_CASE("MeasureRepresentationGeometry: bad inputs throw std::invalid_argument naming the problem",
          "[representation_geometry]") {
  const Clusters c = MakeClusters(3, 4, 30, 111);
  SECTION("labels of another length") {
    REQUIRE_THROWS_MATCHES(Measure(c.points, c.labels.head(29), nullptr),
                           std::invalid_argument,
                           MessageContains("expected 30 labels (one per point), got 29"));
  }
  SECTION("W of another width") {
    const Eigen::MatrixXd weights = Eigen::MatrixXd::Ones(3, 5);
    REQUIRE_THROWS_MATCHES(Measure(c.points, c.labels, &weights),
                           std::invalid_argument,
                           MessageContains("expected W of shape (K, h = 4), got (3, 5)"));
  }
  SECTION("a label beyond the rows of W") {
    const Eigen::MatrixXd weights = Eigen::MatrixXd::Ones(2, 4);
    REQUIRE_THROWS_MATCHES(
        Measure(c.points, c.labels, &weights), std::invalid_argument, MessageContains("expected labels in [0, 2)"));
  }
  SECTION("one class") {
    REQUIRE_THROWS_MATCHES(Measure(c.points, Eigen::VectorXi::Zero(30), nullptr),
                           std::invalid_argument,
                           MessageContains("expected num_classes (K) >= 2, got 1"));
  }
  SECTION("a zero point") {
    Eigen::MatrixXd points = c.points;
    points.col(17).setZero();
    REQUIRE_THROWS_MATCHES(
        Measure(points, c.labels, nullptr), std::invalid_argument, MessageContains("||z_i|| = 0 at point 17"));
  }
  SECTION("a NaN, named by row (point) and column") {
    Eigen::MatrixXd points = c.points;
    points(2, 25) = std::nan("");
    RepresentationGeometryOptions options;
    options.chunk_size = 8;
    REQUIRE_THROWS_MATCHES(Measure(points, c.labels, nullptr, options),
                           std::invalid_argument,
                           MessageContains("non-finite value nan at row 25, column 2"));
  }
  SECTION("bad options") {
    RepresentationGeometryOptions options;
    options.batch_size = 1;
    REQUIRE_THROWS_MATCHES(
        Measure(c.points, c.labels, nullptr, options),
        std::invalid_argument,
        Catch::Matchers::Message("RepresentationGeometryOptions::Validate(): expected batch_size (b) >= 2, got 1"));
    options = {};
    options.chunk_size = 0;
    REQUIRE_THROWS_MATCHES(
        Measure(c.points, c.labels, nullptr, options), std::invalid_argument, MessageContains("chunk_size >= 1"));
    REQUIRE_THROWS_AS(Temperature::FromTemperature(-1.0), std::invalid_argument);
  }
}

}  // namespace
}  // namespace dissect::theory
