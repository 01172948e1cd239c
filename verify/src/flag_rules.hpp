#pragma once
// The valid ranges of the command-line flags and the flags that exclude each other, in one table (flag_rules.cpp)
// instead of scattered checks: a value outside its range or two flags that conflict are usage errors (exit 2) at
// parse time, before any work, naming the flag, the value and the reason.

#include <CLI/CLI.hpp>

namespace dissect::cli {

// Attaches every rule of the table to the options the commands registered. Throws std::logic_error when a rule
// names a command or flag that does not exist, so that the table cannot drift from the commands.
void ApplyFlagRules(CLI::App& app);

}  // namespace dissect::cli
