// Fuzz target for the command line (outside input: what users type and scripts generate). The input is the argument
// list, one argument per line. Every input must parse or be refused as a usage error, for every subcommand's options;
// the pure commands (`dissect bound ...`: closed forms, no files) also run, and must print a result or refuse the
// values with std::invalid_argument / std::runtime_error. A crash, a hang, a sanitizer report or any other exception
// is a finding. Commands that read or write files, or train, are parsed but not run.

#include <cstdint>
#include <iostream>
#include <sstream>
#include <streambuf>
#include <string>
#include <vector>

#include "application.hpp"
#include "fuzz_support.hpp"

namespace {

// Discards what the commands print (tables, --help).
class NullBuffer : public std::streambuf {
 protected:
  int overflow(int c) override { return c; }
  std::streamsize xsputn(const char*, std::streamsize n) override { return n; }
};

std::vector<std::string> Arguments(const std::uint8_t* data, std::size_t size) {
  std::vector<std::string> arguments = {"dissect"};
  std::string current;
  for (std::size_t i = 0; i < size && arguments.size() < 64; ++i) {
    if (data[i] == '\n') {
      arguments.push_back(current);
      current.clear();
    } else {
      current.push_back(static_cast<char>(data[i]));
    }
  }
  if (!current.empty() && arguments.size() < 64) arguments.push_back(current);
  return arguments;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Never destroyed: std::cout keeps pointing at the buffer until libstdc++ flushes it after every static
  // destructor has run (a function-local static buffer was destroyed first, and that last flush read freed memory:
  // AddressSanitizer's SEGV in std::ios_base::Init::~Init, 2026-12-08).
  static NullBuffer* const null_buffer = new NullBuffer;
  static std::ostream null_stream(null_buffer);
  static const bool silenced = [] {
    std::cout.rdbuf(null_buffer);
    return true;
  }();
  (void)silenced;
  std::vector<std::string> arguments = Arguments(data, size);
  std::vector<char*> argv;
  for (std::string& argument : arguments) argv.push_back(argument.data());
  argv.push_back(nullptr);
  dissect::cli::Application application;
  if (application.Parse(static_cast<int>(arguments.size()), argv.data(), null_stream)) return 0;
  if (application.ParsedCommand().rfind("bound", 0) == 0) {
    dissect::fuzz::Expect([&] { application.Run(); });
  }
  return 0;
}
