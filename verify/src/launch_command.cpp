// `dissect launch`: starts W ranks of a data-parallel `dissect train` on this machine (c10d over loopback), watches
// them, and ends them all when one fails. On several machines, start `dissect train --world-size W --rank r
// --master HOST:PORT` on each instead (docs/cli.md).

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "commands.hpp"
#include "loopback_port.hpp"
#include "self_process.hpp"
#include "stop_signal.hpp"

namespace dissect::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct LaunchFlags {
  int processes = 2;
  int master_port = 0;
  double grace = 60.0;
};

bool HasFlag(const std::vector<std::string>& args, const std::string& flag) {
  return std::any_of(
      args.begin(), args.end(), [&](const std::string& a) { return a == flag || a.rfind(flag + "=", 0) == 0; });
}

// The exit code of a waitpid status, as a shell reports it (128 + signal for a killed process).
int RunLaunch(const LaunchFlags& f, std::vector<std::string> args) {
  if (!(f.grace > 0.0) || !std::isfinite(f.grace)) {
    throw std::invalid_argument(fmt::format("launch: expected --grace > 0 seconds, got {}", f.grace));
  }
  if (args.empty() || args.front() != "train") {
    throw std::invalid_argument(
        "launch: expected the command to run after the launcher's flags, e.g. "
        "'dissect launch --processes 2 train --loss supcon ...'");
  }
  for (const char* flag : {"--world-size", "--rank", "--master", "--launch-ready-fd"}) {
    if (HasFlag(args, flag)) {
      throw std::invalid_argument(
          fmt::format("launch: {} is set by the launcher; leave it out of the train flags", flag));
    }
  }
  const int port = f.master_port > 0 ? f.master_port : FreeLoopbackPort("launch (pass --master-port)");
  const std::string master = fmt::format("127.0.0.1:{}", port);
  if (!HasFlag(args, "--threads")) {
    // The cores divided among the ranks (LibTorch would otherwise start a thread per core in each of them).
    const int cores = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
    args.push_back("--threads");
    args.push_back(std::to_string(std::max(1, cores / f.processes)));
  }

  // Each rank writes a byte into this pipe once it joined the group: until all have, a failed rank means the group
  // cannot form, and the others (waiting in the rendezvous) are stopped at once instead of after --grace.
  int ready[2];
  if (::pipe2(ready, O_CLOEXEC | O_NONBLOCK) != 0) throw std::runtime_error("launch: cannot create a pipe");
  StopOnSignal stop_on_signal;
  std::vector<pid_t> pids;
  for (int rank = 0; rank < f.processes; ++rank) {
    std::vector<std::string> child = args;
    for (const std::string& extra : {std::string("--world-size"),
                                     std::to_string(f.processes),
                                     std::string("--rank"),
                                     std::to_string(rank),
                                     std::string("--master"),
                                     master,
                                     std::string("--launch-ready-fd"),
                                     std::to_string(ready[1])}) {
      child.push_back(extra);
    }
    pid_t pid = -1;
    try {
      pid = StartSelf(child, {"", ready[1]});  // the write end survives exec; the read end does not
    } catch (const std::exception&) {
      for (const pid_t p : pids) ::kill(p, SIGKILL);
      throw;
    }
    pids.push_back(pid);
  }
  ::close(ready[1]);
  std::cerr << fmt::format(
      "launch: {} ranks of 'dissect {}' with the master at {}\n", f.processes, args.front(), master);

  // Watch the ranks: the first failure starts the grace period in which the others should stop by themselves
  // (their collectives fail at once when a peer is gone); then they are terminated, and finally killed.
  std::vector<int> codes(pids.size(), -1);
  int first_failure = 0;
  Clock::time_point failed_at{};
  bool terminated = false, killed = false;
  int forwarded = 0;
  int joined = 0;          // ranks that joined the group
  double grace = f.grace;  // seconds the others get after the first failure
  std::size_t running = pids.size();
  while (running > 0) {
    char bytes[64];
    for (ssize_t got; (got = ::read(ready[0], bytes, sizeof bytes)) > 0;) joined += static_cast<int>(got);
    int status = 0;
    const pid_t done = ::waitpid(-1, &status, WNOHANG);
    if (done > 0) {
      const auto rank = static_cast<std::size_t>(std::find(pids.begin(), pids.end(), done) - pids.begin());
      if (rank < pids.size()) {
        codes[rank] = ExitCode(status);
        --running;
        if (codes[rank] != 0) {
          std::cerr << fmt::format("launch: rank {} exited with code {}\n", rank, codes[rank]);
          if (first_failure == 0) {
            first_failure = codes[rank];
            failed_at = Clock::now();
            if (joined < f.processes) {
              // The group cannot form without this rank: no grace, the others only wait in the rendezvous.
              grace = 0.0;
              if (running > 0) {
                std::cerr << fmt::format(
                    "launch: rank {} failed before all {} ranks joined the group; stopping the "
                    "others\n",
                    rank,
                    f.processes);
              }
            }
          }
        }
      }
      continue;
    }
    const int signal = StopOnSignal::Requested();
    if (signal != 0 && forwarded != signal) {
      for (std::size_t r = 0; r < pids.size(); ++r) {
        if (codes[r] < 0) ::kill(pids[r], signal);
      }
      forwarded = signal;
    }
    if (first_failure != 0) {
      const double waited = std::chrono::duration<double>(Clock::now() - failed_at).count();
      if ((!terminated && waited >= grace) || (!killed && waited > grace + 10.0)) {
        const int how = terminated ? SIGKILL : SIGTERM;
        for (std::size_t r = 0; r < pids.size(); ++r) {
          if (codes[r] < 0) {
            std::cerr << fmt::format("launch: rank {} still runs {:.0f} s after the failure; sending {}\n",
                                     r,
                                     waited,
                                     how == SIGKILL ? "SIGKILL" : "SIGTERM");
            ::kill(pids[r], how);
          }
        }
        (terminated ? killed : terminated) = true;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::close(ready[0]);
  return first_failure;
}

}  // namespace

std::vector<Command> RegisterLaunchCommand(CLI::App& app) {
  auto f = std::make_shared<LaunchFlags>();
  CLI::App* cmd = app.add_subcommand(
      "launch", "Run W data-parallel ranks of 'dissect train' on this machine: dissect launch --processes W train ...");
  cmd->add_option("--processes", f->processes, "Number of ranks W")->check(CLI::Range(1, 1024))->capture_default_str();
  cmd->add_option("--master-port", f->master_port, "Port of rank 0's store on 127.0.0.1 (default: a free one)")
      ->check(CLI::Range(1, 65535));
  cmd->add_option("--grace", f->grace, "Seconds the other ranks get to stop by themselves after one fails (> 0)")
      ->capture_default_str();
  // Everything from the first argument the launcher does not know ("train") on is the ranks' command line.
  cmd->prefix_command();
  return {{cmd, [f, cmd] { return RunLaunch(*f, cmd->remaining()); }}};
}

}  // namespace dissect::cli
