#pragma once
// The results of the parts of `dissect reproduce` (other dissect commands, each printing one JSON object), read
// into typed records: a field that is missing or of the wrong type is an error naming the part and the field,
// never a silent NaN (JSON null, how the commands write NaN and infinity, reads as NaN).

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace dissect::verify {

using Json = nlohmann::ordered_json;

// The number `field` of a part's JSON (null reads as NaN). Throws std::runtime_error "part 'NAME': field 'F' is
// missing" or "... is not a number".
double RequireNumber(const Json& json, std::string_view field, std::string_view part);
std::int64_t RequireInteger(const Json& json, std::string_view field, std::string_view part);
bool RequireBool(const Json& json, std::string_view field, std::string_view part);
std::string RequireString(const Json& json, std::string_view field, std::string_view part);
// The array `field`; throws as above.
const Json& RequireArray(const Json& json, std::string_view field, std::string_view part);

// 1a: `dissect minimize --sweep`.
struct SweepResult {
  int configurations = 0;
  int simplex_configurations = 0;  // those with h >= K - 1
  int failures = 0;
  bool complete = false;
  double max_rel_gap = 0.0;  // over the simplex configurations
  double max_gram_error = 0.0;
  double gap_target = 0.0;
  double gram_target = 0.0;
};
SweepResult ReadSweep(const Json& json, std::string_view part);

// 1b: the multiset minimization (K = 3, n = 2, b = 9, rho = 1) and `dissect minimize --figure5`.
struct MultisetMinimum {
  double final_loss = 0.0;
  double max_gram_error = 0.0;
};
MultisetMinimum ReadMultisetMinimum(const Json& json, std::string_view part);
struct Figure5Result {
  double simplex_total = 0.0;
  double trained_total = 0.0;
  int compositions = 0;
  int compositions_trained_below_simplex = 0;
};
Figure5Result ReadFigure5(const Json& json, std::string_view part);

// 1c: `dissect minimize --figure6`.
struct Figure6Result {
  int compositions = 0;
  int strictly_below = 0;     // minimum below the simplex value by more than 1e-9 relative
  double largest_drop = 0.0;  // simplex value - minimum, largest
  int failures = 0;
};
Figure6Result ReadFigure6(const Json& json, std::string_view part);

// 1d: `dissect minimize --figure1`.
struct Figure1Flow {
  std::string loss;
  std::int64_t steps = 0;
  double rel_gap = 0.0;
  double max_gram_error = 0.0;
  double max_within_class_spread = 0.0;
};
struct Figure1Result {
  std::vector<Figure1Flow> flows;
  int failures = 0;
  double gap_target = 0.0;
  double gram_target = 0.0;
};
Figure1Result ReadFigure1(const Json& json, std::string_view part);

// 2a, 2b, 3: one `dissect train` run (its last evaluation).
struct TrainedRun {
  static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  std::string part;       // the part's name
  std::string loss;       // "ce", "ce-fix", "supcon"
  std::string encoder;    // EncoderOptions::Describe()
  bool post_relu = true;  // features >= 0 (no final linear layer)
  std::uint64_t seed = 0;
  std::int64_t iterations = 0;
  std::int64_t train_images = 0;
  double test_accuracy_probe = kNaN;  // NaN when the probe did not run
  double test_accuracy_class_mean = kNaN;
  double class_mean_similarity = kNaN;
  double simplex_similarity = kNaN;
  double loss_gap = kNaN;
};
// `loss`, `seed` and `iterations` are what the caller asked the part for (the train JSON reports the encoder and
// the evaluation).
TrainedRun ReadTrainedRun(const Json& json, std::string_view part, std::string loss, std::uint64_t seed);

// 4: one run of `dissect noise` (an element of its "runs").
struct NoiseRunResult {
  std::string loss;
  int replicate = 0;
  double fraction = 0.0;
  std::int64_t num_flipped = 0;
  double iterations = 0.0;  // iterations to fit; for a censored run the budget, a lower bound
  bool censored = false;    // did not fit within the budget
  std::int64_t budget = 0;
  double cumulative_learning_rate = 0.0;  // sum of the learning rates of the steps up to `iterations`
  bool criteria_disagree = false;         // another recorded criterion fitted at another step
};
std::vector<NoiseRunResult> ReadNoiseRuns(const Json& noise, std::string_view part);

}  // namespace dissect::verify
