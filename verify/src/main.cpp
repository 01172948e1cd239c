// The `dissect` command line. Exit codes: 0 ok, 1 a verification check failed, 2 usage or input error.

#include <malloc.h>

#include <exception>
#include <iostream>

#include "application.hpp"
#include "output_files.hpp"

int main(int argc, char** argv) {
  // Optimizers allocate vectors of a few hundred KB per evaluation: above glibc's default mmap threshold each one
  // is a fresh mapping whose pages fault in again (about a fifth of the time of a free-point minimization here).
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  dissect::cli::SetCommandLine(argc, argv);
  dissect::cli::Application application;
  if (const auto exit_code = application.Parse(argc, argv, std::cerr)) return *exit_code;
  try {
    return application.Run();
  } catch (const std::exception& error) {
    std::cerr << "error: " << error.what() << '\n';
    return 2;
  }
}
