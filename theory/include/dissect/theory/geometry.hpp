#pragma once
// Geometry of a labelled point set against the simplex; docs/theory.md (Regular simplex, Geometry).

#include <Eigen/Core>
#include <vector>

namespace dissect::theory {

struct ClassMeans {
  Eigen::MatrixXd means;   // dim x K; the column of an empty class is NaN
  Eigen::VectorXi counts;  // K: points per class
};

// Class means mu_k = mean of the points with label k. points: dim x N finite; labels in [0, K).
ClassMeans ComputeClassMeans(const Eigen::Ref<const Eigen::MatrixXd>& points,
                             const Eigen::Ref<const Eigen::VectorXi>& labels,
                             int num_classes);

// Paper: angular similarity s(u, v) = 1 - arccos(cos(u, v))/pi, in [0, 1]. Throws for a zero or non-finite vector.
double AngularSimilarity(const Eigen::Ref<const Eigen::VectorXd>& u, const Eigen::Ref<const Eigen::VectorXd>& v);

// The angular similarity of a cosine, 1 - arccos(c)/pi, with c clamped to [-1, 1] (rounding can leave it just
// outside): the one formula behind AngularSimilarity, the simplex value and the geometry report.
double AngularSimilarityFromCosine(double cosine);

// s at the simplex: 1 - arccos(-1/(K-1))/pi (0.4645591 for K=10). Throws for K < 2.
double SimplexAngularSimilarity(int num_classes);

// Largest |(M^T M)_kl - G_kl| between the Gram matrix of the K columns of `means` and the simplex Gram matrix of
// radius rho (norms included). Throws for fewer than 2 columns, rho <= 0, non-finite means.
double MaxGramErrorAgainstSimplex(const Eigen::Ref<const Eigen::MatrixXd>& means, double radius);

// Within-class spread: per class, the root mean squared distance of its points to the class mean (0 for collapse,
// NaN for an empty class). Same preconditions as ComputeClassMeans.
Eigen::VectorXd WithinClassSpread(const Eigen::Ref<const Eigen::MatrixXd>& points,
                                  const Eigen::Ref<const Eigen::VectorXi>& labels,
                                  int num_classes);

// s(c_k, c_l) for every pair k < l of the columns that are finite and non-zero, in the order (0,1), (0,2), ..., (1,2),
// ...: the class-mean (or classifier-row) similarities that `dissect train` averages and `dissect geometry` summarizes.
std::vector<double> PairAngularSimilarities(const Eigen::Ref<const Eigen::MatrixXd>& columns);

// Population standard deviation / mean of the values (e.g. class-mean norms); NaN for none or a mean <= 0.
double RelativeSpread(const Eigen::Ref<const Eigen::VectorXd>& values);

}  // namespace dissect::theory
