// `dissect reproduce`: the paper's claims checked on this machine, each with its expected value, the measured value
// and a verdict, composed from the other commands (run as child processes of this binary, each into its own part
// folder). A rerun reuses the parts that finished. This first part covers the theory claims (issue "dissect
// reproduce", claims 1 to 4): free-point minima against the bounds over a sweep, the multiset objective of Figure 5
// at its known answer, the per-batch minimizers of Figure 6; the accuracy table and class-mean geometry of CE, CE-fix
// and SC encoders; the rank correlation between the gap to the optimum and test accuracy across runs; and the
// label-noise experiment (iterations to fit).

#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <dissect/train/trainer.hpp>

#include "commands.hpp"
#include "gnuplot_plot.hpp"
#include "output.hpp"
#include "output_files.hpp"
#include "stop_signal.hpp"

namespace dissect::cli {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

struct ReproduceFlags {
  std::string profile = "quick";
  std::string out = "reproduce";
  bool fresh = false;
  bool json = false;
  std::string data_dir;  // paper profile: the CIFAR-10 binary files
  std::vector<std::string> claims = {"theory", "trained", "noise"};
};

bool Wanted(const ReproduceFlags& f, const std::string& group) {
  return std::find(f.claims.begin(), f.claims.end(), group) != f.claims.end();
}

// One claim of the report: what the paper says, what was expected and measured, and the verdict.
struct Claim {
  std::string id;
  std::string statement;
  std::string expected;
  std::string measured;
  bool pass = false;
};

// The arguments of each profile's theory sweep (minimize --sweep).
std::vector<std::string> SweepArguments(const std::string& profile) {
  if (profile == "quick") {
    return {"--sweep-classes", "2,3,5", "--sweep-temperatures", "0.1,0.5,1", "--sweep-per-class", "1,3",
            "--sweep-seeds", "2"};
  }
  return {"--sweep-classes", "2,3,5,10", "--sweep-temperatures", "0.05,0.1,0.5,1", "--sweep-per-class", "1,5,20",
          "--sweep-seeds", "5"};
}

// The label-noise experiment of each profile (dissect noise): quick, 1,000 Fashion-MNIST images; cpu, the noise
// command's own cpu profile (2,000 images, 11 fractions, 20,000 steps).
std::vector<std::string> NoiseArguments(const ReproduceFlags& f) {
  const std::string& profile = f.profile;
  if (profile == "paper") return {"--profile", "gpu", "--data-dir", f.data_dir};
  if (profile == "quick") {
    return {"--train-limit", "1000", "--test-limit", "1000", "--fractions", "0,0.25,0.5,0.75,1", "--iterations",
            "6000", "--eval-every", "50", "--probe-iterations", "0", "--supcon-eval-batches", "1"};
  }
  return {"--profile", "cpu"};
}

// Short trainings of each profile (dissect train on Fashion-MNIST): the shared flags of the accuracy table's runs
// and of the runs of different lengths behind the closeness-generalization correlation.
std::vector<std::string> TrainArguments(const ReproduceFlags& f) {
  if (f.profile == "quick") {
    return {"--train-limit", "6000", "--test-limit", "2000", "--probe-iterations", "500", "--supcon-eval-batches",
            "4", "--threads", "2"};
  }
  if (f.profile == "paper") {  // THEORY.md, Experiments: ResNet-18, b = 256, SGD 0.1, momentum 0.9, wd 1e-4, poly-5
    return {"--data", "cifar10", "--data-dir", f.data_dir, "--model", "resnet18", "--batch-size", "256", "--lr", "0.1",
            "--momentum", "0.9", "--weight-decay", "1e-4", "--schedule", "poly5", "--device", "cuda"};
  }
  return {"--probe-iterations", "2000", "--threads", "2"};
}
std::int64_t TableIterations(const std::string& profile) {
  return profile == "quick" ? 1000 : profile == "paper" ? 100000 : 10000;
}
std::vector<std::int64_t> CorrelationIterations(const std::string& profile) {
  if (profile == "quick") return {50, 100, 200, 400, 800, 1600};
  if (profile == "paper") return {1000, 5000, 20000, 50000, 100000};
  return {100, 250, 500, 1000, 2500, 5000, 10000, 20000};
}

// Ranks (1-based; ties get their mean rank).
std::vector<double> Ranks(const std::vector<double>& values) {
  std::vector<std::size_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return values[a] < values[b]; });
  std::vector<double> ranks(values.size());
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j + 1 < order.size() && values[order[j + 1]] == values[order[i]]) ++j;
    for (std::size_t k = i; k <= j; ++k) ranks[order[k]] = (i + j) / 2.0 + 1.0;
    i = j + 1;
  }
  return ranks;
}

// Spearman's rank correlation (Pearson's on the ranks); NaN where a side is constant.
double Spearman(const std::vector<double>& x, const std::vector<double>& y) {
  const std::vector<double> rx = Ranks(x), ry = Ranks(y);
  const double n = static_cast<double>(x.size());
  const double mx = std::accumulate(rx.begin(), rx.end(), 0.0) / n, my = std::accumulate(ry.begin(), ry.end(), 0.0) / n;
  double sxy = 0, sxx = 0, syy = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sxy += (rx[i] - mx) * (ry[i] - my);
    sxx += (rx[i] - mx) * (rx[i] - mx);
    syy += (ry[i] - my) * (ry[i] - my);
  }
  return sxx > 0 && syy > 0 ? sxy / std::sqrt(sxx * syy) : std::nan("");
}

// Spearman's rho and its 95% percentile bootstrap interval over the runs (2,000 seeded resamples; resamples with a
// constant side are skipped).
struct Correlation {
  double rho = std::nan(""), low = std::nan(""), high = std::nan("");
  std::size_t runs = 0;
};

Correlation BootstrapSpearman(const std::vector<double>& x, const std::vector<double>& y) {
  Correlation c;
  c.runs = x.size();
  c.rho = Spearman(x, y);
  std::mt19937_64 generator(2021);
  std::uniform_int_distribution<std::size_t> pick(0, x.size() - 1);
  std::vector<double> samples;
  for (int b = 0; b < 2000; ++b) {
    std::vector<double> bx, by;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const std::size_t k = pick(generator);
      bx.push_back(x[k]);
      by.push_back(y[k]);
    }
    const double rho = Spearman(bx, by);
    if (std::isfinite(rho)) samples.push_back(rho);
  }
  if (samples.size() >= 100) {
    std::sort(samples.begin(), samples.end());
    c.low = samples[static_cast<std::size_t>(0.025 * (samples.size() - 1))];
    c.high = samples[static_cast<std::size_t>(0.975 * (samples.size() - 1))];
  }
  return c;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Runs `dissect ARGS --json` as a child (its progress goes to this stderr) unless `part`.json exists; the JSON it
// printed is kept as part.json (written once the child succeeded). Returns the parsed JSON.
Json RunPart(const fs::path& dir, const std::string& part, std::vector<std::string> args) {
  const fs::path result = dir / "parts" / (part + ".json");
  if (fs::exists(result)) {
    std::cerr << fmt::format("reproduce: {}: reusing {}\n", part, result.string());
    try {
      return Json::parse(ReadFile(result));
    } catch (const std::exception&) {
      throw std::runtime_error(fmt::format(
          "reproduce: {} is corrupt (not JSON); delete it or rerun with --fresh", result.string()));
    }
  }
  fs::create_directories(dir / "parts");
  const fs::path stdout_path = dir / "parts" / (part + ".stdout.tmp");
  args.push_back("--json");
  std::cerr << fmt::format("reproduce: {}: dissect {}\n", part, fmt::join(args, " "));
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("reproduce: fork failed");
  if (pid == 0) {
    std::vector<std::string> all = {"dissect"};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (!std::freopen(stdout_path.c_str(), "w", stdout)) std::_Exit(126);
    ::execv("/proc/self/exe", argv.data());
    std::_Exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
  }
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (StopOnSignal::Requested() != 0 || code == 130 || code == 143) {
    fs::remove(stdout_path);
    throw std::runtime_error(fmt::format("reproduce: stopped during {}; rerun the same command to go on", part));
  }
  const std::string text = ReadFile(stdout_path);
  fs::remove(stdout_path);
  Json parsed;
  try {
    parsed = Json::parse(text);
  } catch (const std::exception&) {
    throw std::runtime_error(fmt::format("reproduce: {} (dissect {}) exited with code {} and printed no JSON result",
                                         part, fmt::join(args, " "), code));
  }
  // Exit code 1 is a check that failed: a result, kept and judged. Anything else is an error.
  if (code != 0 && code != 1) {
    throw std::runtime_error(fmt::format("reproduce: {} (dissect {}) failed with exit code {}", part,
                                         fmt::join(args, " "), code));
  }
  parsed["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  WriteTextFileAtomic(result, parsed.dump(1) + "\n");
  return parsed;
}

double Number(const Json& value) { return value.is_number() ? value.get<double>() : std::nan(""); }

Claim SweepClaim(const Json& sweep) {
  Claim c{"1a", "Free-point minima of CE and SC equal their lower bounds, at a regular simplex (h >= K-1)",
          fmt::format("every configuration: relative gap <= {:g}, class-mean Gram error <= {:g}",
                      Number(sweep["gap_target"]), Number(sweep["gram_target"])),
          "", false};
  double gap = 0.0, gram = 0.0;
  int simplex_rows = 0;
  for (const Json& row : sweep["rows"]) {
    if (Number(row["dim"]) + 1 < Number(row["classes"])) continue;  // h < K-1: no simplex, judged by the sweep itself
    ++simplex_rows;
    gap = std::max(gap, Number(row["max_rel_gap"]));
    gram = std::max(gram, Number(row["max_gram_error"]));
  }
  const int failures = sweep["failures"].get<int>();
  c.measured = fmt::format("{} configurations ({} with h >= K-1), {} failures; largest relative gap {:.3g}, largest "
                           "Gram error {:.3g}",
                           sweep["configurations"].get<int>(), simplex_rows, failures, gap, gram);
  c.pass = failures == 0 && sweep["complete"].get<bool>() && simplex_rows > 0;
  return c;
}

Claim MultisetClaim(const Json& figure5) {
  constexpr double kKnownAnswer = 25205.688636803963;  // THEORY.md: K = 3, n = 2, b = 9, rho = 1
  const double minimum = Number(figure5["final_loss"]);
  const double rel = std::abs(minimum - kKnownAnswer) / kKnownAnswer;
  return {"1b",
          "Figure 5: SC summed over all 2002 multiset batches (K = 3, n = 2, b = 9, rho = 1) is minimized at the simplex",
          fmt::format("minimum = bound = {:.17g} (relative difference <= 1e-9)", kKnownAnswer),
          fmt::format("minimum {:.17g}, relative difference {:.3g}, class-mean Gram error {:.3g}", minimum, rel,
                      Number(figure5["max_gram_error"])),
          rel <= 1e-9};
}

Claim Figure6Claim(const Json& figure6) {
  int below = 0, total = 0;
  double largest_drop = 0.0;
  for (const Json& row : figure6["compositions"]) {
    ++total;
    const double difference = Number(row["difference"]);
    if (difference < -1e-9 * std::abs(Number(row["simplex_value"]))) ++below;
    largest_drop = std::max(largest_drop, -difference);
  }
  const int failures = figure6["failures"].get<int>();
  return {"1c",
          "Figure 6: a single unbalanced batch (9 points, 3 classes, on the circle) is minimized away from the simplex",
          "every composition minimized at or below its simplex value; the unbalanced ones strictly below",
          fmt::format("{} compositions, {} strictly below the simplex value (largest drop {:.4g}), {} failures", total,
                      below, largest_drop, failures),
          failures == 0 && below > 0};
}

// The power-law fit of one loss in dissect noise's JSON: exponent and its bootstrap interval.
struct Exponent {
  double value = std::nan(""), low = std::nan(""), high = std::nan("");
  std::string verdict;
};

Exponent ReadExponent(const Json& noise, const std::string& loss) {
  Exponent e;
  e.value = Number(noise[loss + "_exponent"]);
  e.verdict = noise.value(loss + "_verdict", std::string("missing"));
  if (noise.contains("fits") && noise["fits"].contains(loss)) {
    const Json& fit = noise["fits"][loss];
    e.low = Number(fit.value("exponent_low", Json()));
    e.high = Number(fit.value("exponent_high", Json()));
  }
  return e;
}

std::vector<Claim> NoiseClaims(const Json& noise) {
  const Exponent sc = ReadExponent(noise, "supcon"), ce = ReadExponent(noise, "ce");
  const std::string measured = fmt::format("SC exponent {:.3g} [{:.3g}, {:.3g}] ({}); CE exponent {:.3g} [{:.3g}, "
                                           "{:.3g}] ({}); 95% bootstrap intervals",
                                           sc.value, sc.low, sc.high, sc.verdict, ce.value, ce.low, ce.high, ce.verdict);
  return {{"4a", "Label noise: iterations to fit grow superlinearly in the flipped labels for SC, about linearly for CE",
           "SC interval above 1 (superlinear); CE interval containing 1 (linear)", measured,
           sc.verdict == "superlinear" && ce.verdict == "linear"},
          {"4b", "Label noise: SC's iterations to fit grow faster than CE's",
           "SC's exponent interval entirely above CE's", measured, sc.low > ce.high}};
}

// Runs `dissect train` for one loss, augmentation and length as a part; returns its JSON.
Json TrainPart(const fs::path& dir, const ReproduceFlags& f, const std::string& loss, const std::string& augment,
               std::int64_t iterations) {
  std::vector<std::string> args = {"train", "--loss", loss, "--augment", augment, "--iterations",
                                   std::to_string(iterations), "--eval-every", std::to_string(iterations)};
  for (const std::string& a : TrainArguments(f)) args.push_back(a);
  return RunPart(dir, fmt::format("train_{}_{}_{}", loss, augment == "none" ? "plain" : "cropflip", iterations), args);
}

// A CSV field: quoted, with inner quotes doubled.
std::string CsvField(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// The accuracy table as CSV: one row per run of the table.
std::string AccuracyCsv(const std::map<std::string, Json>& runs) {
  std::string csv = "loss,augment,test_accuracy_class_mean,test_accuracy_probe,class_mean_similarity,simplex_similarity\n";
  for (const auto& [key, r] : runs) {
    const std::size_t slash = key.find('/');
    csv += fmt::format("{},{},{:.17g},{:.17g},{:.17g},{:.17g}\n", key.substr(0, slash), key.substr(slash + 1),
                       Number(r["test_accuracy_class_mean"]), Number(r["test_accuracy_probe"]),
                       Number(r["class_mean_similarity"]), Number(r["simplex_similarity"]));
  }
  return csv;
}

// Claims 2a and 2b, and the accuracy table in the layout of the authors' (rows: losses; columns: augmentation x
// classifier), as Markdown.
std::vector<Claim> TrainedClaims(const std::map<std::string, Json>& runs, std::string* table) {
  const std::vector<std::string> losses = {"ce", "ce-fix", "supcon"}, augments = {"none", "crop+flip"};
  *table = "| loss | none: class means | none: linear probe | crop+flip: class means | crop+flip: linear probe | "
           "class-mean similarity (none, crop+flip; simplex {}) |\n|---|---|---|---|---|---|\n";
  double simplex = std::nan("");
  for (const std::string& loss : losses) {
    std::string row = "| " + loss + " |", similarity;
    for (const std::string& augment : augments) {
      const Json& r = runs.at(loss + "/" + augment);
      row += fmt::format(" {:.2f} | {:.2f} |", Number(r["test_accuracy_class_mean"]), Number(r["test_accuracy_probe"]));
      similarity += fmt::format("{}{:.4f}", similarity.empty() ? "" : ", ", Number(r["class_mean_similarity"]));
      simplex = Number(r["simplex_similarity"]);
    }
    *table += row + " " + similarity + " |\n";
  }
  *table = fmt::format(fmt::runtime(*table), fmt::format("{:.4f}", simplex));
  Claim accuracy{"2a", "Trained encoders: SC's linear-probe accuracy is on par with or above CE's (paper: SC 94.30 vs "
                 "CE 93.66 with crop+flip, 86.23 vs 83.62 without, on CIFAR-10)",
                 "SC's test accuracy of the linear probe >= CE's - 1 point, for each augmentation", "", true};
  Claim geometry{"2b", "Trained encoders: SC's class means are at least as close to the simplex angle as CE's",
                 "|s(SC) - s(simplex)| <= |s(CE) - s(simplex)| + 0.01 for each augmentation, s the mean angular "
                 "similarity of class-mean pairs", "", true};
  for (const std::string& augment : augments) {
    const Json& sc = runs.at("supcon/" + augment);
    const Json& ce = runs.at("ce/" + augment);
    const double sc_probe = Number(sc["test_accuracy_probe"]), ce_probe = Number(ce["test_accuracy_probe"]);
    accuracy.measured += fmt::format("{}{}: SC {:.2f}, CE {:.2f}", accuracy.measured.empty() ? "" : "; ", augment,
                                     sc_probe, ce_probe);
    accuracy.pass = accuracy.pass && sc_probe >= ce_probe - 1.0;
    const double sc_distance = std::abs(Number(sc["class_mean_similarity"]) - simplex);
    const double ce_distance = std::abs(Number(ce["class_mean_similarity"]) - simplex);
    geometry.measured += fmt::format("{}{}: SC {:.4f}, CE {:.4f} from the simplex", geometry.measured.empty() ? "" : "; ",
                                     augment, sc_distance, ce_distance);
    geometry.pass = geometry.pass && sc_distance <= ce_distance + 0.01;
  }
  return {accuracy, geometry};
}

// Claim 3: across runs of different lengths, a smaller gap to the optimum goes with a higher test accuracy.
Claim CorrelationClaim(const std::map<std::string, std::vector<Json>>& by_loss) {
  Claim c{"3", "Closeness and generalization: across runs, a smaller gap of the loss to its bound goes with a higher "
          "test accuracy", "Spearman's rho(gap, test accuracy of the class means) < 0 with its 95% bootstrap interval "
          "below 0, for CE and for SC", "", true};
  for (const auto& [loss, runs] : by_loss) {
    std::vector<double> gaps, accuracies;
    for (const Json& r : runs) {
      gaps.push_back(Number(r["loss_gap"]));
      accuracies.push_back(Number(r["test_accuracy_class_mean"]));
    }
    const Correlation rho = BootstrapSpearman(gaps, accuracies);
    c.measured += fmt::format("{}{}: rho {:.3f} [{:.3f}, {:.3f}] over {} runs", c.measured.empty() ? "" : "; ", loss,
                              rho.rho, rho.low, rho.high, rho.runs);
    c.pass = c.pass && rho.high < 0.0;
  }
  return c;
}

// --- plots (gnuplot, SVG and PNG, into plots/) ------------------------------------------------------------------

// Figure 6: the minimizers of the 12 compositions of 9 points into 3 classes on the unit circle, coloured by class.
GnuplotPanel Figure6Panel(const Json& composition) {
  GnuplotPanel panel;
  panel.title = "composition " + composition["composition"].dump();
  panel.x_label = "x";
  panel.y_label = "y";
  panel.square = true;
  GnuplotSeries points{"points", {}, {}, {}, false};
  for (const Json& p : composition["points"]) {
    points.x.push_back(Number(p["x"]));
    points.y.push_back(Number(p["y"]));
    points.group.push_back(p["label"].get<int>());
  }
  panel.series.push_back(points);
  return panel;
}

// Iterations to fit against flipped labels (log-log) with each loss's fitted power law, from the noise part.
GnuplotPanel NoisePanel(const fs::path& noise_csv, const Json& noise) {
  GnuplotPanel panel{"Iterations to fit flipped labels", "flipped training labels", "iterations to fit", true, true,
                     false, {}, {}};
  std::ifstream in(noise_csv);
  std::string line;
  std::getline(in, line);
  std::map<std::string, GnuplotSeries> by_loss;
  while (std::getline(in, line)) {
    std::vector<std::string> fields;
    std::stringstream stream(line);
    std::string field;
    while (std::getline(stream, field, ',')) fields.push_back(field);
    if (fields.size() < 5) continue;
    GnuplotSeries& s = by_loss[fields[0]];
    s.name = fields[0];
    s.x.push_back(std::stod(fields[2]));
    s.y.push_back(std::stod(fields[4]));
  }
  for (auto& [loss, series] : by_loss) {
    panel.series.push_back(series);
    if (!noise.contains("fits") || !noise["fits"].contains(loss)) continue;
    const Json& fit = noise["fits"][loss];
    const double prefactor = Number(fit["prefactor"]), exponent = Number(fit["exponent"]);
    double lo = std::numeric_limits<double>::infinity(), hi = 0;
    for (const double x : series.x) {
      if (x <= 0) continue;
      lo = std::min(lo, x);
      hi = std::max(hi, x);
    }
    if (!(prefactor > 0) || !std::isfinite(exponent) || !(hi > lo)) continue;
    GnuplotSeries line_series{fmt::format("{} fit, exponent {:.2f}", loss, exponent), {}, {}, {}, true};
    for (int i = 0; i <= 32; ++i) {
      const double x = lo * std::pow(hi / lo, i / 32.0);
      line_series.x.push_back(x);
      line_series.y.push_back(prefactor * std::pow(x, exponent));
    }
    panel.series.push_back(line_series);
  }
  return panel;
}

// Writes one plot; returns the Markdown that shows it (or says that gnuplot is missing).
std::string Plot(const fs::path& dir, const std::string& name, const std::string& caption,
                 const std::vector<GnuplotPanel>& panels, int columns = 1) {
  fs::create_directories(dir / "plots");
  const bool drawn = WriteGnuplot(dir / "plots" / name, panels, columns);
  if (!drawn) {
    return fmt::format("\n{}: gnuplot is not installed; plots/{}.dat and plots/{}.gp hold the data and the script.\n",
                       caption, name, name);
  }
  return fmt::format("\n{} (plots/{}.svg, plots/{}.png):\n\n![{}](plots/{}.svg)\n", caption, name, name, caption,
                     name);
}

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

int RunReproduce(const ReproduceFlags& f) {
  if (f.profile == "paper") {
    // The paper's settings need the CIFAR-10 files and a GPU: refuse before any work, naming what is missing.
    if (f.data_dir.empty() || !fs::exists(fs::path(f.data_dir) / "data_batch_1.bin") ||
        !fs::exists(fs::path(f.data_dir) / "test_batch.bin")) {
      throw std::invalid_argument(fmt::format(
          "reproduce: --profile paper needs --data-dir DIR with the CIFAR-10 binary files (data_batch_1.bin .. "
          "data_batch_5.bin, test_batch.bin){}", f.data_dir.empty() ? "" : "; '" + f.data_dir + "' does not hold them"));
    }
    try {
      train::ResolveDevice("cuda");
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(fmt::format(
          "reproduce: --profile paper trains ResNet-18 for 100,000 steps per run and needs a GPU: {}", e.what()));
    }
  }
  const fs::path dir(f.out);
  if (f.fresh && fs::exists(dir / "parts")) fs::remove_all(dir / "parts");
  fs::create_directories(dir);
  StopOnSignal stop_on_signal;
  const auto start = std::chrono::steady_clock::now();

  std::vector<Claim> claims;
  std::string tables, plots;
  Json parts = Json::object();
  const auto keep = [&](const std::string& name, const Json& part) { parts[name] = {{"seconds", part["seconds"]}}; };
  if (Wanted(f, "theory")) {
    std::vector<std::string> sweep_args = {"minimize", "--sweep", "--out", (dir / "parts" / "theory_sweep").string(),
                                           "--force"};
    for (const std::string& a : SweepArguments(f.profile)) sweep_args.push_back(a);
    const Json sweep = RunPart(dir, "theory_sweep", sweep_args);
    const Json figure5 = RunPart(dir, "figure5", {"minimize", "--loss", "supcon", "--classes", "3", "--per-class", "2",
                                                  "--dim", "2", "--radius", "1", "--mode", "multiset", "--batch-size",
                                                  "9", "--out", (dir / "parts" / "figure5").string(), "--force"});
    const Json figure6 =
        RunPart(dir, "figure6", {"minimize", "--figure6", "--out", (dir / "parts" / "figure6").string(), "--force"});
    std::vector<GnuplotPanel> figure6_panels;
    for (const Json& composition : figure6["compositions"]) figure6_panels.push_back(Figure6Panel(composition));
    plots += Plot(dir, "figure6", "Figure 6: the minimizer of each single batch of 9 points (classes by colour)",
                  figure6_panels, 4);
    claims.push_back(SweepClaim(sweep));
    claims.push_back(MultisetClaim(figure5));
    claims.push_back(Figure6Claim(figure6));
    keep("theory_sweep", sweep);
    keep("figure5", figure5);
    keep("figure6", figure6);
  }
  if (Wanted(f, "trained")) {
    std::map<std::string, Json> table_runs;
    std::map<std::string, std::vector<Json>> by_loss;
    for (const std::string& loss : {"ce", "ce-fix", "supcon"}) {
      for (const std::string& augment : {"none", "crop+flip"}) {
        table_runs[loss + "/" + augment] = TrainPart(dir, f, loss, augment, TableIterations(f.profile));
      }
    }
    for (const std::string& loss : {"ce", "supcon"}) {
      for (const std::int64_t iterations : CorrelationIterations(f.profile)) {
        by_loss[loss].push_back(TrainPart(dir, f, loss, "none", iterations));
      }
    }
    std::string table;
    for (const Claim& c : TrainedClaims(table_runs, &table)) claims.push_back(c);
    GnuplotPanel correlation{"Gap to the bound against test accuracy (runs of 50 to 1,600 steps)",
                             "loss - bound", "test accuracy of the class means, %", true, false, false, {}, {}};
    GnuplotPanel similarity{"Angular similarity of class means over training", "iterations",
                            "mean similarity of class-mean pairs", true, false, false, {}, {}};
    for (const auto& [loss, runs] : by_loss) {
      GnuplotSeries gap{loss, {}, {}, {}, false}, approach{loss, {}, {}, {}, false};
      for (const Json& r : runs) {
        gap.x.push_back(Number(r["loss_gap"]));
        gap.y.push_back(Number(r["test_accuracy_class_mean"]));
        approach.x.push_back(Number(r["iterations_done"]));
        approach.y.push_back(Number(r["class_mean_similarity"]));
        similarity.horizontal_lines = {{"simplex", Number(r["simplex_similarity"])}};
      }
      correlation.series.push_back(gap);
      similarity.series.push_back(approach);
    }
    plots += Plot(dir, "closeness_generalization", "Claim 3: the gap to the bound and the test accuracy of each run",
                  {correlation});
    plots += Plot(dir, "class_mean_similarity", "Class means approaching the simplex angle", {similarity});
    claims.push_back(CorrelationClaim(by_loss));
    tables += "\n## Test accuracy (%) of the trained encoders\n\n" + table;
    WriteTextFileAtomic(dir / "accuracy_table.md", table);
    WriteTextFileAtomic(dir / "accuracy_table.csv", AccuracyCsv(table_runs));
  }
  if (Wanted(f, "noise")) {
    std::vector<std::string> noise_args = {"noise", "--out", (dir / "parts" / "noise").string(), "--force"};
    for (const std::string& a : NoiseArguments(f)) noise_args.push_back(a);
    const Json noise = RunPart(dir, "noise", noise_args);
    for (const Claim& c : NoiseClaims(noise)) claims.push_back(c);
    plots += Plot(dir, "label_noise", "Claim 4: iterations to fit the flipped labels, with the fitted power laws",
                  {NoisePanel(dir / "parts" / "noise" / "noise.csv", noise)});
    keep("noise", noise);
  }

  int failed = 0;
  Json claims_json = Json::array();
  for (const Claim& c : claims) {
    failed += c.pass ? 0 : 1;
    claims_json.push_back(
        {{"id", c.id}, {"statement", c.statement}, {"expected", c.expected}, {"measured", c.measured},
         {"verdict", c.pass ? "PASS" : "FAIL"}});
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  WriteTextFileAtomic(dir / "report.md", ReportMarkdown(claims, f.profile, tables + (plots.empty() ? "" : "\n## Plots\n" + plots)));
  WriteTextFileAtomic(dir / "claims.json", Json({{"profile", f.profile}, {"claims", claims_json}}).dump(1) + "\n");
  std::string claims_csv = "id,verdict,statement,expected,measured\n";
  for (const Claim& c : claims) {
    claims_csv += fmt::format("{},{},{},{},{}\n", c.id, c.pass ? "PASS" : "FAIL", CsvField(c.statement),
                              CsvField(c.expected), CsvField(c.measured));
  }
  WriteTextFileAtomic(dir / "claims.csv", claims_csv);
  Json meta = MetaJson(0);
  meta["profile"] = f.profile;
  meta["seconds"] = seconds;
  meta["parts"] = parts;
  WriteTextFileAtomic(dir / "meta.json", meta.dump(1) + "\n");

  Report report;
  report.Add("value", static_cast<long long>(failed), "failed claims");
  report.Add("profile", f.profile);
  for (const Claim& c : claims) report.Add("claim_" + c.id, c.pass ? "PASS" : "FAIL", c.id + " " + c.statement);
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
  cmd->add_flag("--fresh", f->fresh, "Recompute every part instead of reusing the finished ones");
  cmd->add_flag("--json", f->json, "Print one JSON object");
  return {{cmd, [f] { return RunReproduce(*f); }}};
}

}  // namespace dissect::cli
