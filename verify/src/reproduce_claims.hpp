#pragma once
// The claims of `dissect reproduce` (issue "dissect reproduce", claims 1 to 4): each judged from the JSON of the
// parts that measure it, with what the paper says, the expected value, the measured value and a verdict.

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace dissect::cli {

struct Claim {
  std::string id;
  std::string statement;
  std::string expected;
  std::string measured;
  bool pass = false;
};

using Json = nlohmann::ordered_json;

// 1a: the sweep of `dissect minimize --sweep`.
Claim SweepClaim(const Json& sweep);
// 1b: Figure 5, from the multiset minimization (K = 3, n = 2, b = 9) and `dissect minimize --figure5`.
Claim Figure5Claim(const Json& multiset_minimum, const Json& figure5);
// 1c: Figure 6, `dissect minimize --figure6`.
Claim Figure6Claim(const Json& figure6);
// 1d: Figure 1, `dissect minimize --figure1`.
Claim Figure1Claim(const Json& figure1);

// The runs of the accuracy table of one dataset: "loss/augment" -> the train JSON of each seed.
using TableRuns = std::map<std::string, std::vector<Json>>;
// 2a (linear-probe accuracy of SC against CE) and 2b (class-mean similarity against the simplex value), for one
// dataset; `suffix` tells the datasets' claims apart ("" or " (mnist)").
std::vector<Claim> TrainedClaims(const TableRuns& runs, const std::string& suffix);
// The accuracy table in the layout of the authors' (rows: losses; columns: augmentation x classifier), Markdown;
// cells "mean ± sd" over the seeds.
std::string AccuracyMarkdown(const TableRuns& runs);
// The same as CSV: one row per loss, augmentation and seed.
std::string AccuracyCsv(const std::string& dataset, const TableRuns& runs);

// 3: Spearman's rho between the gap to the bound and test accuracy across the runs of each loss.
Claim CorrelationClaim(const std::map<std::string, std::vector<Json>>& by_loss);

// 4a, 4b: the label-noise experiment, `dissect noise`.
std::vector<Claim> NoiseClaims(const Json& noise);

// A CSV field: quoted, inner quotes doubled.
std::string CsvField(const std::string& text);

}  // namespace dissect::cli
