// The `dissect` command line. Exit codes: 0 ok, 1 a verification check failed, 2 usage or input error.

#include <malloc.h>

#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>
#include <string>

#include "commands.hpp"
#include "output_files.hpp"

int main(int argc, char** argv) {
  // Optimizers allocate vectors of a few hundred KB per evaluation: above glibc's default mmap threshold each one
  // is a fresh mapping whose pages fault in again (about a fifth of the time of a free-point minimization here).
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  CLI::App app{
      "dissect: numerical checks of \"Dissecting Supervised Contrastive Learning\" (Graf et al., ICML 2021)",
      "dissect"};
  app.set_version_flag("--version", DISSECT_VERSION);
  app.require_subcommand(1);
  app.fallthrough(false);

  std::vector<dissect::cli::Command> commands;
  for (auto&& registered : {dissect::cli::RegisterBoundCommand(app),
                           dissect::cli::RegisterLossCommand(app),
                           dissect::cli::RegisterMinimizeCommand(app),
                           dissect::cli::RegisterTrainCommand(app),
                           dissect::cli::RegisterGeometryCommand(app),
                           dissect::cli::RegisterNoiseCommand(app)}) {
    commands.insert(commands.end(), registered.begin(), registered.end());
  }

  dissect::cli::SetCommandLine(argc, argv);
  const auto known = [&app](const std::string& name) {
    for (const CLI::App* command : app.get_subcommands({})) {
      if (command->check_name(name)) return true;
    }
    return false;
  };
  if (argc > 1 && argv[1][0] != '-' && !known(argv[1])) {
    std::cerr << "error: unknown command '" << argv[1] << "' (expected one of: bound, loss, minimize, train, geometry, noise)\nRun with --help for usage.\n";
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    if (error.get_exit_code() == 0) return app.exit(error);  // --help, --version
    std::cerr << "error: " << error.what() << "\nRun with --help for usage.\n";
    return 2;
  }
  try {
    for (const auto& command : commands) {
      if (command.app->parsed()) return command.run();
    }
    std::cerr << "error: no command given\n";
    return 2;
  } catch (const std::exception& error) {
    std::cerr << "error: " << error.what() << '\n';
    return 2;
  }
}
