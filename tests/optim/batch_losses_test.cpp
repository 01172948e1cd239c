// Tests of dissect/optim/batch_losses.hpp: the per-batch SC of the multiset objective grouped by label configuration
// (the paper's Figure 5), against the closed forms of docs/theory.md.

#include "dissect/optim/batch_losses.hpp"

#include <dissect/theory/bounds.hpp>
#include <dissect/theory/regular_simplex.hpp>
#include <dissect/theory/supcon_loss.hpp>
#include <random>
#include <stdexcept>

#include "catch.hpp"
#include "dissect/optim/multisets.hpp"
#include "test_support.hpp"

namespace dissect::optim {
namespace {

using test::MessageContains;

// K = 3 classes of n = 2 points, each at its vertex of the radius-1 triangle.
void SimplexPoints(Eigen::MatrixXd* points, Eigen::VectorXi* labels) {
  const Eigen::MatrixXd vertices = theory::RegularSimplex(3, 2, 1.0);
  *points = Eigen::MatrixXd(2, 6);
  *labels = Eigen::VectorXi(6);
  for (int i = 0; i < 6; ++i) {
    (*labels)[i] = i / 2;
    points->col(i) = vertices.col(i / 2);
  }
}

TEST_CASE(
    "MultisetLossesByComposition: at the simplex each configuration has its closed-form value, the sum the SC bound") {
  Eigen::MatrixXd points;
  Eigen::VectorXi labels;
  SimplexPoints(&points, &labels);
  const auto groups = MultisetLossesByComposition(points, labels, 3, 9);
  REQUIRE(groups.size() == 12);  // the partitions of 9 into at most 3 parts
  CHECK(groups.front().composition == std::vector<int>{9, 0, 0});
  CHECK(groups.back().composition == std::vector<int>{3, 3, 3});
  std::uint64_t batches = 0;
  double total = 0.0;
  for (const CompositionLosses& g : groups) {
    INFO(g.composition[0] << "," << g.composition[1] << "," << g.composition[2]);
    const double value = theory::SupConCompositionValue(g.composition, theory::Temperature::FromRadius(1.0));
    CHECK(g.mean == Approx(value).epsilon(1e-13));
    CHECK(g.maximum - g.minimum <= 1e-12 * value);
    batches += g.batches;
    total += g.total;
  }
  CHECK(batches == CountMultisets(6, 9));  // 2002
  // Paper: SC bound, known answer (docs/theory.md).
  CHECK(total == Approx(25205.688636803963).epsilon(1e-13));
  // Configuration [9, 0, 0]: 3 classes x C(2+9-1, 9) = 10 multisets of one class's 2 points.
  CHECK(groups.front().batches == 30);
}

TEST_CASE(
    "MultisetLossesByComposition: away from the simplex the batches of one configuration spread, each one its own SC") {
  Eigen::MatrixXd points;
  Eigen::VectorXi labels;
  SimplexPoints(&points, &labels);
  std::mt19937_64 engine(3);
  std::normal_distribution<double> normal(0.0, 0.3);
  for (Eigen::Index i = 0; i < points.size(); ++i) points.data()[i] += normal(engine);
  const auto groups = MultisetLossesByComposition(points, labels, 3, 4);
  double total = 0.0;
  for (const CompositionLosses& g : groups) {
    total += g.total;
    CHECK(g.minimum <= g.mean);
    CHECK(g.mean <= g.maximum);
  }
  CHECK(groups[1].maximum - groups[1].minimum > 1e-3);
  // The total against a direct sum over the batches.
  double direct = 0.0;
  for (const auto& indices : EnumerateMultisets(6, 4, 1000)) {
    Eigen::MatrixXd batch(2, 4);
    Eigen::VectorXi batch_labels(4);
    for (int j = 0; j < 4; ++j) {
      batch.col(j) = points.col(indices[j]);
      batch_labels[j] = labels[indices[j]];
    }
    direct += theory::SupConLoss(batch, batch_labels, theory::SupConOptions{}, false).value;
  }
  CHECK(total == Approx(direct).epsilon(1e-13));
}

TEST_CASE("MultisetLossesByComposition: bad input is named") {
  Eigen::MatrixXd points;
  Eigen::VectorXi labels;
  SimplexPoints(&points, &labels);
  CHECK_THROWS_MATCHES(
      MultisetLossesByComposition(points, labels.head(5), 3, 9), std::invalid_argument, MessageContains("labels"));
  CHECK_THROWS_MATCHES(
      MultisetLossesByComposition(points, labels, 2, 9), std::invalid_argument, MessageContains("labels in [0, 2)"));
  CHECK_THROWS_MATCHES(
      MultisetLossesByComposition(points, labels, 3, 0), std::invalid_argument, MessageContains("batch_size"));
  CHECK_THROWS_MATCHES(
      MultisetLossesByComposition(points, labels, 3, 9, 100), std::invalid_argument, MessageContains("2002"));
}

}  // namespace
}  // namespace dissect::optim
