#include "reproduce_claims.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "rank_correlation.hpp"
#include "reproduce_parts.hpp"

namespace dissect::cli {
namespace {

const std::vector<std::string> kTableLosses = {"ce", "ce-fix", "supcon"};
const std::vector<std::string> kTableAugments = {"none", "crop+flip"};

// Mean and population standard deviation of one field over the seeds' runs.
struct Spread {
  double mean = std::nan(""), sd = std::nan("");
  std::size_t count = 0;
};

Spread OverSeeds(const std::vector<Json>& runs, const std::string& field) {
  Spread s;
  std::vector<double> values;
  for (const Json& r : runs) {
    const double v = Number(r.value(field, Json()));
    if (std::isfinite(v)) values.push_back(v);
  }
  s.count = values.size();
  if (values.empty()) return s;
  s.mean = std::accumulate(values.begin(), values.end(), 0.0) / values.size();
  double ss = 0;
  for (const double v : values) ss += (v - s.mean) * (v - s.mean);
  s.sd = std::sqrt(ss / values.size());
  return s;
}

std::string Cell(const Spread& s, int digits) {
  if (s.count <= 1) return fmt::format("{:.{}f}", s.mean, digits);
  return fmt::format("{:.{}f} ± {:.{}f}", s.mean, digits, s.sd, digits);
}

// The power-law fit of one loss in dissect noise's JSON: exponent and its bootstrap interval.
struct Exponent {
  double value = std::nan(""), low = std::nan(""), high = std::nan(""), clean = std::nan("");
  long long skipped = 0;
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
    e.clean = Number(fit.value("offset", Json()));
    e.skipped = fit.value("num_skipped", 0LL);
  }
  return e;
}

}  // namespace

std::string CsvField(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

Claim SweepClaim(const Json& sweep) {
  Claim c{"1a",
          "Free-point minima of CE and SC equal their lower bounds, at a regular simplex (h >= K-1)",
          fmt::format("every configuration: relative gap <= {:g}, class-mean Gram error <= {:g}",
                      Number(sweep["gap_target"]),
                      Number(sweep["gram_target"])),
          "",
          false};
  double gap = 0.0, gram = 0.0;
  int simplex_rows = 0;
  for (const Json& row : sweep["rows"]) {
    if (Number(row["dim"]) + 1 < Number(row["classes"])) continue;  // h < K-1: no simplex, judged by the sweep itself
    ++simplex_rows;
    gap = std::max(gap, Number(row["max_rel_gap"]));
    gram = std::max(gram, Number(row["max_gram_error"]));
  }
  const int failures = sweep["failures"].get<int>();
  c.measured = fmt::format(
      "{} configurations ({} with h >= K-1), {} failures; largest relative gap {:.3g}, largest "
      "Gram error {:.3g}",
      sweep["configurations"].get<int>(),
      simplex_rows,
      failures,
      gap,
      gram);
  c.pass = failures == 0 && sweep["complete"].get<bool>() && simplex_rows > 0;
  return c;
}

Claim Figure5Claim(const Json& multiset_minimum, const Json& figure5) {
  constexpr double kKnownAnswer = 25205.688636803963;  // THEORY.md: K = 3, n = 2, b = 9, rho = 1
  const double minimum = Number(multiset_minimum["final_loss"]);
  const double rel = std::abs(minimum - kKnownAnswer) / kKnownAnswer;
  const double simplex_total = Number(figure5["simplex_total"]), trained_total = Number(figure5["trained_total"]);
  const double simplex_rel = std::abs(simplex_total - kKnownAnswer) / kKnownAnswer;
  return {"1b",
          "Figure 5: SC summed over all 2002 multiset batches (K = 3, n = 2, b = 9, rho = 1) is minimized at the "
          "simplex, though per label configuration other points can do better",
          fmt::format("free-point minimum = per-batch sum at the simplex = bound = {:.17g} (relative difference <= "
                      "1e-9); points trained by SGD on i.i.d. batches not below it",
                      kKnownAnswer),
          fmt::format("minimum {:.17g} (relative difference {:.3g}, class-mean Gram error {:.3g}); per-batch sum at "
                      "the simplex {:.17g}, at the SGD-trained points {:.17g} ({} of {} configurations below the "
                      "simplex on average)",
                      minimum,
                      rel,
                      Number(multiset_minimum["max_gram_error"]),
                      simplex_total,
                      trained_total,
                      figure5.value("compositions_trained_below_simplex", 0),
                      figure5["compositions"].size()),
          rel <= 1e-9 && simplex_rel <= 1e-9 && trained_total >= kKnownAnswer * (1 - 1e-12)};
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
          fmt::format("{} compositions, {} strictly below the simplex value (largest drop {:.4g}), {} failures",
                      total,
                      below,
                      largest_drop,
                      failures),
          failures == 0 && below > 0};
}

Claim Figure1Claim(const Json& figure1) {
  Claim c{"1d",
          "Figure 1: gradient descent moves free points of K = 4 classes in R^3 from a random start to a regular "
          "simplex (a tetrahedron), for SC and for CE",
          fmt::format("each path ends with relative gap to the bound <= {:g} and class-mean Gram error <= {:g}",
                      Number(figure1["gap_target"]),
                      Number(figure1["gram_target"])),
          "",
          figure1["failures"].get<int>() == 0};
  for (const Json& flow : figure1["flows"]) {
    c.measured += fmt::format("{}{}: {} steps, relative gap {:.3g}, Gram error {:.3g}, within-class spread {:.3g}",
                              c.measured.empty() ? "" : "; ",
                              flow["loss"].get<std::string>(),
                              flow["steps"].get<int>(),
                              Number(flow["rel_gap"]),
                              Number(flow["max_gram_error"]),
                              Number(flow["max_within_class_spread"]));
  }
  return c;
}

std::vector<Claim> TrainedClaims(const TableRuns& runs, const std::string& suffix) {
  Claim accuracy{"2a" + suffix,
                 "Trained encoders: SC's linear-probe accuracy is on par with or above CE's (paper: SC 94.30 vs CE "
                 "93.66 with crop+flip, 86.23 vs 83.62 without, on CIFAR-10)",
                 "SC's test accuracy of the linear probe >= CE's - 1 point (means over the seeds), for each "
                 "augmentation",
                 "",
                 true};
  Claim geometry{"2b" + suffix,
                 "Trained encoders: SC's class means are at least as close to the simplex angle as CE's",
                 "|s(SC) - s(simplex)| <= |s(CE) - s(simplex)| + 0.01 for each augmentation, s the mean angular "
                 "similarity of class-mean pairs (means over the seeds)",
                 "",
                 true};
  for (const std::string& augment : kTableAugments) {
    const std::vector<Json>& sc = runs.at("supcon/" + augment);
    const std::vector<Json>& ce = runs.at("ce/" + augment);
    const double simplex = Number(sc.front()["simplex_similarity"]);
    const double sc_probe = OverSeeds(sc, "test_accuracy_probe").mean;
    const double ce_probe = OverSeeds(ce, "test_accuracy_probe").mean;
    accuracy.measured +=
        fmt::format("{}{}: SC {:.2f}, CE {:.2f}", accuracy.measured.empty() ? "" : "; ", augment, sc_probe, ce_probe);
    accuracy.pass = accuracy.pass && sc_probe >= ce_probe - 1.0;
    const double sc_distance = std::abs(OverSeeds(sc, "class_mean_similarity").mean - simplex);
    const double ce_distance = std::abs(OverSeeds(ce, "class_mean_similarity").mean - simplex);
    geometry.measured += fmt::format("{}{}: SC {:.4f}, CE {:.4f} from the simplex",
                                     geometry.measured.empty() ? "" : "; ",
                                     augment,
                                     sc_distance,
                                     ce_distance);
    geometry.pass = geometry.pass && sc_distance <= ce_distance + 0.01;
  }
  const std::size_t seeds = runs.begin()->second.size();
  accuracy.measured += fmt::format(" ({} seed{})", seeds, seeds == 1 ? "" : "s");
  geometry.measured += fmt::format(" ({} seed{})", seeds, seeds == 1 ? "" : "s");
  // THEORY.md, Experiments: post-ReLU features are non-negative, so s >= 0.5 and the simplex angle is out of reach.
  const std::string encoder = runs.begin()->second.front().value("encoder", std::string());
  if (encoder.find("post-ReLU") != std::string::npos) {
    geometry.measured += "; post-ReLU features: s >= 0.5 (an orthogonal frame) is the closest reachable";
  }
  return {accuracy, geometry};
}

std::string AccuracyMarkdown(const TableRuns& runs) {
  std::string table =
      "| loss | none: class means | none: linear probe | crop+flip: class means | crop+flip: linear "
      "probe | class-mean similarity, none | class-mean similarity, crop+flip |\n"
      "|---|---|---|---|---|---|---|\n";
  double simplex = std::nan("");
  for (const std::string& loss : kTableLosses) {
    std::string row = "| " + loss + " |", similarity;
    for (const std::string& augment : kTableAugments) {
      const std::vector<Json>& r = runs.at(loss + "/" + augment);
      row += fmt::format(" {} | {} |",
                         Cell(OverSeeds(r, "test_accuracy_class_mean"), 2),
                         Cell(OverSeeds(r, "test_accuracy_probe"), 2));
      similarity += fmt::format(" {} |", Cell(OverSeeds(r, "class_mean_similarity"), 4));
      simplex = Number(r.front()["simplex_similarity"]);
    }
    table += row + similarity + "\n";
  }
  const std::size_t seeds = runs.begin()->second.size();
  table += fmt::format(
      "\nEncoder: {}. Similarity at the simplex: {:.4f}. {}\n",
      runs.begin()->second.front().value("encoder", std::string("unknown")),
      simplex,
      seeds > 1 ? fmt::format("Cells: mean ± standard deviation over {} seeds.", seeds) : std::string("One seed."));
  return table;
}

std::string AccuracyCsv(const std::string& dataset, const TableRuns& runs) {
  std::string csv =
      "dataset,loss,augment,seed,test_accuracy_class_mean,test_accuracy_probe,class_mean_similarity,"
      "simplex_similarity\n";
  for (const auto& [key, seeds] : runs) {
    const std::size_t slash = key.find('/');
    for (std::size_t s = 0; s < seeds.size(); ++s) {
      const Json& r = seeds[s];
      csv += fmt::format("{},{},{},{},{:.17g},{:.17g},{:.17g},{:.17g}\n",
                         dataset,
                         key.substr(0, slash),
                         key.substr(slash + 1),
                         s,
                         Number(r["test_accuracy_class_mean"]),
                         Number(r["test_accuracy_probe"]),
                         Number(r["class_mean_similarity"]),
                         Number(r["simplex_similarity"]));
    }
  }
  return csv;
}

Claim CorrelationClaim(const std::map<std::string, std::vector<Json>>& by_loss) {
  Claim c{"3",
          "Closeness and generalization: across runs (seeds, lengths, training-set sizes), a smaller gap of the "
          "loss to its bound goes with a higher test accuracy",
          "Spearman's rho(gap, test accuracy of the class "
          "means) < 0 with its 95% bootstrap interval below 0, for CE and for SC",
          "",
          true};
  for (const auto& [loss, runs] : by_loss) {
    std::vector<double> gaps, accuracies;
    for (const Json& r : runs) {
      gaps.push_back(Number(r["loss_gap"]));
      accuracies.push_back(Number(r["test_accuracy_class_mean"]));
    }
    const Correlation rho = BootstrapSpearman(gaps, accuracies);
    c.measured += fmt::format("{}{}: rho {:.3f} [{:.3f}, {:.3f}] over {} runs",
                              c.measured.empty() ? "" : "; ",
                              loss,
                              rho.rho,
                              rho.low,
                              rho.high,
                              rho.runs);
    c.pass = c.pass && rho.high < 0.0;
  }
  return c;
}

std::vector<Claim> NoiseClaims(const Json& noise) {
  const Exponent sc = ReadExponent(noise, "supcon"), ce = ReadExponent(noise, "ce");
  // The exponent of the iterations above the clean run's; the skipped runs are the clean one, any that never
  // fitted within the budget, and any that fitted no later than the clean one.
  const auto describe = [](const char* name, const Exponent& e) {
    return fmt::format("{} exponent {:.3g} [{:.3g}, {:.3g}] ({}; above {:.0f} iterations at p = 0; {} run{} skipped)",
                       name, e.value, e.low, e.high, e.verdict, e.clean, e.skipped, e.skipped == 1 ? "" : "s");
  };
  const std::string measured = describe("SC", sc) + "; " + describe("CE", ce) + "; 95% bootstrap intervals";
  return {{"4a",
           "Label noise: iterations to fit grow superlinearly in the flipped labels for SC, about linearly for CE",
           "T(p) - T(0) = a flipped^e: SC's interval of e above 1 (superlinear), CE's containing 1 (linear)",
           measured,
           sc.verdict == "superlinear" && ce.verdict == "linear"},
          {"4b",
           "Label noise: SC's iterations to fit grow faster than CE's",
           "SC's exponent interval entirely above CE's",
           measured,
           sc.low > ce.high}};
}

}  // namespace dissect::cli
