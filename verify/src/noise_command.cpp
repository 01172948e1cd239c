// `dissect noise`: the paper's label-noise experiment (THEORY.md, Experiments): iterations to fit flipped labels for
// CE and SC, a power law per loss with a bootstrap interval for its exponent, and the verdict.

#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "commands.hpp"
#include "dissect/train/noise_experiment.hpp"
#include "output.hpp"
#include "output_files.hpp"
#include "progress.hpp"
#include "svg_plot.hpp"
#include "train_flags.hpp"

namespace dissect::cli {
namespace {

namespace fs = std::filesystem;

struct NoiseFlags : TrainFlags {
  std::vector<double> fractions = {0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0};
  std::vector<std::string> losses = {"ce", "supcon"};
  std::string criterion = "auto";
  bool no_early_stop = false;
  std::uint64_t noise_seed = 0;
  int bootstrap = 2000;
  std::string profile;
  std::string out;
  bool force = false;
  bool json = false;
};

// Profiles: settings for a whole experiment; flags the user gives win over them.
// cpu: a Fashion-MNIST subset and the MLP, within 30 minutes on 2 cores (README). gpu: the paper's CIFAR-10 settings.
void ApplyProfile(NoiseFlags* f, const std::map<std::string, CLI::Option*>& given) {
  const auto set = [&](const std::string& flag, auto* field, auto value) {
    if (given.at(flag)->count() == 0) *field = value;
  };
  if (f->profile == "cpu") {
    set("--data", &f->data, std::string("fashion-mnist"));
    set("--train-limit", &f->train_limit, std::int64_t{2000});
    set("--test-limit", &f->test_limit, std::int64_t{2000});
    set("--model", &f->model, std::string("mlp"));
    set("--iterations", &f->iterations, std::int64_t{20000});
    set("--eval-every", &f->eval_every, std::int64_t{50});
    set("--probe-iterations", &f->probe_iterations, std::int64_t{0});
    set("--supcon-eval-batches", &f->supcon_eval_batches, std::int64_t{4});
  } else if (f->profile == "gpu") {
    set("--data", &f->data, std::string("cifar10"));
    set("--model", &f->model, std::string("resnet18"));
    set("--iterations", &f->iterations, std::int64_t{100000});
    set("--eval-every", &f->eval_every, std::int64_t{500});
    set("--probe-iterations", &f->probe_iterations, std::int64_t{1000});  // THEORY.md: 1,000 in the noise runs
    set("--device", &f->device, std::string("cuda"));
  }
}

std::string FormatIterations(double value) { return std::isnan(value) ? "not reached" : fmt::format("{:.0f}", value); }

nlohmann::ordered_json FitJson(const train::PowerLawFit& fit) {
  const auto number = [](double v) { return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json(nullptr); };
  return {{"model", "iterations_to_fit = offset + prefactor * num_flipped^exponent"},
          {"num_points", fit.num_points},
          {"num_skipped", fit.num_skipped},
          {"offset", number(fit.offset)},
          {"exponent", number(fit.exponent)},
          {"prefactor", number(fit.prefactor)},
          {"exponent_low", number(fit.exponent_low)},
          {"exponent_high", number(fit.exponent_high)},
          {"confidence", number(fit.confidence)},
          {"bootstrap_samples", fit.bootstrap_samples},
          {"verdict", fit.verdict}};
}

void WriteOutputs(const fs::path& dir,
                  const NoiseFlags& f,
                  const train::NoiseOptions& options,
                  const train::NoiseResult& result,
                  const nlohmann::ordered_json& run_json) {
  // CSV by hand: the loss column is text, CsvTable writes doubles only.
  std::string csv =
      "loss,fraction,num_flipped,criterion,iterations_to_fit,budget,fit_class_mean,fit_classifier,fit_probe,"
      "test_accuracy_class_mean,seconds\n";
  nlohmann::ordered_json runs = nlohmann::ordered_json::array();
  const auto number = [](double v) { return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json(nullptr); };
  for (const train::NoiseRun& run : result.runs) {
    csv += fmt::format("{},{:.17g},{},{},{:.17g},{},{:.17g},{:.17g},{:.17g},{:.17g},{:.17g}\n", train::ToString(run.loss),
                       run.fraction, run.num_flipped, run.criterion, run.iterations_to_fit, run.budget,
                       run.fit_class_mean, run.fit_classifier, run.fit_probe,
                       run.history.empty() ? NAN : run.history.back().test_accuracy_class_mean, run.seconds);
    runs.push_back({{"loss", train::ToString(run.loss)},
                    {"fraction", run.fraction},
                    {"num_flipped", run.num_flipped},
                    {"criterion", run.criterion},
                    {"iterations_to_fit", number(run.iterations_to_fit)},
                    {"reached", !std::isnan(run.iterations_to_fit)},
                    {"budget", run.budget},
                    {"fit_class_mean", number(run.fit_class_mean)},
                    {"fit_classifier", number(run.fit_classifier)},
                    {"fit_probe", number(run.fit_probe)},
                    {"status", run.status},
                    {"seconds", run.seconds}});
    WriteMetrics(dir, run_json, run.history, run.status,
                 fmt::format("run_{}_p{:.3f}", train::ToString(run.loss), run.fraction));
  }
  WriteTextFileAtomic(dir / "noise.csv", csv);
  nlohmann::ordered_json fits = nlohmann::ordered_json::object();
  for (std::size_t i = 0; i < options.losses.size(); ++i) fits[train::ToString(options.losses[i])] = FitJson(result.fits[i]);
  nlohmann::ordered_json json = {{"losses", f.losses}, {"run", run_json}, {"runs", runs}, {"fits", fits},
                                 {"cancelled", result.cancelled}};
  WriteTextFileAtomic(dir / "noise.json", json.dump(1) + "\n");

  LogLogPlot plot("Iterations to fit flipped labels", "flipped training labels", "iterations to 100% train accuracy");
  const std::vector<std::string> colors = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd"};
  for (std::size_t i = 0; i < options.losses.size(); ++i) {
    const std::string& color = colors[i % colors.size()];
    std::vector<double> x, y, x_missed, y_missed;
    for (const train::NoiseRun& run : result.runs) {
      if (run.loss != options.losses[i]) continue;
      (std::isnan(run.iterations_to_fit) ? x_missed : x).push_back(static_cast<double>(run.num_flipped));
      (std::isnan(run.iterations_to_fit) ? y_missed : y).push_back(
          std::isnan(run.iterations_to_fit) ? static_cast<double>(run.budget) : run.iterations_to_fit);
    }
    const std::string name = train::ToString(options.losses[i]);
    plot.AddPoints(name, color, x, y);
    if (!x_missed.empty()) plot.AddPoints(name + " not reached (budget)", color, x_missed, y_missed, true);
    const train::PowerLawFit& fit = result.fits[i];
    if (!x.empty()) {
      plot.AddPowerLaw(fmt::format("{} fit e={:.2f}", name, fit.exponent), color, fit.offset, fit.prefactor,
                       fit.exponent, *std::min_element(x.begin(), x.end()), *std::max_element(x.begin(), x.end()));
    }
  }
  WriteTextFileAtomic(dir / "noise.svg", plot.Render());
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
  options.bootstrap = f.bootstrap;
  options.Validate();
  train::ResolveDevice(options.train.device);
  const bool has_out = !f.out.empty();
  if (has_out) PrepareOutputDirectory(f.out, f.force);

  ProgressLine progress;
  progress.Update("noise: reading " + f.data);
  const train::DataSplit data = LoadTrainingData(f);
  nlohmann::ordered_json run_json = TrainRunJson(f, options.train, data);
  run_json["noise_seed"] = f.noise_seed;
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
    std::cerr << fmt::format("noise: {} p={:.2f} flipped {}: {} ({}; {:.1f} s)\n", train::ToString(run.loss),
                             run.fraction, run.num_flipped, FormatIterations(run.iterations_to_fit), run.criterion,
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
  if (has_out) WriteOutputs(f.out, f, options, result, run_json);

  Report report;
  report.Add("data", f.data);
  report.Add("train_images", static_cast<long long>(data.train.num_images));
  report.Add("encoder", options.train.encoder.Describe());
  report.Add("budget", static_cast<long long>(options.train.iterations));
  report.Add("eval_every", static_cast<long long>(options.train.eval_every));
  for (const train::NoiseRun& run : result.runs) {
    report.Add(fmt::format("{}_p{:.2f}", train::ToString(run.loss), run.fraction),
               FormatIterations(run.iterations_to_fit) + fmt::format(" (flipped {}, {})", run.num_flipped, run.criterion));
  }
  nlohmann::ordered_json fits = nlohmann::ordered_json::object();
  for (std::size_t i = 0; i < options.losses.size(); ++i) {
    const train::PowerLawFit& fit = result.fits[i];
    const std::string name = train::ToString(options.losses[i]);
    report.Add(name + "_exponent", fit.exponent);
    report.Add(name + "_exponent_interval",
               fmt::format("[{:.3f}, {:.3f}] ({:.0f}%, {} bootstrap resamples of {} points; {} skipped)",
                           fit.exponent_low, fit.exponent_high, 100 * fit.confidence, fit.bootstrap_samples,
                           fit.num_points, fit.num_skipped));
    report.Add(name + "_clean_iterations", fit.offset, "the fit's offset: iterations to fit at p = 0");
    report.Add(name + "_verdict", fit.verdict);
    fits[name] = FitJson(fit);
  }
  report.AddJson("fits", fits);
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
  CLI::App* cmd = app.add_subcommand("noise", "Label-noise experiment: iterations to fit flipped labels, CE vs SC");
  // Noise runs detect the fit as they go (every 100 steps) and retrain the probe on 1,000 batches (THEORY.md).
  f->eval_every = 100;
  f->probe_iterations = 1000;
  *given = AddTrainFlags(cmd, f.get(), /*with_loss=*/false);
  cmd->add_option("--fractions", f->fractions, "Fractions p of flipped training labels")->delimiter(',')->capture_default_str();
  cmd->add_option("--losses", f->losses, "Losses compared")
      ->delimiter(',')
      ->check(CLI::IsMember({"ce", "ce-fix", "ce-sphere", "supcon"}))
      ->capture_default_str();
  cmd->add_option("--criterion", f->criterion, "Accuracy that decides the fit: auto, class-mean, classifier, probe")
      ->check(CLI::IsMember({"auto", "class-mean", "classifier", "probe"}))
      ->capture_default_str();
  cmd->add_flag("--no-early-stop", f->no_early_stop, "Run the whole budget after the fit");
  cmd->add_option("--noise-seed", f->noise_seed, "Seed of the label flips")->capture_default_str();
  cmd->add_option("--bootstrap", f->bootstrap, "Bootstrap resamples of the power-law fit")->capture_default_str();
  cmd->add_option("--profile", f->profile, "cpu (Fashion-MNIST subset, MLP) or gpu (CIFAR-10, ResNet-18)")
      ->check(CLI::IsMember({"cpu", "gpu"}));
  cmd->add_option("--out", f->out, "Write noise.csv, noise.json, noise.svg, run_*.csv/json and meta.json");
  cmd->add_flag("--force", f->force, "Allow --out into a folder that already holds files");
  cmd->add_flag("--json", f->json, "Print one JSON object");
  return {{cmd, [f, given] { return RunNoise(*f, *given); }}};
}

}  // namespace dissect::cli
