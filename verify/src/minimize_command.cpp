// `dissect minimize`: free-point minimization of the CE and SC losses (optim/), the simplex optimum as a measured
// fact, what the optimum is where no simplex fits, the paper's Figure 6 compositions, and a sweep.

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <algorithm>
#include <cmath>
#include <dissect/optim/minimize.hpp>
#include <dissect/optim/restarts.hpp>
#include <dissect/theory/bounds.hpp>
#include <dissect/theory/npy.hpp>
#include <dissect/verify/verdict.hpp>
#include <iostream>
#include <memory>
#include <numeric>
#include <stdexcept>

#include "commands.hpp"
#include "memory_check.hpp"
#include "minimize_figures.hpp"
#include "output.hpp"
#include "output_files.hpp"
#include "progress.hpp"
#include "stop_signal.hpp"
#include "temperature_flags.hpp"

namespace dissect::cli {
namespace {

namespace fs = std::filesystem;

struct MinimizeFlags {
  std::string loss = "supcon";
  int num_classes = 0;
  int per_class = 0;
  std::vector<int> class_counts;
  std::vector<int> composition;
  int dim = 0;
  TemperatureFlags temperature;
  double weight_norm = 1.0;
  std::string norm = "row";
  std::string mode = "full";
  int batch_size = 0;
  std::uint64_t seed = 0;
  int restarts = 0;  // 0: 1 where a simplex fits balanced classes, else 5
  int max_iterations = 100000;
  double tolerance = 0.0;
  double gap_tolerance = 0.0;
  std::uint64_t max_batches = 10000000;
  int sgd_iterations = 20000;
  double learning_rate = 1.0;
  bool no_certificate = false;
  bool no_continuation = false;
  bool sweep = false;
  std::vector<int> sweep_classes = {2, 3, 5, 10, 100};
  std::vector<double> sweep_temperatures = {0.05, 0.1, 0.5, 1.0};
  std::vector<int> sweep_per_class = {1, 5, 20};
  std::vector<std::string> sweep_losses = {"supcon", "ce"};
  int sweep_seeds = 5;
  bool figure1 = false;
  bool figure5 = false;
  bool figure6 = false;
  bool json = false;
  std::string out;
  bool force = false;
  CLI::Option* classes_option = nullptr;
  CLI::Option* per_class_option = nullptr;
  CLI::Option* dim_option = nullptr;
};

optim::MinimizeOptions BuildOptions(const MinimizeFlags& flags) {
  optim::MinimizeOptions options;
  options.loss = theory::ParseLossFamily(flags.loss);
  options.mode = optim::ParseMode(flags.mode);
  options.num_classes = flags.num_classes;
  options.per_class = flags.per_class;
  if (!flags.composition.empty() && !flags.class_counts.empty()) {
    throw std::invalid_argument("give --composition (one batch) or --class-counts (imbalanced classes), not both");
  }
  if (options.mode == optim::Mode::kComposition) {
    if (flags.composition.empty()) throw std::invalid_argument("--mode composition needs --composition, e.g. 5,4,0");
    options.class_counts = flags.composition;
  } else {
    if (!flags.composition.empty()) throw std::invalid_argument("--composition belongs to --mode composition");
    options.class_counts = flags.class_counts;
  }
  if (options.class_counts.empty() && flags.per_class_option->count() == 0) {
    throw std::invalid_argument("give --per-class n (balanced) or --class-counts c1,c2,... (imbalanced)");
  }
  options.dim = flags.dim;
  // The scale: SC points on the sphere of radius rho = 1/sqrt(tau), CE points in that ball.
  options.temperature = flags.temperature.Get();
  options.weight_norm = flags.weight_norm;
  options.weight_norm_kind = theory::ParseWeightNorm(flags.norm);
  options.batch_size = flags.batch_size;
  options.seed = flags.seed;
  options.max_iterations = flags.max_iterations;
  options.gradient_tolerance = flags.tolerance;
  options.relative_gap_tolerance = flags.gap_tolerance;
  options.max_batches = flags.max_batches;
  options.sgd_iterations = flags.sgd_iterations;
  options.learning_rate = flags.learning_rate;
  options.certificate = !flags.no_certificate;
  options.continuation = !flags.no_continuation;
  options.Validate();
  return options;
}

// Runs `restarts` seeds (seed, seed+1, ...) and keeps the lowest final loss, with the progress on stderr; a signal
// ends the restart at its current iterate and skips the remaining ones.
optim::RestartsResult RunRestarts(const optim::MinimizeOptions& options, int restarts, ProgressLine* progress) {
  optim::RestartCallbacks callbacks;
  callbacks.on_iteration = [&](int r, std::uint64_t seed, const optim::IterationInfo& info) {
    if (progress != nullptr) {
      progress->Update(fmt::format("seed {} ({}/{}): {} iteration {}, loss {:.12g}, gradient {:.3g}, {:.1f} s",
                                   seed,
                                   r + 1,
                                   restarts,
                                   info.stage,
                                   info.iteration,
                                   info.loss,
                                   info.grad_norm,
                                   info.seconds));
    }
    return StopOnSignal::Requested() != 0;
  };
  callbacks.on_stage = [&](int r, std::uint64_t seed, const std::string& stage, double seconds) {
    if (progress == nullptr) return;
    progress->Update(fmt::format("seed {} ({}/{}): {}, {:.1f} s", seed, r + 1, restarts, stage, seconds),
                     /*always=*/true);
  };
  callbacks.on_certificate = [&](int r, std::uint64_t seed, const optim::MatrixFreeCertificateProgress& step) {
    if (progress != nullptr) {
      progress->Update(
          fmt::format("seed {} ({}/{}): certificate iteration {}, {} Hessian-vector products, "
                      "eigenvalues {:.6g} (residual {:.2g}) to {:.6g} (residual {:.2g}), {:.1f} s",
                      seed,
                      r + 1,
                      restarts,
                      step.iteration,
                      step.hessian_vector_products,
                      step.extremes.lowest,
                      step.extremes.lowest_residual,
                      step.extremes.highest,
                      step.extremes.highest_residual,
                      step.seconds));
    }
    return StopOnSignal::Requested() != 0;
  };
  callbacks.stop_requested = [] { return StopOnSignal::Requested() != 0; };
  return optim::MinimizeWithRestarts(options, restarts, callbacks);
}

void AddResult(const optim::MinimizeOptions& options, const optim::RestartsResult& run, Report* report) {
  const optim::MinimizeResult& r = run.best;
  report->Add("final_loss", r.final_loss, "final loss");
  if (options.mode == optim::Mode::kSampled) report->Add("final_loss_stderr", r.final_loss_stderr, "  its std. error");
  report->Add("bound", r.bound, "bound");
  report->Add("bound_note", r.bound_note, "  which bound");
  report->Add("gap", r.gap, "gap (final - bound)");
  if (std::isfinite(r.bound)) {
    // The bound must hold at every configuration: a negative gap beyond rounding would be a wrong bound.
    const bool holds = r.gap >= -1e-12 * std::abs(r.bound);
    report->Add("bound_holds", std::string(holds ? "true" : "false"), "  bound holds");
  }
  report->Add("rel_gap", r.rel_gap, "relative gap");
  report->Add("simplex_value", r.simplex_value, "loss at the simplex");
  report->Add("max_gram_error", r.max_gram_error, "max Gram error vs simplex");
  report->Add("max_within_class_spread", r.max_within_class_spread, "max within-class spread");
  report->Add("grad_norm", r.grad_norm, "gradient norm");
  // Without a certificate both are unknown (null, "not computed"), never "false".
  if (r.certificate.computed) {
    report->Add("min_hessian_eigenvalue", r.min_hessian_eigenvalue, "min Hessian eigenvalue");
  } else {
    report->AddNotComputed("min_hessian_eigenvalue", "min Hessian eigenvalue");
  }
  report->Add("certificate", r.certificate.message, "certificate");
  if (r.certificate.computed) {
    report->Add("strict_local_minimum_up_to_rotation",
                std::string(r.certificate.strict_local_minimum_up_to_rotation ? "true" : "false"),
                "  strict local minimum up to rotation");
  } else {
    report->AddNotComputed("strict_local_minimum_up_to_rotation", "  strict local minimum up to rotation");
  }
  const optim::HessianCertificate& c = r.certificate;
  report->AddJson("certificate_detail",
                  {{"computed", c.computed},
                   {"method", optim::ToString(c.method)},
                   {"tangent_dim", c.tangent_dim},
                   {"expected_flat", c.expected_flat},
                   {"num_near_zero", c.num_near_zero},
                   {"num_negative", c.num_negative},
                   {"zero_tolerance", verify::NumberOrNull(c.zero_tolerance)},
                   {"max_abs_flat", verify::NumberOrNull(c.max_abs_flat)},
                   {"min_multiplier", verify::NumberOrNull(c.min_multiplier)},
                   {"min_eigenvalue", verify::NumberOrNull(c.min_eigenvalue)},
                   {"max_eigenvalue", verify::NumberOrNull(c.max_eigenvalue)},
                   {"min_eigenvalue_residual", verify::NumberOrNull(c.min_eigenvalue_residual)},
                   {"max_eigenvalue_residual", verify::NumberOrNull(c.max_eigenvalue_residual)},
                   {"hessian_vector_products", c.hessian_vector_products},
                   {"iterations", c.iterations},
                   {"converged", c.converged},
                   {"tangential_gradient_norm", verify::NumberOrNull(c.tangential_gradient_norm)}});
  report->Add("iterations", static_cast<long long>(r.iterations));
  report->Add("seconds", r.seconds);
  report->Add("memory_estimate_bytes", optim::EstimateMinimizeBytes(options), "estimated peak memory (bytes)");
  report->Add("converged", std::string(r.converged ? "true" : "false"));
  report->Add("message", r.message);
  const auto [low, high] = std::minmax_element(run.losses.begin(), run.losses.end());
  report->Add("restarts", static_cast<long long>(run.losses.size()));
  report->Add("best_seed", static_cast<long long>(run.best_seed));
  report->Add("loss_min", *low, "best loss over restarts");
  report->Add("loss_max", *high, "worst loss over restarts");
  report->Add("classes", static_cast<long long>(options.num_classes));
  report->Add("num_points", static_cast<long long>(r.labels.size()));
  report->Add("dim", static_cast<long long>(options.dim));
  report->Add("radius", options.temperature.radius());
  report->Add("temperature", options.temperature.temperature());
  report->Add("loss", theory::ToString(options.loss));
  report->Add("mode", optim::ToString(options.mode));
}

void WriteOutputs(const fs::path& dir,
                  const optim::MinimizeOptions& options,
                  const optim::RestartsResult& run,
                  const Report& report) {
  const optim::MinimizeResult& r = run.best;
  theory::WriteNpyPoints(dir / "points.npy", r.points);
  theory::WriteNpyLabels(dir / "labels.npy", r.labels);
  if (options.loss == optim::LossKind::kCrossEntropy) theory::WriteNpyMatrix(dir / "W.npy", r.weights);
  // CSV by hand: the stage column is text, CsvTable writes doubles only.
  std::string trace = "iteration,stage,radius,loss,grad_norm,step_size,seconds\n";
  for (const auto& info : r.trace) {
    trace += fmt::format("{},{},{:.17g},{:.17g},{:.17g},{:.17g},{:.17g}\n",
                         info.iteration,
                         info.stage,
                         info.radius,
                         info.loss,
                         info.grad_norm,
                         info.step_size,
                         info.seconds);
  }
  WriteTextFileAtomic(dir / "trace.csv", trace);
  std::ostringstream json;
  report.Print(true, json);
  WriteTextFileAtomic(dir / "result.json", json.str());
  WriteTextFileAtomic(dir / "meta.json", MetaJson(run.best_seed).dump(1) + "\n");
}

int RunSingle(const MinimizeFlags& flags) {
  const optim::MinimizeOptions options = BuildOptions(flags);
  const std::vector<int> counts = options.ClassCounts();
  RequireMemory("minimize",
                optim::EstimateMinimizeBytes(options),
                fmt::format("{} points in {} dimensions, {} mode, estimated",
                            std::accumulate(counts.begin(), counts.end(), 0LL),
                            options.dim,
                            optim::ToString(options.mode)));
  if (!flags.out.empty()) PrepareOutputDirectory(flags.out, flags.force);
  const bool simplex_problem = options.dim >= options.num_classes - 1 &&
                               std::all_of(counts.begin(), counts.end(), [&](int c) { return c == counts.front(); });
  const int restarts = flags.restarts > 0 ? flags.restarts : (simplex_problem ? 1 : 5);
  ProgressLine progress;
  // SIGINT/SIGTERM end LBFGS at its current iterate and skip the remaining restarts; the result is then reported
  // (and written) as incomplete.
  StopOnSignal stop_on_signal;
  const optim::RestartsResult run = RunRestarts(options, restarts, &progress);
  progress.Finish();
  Report report;
  AddResult(options, run, &report);
  const int stop = StopOnSignal::Requested();
  report.Add("complete", std::string(stop == 0 ? "yes" : fmt::format("no: stopped by signal {}", stop)));
  if (!flags.out.empty()) WriteOutputs(flags.out, options, run, report);
  report.Print(flags.json, std::cout);
  return stop == 0 ? 0 : 128 + stop;
}

// The paper's Figure 6: every composition of b = 9 points into 3 classes (partitions into at most 3 parts), one
// batch on the circle (h = 2, tau = 1): its minimizer against the simplex. Unbalanced ones must come out below.
int RunFigure6(const MinimizeFlags& flags) {
  if (!flags.out.empty()) PrepareOutputDirectory(flags.out, flags.force);
  std::vector<std::vector<int>> compositions;
  for (int a = 9; a >= 0; --a) {
    for (int b = std::min(a, 9 - a); b >= 0; --b) {
      const int c = 9 - a - b;
      if (c <= b) compositions.push_back({a, b, c});
    }
  }
  ProgressLine progress;
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  std::string table = fmt::format(
      "{:<11}  {:>20}  {:>20}  {:>12}  {}\n", "composition", "minimum", "simplex value", "difference", "check");
  int failures = 0;
  for (const auto& composition : compositions) {
    optim::MinimizeOptions options;
    options.loss = optim::LossKind::kSupCon;
    options.mode = optim::Mode::kComposition;
    options.num_classes = 3;
    options.class_counts = composition;
    options.dim = 2;
    options.temperature = theory::Temperature::FromRadius(1.0);
    options.seed = flags.seed;
    options.gradient_tolerance = flags.tolerance;
    options.certificate = !flags.no_certificate;
    const optim::RestartsResult run = RunRestarts(options, flags.restarts > 0 ? flags.restarts : 5, &progress);
    const optim::MinimizeResult& r = run.best;
    const bool balanced = composition[0] == composition[1] && composition[1] == composition[2];
    const bool one_class = composition[1] == 0;
    const double difference = r.final_loss - r.simplex_value;
    // Balanced: the simplex is the minimum (difference ~ 0); one class present: collapse is the minimum, and the
    // simplex collapses it too. Every other composition: strictly below the simplex.
    const bool equal_expected = balanced || one_class;
    const bool ok = equal_expected ? std::abs(difference) <= 1e-8 * std::abs(r.simplex_value) : difference < -1e-9;
    failures += !ok;
    const std::string text = fmt::format("{}", fmt::join(composition, ","));
    table += fmt::format("{:<11}  {:>20.15g}  {:>20.15g}  {:>12.4e}  {}\n",
                         text,
                         r.final_loss,
                         r.simplex_value,
                         difference,
                         ok ? (balanced    ? "PASS (= simplex)"
                               : one_class ? "PASS (one class: collapse)"
                                           : "PASS (below simplex)")
                            : "FAIL");
    nlohmann::ordered_json points = nlohmann::ordered_json::array();
    for (Eigen::Index i = 0; i < r.points.cols(); ++i) {
      points.push_back({{"x", r.points(0, i)}, {"y", r.points(1, i)}, {"label", r.labels[i]}});
    }
    rows.push_back({{"composition", composition},
                    {"minimum", r.final_loss},
                    {"simplex_value", r.simplex_value},
                    {"difference", difference},
                    {"converged", r.converged},
                    {"pass", ok},
                    {"points", points}});
    if (!flags.out.empty()) {
      std::vector<std::vector<double>> csv;
      for (Eigen::Index i = 0; i < r.points.cols(); ++i) {
        csv.push_back({r.points(0, i), r.points(1, i), static_cast<double>(r.labels[i])});
      }
      WriteTextFileAtomic(fs::path(flags.out) / fmt::format("figure6_{}.csv", fmt::join(composition, "_")),
                          CsvTable({"x", "y", "label"}, csv));
    }
  }
  progress.Finish();
  nlohmann::ordered_json out = {{"figure", 6},
                                {"batch_size", 9},
                                {"classes", 3},
                                {"dim", 2},
                                {"radius", 1.0},
                                {"failures", failures},
                                {"value", failures},
                                {"compositions", rows}};
  if (!flags.out.empty()) {
    WriteTextFileAtomic(fs::path(flags.out) / "figure6.json", out.dump(1) + "\n");
    WriteTextFileAtomic(fs::path(flags.out) / "meta.json", MetaJson(flags.seed).dump(1) + "\n");
  }
  if (flags.json) {
    std::cout << out.dump() << '\n';
  } else {
    std::cout << "Figure 6: one batch of b = 9 points, K = 3 classes on the circle (h = 2, tau = 1)\n" << table;
    std::cout << (failures == 0 ? "verdict: PASS\n" : fmt::format("verdict: FAIL ({} compositions)\n", failures));
  }
  return failures == 0 ? 0 : 1;
}

// The grid of the issue: K, h in {K-1, K, 2K, 4K}, tau, n, several seeds, both losses. A row per configuration with
// the worst relative gap and Gram error over the seeds; verdict PASS when every configuration reaches its bound.
int RunSweep(const MinimizeFlags& flags) {
  if (!flags.out.empty()) PrepareOutputDirectory(flags.out, flags.force);
  // The certified gap of the issue, and a Gram error small against the Gram matrix's own scale rho^2.
  constexpr double kGapTarget = 1e-9;
  constexpr double kGramTarget = 1e-5;  // times max(1, rho^2)
  ProgressLine progress;
  StopOnSignal stop_on_signal;  // SIGINT/SIGTERM: finished configurations are written, the sweep marked incomplete
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  std::vector<std::vector<double>> csv;
  std::string table = fmt::format("{:<6} {:>4} {:>4} {:>6} {:>3} {:>12} {:>12} {:>8}  {}\n",
                                  "loss",
                                  "K",
                                  "h",
                                  "tau",
                                  "n",
                                  "max rel gap",
                                  "max Gram err",
                                  "seconds",
                                  "check");
  int failures = 0;
  int configurations = 0;
  for (const std::string& loss : flags.sweep_losses) {
    for (int k : flags.sweep_classes) {
      for (int h : {k - 1, k, 2 * k, 4 * k}) {
        for (double tau : flags.sweep_temperatures) {
          for (int n : flags.sweep_per_class) {
            if (h < 1 || StopOnSignal::Requested() != 0) continue;
            optim::MinimizeOptions options;
            options.loss = theory::ParseLossFamily(loss);
            options.num_classes = k;
            options.per_class = n;
            options.dim = h;
            options.temperature = theory::Temperature::FromTemperature(tau);
            options.gradient_tolerance = flags.tolerance;
            options.max_iterations = flags.max_iterations;
            options.certificate = false;
            options.callback = [](const optim::IterationInfo&) { return StopOnSignal::Requested() != 0; };
            std::string check;
            double worst_gap = 0.0, worst_gram = 0.0, seconds = 0.0;
            if (options.loss == optim::LossKind::kSupCon && n == 1) {
              check = "n/a (one point per class: no positives, SC is 0 everywhere)";
              worst_gap = worst_gram = std::numeric_limits<double>::quiet_NaN();
            } else {
              for (int s = 0; s < flags.sweep_seeds; ++s) {
                options.seed = flags.seed + static_cast<std::uint64_t>(s);
                progress.Update(
                    fmt::format("sweep {} K={} h={} tau={} n={} seed {}", loss, k, h, tau, n, options.seed));
                const optim::MinimizeResult r = optim::Minimize(options);
                worst_gap = std::max(worst_gap, std::abs(r.rel_gap));
                worst_gram = std::max(worst_gram, r.max_gram_error);
                seconds += r.seconds;
                if (StopOnSignal::Requested() != 0) break;
              }
              // A configuration cut short by the signal is not a result: it is left out.
              if (StopOnSignal::Requested() != 0) continue;
              const bool ok = worst_gap <= kGapTarget && worst_gram <= kGramTarget * std::max(1.0, 1.0 / tau);
              failures += !ok;
              check = ok ? "PASS" : "FAIL";
            }
            ++configurations;
            table += fmt::format("{:<6} {:>4} {:>4} {:>6} {:>3} {:>12.3e} {:>12.3e} {:>8.2f}  {}\n",
                                 loss,
                                 k,
                                 h,
                                 tau,
                                 n,
                                 worst_gap,
                                 worst_gram,
                                 seconds,
                                 check);
            rows.push_back(
                {{"loss", loss},
                 {"classes", k},
                 {"dim", h},
                 {"temperature", tau},
                 {"per_class", n},
                 {"seeds", flags.sweep_seeds},
                 {"max_rel_gap", std::isfinite(worst_gap) ? nlohmann::ordered_json(worst_gap) : nullptr},
                 {"max_gram_error", std::isfinite(worst_gram) ? nlohmann::ordered_json(worst_gram) : nullptr},
                 {"seconds", seconds},
                 {"check", check}});
            csv.push_back(
                {loss == "supcon" ? 0.0 : 1.0, double(k), double(h), tau, double(n), worst_gap, worst_gram, seconds});
          }
        }
      }
    }
  }
  progress.Finish();
  const int stop = StopOnSignal::Requested();
  if (!flags.out.empty()) {
    WriteTextFileAtomic(
        fs::path(flags.out) / "sweep.csv",
        CsvTable(
            {"loss_is_ce", "classes", "dim", "temperature", "per_class", "max_rel_gap", "max_gram_error", "seconds"},
            csv));
    WriteTextFileAtomic(fs::path(flags.out) / "meta.json", MetaJson(flags.seed).dump(1) + "\n");
  }
  if (flags.json) {
    std::cout << nlohmann::ordered_json{{"value", failures},
                                        {"configurations", configurations},
                                        {"failures", failures},
                                        {"gap_target", kGapTarget},
                                        {"gram_target", kGramTarget},
                                        {"complete", stop == 0},
                                        {"rows", rows}}
                     .dump()
              << '\n';
  } else {
    std::cout << table
              << (failures == 0 ? fmt::format("verdict: PASS ({} configurations reach the bound: relative gap <= {:g}, "
                                              "Gram error <= {:g} max(1, rho^2))\n",
                                              configurations,
                                              kGapTarget,
                                              kGramTarget)
                                : fmt::format("verdict: FAIL ({} of {} configurations)\n", failures, configurations));
    if (stop != 0)
      std::cout << fmt::format("incomplete: stopped by signal {} after {} configurations\n", stop, configurations);
  }
  if (stop != 0) return 128 + stop;
  return failures == 0 ? 0 : 1;
}

int RunMinimize(const MinimizeFlags& flags) {
  if (flags.sweep + flags.figure1 + flags.figure5 + flags.figure6 > 1) {
    throw std::invalid_argument("give one of --sweep, --figure1, --figure5, --figure6");
  }
  if (flags.sweep) return RunSweep(flags);
  if (flags.figure1 || flags.figure5) {
    const FigureFlags figure{flags.seed, flags.out, flags.force, flags.json};
    return flags.figure1 ? RunFigure1(figure) : RunFigure5(figure);
  }
  if (flags.figure6) return RunFigure6(flags);
  if (flags.classes_option->count() == 0) throw std::invalid_argument("--classes is required");
  if (flags.dim_option->count() == 0) throw std::invalid_argument("--dim is required");
  return RunSingle(flags);
}

}  // namespace

std::vector<Command> RegisterMinimizeCommand(CLI::App& app) {
  auto f = std::make_shared<MinimizeFlags>();
  CLI::App* cmd = app.add_subcommand("minimize", "Minimize CE or SC over free points: the simplex optimum, measured");
  cmd->add_option("--loss", f->loss, "supcon or ce")
      ->check(CLI::IsMember(theory::NamesOf(theory::kLossFamilyNames)))
      ->capture_default_str();
  f->classes_option = cmd->add_option("--classes", f->num_classes, "Number of classes K (>= 2)");
  f->per_class_option = cmd->add_option("--per-class", f->per_class, "Points per class n (balanced)");
  cmd->add_option("--class-counts", f->class_counts, "Points per class, imbalanced, e.g. 10,5,2")->delimiter(',');
  f->dim_option = cmd->add_option("--dim", f->dim, "Dimension h (h < K-1 allowed: no simplex fits)");
  f->temperature.AddTo(cmd);
  cmd->add_option("--weight-norm", f->weight_norm, "CE: bound r on W")->capture_default_str();
  cmd->add_option("--norm", f->norm, "CE: row (||w_k|| <= r) or frobenius (||W||_F <= r)")
      ->check(CLI::IsMember(theory::NamesOf(theory::kWeightNormNames)))
      ->capture_default_str();
  cmd->add_option("--mode", f->mode, "full, multiset, sampled or composition")
      ->check(CLI::IsMember(theory::NamesOf(optim::kModeNames)))
      ->capture_default_str();
  cmd->add_option("--batch-size", f->batch_size, "Batch size b (multiset, sampled)");
  cmd->add_option("--composition", f->composition, "Class counts of the one batch (--mode composition)")
      ->delimiter(',');
  cmd->add_option("--seed", f->seed, "Seed of the random start")->capture_default_str();
  cmd->add_option("--restarts", f->restarts, "Seeds to run, keeping the best (default 1, or 5 where no simplex fits)");
  cmd->add_option("--max-iterations", f->max_iterations, "LBFGS iterations")->capture_default_str();
  cmd->add_option("--tolerance", f->tolerance, "Stop when the gradient norm is below this")->capture_default_str();
  cmd->add_option("--gap-tolerance", f->gap_tolerance, "Also stop once (loss - bound) <= this * |bound| (0: off)")
      ->capture_default_str();
  cmd->add_option("--max-batches", f->max_batches, "Multiset: refuse beyond this many batches")->capture_default_str();
  cmd->add_option("--sgd-iterations", f->sgd_iterations, "Sampled: SGD steps")->capture_default_str();
  cmd->add_option("--learning-rate", f->learning_rate, "Sampled: lr0 of the poly-5 schedule")->capture_default_str();
  cmd->add_flag("--no-certificate", f->no_certificate, "Skip the Hessian certificate");
  cmd->add_flag(
      "--no-continuation", f->no_continuation, "SC: start at the target radius (no radius 1, 2, 4, ... stages)");
  cmd->add_flag("--sweep", f->sweep, "Run the grid (K, h in {K-1,K,2K,4K}, tau, n, seeds, both losses)");
  cmd->add_option("--sweep-classes", f->sweep_classes, "Sweep: K values")->delimiter(',')->capture_default_str();
  cmd->add_option("--sweep-temperatures", f->sweep_temperatures, "Sweep: tau values")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--sweep-per-class", f->sweep_per_class, "Sweep: n values")->delimiter(',')->capture_default_str();
  cmd->add_option("--sweep-losses", f->sweep_losses, "Sweep: losses")->delimiter(',')->capture_default_str();
  cmd->add_option("--sweep-seeds", f->sweep_seeds, "Sweep: seeds per configuration")->capture_default_str();
  cmd->add_flag("--figure1", f->figure1, "The paper's Figure 1: gradient-descent paths of SC and CE to a tetrahedron");
  cmd->add_flag(
      "--figure5", f->figure5, "The paper's Figure 5: the loss of each multiset batch by label configuration");
  cmd->add_flag("--figure6", f->figure6, "The paper's Figure 6: the 12 compositions of 9 points into 3 classes");
  cmd->add_flag("--json", f->json, "Print one JSON object");
  cmd->add_option("--out", f->out, "Write points.npy, labels.npy, W.npy (CE), trace.csv, result.json, meta.json");
  cmd->add_flag("--force", f->force, "Allow --out into a folder that already holds files");
  return {{cmd, [f] { return RunMinimize(*f); }}};
}

}  // namespace dissect::cli
