#pragma once
// Multi-start free-point minimization: one Minimize() per seed, keeping the lowest final loss. Where no simplex fits
// (h < K-1, imbalanced classes, one unbalanced batch) random starts end in different local minima.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "dissect/optim/minimize.hpp"
#include "dissect/optim/objective.hpp"

namespace dissect::optim {

// Progress and stopping of MinimizeWithRestarts. `restart` counts from 0; `seed` is that restart's options.seed.
struct RestartCallbacks {
  // After each iteration of a restart, as MinimizeOptions::callback. Returning true stops that restart's solver as
  // MinimizeOptions::callback does (the restart still reports its result) and ends the run after it.
  std::function<bool(int restart, std::uint64_t seed, const IterationInfo& info)> on_iteration;
  // As each stage of a restart begins (MinimizeOptions::on_stage), with the seconds since that restart began.
  std::function<void(int restart, std::uint64_t seed, const std::string& stage, double seconds)> on_stage;
  // After each iteration of a restart's matrix-free certificate (MinimizeOptions::certificate_callback); true stops
  // that certificate ("not computed: stopped") and ends the run after the restart.
  std::function<bool(int restart, std::uint64_t seed, const MatrixFreeCertificateProgress& progress)> on_certificate;
  // Asked before each restart after the first; true ends the run there. It catches a stop that arrives where no
  // iteration reports (the evaluation and certificate stages at the end of a restart).
  std::function<bool()> stop_requested;
};

struct RestartsResult {
  // The restart with the lowest final loss: the earliest among equal ones, and the first where its loss is NaN (no
  // loss compares below NaN).
  MinimizeResult best;
  std::uint64_t best_seed = 0;
  std::vector<double> losses;  // the final loss of each restart that ran, in order
  bool stopped = false;        // a callback asked to stop; the restarts left after the last in losses did not run
};

// Runs Minimize with seeds options.seed, options.seed + 1, ... for `restarts` restarts, or fewer where a callback asks
// to stop; the first always runs, so there is a best result. options.callback, options.on_stage and
// options.certificate_callback are not used: the callbacks take their place. Throws std::invalid_argument for restarts
// < 1 and what Minimize() throws.
RestartsResult MinimizeWithRestarts(MinimizeOptions options, int restarts, const RestartCallbacks& callbacks = {});

}  // namespace dissect::optim
