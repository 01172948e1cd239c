#pragma once
// The subcommands of `dissect`. Each Register* adds its subcommand to the app and returns the function that runs it
// once parsing succeeded; that function returns the exit code (0 ok, 1 a check failed) and throws on bad input.

#include <CLI/CLI.hpp>
#include <functional>
#include <vector>

namespace dissect::cli {

struct Command {
  CLI::App* app = nullptr;   // the parsed subcommand, nested ones included
  std::function<int()> run;  // runs it
};

// `dissect bound ce|supcon|report`.
std::vector<Command> RegisterBoundCommand(CLI::App& app);
// `dissect loss`.
std::vector<Command> RegisterLossCommand(CLI::App& app);
// `dissect minimize`.
std::vector<Command> RegisterMinimizeCommand(CLI::App& app);
// `dissect train`.
std::vector<Command> RegisterTrainCommand(CLI::App& app);
// `dissect geometry`.
std::vector<Command> RegisterGeometryCommand(CLI::App& app);
// `dissect noise`.
std::vector<Command> RegisterNoiseCommand(CLI::App& app);
// `dissect launch`.
std::vector<Command> RegisterLaunchCommand(CLI::App& app);
// `dissect gpu-check`: the checks of the GPU half on one device (scripts/gpu-check).
std::vector<Command> RegisterGpuCheckCommand(CLI::App& app);
// `dissect reproduce`: the paper's claims with expected and measured values and verdicts, in a report folder.
std::vector<Command> RegisterReproduceCommand(CLI::App& app);

}  // namespace dissect::cli
