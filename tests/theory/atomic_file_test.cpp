// The one atomic writer (theory/atomic_file.hpp): the target holds the old content or the new, never a part, and no
// temporary is left behind, whatever fails.

#include "dissect/theory/atomic_file.hpp"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

#include "catch.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using dissect::test::TemporaryDirectory;
using dissect::theory::WriteFileAtomically;
using dissect::theory::WriteStreamAtomically;

namespace {

std::string Read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::size_t CountFiles(const fs::path& dir) {
  std::size_t count = 0;
  for (auto it = fs::directory_iterator(dir); it != fs::directory_iterator(); ++it) ++count;
  return count;
}

}  // namespace

TEST_CASE("WriteStreamAtomically writes a new file and replaces an old one, leaving no temporary") {
  TemporaryDirectory dir;
  const fs::path path = dir.path() / "table.csv";
  WriteStreamAtomically(path, "test", [](std::ostream& out) { out << "first"; });
  CHECK(Read(path) == "first");
  WriteStreamAtomically(path, "test", [](std::ostream& out) { out << "second, longer"; });
  CHECK(Read(path) == "second, longer");
  CHECK(CountFiles(dir.path()) == 1);
}

TEST_CASE("WriteStreamAtomically: a writer that throws halfway leaves the previous file as it was") {
  TemporaryDirectory dir;
  const fs::path path = dir.path() / "meta.json";
  WriteStreamAtomically(path, "test", [](std::ostream& out) { out << "old"; });
  CHECK_THROWS_WITH(WriteStreamAtomically(path,
                                          "test",
                                          [](std::ostream& out) {
                                            out << "half of the new";
                                            throw std::runtime_error("interrupted");
                                          }),
                    "interrupted");
  CHECK(Read(path) == "old");
  CHECK(CountFiles(dir.path()) == 1);
}

TEST_CASE("WriteStreamAtomically names the context when the folder does not exist") {
  TemporaryDirectory dir;
  const fs::path path = dir.path() / "missing" / "points.npy";
  CHECK_THROWS_WITH(WriteStreamAtomically(path, "WriteNpy(): points.npy", [](std::ostream& out) { out << "x"; }),
                    Catch::Contains("WriteNpy(): points.npy: cannot open") && Catch::Contains("for writing"));
  CHECK_FALSE(fs::exists(path));
}

TEST_CASE("WriteFileAtomically: a failed rename removes the temporary and says so") {
  TemporaryDirectory dir;
  const fs::path path = dir.path() / "checkpoint.pt";
  fs::create_directories(path / "a folder in the way");  // rename of a file over a non-empty folder fails
  CHECK_THROWS_WITH(
      WriteFileAtomically(
          path, "cannot write checkpoint", [](const fs::path& temporary) { std::ofstream(temporary) << "bytes"; }),
      Catch::Contains("cannot write checkpoint: cannot move the finished file into place"));
  CHECK(CountFiles(dir.path()) == 1);  // the folder only
  CHECK(fs::is_directory(path));
}
