// `dissect loss`: the SC or CE loss of embeddings saved by numpy.

#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <dissect/theory/bounds.hpp>
#include <dissect/theory/cross_entropy_loss.hpp>
#include <dissect/theory/loss_family.hpp>
#include <dissect/theory/npy.hpp>
#include <dissect/theory/supcon_loss.hpp>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <vector>

#include "commands.hpp"
#include "output.hpp"
#include "temperature_flags.hpp"

namespace dissect::cli {
namespace {

struct LossFlags {
  std::string embeddings;
  std::string labels;
  std::string loss;
  std::string weights;
  std::string reduction = "sum";
  double base_temperature = 0.0;
  TemperatureFlags temperature;
  bool normalize = false;
  bool json = false;
  CLI::Option* weights_option = nullptr;
  CLI::Option* labels_option = nullptr;
  CLI::Option* reduction_option = nullptr;
  CLI::Option* base_temperature_option = nullptr;
};

std::vector<int> ClassCounts(const Eigen::VectorXi& labels, int num_classes) {
  std::vector<int> counts(num_classes, 0);
  for (Eigen::Index i = 0; i < labels.size(); ++i) ++counts[labels[i]];
  return counts;
}

void AddNormalization(Report& report, bool normalize) {
  report.Add("normalized",
             std::string(normalize ? "yes: each embedding projected onto the unit sphere first (--normalize)"
                                   : "no: the embeddings as given"),
             "embeddings normalized");
}

// Projects each column onto the unit sphere; a zero column has no direction and is refused.
void NormalizeColumns(const std::string& file, Eigen::MatrixXd* points) {
  for (Eigen::Index i = 0; i < points->cols(); ++i) {
    const double norm = points->col(i).norm();
    if (!(norm > 0.0)) {
      throw std::invalid_argument(fmt::format("{}: embedding {} has norm 0: --normalize needs a direction", file, i));
    }
    points->col(i) /= norm;
  }
}

// SC's temperature assumes unit embeddings (rho = 1/sqrt(tau) is the radius of the paper's points); embeddings off
// the unit sphere are computed as given, with a warning that says how far off they are and what --normalize does.
void WarnOffSphere(const Eigen::MatrixXd& points) {
  if (points.cols() == 0) return;
  const Eigen::VectorXd norms = points.colwise().norm().transpose();
  const double low = norms.minCoeff(), high = norms.maxCoeff();
  if (std::abs(low - 1.0) <= 1e-6 && std::abs(high - 1.0) <= 1e-6) return;
  std::cerr << fmt::format(
      "warning: the embeddings' norms lie in [{:.6g}, {:.6g}], not at 1: SC is computed on them "
      "as given, so the temperature acts on these norms; --normalize projects them onto the "
      "unit sphere first (as dissect geometry, the reference SupCon code and "
      "pytorch-metric-learning do)\n",
      low,
      high);
}

int RunSupCon(const LossFlags& flags,
              const Eigen::MatrixXd& points,
              const Eigen::VectorXi& labels,
              const theory::NpyViews& views,
              bool has_labels) {
  if (flags.weights_option->count() > 0) throw std::invalid_argument("--weights belongs to --loss ce, not supcon");
  theory::SupConOptions options;
  options.temperature = flags.temperature.Get();
  options.reduction = theory::ParseSupConReduction(flags.reduction);
  if (flags.base_temperature_option->count() > 0) {
    if (options.reduction != theory::SupConReduction::kReference) {
      throw std::invalid_argument("--base-temperature applies to --reduction reference only");
    }
    options.base_temperature = flags.base_temperature;
  }
  const theory::SupConResult result = theory::SupConLoss(points, labels, options, /*with_gradient=*/false);
  if (!flags.normalize) WarnOffSphere(points);  // after every check of the input: an error comes alone
  const int num_classes = labels.maxCoeff() + 1;
  const std::vector<int> counts = ClassCounts(labels, num_classes);

  Report report;
  report.Add("value", result.value, fmt::format("SC loss ({})", theory::ToString(options.reduction)));
  report.Add("loss", std::string("supcon"));
  AddNormalization(report, flags.normalize);
  report.Add("reduction", theory::ToString(options.reduction));
  report.Add("temperature", options.temperature.temperature());
  report.Add("radius", options.temperature.radius());
  if (options.reduction == theory::SupConReduction::kReference) {
    // Always the base temperature used: the reference code's own default is 0.07, ours is tau (factor 1).
    report.Add("base_temperature",
               options.base_temperature.value_or(options.temperature.temperature()),
               options.base_temperature ? "base temperature (base_tau)" : "base temperature (base_tau = tau, default)");
  }
  report.Add("num_points", static_cast<long long>(points.cols()), "points (b = N V anchors, one batch)");
  report.Add("num_samples", static_cast<long long>(views.num_samples), "samples (N)");
  report.Add("num_views", static_cast<long long>(views.num_views), "views per sample (V)");
  report.Add(
      "labels", std::string(has_labels ? "given" : "none: each sample its own class (self-supervised)"), "labels");
  report.Add("dim", static_cast<long long>(points.rows()), "dimension (h)");
  report.Add("num_classes", static_cast<long long>(num_classes), "classes (largest label + 1)");
  report.Add("anchors_with_positives", static_cast<long long>(result.num_anchors_with_positives));
  if (num_classes >= 2) {
    // The same batch with unit features at the vertices of a K-simplex: docs/theory.md, "SC at the simplex for one
    // batch". The minimum of this batch only when its classes are balanced and its features have norm 1.
    const double factor = options.ReductionFactor(points.cols(), result.num_anchors_with_positives);
    report.Add("value_at_simplex",
               factor * theory::SupConCompositionValue(counts, options.temperature),
               "value at the simplex (unit norm)");
  }
  report.Print(flags.json, std::cout);
  return 0;
}

int RunCe(const LossFlags& flags, const Eigen::MatrixXd& points, const Eigen::VectorXi& labels) {
  if (flags.weights_option->count() == 0)
    throw std::invalid_argument("--loss ce needs --weights W.npy of shape (K, h)");
  if (flags.temperature.Given()) {
    throw std::invalid_argument("--radius/--temperature belong to --loss supcon, not ce");
  }
  if (flags.reduction_option->count() > 0 || flags.base_temperature_option->count() > 0) {
    throw std::invalid_argument("--reduction/--base-temperature belong to --loss supcon, not ce");
  }
  const Eigen::MatrixXd weights = theory::ReadNpyMatrix(flags.weights);
  if (weights.cols() != points.rows()) {
    throw std::invalid_argument(fmt::format("{}: W has shape ({}, {}), expected (K, {}) to match the embeddings",
                                            flags.weights,
                                            weights.rows(),
                                            weights.cols(),
                                            points.rows()));
  }
  const int num_classes = static_cast<int>(weights.rows());
  if (labels.maxCoeff() >= num_classes) {
    throw std::invalid_argument(fmt::format(
        "{}: label {} is out of range for W with K = {} rows", flags.labels, labels.maxCoeff(), num_classes));
  }
  const theory::CrossEntropyResult result = theory::CrossEntropyLoss(points, labels, weights, /*with_gradient=*/false);
  const std::vector<int> counts = ClassCounts(labels, num_classes);
  const double radius = points.colwise().norm().maxCoeff();
  const double row_norm = weights.rowwise().norm().maxCoeff();

  Report report;
  report.Add("value", result.value, "CE loss");
  report.Add("loss", std::string("ce"));
  AddNormalization(report, flags.normalize);
  report.Add("num_points", static_cast<long long>(points.cols()), "points (N)");
  report.Add("dim", static_cast<long long>(points.rows()), "dimension (h)");
  report.Add("num_classes", static_cast<long long>(num_classes), "classes (rows of W)");
  report.Add("max_point_norm", radius, "max ||z_i|| (rho)");
  report.Add("max_weight_row_norm", row_norm, "max ||w_k|| (r)");
  // Paper: CE bound, valid for balanced labels and h >= K-1 with rho and r taken from the data.
  const theory::BoundApplicability applicability = theory::CrossEntropyBoundApplicability(
      std::vector<std::int64_t>(counts.begin(), counts.end()), static_cast<int>(points.rows()), radius, row_norm);
  if (applicability.applies) {
    const double bound = theory::CrossEntropyBound(num_classes, radius, row_norm);
    report.Add("bound", bound, "CE bound at rho, r");
    report.Add("gap", result.value - bound, "loss - bound");
  } else {
    report.Add("bound_note", "CE bound not applicable: " + applicability.reason, "bound");
  }
  report.Print(flags.json, std::cout);
  return 0;
}

int RunLoss(const LossFlags& flags) {
  const bool has_labels = flags.labels_option->count() > 0;
  if (flags.loss == "ce" && !has_labels) throw std::invalid_argument("--loss ce needs --labels y.npy");
  // (N, h), or (N, V, h) for SC: the V N views stacked view-major, each view carrying its sample's label.
  const theory::NpyViews views = flags.loss == "supcon" ? theory::ReadNpyViews(flags.embeddings) : theory::NpyViews{};
  Eigen::MatrixXd points = flags.loss == "supcon" ? views.points : theory::ReadNpyPoints(flags.embeddings);
  if (flags.normalize) NormalizeColumns(flags.embeddings, &points);
  const Eigen::Index num_samples = flags.loss == "supcon" ? views.num_samples : points.cols();
  Eigen::VectorXi sample_labels;
  if (has_labels) {
    sample_labels = theory::ReadNpyLabels(flags.labels);
  } else {  // the self-supervised case: every sample its own class, its positives its other views
    sample_labels = Eigen::VectorXi::LinSpaced(num_samples, 0, static_cast<int>(num_samples - 1));
  }
  if (sample_labels.size() != num_samples) {
    throw std::invalid_argument(fmt::format("{} has {} labels, but {} has {} embeddings (shape (N, h) or (N, V, h))",
                                            flags.labels,
                                            sample_labels.size(),
                                            flags.embeddings,
                                            num_samples));
  }
  if (flags.loss == "ce") return RunCe(flags, points, sample_labels);
  if (!has_labels && views.num_views == 1) {
    std::cerr << "warning: no --labels and one view per sample: no anchor has a positive, so the SC loss is 0 "
                 "(give labels, or embeddings of shape (N, V, h) with V >= 2 views)\n";
  }
  return RunSupCon(flags, points, sample_labels.replicate(views.num_views, 1), views, has_labels);
}

}  // namespace

std::vector<Command> RegisterLossCommand(CLI::App& app) {
  auto flags = std::make_shared<LossFlags>();
  CLI::App* loss = app.add_subcommand("loss", "The SC or CE loss of embeddings saved by numpy (.npy)");
  loss->add_option("--embeddings",
                   flags->embeddings,
                   "Embeddings Z.npy, float32/float64, shape (N, h), or (N, V, h) for SC: V views per sample, stacked "
                   "view-major as the reference SupCon code does")
      ->required();
  flags->labels_option = loss->add_option(
      "--labels", flags->labels, "Labels y.npy, int32/int64, shape (N,); without, SC is self-supervised (SimCLR)");
  loss->add_option("--loss", flags->loss, "supcon or ce")
      ->required()
      ->check(CLI::IsMember(theory::NamesOf(theory::kLossFamilyNames)));
  flags->weights_option =
      loss->add_option("--weights", flags->weights, "Classifier W.npy, shape (K, h), for --loss ce");
  flags->reduction_option =
      loss->add_option("--reduction",
                       flags->reduction,
                       "SC: sum (the theory), batch_mean (sum/b), reference (mean over anchors times tau/base_tau), "
                       "positive_mean (sum / anchors with a positive, pytorch-metric-learning's default)")
          ->check(CLI::IsMember(theory::NamesOf(theory::kSupConReductionNames)))
          ->capture_default_str();
  flags->base_temperature_option = loss->add_option(
      "--base-temperature", flags->base_temperature, "SC reference reduction: base_tau (default: equal to tau)");
  flags->temperature.AddTo(loss, TemperatureFlags::kEmbeddingsRadiusHelp);
  loss->add_flag("--normalize",
                 flags->normalize,
                 "Project each embedding onto the unit sphere first (dissect geometry always does); without, the "
                 "embeddings as given, with a warning for SC when they are off the unit sphere");
  loss->add_flag("--json", flags->json, "Print one JSON object");
  return {{loss, [flags] { return RunLoss(*flags); }}};
}

}  // namespace dissect::cli
