// Fuzz target for the image readers (outside input: MNIST-layout IDX files, plain or gzip, and CIFAR-10/100 binary
// files). The first byte picks the file that gets the rest of the input; the other files of the set are small valid
// ones. Every input must either load or be refused with std::runtime_error / std::invalid_argument; a crash, a hang,
// a sanitizer report or any other exception is a finding. Used by libFuzzer (-DDISSECT_FUZZ=ON with clang) and by
// the replay driver that the default tests run (fuzz_replay.cpp).

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "dissect/train/image_set.hpp"
#include "fuzz_support.hpp"

namespace {

namespace fs = std::filesystem;
using dissect::fuzz::Expect;
using dissect::fuzz::WriteFile;

std::string BigEndian32(std::uint32_t value) {
  return {static_cast<char>(value >> 24),
          static_cast<char>(value >> 16),
          static_cast<char>(value >> 8),
          static_cast<char>(value)};
}

// Three 4 x 5 images and three labels (the counts of the IDX seeds), and one record of each CIFAR format.
const std::string kValidImages =
    BigEndian32(0x803) + BigEndian32(3) + BigEndian32(4) + BigEndian32(5) + std::string(60, '\x7f');
const std::string kValidLabels = BigEndian32(0x801) + BigEndian32(3) + std::string("\x00\x09\x04", 3);
const std::string kCifar10Record = std::string(1, '\x03') + std::string(3072, '\x40');
const std::string kCifar100Record = std::string("\x02\x2a", 2) + std::string(3072, '\x40');

const fs::path& ScratchDirectory() {
  static const fs::path dir = [] {
    const fs::path d = dissect::fuzz::ScratchPath("images");
    fs::create_directories(d / "cifar10");
    fs::create_directories(d / "cifar100");
    WriteFile(d / "images", kValidImages);
    WriteFile(d / "labels", kValidLabels);
    for (int i = 2; i <= 5; ++i)
      WriteFile(d / "cifar10" / ("data_batch_" + std::to_string(i) + ".bin"), kCifar10Record);
    WriteFile(d / "cifar10" / "test_batch.bin", kCifar10Record);
    WriteFile(d / "cifar100" / "test.bin", kCifar100Record);
    return d;
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  namespace train = dissect::train;
  const fs::path& dir = ScratchDirectory();
  const std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0:
      WriteFile(dir / "fuzzed", bytes);
      Expect([&] { train::ReadIdx(dir / "fuzzed", dir / "labels", 10, "fuzz"); });
      break;
    case 1:
      WriteFile(dir / "fuzzed", bytes);
      Expect([&] { train::ReadIdx(dir / "images", dir / "fuzzed", 10, "fuzz"); });
      break;
    case 2:
      WriteFile(dir / "cifar10" / "data_batch_1.bin", bytes);
      Expect([&] { train::LoadCifar10(dir / "cifar10"); });
      break;
    default:
      WriteFile(dir / "cifar100" / "train.bin", bytes);
      Expect([&] { train::LoadCifar100(dir / "cifar100", false); });
      Expect([&] { train::LoadCifar100(dir / "cifar100", true); });
      break;
  }
  return 0;
}
