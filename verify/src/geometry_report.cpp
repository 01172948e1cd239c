#include "geometry_report.hpp"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>
#include <vector>

namespace dissect::cli {
namespace {

// A yes/no row in the table, a boolean in JSON.
void AddFlag(Report& report, const std::string& key, bool value, const std::string& label) {
  report.Add(key, std::string(value ? "yes" : "no"), label);
  report.AddJson(key, value);
}

// One table row "mean ± std  [min, q1, median, q3, max]  (count)", one JSON object.
void AddStatistics(Report& report,
                   const std::string& key,
                   const theory::SummaryStatistics& s,
                   const std::string& label) {
  const std::string row =
      s.count == 0
          ? std::string("none")
          : fmt::format("{:.6g} ± {:.3g}  [min {:.6g}, q1 {:.6g}, median {:.6g}, q3 {:.6g}, max {:.6g}]  (n = {})",
                        s.mean,
                        s.standard_deviation,
                        s.minimum,
                        s.first_quartile,
                        s.median,
                        s.third_quartile,
                        s.maximum,
                        s.count);
  report.Add(key, row, label);
  const auto number = [](double v) {
    return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json(nullptr);
  };
  report.AddJson(key,
                 nlohmann::ordered_json{{"count", s.count},
                                        {"mean", number(s.mean)},
                                        {"std", number(s.standard_deviation)},
                                        {"min", number(s.minimum)},
                                        {"q1", number(s.first_quartile)},
                                        {"median", number(s.median)},
                                        {"q3", number(s.third_quartile)},
                                        {"max", number(s.maximum)}});
}

}  // namespace

void CheckGeometryInputs(const GeometryInputNames& names,
                         Eigen::Index num_points,
                         Eigen::Index dim,
                         const Eigen::VectorXi& labels,
                         const Eigen::MatrixXd* weights,
                         int num_classes) {
  if (labels.size() != num_points) {
    throw std::invalid_argument(fmt::format("{} has {} labels, but {} has {} embeddings (shape (N, h))",
                                            names.labels,
                                            labels.size(),
                                            names.embeddings,
                                            num_points));
  }
  if (weights != nullptr) {
    if (weights->cols() != dim) {
      throw std::invalid_argument(fmt::format("{}: W has shape ({}, {}), expected (K, {}) to match the embeddings",
                                              names.weights,
                                              weights->rows(),
                                              weights->cols(),
                                              dim));
    }
    if (labels.maxCoeff() >= weights->rows()) {
      throw std::invalid_argument(fmt::format(
          "{}: label {} is out of range for W with K = {} rows", names.labels, labels.maxCoeff(), weights->rows()));
    }
  }
  if (num_classes > 0 && labels.maxCoeff() >= num_classes) {
    throw std::invalid_argument(fmt::format(
        "{}: label {} is out of range for {} {}", names.labels, labels.maxCoeff(), names.num_classes, num_classes));
  }
}

Report GeometryReport(const theory::RepresentationGeometryResult& r, const GeometryReportSource& source) {
  Report report;
  report.Add("embeddings", source.embeddings);
  report.Add("dtype", source.dtype);
  report.Add("num_points", static_cast<long long>(r.num_points), "points (N)");
  report.Add("dim", static_cast<long long>(r.dim), "dimension (h)");
  report.Add("num_classes", static_cast<long long>(r.num_classes), "classes (K)");
  report.Add("num_present_classes", static_cast<long long>(r.num_present_classes), "classes with points (K')");
  report.Add("num_singleton_classes", static_cast<long long>(r.num_singleton_classes), "classes with one point");
  AddFlag(report, "balanced", r.balanced, "balanced classes");
  std::vector<long long> counts(r.class_counts.begin(), r.class_counts.end());
  report.AddJson("class_counts", counts);
  report.Add("max_point_norm", r.max_point_norm, "max ||z_i|| (rho)");

  report.Add("simplex_similarity", r.simplex_similarity, "s at the simplex, 1 - arccos(-1/(K-1))/pi");
  AddStatistics(report, "class_mean_similarity", r.class_mean_similarity, "s(mu_k, mu_l)");
  AddStatistics(
      report, "centered_class_mean_similarity", r.centered_class_mean_similarity, "s(mu_k - mu_G, mu_l - mu_G)");
  if (r.has_weights) AddStatistics(report, "weight_similarity", r.weight_similarity, "s(w_k, w_l)");
  AddStatistics(report, "sample_similarity", r.sample_similarity, "s(z_i, mu_{y_i})");
  report.Add("class_mean_norm_mean", r.class_mean_norm_mean, "mean ||mu_k||");
  report.Add("class_mean_norm_spread", r.class_mean_norm_spread, "std/mean ||mu_k||");
  if (r.has_weights) {
    report.Add("weight_norm_mean", r.weight_norm_mean, "mean ||w_k||");
    report.Add("weight_norm_spread", r.weight_norm_spread, "std/mean ||w_k||");
    report.Add("max_weight_norm", r.max_weight_norm, "max ||w_k|| (r)");
  }

  report.Add("within_class_variability", r.within_class_variability, "NC1 Tr(Sigma_W Sigma_B^+)/K'");
  report.Add("global_mean", r.global_mean, "NC global mean mu_G (sample: of all points; class_means)");
  report.Add("pseudo_inverse_cutoff", r.pseudo_inverse_cutoff, "NC1 pinv: eigenvalues below this x largest are 0");
  report.Add("between_class_rank", static_cast<long long>(r.between_class_rank), "rank of Sigma_B");
  report.Add("equinorm", r.equinorm, "NC2 equinorm std/mean ||mu_k - mu_G||");
  report.Add("equiangularity", r.equiangularity, "NC2 std of cos(mu_k - mu_G, mu_l - mu_G)");
  report.Add("max_angle_equiangularity", r.max_angle_equiangularity, "NC2 mean |cos + 1/(K'-1)|");
  if (r.has_weights) {
    report.Add("self_duality", r.self_duality, "NC3 ||W/||W|| - M/||M||||_F");
    report.Add("classifier_agreement", r.classifier_agreement, "NC4 argmax <w_k,z> = nearest mean");
    report.Add("classifier_accuracy", r.classifier_accuracy, "accuracy of argmax <w_k,z>");
  }
  report.Add("nearest_mean_accuracy", r.nearest_mean_accuracy, "accuracy of the nearest class mean");

  report.Add("alignment", r.alignment, "alignment (same-class pairs, sphere)");
  report.Add("alignment_pairs", static_cast<long long>(r.alignment_pairs), "same-class ordered pairs");
  report.Add("uniformity", r.uniformity, "uniformity log mean exp(-2||u_i-u_j||^2)");
  AddFlag(report, "uniformity_exact", r.uniformity_exact, "uniformity over all pairs");
  report.Add("uniformity_points", static_cast<long long>(r.uniformity_points), "uniformity points");

  report.Add("temperature", r.temperature, "SC temperature (tau)");
  report.Add("temperature_source", source.temperature_source, "SC temperature from");
  report.Add("radius", r.radius, "SC radius (rho = 1/sqrt(tau))");
  report.Add("normalized", std::string("yes: the SC figures use z / ||z||"), "embeddings normalized");
  report.Add("supcon_full_batch", r.supcon_full_batch, "SC, one batch of all N (sum)");
  report.Add("supcon_full_batch_simplex", r.supcon_full_batch_simplex, "SC at the simplex, same counts");
  report.Add("supcon_full_batch_gap", r.supcon_full_batch_gap, "SC full batch - simplex value");
  AddFlag(report, "supcon_full_batch_is_bound", r.supcon_full_batch_is_bound, "simplex value is a lower bound");
  report.Add("supcon_full_batch_note", r.supcon_full_batch_note, "SC full batch");
  report.Add("batch_size", static_cast<long long>(r.batch_size), "SC i.i.d. batch size (b)");
  report.Add("num_batches", static_cast<long long>(r.num_batches), "SC i.i.d. batches (M)");
  report.Add("seed", static_cast<long long>(source.seed));
  report.Add("supcon_batch_mean", r.supcon_batch_mean, "SC mean over batches (sum/b)");
  report.Add("supcon_batch_standard_error", r.supcon_batch_standard_error, "SC standard error");
  report.Add("supcon_iid_floor", r.supcon_iid_floor, "SC expected per-sample floor");
  report.Add("supcon_iid_gap", r.supcon_iid_gap, "SC batch mean - floor");
  AddFlag(report, "supcon_iid_floor_applies", r.supcon_iid_floor_applies, "floor applies (balanced)");
  report.Add("supcon_iid_note", r.supcon_iid_note, "SC i.i.d. batches");

  if (r.has_weights) {
    report.Add("cross_entropy", r.cross_entropy, "CE loss");
    report.Add("cross_entropy_bound", r.cross_entropy_bound, "CE bound at rho, r");
    report.Add("cross_entropy_gap", r.cross_entropy_gap, "CE loss - bound");
    AddFlag(report, "cross_entropy_bound_applies", r.cross_entropy_bound_applies, "CE bound applies");
    report.Add("cross_entropy_note", r.cross_entropy_note, "CE");
  }
  report.Add("simplex_distance", r.simplex_distance, "distance to the nearest simplex (Procrustes)");
  report.Add("simplex_distance_note", r.simplex_distance_note, "simplex distance");
  return report;
}

}  // namespace dissect::cli
