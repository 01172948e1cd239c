#include "self_process.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace dissect::cli {

pid_t StartSelf(const std::vector<std::string>& args, const ChildOptions& options) {
  std::vector<std::string> all = {"dissect"};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& argument : all) argv.push_back(argument.data());
  argv.push_back(nullptr);
  const std::string stdout_path = options.stdout_path.string();
  static constexpr char kOpenFailed[] = "error: cannot open the child's stdout file\n";
  static constexpr char kExecFailed[] = "error: cannot start /proc/self/exe\n";

  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("cannot start a child process: ") + std::strerror(errno));
  if (pid == 0) {
    if (!stdout_path.empty()) {
      const int fd = ::open(stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd < 0 || ::dup2(fd, STDOUT_FILENO) < 0) {
        (void)!::write(STDERR_FILENO, kOpenFailed, sizeof kOpenFailed - 1);
        ::_exit(126);
      }
    }
    if (options.inherited_fd >= 0) ::fcntl(options.inherited_fd, F_SETFD, 0);
    ::execv("/proc/self/exe", argv.data());
    (void)!::write(STDERR_FILENO, kExecFailed, sizeof kExecFailed - 1);
    ::_exit(127);
  }
  return pid;
}

int ExitCode(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

int WaitForExit(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return 127;
  }
  return ExitCode(status);
}

}  // namespace dissect::cli
