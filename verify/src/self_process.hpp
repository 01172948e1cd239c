#pragma once
// This executable started again as a child: `dissect reproduce` runs each part so, `dissect launch` each rank. The
// child is /proc/self/exe, so it is exactly this build, whatever PATH holds.

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace dissect::cli {

struct ChildOptions {
  std::filesystem::path stdout_path;  // the child's stdout goes to this file (created or truncated); empty: ours
  int inherited_fd = -1;              // a descriptor the child keeps across exec (close-on-exec cleared), or -1
};

// Forks and execs /proc/self/exe with argv {"dissect", args...}. Everything is prepared before the fork, and the
// child calls only async-signal-safe functions (open, dup2, fcntl, execv, write, _exit), since the parent may have
// threads (OpenMP, LibTorch). Returns the child's pid; throws std::runtime_error when fork fails. A child that cannot
// open its stdout file exits with 126, one whose exec fails with 127, each after a line on stderr.
pid_t StartSelf(const std::vector<std::string>& args, const ChildOptions& options = {});

// The exit code of a waitpid status: the code itself, or 128 + the signal that ended the process.
int ExitCode(int status);

// Waits for `pid` (again after an interruption by a signal) and returns its ExitCode.
int WaitForExit(pid_t pid);

}  // namespace dissect::cli
