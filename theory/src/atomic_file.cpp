#include "dissect/theory/atomic_file.hpp"

#include <fmt/format.h>

#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <system_error>

namespace dissect::theory {
namespace fs = std::filesystem;

namespace {

// A name of its own per call, so that two writers of the same file never share a temporary.
fs::path TemporaryNextTo(const fs::path& path) {
  return path.parent_path() / fmt::format(".{}.tmp-{}", path.filename().string(), std::random_device{}());
}

void RemoveQuietly(const fs::path& path) {
  std::error_code ignored;
  fs::remove(path, ignored);
}

}  // namespace

void WriteFileAtomically(const fs::path& path,
                         std::string_view context,
                         const std::function<void(const fs::path& temporary)>& write) {
  const fs::path temporary = TemporaryNextTo(path);
  try {
    write(temporary);
  } catch (...) {
    RemoveQuietly(temporary);
    throw;
  }
  std::error_code error;
  fs::rename(temporary, path, error);
  if (error) {
    RemoveQuietly(temporary);
    throw std::runtime_error(fmt::format("{}: cannot move the finished file into place: {}", context, error.message()));
  }
}

void WriteStreamAtomically(const fs::path& path,
                           std::string_view context,
                           const std::function<void(std::ostream& out)>& write) {
  WriteFileAtomically(path, context, [&](const fs::path& temporary) {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error(fmt::format("{}: cannot open {} for writing", context, temporary.string()));
    write(out);
    out.flush();
    if (!out) throw std::runtime_error(fmt::format("{}: write failed (disk full or not writable?)", context));
  });
}

}  // namespace dissect::theory
