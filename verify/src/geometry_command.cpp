// `dissect geometry`: the geometry of saved embeddings against the regular simplex (angles, neural collapse,
// alignment and uniformity, SC and CE against their bounds, distance to the nearest simplex), streamed from .npy.

#include <fmt/format.h>

#include <cmath>
#include <dissect/theory/npy.hpp>
#include <dissect/theory/representation_geometry.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "commands.hpp"
#include "geometry_report.hpp"
#include "progress.hpp"
#include "temperature_flags.hpp"

namespace dissect::cli {
namespace {

namespace fs = std::filesystem;

struct GeometryFlags {
  std::string run;
  std::string split = "train";
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
  double pseudo_inverse_cutoff = 1e-10;
  std::string global_mean = "sample";
  bool json = false;
  CLI::Option* weights_option = nullptr;
  CLI::Option* embeddings_option = nullptr;
  CLI::Option* labels_option = nullptr;
  CLI::Option* split_option = nullptr;
};

// What --run DIR resolves to: the exported files of a `dissect train --out DIR` run and its SC temperature.
struct RunInputs {
  std::string embeddings, labels, weights;  // weights empty: the run exported no classifier (SC)
  std::optional<double> temperature;        // the run's, when it trained SC
};

RunInputs ReadRunFolder(const fs::path& dir, const std::string& split) {
  if (!fs::is_directory(dir)) {
    throw std::invalid_argument(
        fmt::format("--run {}: no such folder (give the --out folder of dissect train)", dir.string()));
  }
  RunInputs inputs;
  inputs.embeddings = (dir / (split + "_embeddings.npy")).string();
  inputs.labels = (dir / (split + "_labels.npy")).string();
  for (const std::string& file : {inputs.embeddings, inputs.labels}) {
    if (!fs::is_regular_file(file)) {
      throw std::invalid_argument(
          fmt::format("--run {}: {} is missing (was the run exported? dissect train writes it "
                      "unless --no-export)",
                      dir.string(),
                      file));
    }
  }
  if (fs::is_regular_file(dir / "classifier.npy")) inputs.weights = (dir / "classifier.npy").string();
  const fs::path metrics = dir / "metrics.json";
  std::ifstream in(metrics);
  if (!in) throw std::invalid_argument(fmt::format("--run {}: {} is missing", dir.string(), metrics.string()));
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception&) {
    throw std::invalid_argument(fmt::format("--run {}: {} is corrupt (not JSON)", dir.string(), metrics.string()));
  }
  const auto run = json.find("run");
  if (run == json.end() || !run->is_object() || !run->contains("loss")) {
    throw std::invalid_argument(fmt::format("--run {}: {} holds no run settings", dir.string(), metrics.string()));
  }
  const auto temperature = run->find("temperature");
  if (temperature != run->end() && temperature->is_number()) inputs.temperature = temperature->get<double>();
  return inputs;
}

int RunGeometry(GeometryFlags flags) {
  std::string temperature_source = flags.temperature.Given() ? "given" : "default";
  std::optional<double> run_temperature;
  if (!flags.run.empty()) {
    if (flags.embeddings_option->count() + flags.labels_option->count() + flags.weights_option->count() > 0) {
      throw std::invalid_argument("give --run DIR or --embeddings/--labels/--weights, not both");
    }
    const RunInputs inputs = ReadRunFolder(flags.run, flags.split);
    flags.embeddings = inputs.embeddings;
    flags.labels = inputs.labels;
    flags.weights = inputs.weights;
    run_temperature = inputs.temperature;
    if (!flags.temperature.Given() && run_temperature) temperature_source = "run";
  } else if (flags.split_option->count() > 0) {
    throw std::invalid_argument("--split belongs to --run");
  } else if (flags.embeddings_option->count() == 0 || flags.labels_option->count() == 0) {
    throw std::invalid_argument(
        "give --embeddings Z.npy and --labels y.npy, or --run DIR (a dissect train --out folder)");
  }
  theory::RepresentationGeometryOptions options;
  options.temperature = flags.temperature.Given() ? flags.temperature.Get()
                        : run_temperature         ? theory::Temperature::FromTemperature(*run_temperature)
                                                  : theory::Temperature::FromTemperature(0.1);
  if (flags.temperature.Given() && run_temperature &&
      std::abs(options.temperature.temperature() - *run_temperature) > 1e-12 * *run_temperature) {
    std::cerr << fmt::format("warning: SC at the given tau = {:g}, not the run's tau = {:g}\n",
                             options.temperature.temperature(),
                             *run_temperature);
  }
  options.num_classes = flags.num_classes;
  options.batch_size = flags.batch_size;
  options.num_batches = flags.num_batches;
  options.seed = flags.seed;
  options.chunk_size = flags.chunk_size;
  options.uniformity_exact_limit = flags.uniformity_limit;
  options.full_batch_limit = flags.full_batch_limit;
  options.pseudo_inverse_cutoff = flags.pseudo_inverse_cutoff;
  options.global_mean = theory::ParseGlobalMean(flags.global_mean);
  options.Validate();  // before reading any file

  theory::NpyEmbeddingSource source(flags.embeddings);
  const Eigen::VectorXi labels = theory::ReadNpyLabels(flags.labels);
  std::optional<Eigen::MatrixXd> weights;
  if (!flags.weights.empty()) weights = theory::ReadNpyMatrix(flags.weights);
  CheckGeometryInputs({flags.embeddings, flags.labels, flags.weights, "--classes"},
                      source.num_points(),
                      source.dim(),
                      labels,
                      weights ? &*weights : nullptr,
                      flags.num_classes);

  ProgressLine progress;
  options.progress = [&progress](const theory::GeometryProgress& p) {
    progress.Update(fmt::format("geometry: {} {}/{}", p.stage, p.done, p.total));
    return false;
  };
  const theory::RepresentationGeometryResult r =
      theory::MeasureRepresentationGeometry(source, labels, weights ? &*weights : nullptr, options);
  progress.Finish();

  const Report report = GeometryReport(r, {flags.embeddings, source.reader().descr(), flags.seed, temperature_source});
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
  geometry->add_option("--run",
                       flags->run,
                       "A dissect train --out folder: its exported embeddings, labels and classifier, and its SC "
                       "temperature (instead of --embeddings/--labels/--weights)");
  flags->split_option = geometry->add_option("--split", flags->split, "With --run: train or test embeddings")
                            ->check(CLI::IsMember({"train", "test"}))
                            ->capture_default_str();
  flags->embeddings_option =
      geometry->add_option("--embeddings", flags->embeddings, "Embeddings Z.npy, float32/float64, shape (N, h)");
  flags->labels_option = geometry->add_option("--labels", flags->labels, "Labels y.npy, integers, shape (N,)");
  flags->weights_option =
      geometry->add_option("--weights", flags->weights, "Classifier W.npy, shape (K, h): CE, NC3, NC4, angles of W");
  flags->temperature.AddTo(geometry, TemperatureFlags::kEmbeddingsRadiusHelp);  // default: tau = 0.1
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
  geometry
      ->add_option("--pseudo-inverse-cutoff",
                   flags->pseudo_inverse_cutoff,
                   "NC1: eigenvalues of Sigma_B below this fraction of the largest count as 0 in its pseudo-inverse")
      ->capture_default_str();
  geometry
      ->add_option("--global-mean",
                   flags->global_mean,
                   "NC metrics' mu_G: sample (mean of all points, Papyan et al.) or class_means (mean of the class "
                   "means, rhubarbwu/neural-collapse's default; differs on imbalanced classes)")
      ->check(CLI::IsMember(theory::NamesOf(theory::kGlobalMeanNames)))
      ->capture_default_str();
  geometry->add_flag("--json", flags->json, "Print one JSON object");
  geometry->footer(
      "The SC temperature: --radius/--temperature, else the run's own with --run, else tau = 0.1 (the "
      "paper's runs); temperature_source in the output says which.");
  return {{geometry, [flags] { return RunGeometry(*flags); }}};
}

}  // namespace dissect::cli
