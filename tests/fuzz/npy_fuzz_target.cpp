// Fuzz target for the .npy reader (outside input: files from numpy and other programs). Every input must either
// load or be refused with std::runtime_error / std::invalid_argument; a crash, a hang, a sanitizer report or any
// other exception is a finding. Used by libFuzzer (-DDISSECT_FUZZ=ON with clang) and by the replay driver that the
// default tests run (npy_fuzz_replay.cpp).

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <dissect/theory/npy.hpp>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "fuzz_support.hpp"

namespace {

using dissect::fuzz::Expect;

const std::filesystem::path& ScratchFile() {
  static const std::filesystem::path path = dissect::fuzz::ScratchPath("reader.npy");
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  dissect::fuzz::WriteFile(ScratchFile(), std::string(reinterpret_cast<const char*>(data), size));
  Expect([] { dissect::theory::ReadNpy(ScratchFile()); });
  Expect([] { dissect::theory::ReadNpyPoints(ScratchFile()); });
  Expect([] { dissect::theory::ReadNpyMatrix(ScratchFile()); });
  Expect([] { dissect::theory::ReadNpyLabels(ScratchFile()); });
  // The streaming reader of `dissect geometry`: header, blocks that straddle the end, single rows.
  Expect([] {
    dissect::theory::NpyRowReader reader(ScratchFile());
    const Eigen::Index rows = reader.num_rows();
    for (Eigen::Index first = 0; first < rows; first += 3)
      reader.ReadRows(first, std::min<Eigen::Index>(3, rows - first));
    if (rows > 0) reader.ReadRow(rows - 1);
  });
  return 0;
}
