#include "dissect/optim/restarts.hpp"

#include <chrono>
#include <dissect/theory/check.hpp>
#include <utility>

namespace dissect::optim {

RestartsResult MinimizeWithRestarts(MinimizeOptions options, int restarts, const RestartCallbacks& callbacks) {
  theory::RequireAtLeast("MinimizeWithRestarts", "restarts", restarts, 1);
  RestartsResult run;
  const std::uint64_t first_seed = options.seed;
  for (int r = 0; r < restarts; ++r) {
    if (r > 0 && (run.stopped || (callbacks.stop_requested && callbacks.stop_requested()))) {
      run.stopped = true;
      break;
    }
    options.seed = first_seed + static_cast<std::uint64_t>(r);
    const std::uint64_t seed = options.seed;
    options.callback = [&](const IterationInfo& info) {
      // Remembered: a true during the Newton steps, which do not stop, still ends the run after this restart.
      const bool stop = callbacks.on_iteration && callbacks.on_iteration(r, seed, info);
      run.stopped = run.stopped || stop;
      return stop;
    };
    options.on_stage = nullptr;
    if (callbacks.on_stage) {
      options.on_stage = [&, started = std::chrono::steady_clock::now()](const std::string& stage) {
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        callbacks.on_stage(r, seed, stage, seconds);
      };
    }
    options.certificate_callback = nullptr;
    if (callbacks.on_certificate) {
      options.certificate_callback = [&](const MatrixFreeCertificateProgress& progress) {
        const bool stop = callbacks.on_certificate(r, seed, progress);
        run.stopped = run.stopped || stop;
        return stop;
      };
    }
    MinimizeResult result = Minimize(options);
    run.losses.push_back(result.final_loss);
    if (r == 0 || result.final_loss < run.best.final_loss) {
      run.best = std::move(result);
      run.best_seed = seed;
    }
  }
  return run;
}

}  // namespace dissect::optim
