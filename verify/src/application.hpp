#pragma once
// The `dissect` application: every subcommand on one CLI::App, parsed and run in two steps, so that main() and the
// command-line fuzz target (tests/fuzz/command_line_fuzz_target.cpp) share exactly the same parsing.

#include <CLI/CLI.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "commands.hpp"

namespace dissect::cli {

class Application {
 public:
  // Registers bound, loss, minimize, train, geometry and noise.
  Application();

  // Parses argv (argv[0] is the program). Returns the exit code when nothing is left to run: 0 after --help or
  // --version (printed to stdout), 2 after a usage error (printed to `errors` as "error: ..."); std::nullopt when a
  // command was parsed and is ready to Run.
  std::optional<int> Parse(int argc, char** argv, std::ostream& errors);

  // The parsed command's path, e.g. "bound ce"; empty before a successful Parse.
  std::string ParsedCommand() const;

  // Runs the parsed command and returns its exit code (0 ok, 1 a check failed). Throws what the command throws:
  // std::invalid_argument for bad input, std::runtime_error for files and numerical failures.
  int Run();

  // Every command and flag, for the flag audit (tests/cli/flag_audit_test.cpp) and the fuzz target.
  const CLI::App& Commands() const { return app_; }

 private:
  CLI::App app_;
  std::vector<Command> commands_;
};

}  // namespace dissect::cli
