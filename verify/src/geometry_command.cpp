// `dissect geometry`: the geometry of saved embeddings against the regular simplex (angles, neural collapse,
// alignment and uniformity, SC and CE against their bounds, distance to the nearest simplex), streamed from .npy.

#include <fmt/format.h>

#include <cmath>
#include <dissect/theory/npy.hpp>
#include <dissect/theory/representation_geometry.hpp>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "commands.hpp"
#include "output.hpp"
#include "progress.hpp"
#include "temperature_flags.hpp"

namespace dissect::cli {
namespace {

struct GeometryFlags {
  std::string embeddings;
  std::string labels;
  std::string weights;
  TemperatureFlags temperature;
  int num_classes = 0;
  int batch_size = 256;
  int num_batches = 64;
  std::uint64_t seed = 0;
  long long chunk_size = 8192;
  long long uniformity_limit = 20000;
  long long full_batch_limit = 50000;
  bool json = false;
  CLI::Option* weights_option = nullptr;
};

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

int RunGeometry(const GeometryFlags& flags) {
  theory::RepresentationGeometryOptions options;
  options.temperature = flags.temperature.Given() ? flags.temperature.Get() : theory::Temperature::FromTemperature(0.1);
  options.num_classes = flags.num_classes;
  options.batch_size = flags.batch_size;
  options.num_batches = flags.num_batches;
  options.seed = flags.seed;
  options.chunk_size = flags.chunk_size;
  options.uniformity_exact_limit = flags.uniformity_limit;
  options.full_batch_limit = flags.full_batch_limit;
  options.Validate();  // before reading any file

  theory::NpyEmbeddingSource source(flags.embeddings);
  const Eigen::VectorXi labels = theory::ReadNpyLabels(flags.labels);
  if (labels.size() != source.num_points()) {
    throw std::invalid_argument(fmt::format("{} has {} labels, but {} has {} embeddings (shape (N, h))",
                                            flags.labels,
                                            labels.size(),
                                            flags.embeddings,
                                            source.num_points()));
  }
  std::optional<Eigen::MatrixXd> weights;
  if (flags.weights_option->count() > 0) {
    weights = theory::ReadNpyMatrix(flags.weights);
    if (weights->cols() != source.dim()) {
      throw std::invalid_argument(fmt::format("{}: W has shape ({}, {}), expected (K, {}) to match the embeddings",
                                              flags.weights,
                                              weights->rows(),
                                              weights->cols(),
                                              source.dim()));
    }
    if (labels.maxCoeff() >= weights->rows()) {
      throw std::invalid_argument(fmt::format(
          "{}: label {} is out of range for W with K = {} rows", flags.labels, labels.maxCoeff(), weights->rows()));
    }
  }
  if (flags.num_classes > 0 && labels.maxCoeff() >= flags.num_classes) {
    throw std::invalid_argument(fmt::format(
        "{}: label {} is out of range for --classes {}", flags.labels, labels.maxCoeff(), flags.num_classes));
  }

  ProgressLine progress;
  options.progress = [&progress](const theory::GeometryProgress& p) {
    progress.Update(fmt::format("geometry: {} {}/{}", p.stage, p.done, p.total));
    return false;
  };
  const theory::RepresentationGeometryResult r =
      theory::MeasureRepresentationGeometry(source, labels, weights ? &*weights : nullptr, options);
  progress.Finish();

  Report report;
  report.Add("embeddings", flags.embeddings);
  report.Add("dtype", source.reader().descr());
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
  report.Add("radius", options.temperature.radius(), "SC radius (rho = 1/sqrt(tau))");
  report.Add("supcon_full_batch", r.supcon_full_batch, "SC, one batch of all N (sum)");
  report.Add("supcon_full_batch_simplex", r.supcon_full_batch_simplex, "SC at the simplex, same counts");
  report.Add("supcon_full_batch_gap", r.supcon_full_batch_gap, "SC full batch - simplex value");
  AddFlag(report, "supcon_full_batch_is_bound", r.supcon_full_batch_is_bound, "simplex value is a lower bound");
  report.Add("supcon_full_batch_note", r.supcon_full_batch_note, "SC full batch");
  report.Add("batch_size", static_cast<long long>(r.batch_size), "SC i.i.d. batch size (b)");
  report.Add("num_batches", static_cast<long long>(r.num_batches), "SC i.i.d. batches (M)");
  report.Add("seed", static_cast<long long>(flags.seed));
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
  report.Print(flags.json, std::cout);
  return 0;
}

}  // namespace

std::vector<Command> RegisterGeometryCommand(CLI::App& app) {
  auto flags = std::make_shared<GeometryFlags>();
  CLI::App* geometry = app.add_subcommand(
      "geometry",
      "Geometry of embeddings saved by numpy against the regular simplex: angles, neural collapse, alignment and "
      "uniformity, SC and CE against their bounds, distance to the nearest simplex (streamed; any N)");
  geometry->add_option("--embeddings", flags->embeddings, "Embeddings Z.npy, float32/float64, shape (N, h)")
      ->required();
  geometry->add_option("--labels", flags->labels, "Labels y.npy, integers, shape (N,)")->required();
  flags->weights_option =
      geometry->add_option("--weights", flags->weights, "Classifier W.npy, shape (K, h): CE, NC3, NC4, angles of W");
  flags->temperature.AddTo(geometry);  // default: tau = 0.1
  geometry->add_option("--classes", flags->num_classes, "K (default: rows of W, else the largest label + 1)");
  geometry->add_option("--batch-size", flags->batch_size, "b of the i.i.d. SC batches")->capture_default_str();
  geometry->add_option("--batches", flags->num_batches, "M: i.i.d. SC batches to average")->capture_default_str();
  geometry->add_option("--seed", flags->seed, "Seed of the SC batches and the uniformity subset")
      ->capture_default_str();
  geometry->add_option("--chunk-size", flags->chunk_size, "Points read at a time")->capture_default_str();
  geometry->add_option("--uniformity-limit", flags->uniformity_limit, "Exact uniformity up to this N, else a subset")
      ->capture_default_str();
  geometry->add_option("--full-batch-limit", flags->full_batch_limit, "Full-batch SC loss up to this N")
      ->capture_default_str();
  geometry->add_flag("--json", flags->json, "Print one JSON object");
  geometry->footer("Without --radius/--temperature the SC loss uses tau = 0.1 (the paper's runs).");
  return {{geometry, [flags] { return RunGeometry(*flags); }}};
}

}  // namespace dissect::cli
