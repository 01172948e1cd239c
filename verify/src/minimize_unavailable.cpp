// `dissect minimize` in a build without optim/ (DISSECT_WITH_OPTIM=OFF, where Ceres is not available, such as the
// GPU machine of scripts/gpu-check): the subcommand exists, takes any arguments, and says why it cannot run.
#include <stdexcept>

#include "commands.hpp"

namespace dissect::cli {

std::vector<Command> RegisterMinimizeCommand(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("minimize", "Minimize CE or SC over free points (not in this build: no optim/)");
  cmd->allow_extras();
  return {{cmd, []() -> int {
             throw std::invalid_argument(
                 "minimize: this build of dissect has no optim/ (configured with -DDISSECT_WITH_OPTIM=OFF, without "
                 "Ceres); rebuild with the default options");
           }}};
}

}  // namespace dissect::cli
