// Tests of dissect/optim/restarts.hpp: the multi-start is exactly the best of separate Minimize() calls with seeds
// s, s+1, ..., reports each restart's iterations and stages with its index and seed, and stops where asked.

#include "dissect/optim/restarts.hpp"

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "catch.hpp"
#include "dissect/optim/minimize.hpp"
#include "test_support.hpp"

namespace dissect::optim {
namespace {

using test::MessageContains;
using test::SameBits;

constexpr std::uint64_t kFirstSeed = 7;

// SC, K = 4, n = 3 on the circle, cut off after 5 LBFGS iterations: every seed ends at another loss, so which
// restart is kept matters. Milliseconds per restart.
MinimizeOptions CutOffOptions() {
  MinimizeOptions options;
  options.num_classes = 4;
  options.per_class = 3;
  options.dim = 2;
  options.max_iterations = 5;
  options.certificate = false;
  options.seed = kFirstSeed;
  return options;
}

struct Seen {
  int restart;
  std::uint64_t seed;
  int iteration;
  double loss;
};

TEST_CASE("MinimizeWithRestarts: the best of Minimize() with seeds s, s+1, s+2, and every restart's loss",
          "[restarts]") {
  const MinimizeOptions options = CutOffOptions();
  std::vector<MinimizeResult> separate;
  std::vector<std::vector<std::string>> separate_stages(3);
  for (int r = 0; r < 3; ++r) {
    MinimizeOptions one = options;
    one.seed = kFirstSeed + static_cast<std::uint64_t>(r);
    one.on_stage = [&, r](const std::string& stage) { separate_stages[r].push_back(stage); };
    separate.push_back(Minimize(one));
  }
  std::size_t expected_best = 0;
  for (std::size_t r = 1; r < separate.size(); ++r) {
    if (separate[r].final_loss < separate[expected_best].final_loss) expected_best = r;
  }
  REQUIRE(separate[0].final_loss != separate[1].final_loss);

  std::vector<Seen> seen;
  std::vector<std::vector<std::string>> stages(3);
  RestartCallbacks callbacks;
  callbacks.on_iteration = [&](int restart, std::uint64_t seed, const IterationInfo& info) {
    seen.push_back({restart, seed, info.iteration, info.loss});
    return false;
  };
  callbacks.on_stage = [&](int restart, std::uint64_t seed, const std::string& stage, double seconds) {
    REQUIRE(seed == kFirstSeed + static_cast<std::uint64_t>(restart));
    REQUIRE(seconds >= 0.0);
    stages.at(restart).push_back(stage);
  };
  const RestartsResult run = MinimizeWithRestarts(options, 3, callbacks);

  REQUIRE_FALSE(run.stopped);
  REQUIRE(run.losses.size() == 3u);
  for (std::size_t r = 0; r < 3; ++r) REQUIRE(run.losses[r] == separate[r].final_loss);
  REQUIRE(run.best_seed == kFirstSeed + expected_best);
  REQUIRE(run.best.final_loss == separate[expected_best].final_loss);
  REQUIRE(SameBits(run.best.points, separate[expected_best].points));
  REQUIRE(run.best.trace.size() == separate[expected_best].trace.size());
  REQUIRE(stages == separate_stages);

  // The callback sees each restart's trace in order, tagged with its index and seed.
  std::size_t next = 0;
  for (int r = 0; r < 3; ++r) {
    for (const IterationInfo& info : separate[r].trace) {
      REQUIRE(next < seen.size());
      REQUIRE(seen[next].restart == r);
      REQUIRE(seen[next].seed == kFirstSeed + static_cast<std::uint64_t>(r));
      REQUIRE(seen[next].iteration == info.iteration);
      REQUIRE(seen[next].loss == info.loss);
      ++next;
    }
  }
  REQUIRE(next == seen.size());
}

TEST_CASE("MinimizeWithRestarts: a stop in restart 2 cancels it and skips restart 3", "[restarts]") {
  const MinimizeOptions options = CutOffOptions();
  SECTION("the iteration callback returns true") {
    int calls_after_stop = 0;
    bool asked = false;
    RestartCallbacks callbacks;
    callbacks.on_iteration = [&](int restart, std::uint64_t, const IterationInfo& info) {
      if (asked) ++calls_after_stop;
      asked = asked || (restart == 1 && info.iteration >= 2);
      return asked;
    };
    const RestartsResult run = MinimizeWithRestarts(options, 3, callbacks);
    REQUIRE(run.stopped);
    REQUIRE(run.losses.size() == 2u);
    REQUIRE(calls_after_stop == 0);
    // Restart 2 is the run cut off where the callback asked, as Minimize() alone cuts it.
    MinimizeOptions second = options;
    second.seed = kFirstSeed + 1;
    second.callback = [](const IterationInfo& info) { return info.iteration >= 2; };
    const MinimizeResult cancelled = Minimize(second);
    REQUIRE(cancelled.cancelled);
    REQUIRE(run.losses[1] == cancelled.final_loss);
    REQUIRE(run.best.final_loss == std::min(run.losses[0], run.losses[1]));
  }
  SECTION("stop_requested, asked between restarts, answers true before restart 3") {
    int asked = 0;
    RestartCallbacks callbacks;
    callbacks.stop_requested = [&] { return ++asked >= 2; };
    const RestartsResult run = MinimizeWithRestarts(options, 3, callbacks);
    REQUIRE(asked == 2);
    REQUIRE(run.stopped);
    REQUIRE(run.losses.size() == 2u);
    REQUIRE_FALSE(run.best.cancelled);
  }
  SECTION("a stop in the last restart leaves nothing to skip") {
    RestartCallbacks callbacks;
    callbacks.stop_requested = [] { return false; };
    callbacks.on_iteration = [](int restart, std::uint64_t, const IterationInfo&) { return restart == 2; };
    const RestartsResult run = MinimizeWithRestarts(options, 3, callbacks);
    REQUIRE(run.losses.size() == 3u);
    REQUIRE(run.stopped);
  }
}

TEST_CASE("MinimizeWithRestarts: one restart is Minimize(), the options' own callbacks are not used", "[restarts]") {
  MinimizeOptions options = CutOffOptions();
  const MinimizeResult alone = Minimize(options);
  int option_calls = 0;
  options.callback = [&](const IterationInfo&) { return ++option_calls > 0; };
  options.on_stage = [&](const std::string&) { ++option_calls; };
  const RestartsResult run = MinimizeWithRestarts(options, 1);
  REQUIRE(option_calls == 0);
  REQUIRE(run.losses.size() == 1u);
  REQUIRE(run.best_seed == kFirstSeed);
  REQUIRE(SameBits(run.best.points, alone.points));
  REQUIRE(run.best.message == alone.message);
}

TEST_CASE("MinimizeWithRestarts: bad input throws std::invalid_argument", "[restarts]") {
  REQUIRE_THROWS_MATCHES(MinimizeWithRestarts(CutOffOptions(), 0),
                         std::invalid_argument,
                         MessageContains("MinimizeWithRestarts(): expected restarts >= 1, got 0"));
  MinimizeOptions options = CutOffOptions();
  options.dim = 0;
  REQUIRE_THROWS_MATCHES(
      MinimizeWithRestarts(options, 2), std::invalid_argument, MessageContains("Minimize(): expected dim (h) >= 1"));
}

}  // namespace
}  // namespace dissect::optim
