// `dissect noise`: the paper's label-noise experiment (docs/theory.md, Experiments): iterations to fit flipped labels
// for CE and SC over independent replicates, the curvature of each loss over the seeds with its interval, the power law
// as a description, and the claims 4a-4c (dissect::verify, the same decisions as `dissect reproduce`).

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "commands.hpp"
#include "dissect/theory/check.hpp"
#include "dissect/train/noise_experiment.hpp"
#include "dissect/verify/claims.hpp"
#include "dissect/verify/label_noise_analysis.hpp"
#include "dissect/verify/profile.hpp"
#include "gnuplot_plot.hpp"
#include "output.hpp"
#include "output_files.hpp"
#include "progress.hpp"
#include "reproduce_plots.hpp"
#include "train_flags.hpp"

namespace dissect::cli {
namespace {

namespace fs = std::filesystem;

struct NoiseFlags : TrainFlags {
  std::vector<double> fractions = {0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0};
  std::vector<std::string> losses = {"ce", "supcon"};
  std::string criterion = "probe";
  bool no_early_stop = false;
  std::uint64_t noise_seed = 0;
  int replicates = 1;
  int bootstrap = 2000;
  std::string profile;
  std::string out;
  bool force = false;
  bool json = false;
};

// Profiles: settings for a whole experiment; flags the user gives win over them. cpu is `dissect reproduce --profile
// cpu`'s noise protocol (a Fashion-MNIST subset, the MLP), gpu the paper profile's (CIFAR-10, ResNet-18).
void ApplyProfile(NoiseFlags* f, const std::map<std::string, CLI::Option*>& given) {
  const auto set = [&](const std::string& flag, auto* field, auto value) {
    if (given.at(flag)->count() == 0) *field = value;
  };
  if (f->profile.empty()) return;
  const bool gpu = f->profile == "gpu";
  const verify::NoiseProtocol p =
      verify::MakeProfile(gpu ? verify::ProfileKind::kPaper : verify::ProfileKind::kCpu).noise;
  set("--data", &f->data, std::string(gpu ? "cifar10" : "fashion-mnist"));
  set("--model", &f->model, std::string(gpu ? "resnet18" : "mlp"));
  if (!gpu) {
    set("--train-limit", &f->train_limit, p.train_images);
    set("--test-limit", &f->test_limit, p.test_images);
    set("--supcon-eval-batches", &f->supcon_eval_batches, std::int64_t{4});
  } else {
    set("--device", &f->device, std::string("cuda"));
  }
  set("--fractions", &f->fractions, p.fractions);
  set("--replicates", &f->replicates, p.replicates);
  set("--iterations", &f->iterations, p.budget);
  set("--schedule-horizon", &f->schedule_horizon, p.schedule_horizon);
  set("--eval-every", &f->eval_every, p.eval_every);
  set("--probe-iterations", &f->probe_iterations, p.probe_iterations);
}

std::string FormatIterations(double value) { return std::isnan(value) ? "not reached" : fmt::format("{:.0f}", value); }

nlohmann::ordered_json NumberJson(double v) { return verify::NumberOrNull(v); }

nlohmann::ordered_json IntervalJson(const verify::Interval& i) {
  return {{"estimate", NumberJson(i.estimate)},
          {"low", NumberJson(i.low)},
          {"high", NumberJson(i.high)},
          {"confidence", NumberJson(i.confidence)},
          {"count", i.count}};
}

nlohmann::ordered_json FitJson(const verify::PowerLawFit& fit) {
  return {{"model", "iterations_to_fit = offset + prefactor * num_flipped^exponent (a description)"},
          {"num_points", fit.num_points},
          {"num_skipped", fit.num_skipped},
          {"offset", NumberJson(fit.offset)},
          {"exponent", NumberJson(fit.exponent)},
          {"prefactor", NumberJson(fit.prefactor)},
          {"exponent_low", NumberJson(fit.exponent_low)},
          {"exponent_high", NumberJson(fit.exponent_high)},
          {"confidence", NumberJson(fit.confidence)},
          {"bootstrap_samples", fit.bootstrap_samples},
          {"shape", fit.verdict},
          {"note", fit.note}};
}

nlohmann::ordered_json CurvatureJson(const verify::LossCurvature& c) {
  nlohmann::ordered_json seeds = nlohmann::ordered_json::array();
  for (const verify::SeedCurvature& s : c.seeds) {
    seeds.push_back({{"replicate", s.replicate},
                     {"t0", NumberJson(s.t0)},
                     {"t_half", NumberJson(s.t_half)},
                     {"t1", NumberJson(s.t1)},
                     {"kappa", NumberJson(s.kappa)},
                     {"lower_bound", s.lower_bound},
                     {"usable", s.usable},
                     {"growth_ratio", NumberJson(s.growth_ratio)},
                     {"note", s.note}});
  }
  return {{"runs", c.runs},
          {"censored_runs", c.censored_runs},
          {"usable_seeds", c.usable},
          {"lower_bounds", c.lower_bounds},
          {"kappa", IntervalJson(c.kappa)},
          {"growth_ratio", IntervalJson(c.growth_ratio)},
          {"seeds", seeds},
          {"power_law", FitJson(c.power_law)}};
}

// The runs as dissect::verify reads them (the same record `dissect reproduce` reads from noise.json).
std::vector<verify::NoiseRunResult> RunResults(const train::NoiseResult& result) {
  std::vector<verify::NoiseRunResult> runs;
  for (const train::NoiseRun& run : result.runs) {
    if (run.status == "cancelled") continue;
    runs.push_back({train::ToString(run.loss),
                    run.replicate,
                    run.fraction,
                    run.num_flipped,
                    run.censored ? static_cast<double>(run.budget) : run.iterations_to_fit,
                    run.censored,
                    run.budget,
                    run.cumulative_learning_rate,
                    run.criteria_disagree});
  }
  return runs;
}

nlohmann::ordered_json RunsJson(const train::NoiseResult& result) {
  nlohmann::ordered_json runs = nlohmann::ordered_json::array();
  for (const train::NoiseRun& run : result.runs) {
    runs.push_back({{"loss", train::ToString(run.loss)},
                    {"replicate", run.replicate},
                    {"flip_seed", run.flip_seed},
                    {"train_seed", run.train_seed},
                    {"fraction", run.fraction},
                    {"num_flipped", run.num_flipped},
                    {"criterion", run.criterion},
                    {"iterations_to_fit", NumberJson(run.iterations_to_fit)},
                    {"reached", !std::isnan(run.iterations_to_fit)},
                    {"censored", run.censored},
                    {"budget", run.budget},
                    {"cumulative_learning_rate", NumberJson(run.cumulative_learning_rate)},
                    {"fit_class_mean", NumberJson(run.fit_class_mean)},
                    {"fit_classifier", NumberJson(run.fit_classifier)},
                    {"fit_probe", NumberJson(run.fit_probe)},
                    {"criteria_disagree", run.criteria_disagree},
                    {"status", run.status},
                    {"seconds", run.seconds}});
  }
  return runs;
}

// The statistics of the runs: per loss, the curvature over the replicates and the power law; the claims 4a-4c where
// both CE and SC ran.
struct Analysis {
  std::vector<verify::LossCurvature> losses;  // options.losses order
  std::vector<verify::Claim> claims;
};

Analysis Analyze(const train::NoiseOptions& options, const train::NoiseResult& result, int bootstrap) {
  Analysis analysis;
  const std::vector<verify::NoiseRunResult> runs = RunResults(result);
  const verify::ClaimMargins margins;
  for (const train::LossKind loss : options.losses) {
    analysis.losses.push_back(verify::AnalyzeCurvature(runs, train::ToString(loss), margins.confidence, bootstrap));
  }
  const auto find = [&](const std::string& name) -> const verify::LossCurvature* {
    for (const verify::LossCurvature& c : analysis.losses) {
      if (c.loss == name) return &c;
    }
    return nullptr;
  };
  if (find("supcon") != nullptr && find("ce") != nullptr) {
    analysis.claims = verify::NoiseClaims(*find("supcon"), *find("ce"), margins);
  }
  return analysis;
}

nlohmann::ordered_json AnalysisJson(const Analysis& analysis) {
  nlohmann::ordered_json losses = nlohmann::ordered_json::object();
  for (const verify::LossCurvature& c : analysis.losses) losses[c.loss] = CurvatureJson(c);
  nlohmann::ordered_json claims = nlohmann::ordered_json::array();
  for (const verify::Claim& c : analysis.claims) claims.push_back(verify::ToJson(c));
  return {{"curvature", losses}, {"claims", claims}};
}

void WriteOutputs(const fs::path& dir,
                  const NoiseFlags& f,
                  const train::NoiseOptions& options,
                  const train::NoiseResult& result,
                  const Analysis& analysis,
                  const nlohmann::ordered_json& run_json) {
  // CSV by hand: the loss column is text, CsvTable writes doubles only.
  std::string csv =
      "loss,replicate,fraction,num_flipped,criterion,iterations_to_fit,censored,budget,cumulative_learning_rate,"
      "fit_class_mean,fit_classifier,fit_probe,criteria_disagree,test_accuracy_class_mean,seconds\n";
  for (const train::NoiseRun& run : result.runs) {
    csv += fmt::format("{},{},{:.17g},{},{},{:.17g},{},{},{:.17g},{:.17g},{:.17g},{:.17g},{},{:.17g},{:.17g}\n",
                       train::ToString(run.loss),
                       run.replicate,
                       run.fraction,
                       run.num_flipped,
                       run.criterion,
                       run.iterations_to_fit,
                       run.censored ? 1 : 0,
                       run.budget,
                       run.cumulative_learning_rate,
                       run.fit_class_mean,
                       run.fit_classifier,
                       run.fit_probe,
                       run.criteria_disagree ? 1 : 0,
                       run.history.empty() ? NAN : run.history.back().test_accuracy_class_mean,
                       run.seconds);
    WriteMetrics(dir,
                 run_json,
                 run.history,
                 run.status,
                 fmt::format("run_{}_r{}_p{:.3f}", train::ToString(run.loss), run.replicate, run.fraction));
  }
  WriteTextFileAtomic(dir / "noise.csv", csv);
  nlohmann::ordered_json json = {{"losses", f.losses},
                                 {"run", run_json},
                                 {"runs", RunsJson(result)},
                                 {"analysis", AnalysisJson(analysis)},
                                 {"cancelled", result.cancelled}};
  WriteTextFileAtomic(dir / "noise.json", json.dump(1) + "\n");

  // The plot of dissect reproduce's label-noise part, from the runs as written to noise.json.
  std::map<std::string, verify::PowerLawFit> fits;
  for (std::size_t i = 0; i < options.losses.size(); ++i)
    fits[train::ToString(options.losses[i])] = analysis.losses[i].power_law;
  WriteGnuplot(dir / "noise", {NoisePanel(verify::ReadNoiseRuns(json, "noise.json"), fits)});
  WriteTextFileAtomic(dir / "meta.json", MetaJson(f.seed).dump(1) + "\n");
}

int RunNoise(NoiseFlags f, const std::map<std::string, CLI::Option*>& given) {
  ApplyProfile(&f, given);
  train::NoiseOptions options;
  options.train = BuildTrainOptions(f);
  options.fractions = f.fractions;
  options.losses.clear();
  for (const std::string& loss : f.losses) options.losses.push_back(train::ParseLossKind(loss));
  options.criterion = train::ParseFitCriterion(f.criterion);
  options.stop_at_fit = !f.no_early_stop;
  options.noise_seed = f.noise_seed;
  options.replicates = f.replicates;
  options.Validate();
  theory::RequireAtLeast("noise", "--bootstrap", f.bootstrap, 1);
  train::ResolveDevice(options.train.device);
  const bool has_out = !f.out.empty();
  if (has_out) PrepareOutputDirectory(f.out, f.force);

  ProgressLine progress;
  progress.Update("noise: reading " + f.data);
  const train::DataSplit data = LoadTrainingData(f);
  nlohmann::ordered_json run_json = TrainRunJson(f, options.train, data);
  run_json["noise_seed"] = f.noise_seed;
  run_json["replicates"] = f.replicates;
  run_json["fractions"] = f.fractions;
  run_json["criterion"] = f.criterion;
  run_json["stop_at_fit"] = options.stop_at_fit;
  run_json["profile"] = f.profile.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(f.profile);

  std::string current;
  train::NoiseCallbacks callbacks;
  callbacks.on_run_start = [&](int index, int total, train::LossKind loss, double fraction) {
    current = fmt::format("noise: run {}/{} {} p={:.2f}", index + 1, total, train::ToString(loss), fraction);
    progress.Update(current);
  };
  callbacks.on_run_done = [&](const train::NoiseRun& run) {
    progress.Finish();
    std::cerr << fmt::format("noise: replicate {} {} p={:.2f} flipped {}: {} ({}; {:.1f} s)\n",
                             run.replicate,
                             train::ToString(run.loss),
                             run.fraction,
                             run.num_flipped,
                             FormatIterations(run.iterations_to_fit),
                             run.criterion,
                             run.seconds);
  };
  callbacks.on_step = [&](const train::TrainProgress& p) {
    progress.Update(fmt::format("{}  step {}/{}  loss {:.4f}", current, p.iteration, p.iterations, p.loss));
    return StopOnSignal::Requested() != 0;
  };
  train::NoiseResult result;
  {
    StopOnSignal stop_on_signal;
    result = train::RunNoiseExperiment(options, data, callbacks);
  }
  progress.Finish();
  const Analysis analysis = Analyze(options, result, f.bootstrap);
  if (has_out) WriteOutputs(f.out, f, options, result, analysis, run_json);

  Report report;
  report.Add("data", f.data);
  report.Add("train_images", static_cast<long long>(data.train.num_images));
  report.Add("encoder", options.train.encoder.Describe());
  report.Add("budget", static_cast<long long>(options.train.iterations));
  report.Add("schedule_horizon", static_cast<long long>(options.train.ScheduleHorizon()));
  report.Add("eval_every", static_cast<long long>(options.train.eval_every));
  report.Add("replicates", static_cast<long long>(options.replicates));
  for (const train::NoiseRun& run : result.runs) {
    report.Add(
        fmt::format("{}_r{}_p{:.2f}", train::ToString(run.loss), run.replicate, run.fraction),
        FormatIterations(run.iterations_to_fit) + fmt::format(" (flipped {}, {})", run.num_flipped, run.criterion));
  }
  for (const verify::LossCurvature& c : analysis.losses) {
    report.Add(c.loss + "_kappa", c.kappa.estimate, "curvature 4 (T(1) - 2 T(0.5) + T(0)) / (T(1) - T(0)), mean");
    report.Add(c.loss + "_kappa_interval",
               fmt::format("[{:.3f}, {:.3f}] ({:.0f}%, {} usable seeds, {} lower bounds; {} of {} runs censored)",
                           c.kappa.low,
                           c.kappa.high,
                           100 * c.kappa.confidence,
                           c.usable,
                           c.lower_bounds,
                           c.censored_runs,
                           c.runs));
    if (std::isfinite(c.power_law.offset)) {
      report.Add(c.loss + "_power_law_offset",
                 c.power_law.offset,
                 c.loss + ": the power law's offset, the mean iterations of its clean runs (p = 0)");
    } else {
      report.AddNotComputed(c.loss + "_power_law_offset", c.loss + ": the power law's offset", c.power_law.note);
    }
    if (std::isfinite(c.power_law.exponent)) {
      report.Add(c.loss + "_exponent",
                 c.power_law.exponent,
                 fmt::format("{}: power-law exponent above the clean runs, a description ({} runs with flips, {} "
                             "left out)",
                             c.loss,
                             c.power_law.num_points,
                             c.power_law.num_skipped));
    } else {
      report.AddNotComputed(c.loss + "_exponent", c.loss + ": power-law exponent", c.power_law.note);
    }
  }
  for (const verify::Claim& c : analysis.claims) report.Add("claim_" + c.id, verify::ToString(c.verdict), c.statement);
  report.AddJson("analysis", AnalysisJson(analysis));
  report.AddJson("runs", RunsJson(result));
  report.AddJson("run", run_json);
  report.Print(f.json, std::cout);
  if (result.cancelled) {
    std::cerr << "noise: stopped by signal " << StopOnSignal::Requested() << '\n';
    return 128 + StopOnSignal::Requested();
  }
  return 0;
}

}  // namespace

std::vector<Command> RegisterNoiseCommand(CLI::App& app) {
  auto f = std::make_shared<NoiseFlags>();
  auto given = std::make_shared<std::map<std::string, CLI::Option*>>();
  CLI::App* cmd = app.add_subcommand(
      "noise",
      "Label-noise experiment: iterations to fit flipped labels, CE vs SC. Without --profile the flags' own "
      "defaults apply (every training image, 1,000 steps), which a CPU run rarely fits within; "
      "--profile cpu is the protocol `dissect reproduce` runs on a CPU");
  // Noise runs detect the fit as they go (every 100 steps) and retrain the probe on 1,000 batches (docs/theory.md).
  f->eval_every = 100;
  f->probe_iterations = 1000;
  *given = AddTrainFlags(cmd, f.get(), /*with_loss=*/false);
  cmd->add_option("--fractions", f->fractions, "Fractions p of flipped training labels")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--losses", f->losses, "Losses compared")
      ->delimiter(',')
      ->check(CLI::IsMember(theory::NamesOf(train::kLossKindNames)))
      ->capture_default_str();
  cmd->add_option("--criterion",
                  f->criterion,
                  "Accuracy that decides the fit: probe (the retrained linear probe, for every loss), class-mean, "
                  "classifier, auto (class means for SC, the classifier for CE)")
      ->check(CLI::IsMember(theory::NamesOf(train::kFitCriterionNames)))
      ->capture_default_str();
  cmd->add_flag("--no-early-stop", f->no_early_stop, "Run the whole budget after the fit");
  (*given)["--fractions"] = cmd->get_option("--fractions");
  cmd->add_option("--noise-seed", f->noise_seed, "Seed of the label flips of replicate 0 (replicate r: + r)")
      ->capture_default_str();
  (*given)["--replicates"] =
      cmd->add_option("--replicates", f->replicates, "Independent repetitions (flips and training seeds + r)")
          ->capture_default_str();
  cmd->add_option("--bootstrap", f->bootstrap, "Bootstrap resamples of the power-law description")
      ->capture_default_str();
  cmd->add_option("--profile",
                  f->profile,
                  "cpu (reproduce --profile cpu's protocol: Fashion-MNIST subset, MLP) or gpu (CIFAR-10, ResNet-18)")
      ->check(CLI::IsMember({"cpu", "gpu"}));
  cmd->add_option("--out", f->out, "Write noise.csv, noise.json, noise.svg, run_*.csv/json and meta.json");
  cmd->add_flag("--force", f->force, "Allow --out into a folder that already holds files");
  cmd->add_flag("--json", f->json, "Print one JSON object");
  return {{cmd, [f, given] { return RunNoise(*f, *given); }}};
}

}  // namespace dissect::cli
