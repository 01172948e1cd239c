// `dissect bound ce|supcon|report`: the closed-form lower bounds of docs/theory.md.

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <dissect/theory/bounds.hpp>
#include <dissect/theory/geometry.hpp>
#include <dissect/theory/regular_simplex.hpp>
#include <iostream>
#include <memory>
#include <numeric>
#include <stdexcept>

#include "commands.hpp"
#include "output.hpp"
#include "temperature_flags.hpp"

namespace dissect::cli {
namespace {

struct CeFlags {
  int num_classes = 0;
  double radius = 0.0;
  double weight_norm = 0.0;
  std::string norm = "row";
  bool json = false;
};

int RunCe(const CeFlags& flags) {
  const theory::WeightNorm norm = theory::ParseWeightNorm(flags.norm);
  Report report;
  report.Add(
      "value", theory::CrossEntropyBound(flags.num_classes, flags.radius, flags.weight_norm, norm), "CE lower bound");
  report.Add("classes", static_cast<long long>(flags.num_classes));
  report.Add("radius", flags.radius);
  report.Add("weight_norm", flags.weight_norm);
  report.Add("norm", theory::ToString(norm));
  report.Print(flags.json, std::cout);
  return 0;
}

struct SupConFlags {
  int num_classes = 0;
  int per_class = 0;
  int batch_size = 0;
  std::string mode = "multiset";
  std::vector<int> composition;
  TemperatureFlags temperature;
  bool json = false;
  CLI::Option* per_class_option = nullptr;
  CLI::Option* batch_size_option = nullptr;
};

void Require(bool condition, const std::string& message) {
  if (!condition) throw std::invalid_argument(message);
}

int RunSupCon(const SupConFlags& flags) {
  const theory::Temperature temperature = flags.temperature.Get();
  Report report;
  if (flags.mode == "multiset") {
    Require(flags.per_class_option->count() > 0, "--mode multiset needs --per-class");
    Require(flags.batch_size_option->count() > 0, "--mode multiset needs --batch-size");
    const auto bound = theory::SupConMultisetBound(flags.num_classes, flags.per_class, flags.batch_size, temperature);
    report.Add("value", bound.value, "SC bound, sum over all multiset batches");
    report.Add("log_value", bound.log_value, "log of the bound");
    report.Add("per_anchor_mean", bound.per_anchor_mean, "per-anchor mean of the bound");
    report.Add("num_batches", bound.num_batches, "number of multiset batches");
    report.Add("log_num_batches", bound.log_num_batches, "log number of batches");
    report.Add("per_class", static_cast<long long>(flags.per_class));
  } else if (flags.mode == "iid") {
    Require(flags.batch_size_option->count() > 0, "--mode iid needs --batch-size");
    report.Add("value",
               theory::SupConIidFloor(flags.num_classes, flags.batch_size, temperature),
               "SC expected per-sample floor, i.i.d. batches");
  } else if (flags.mode == "composition") {
    Require(!flags.composition.empty(), "--mode composition needs --composition (class counts, e.g. 5,4,0)");
    Require(static_cast<int>(flags.composition.size()) == flags.num_classes,
            fmt::format("--composition has {} entries, expected one per class (--classes {})",
                        flags.composition.size(),
                        flags.num_classes));
    const int sum = std::accumulate(flags.composition.begin(), flags.composition.end(), 0);
    Require(
        flags.batch_size_option->count() == 0 || flags.batch_size == sum,
        fmt::format("--batch-size {} disagrees with the composition, whose counts sum to {}", flags.batch_size, sum));
    report.Add(
        "value", theory::SupConCompositionValue(flags.composition, temperature), "SC of one batch at the simplex");
    report.AddJson("composition", flags.composition);
    report.Add("composition_text", fmt::format("{}", fmt::join(flags.composition, ",")), "composition");
  } else {
    throw std::invalid_argument(fmt::format("--mode: expected multiset, iid or composition, got '{}'", flags.mode));
  }
  report.Add("classes", static_cast<long long>(flags.num_classes));
  if (flags.batch_size_option->count() > 0 || flags.mode != "composition") {
    report.Add("batch_size", static_cast<long long>(flags.batch_size));
  }
  report.Add("temperature", temperature.temperature());
  report.Add("radius", temperature.radius());
  report.Add("mode", flags.mode);
  report.Print(flags.json, std::cout);
  return 0;
}

struct ReportFlags {
  std::vector<int> classes = {2, 5, 10, 100};
  int num_points = 50000;
  int batch_size = 256;
  double temperature = 0.1;
  bool json = false;
};

// The main job's theory report: the paper's closed forms for a default set of K, b and tau.
int RunReport(const ReportFlags& flags) {
  const theory::Temperature temperature = theory::Temperature::FromTemperature(flags.temperature);
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  std::string table = fmt::format("{:>5}  {:>14}  {:>11}  {:>11}  {:>17}  {:>17}  {:>15}\n",
                                  "K",
                                  "CE bound",
                                  "cos simplex",
                                  "ang. sim.",
                                  "SC iid floor",
                                  "SC per anchor",
                                  "log SC total");
  for (int k : flags.classes) {
    if (k < 2 || flags.num_points % k != 0) {
      throw std::invalid_argument(
          fmt::format("--classes {}: expected K >= 2 dividing --num-points {}", k, flags.num_points));
    }
    const double ce = theory::CrossEntropyBound(k, 1.0, 1.0);
    const double cosine = theory::SimplexCosine(k);
    const double similarity = theory::SimplexAngularSimilarity(k);
    const double floor = theory::SupConIidFloor(k, flags.batch_size, temperature);
    const auto multiset = theory::SupConMultisetBound(k, flags.num_points / k, flags.batch_size, temperature);
    rows.push_back({{"classes", k},
                    {"ce_bound", ce},
                    {"simplex_cosine", cosine},
                    {"simplex_angular_similarity", similarity},
                    {"supcon_iid_floor", floor},
                    {"supcon_multiset_per_anchor_mean", multiset.per_anchor_mean},
                    {"supcon_multiset_log_value", multiset.log_value}});
    table += fmt::format("{:>5}  {:>14.10f}  {:>11.8f}  {:>11.8f}  {:>17.12f}  {:>17.12f}  {:>15.6f}\n",
                         k,
                         ce,
                         cosine,
                         similarity,
                         floor,
                         multiset.per_anchor_mean,
                         multiset.log_value);
  }
  if (flags.json) {
    nlohmann::ordered_json out = {{"num_points", flags.num_points},
                                  {"batch_size", flags.batch_size},
                                  {"temperature", flags.temperature},
                                  {"rows", rows}};
    std::cout << out.dump() << '\n';
    return 0;
  }
  std::cout << fmt::format(
      "Closed forms of \"Dissecting Supervised Contrastive Learning\" (docs/theory.md)\n"
      "CE bound: rho = r = 1 (row norms). SC: tau = {}, batch size b = {}, N = {} points (n = N/K per class).\n"
      "SC iid floor: expected per-sample loss (sum/b) under i.i.d. batches; SC per anchor: the multiset bound\n"
      "divided by b times the number of batches; log SC total: log of the bound summed over all batches.\n\n",
      flags.temperature,
      flags.batch_size,
      flags.num_points);
  std::cout << table;
  return 0;
}

}  // namespace

std::vector<Command> RegisterBoundCommand(CLI::App& app) {
  CLI::App* bound = app.add_subcommand("bound", "Lower bounds of the CE and SC losses (closed forms)");
  bound->require_subcommand(1);

  auto ce_flags = std::make_shared<CeFlags>();
  CLI::App* ce = bound->add_subcommand("ce", "Paper: CE bound, log(1 + (K-1) exp(-rho r K/(K-1)))");
  ce->add_option("--classes", ce_flags->num_classes, "Number of classes K (>= 2)")->required();
  ce->add_option("--radius", ce_flags->radius, "Radius rho of the feature ball")->required();
  ce->add_option("--weight-norm", ce_flags->weight_norm, "Bound r on the classifier's norm")->required();
  ce->add_option("--norm", ce_flags->norm, "row: ||w_k|| <= r; frobenius: ||W||_F <= r")
      ->check(CLI::IsMember(theory::NamesOf(theory::kWeightNormNames)))
      ->capture_default_str();
  ce->add_flag("--json", ce_flags->json, "Print one JSON object");

  auto sc_flags = std::make_shared<SupConFlags>();
  CLI::App* supcon = bound->add_subcommand("supcon", "Paper: SC bound (multiset), i.i.d. floor, or one batch");
  supcon->add_option("--classes", sc_flags->num_classes, "Number of classes K (>= 2)")->required();
  sc_flags->per_class_option =
      supcon->add_option("--per-class", sc_flags->per_class, "Points per class n (N = K n), for --mode multiset");
  sc_flags->batch_size_option = supcon->add_option("--batch-size", sc_flags->batch_size, "Batch size b");
  sc_flags->temperature.AddTo(supcon);
  supcon->add_option("--mode", sc_flags->mode, "multiset: sum over all batches; iid: expected floor; composition")
      ->check(CLI::IsMember({"multiset", "iid", "composition"}))
      ->capture_default_str();
  supcon->add_option("--composition", sc_flags->composition, "Class counts within one batch, e.g. 5,4,0")
      ->delimiter(',');
  supcon->add_flag("--json", sc_flags->json, "Print one JSON object");

  auto report_flags = std::make_shared<ReportFlags>();
  CLI::App* report = bound->add_subcommand("report", "The theory report: bounds for a default set of K, b and tau");
  report->add_option("--classes", report_flags->classes, "Numbers of classes K")->delimiter(',')->capture_default_str();
  report->add_option("--num-points", report_flags->num_points, "Number of points N")->capture_default_str();
  report->add_option("--batch-size", report_flags->batch_size, "Batch size b")->capture_default_str();
  report->add_option("--temperature", report_flags->temperature, "Temperature tau")->capture_default_str();
  report->add_flag("--json", report_flags->json, "Print one JSON object");

  return {{ce, [ce_flags] { return RunCe(*ce_flags); }},
          {supcon, [sc_flags] { return RunSupCon(*sc_flags); }},
          {report, [report_flags] { return RunReport(*report_flags); }}};
}

}  // namespace dissect::cli
