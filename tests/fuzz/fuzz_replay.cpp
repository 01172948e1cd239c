// Replay driver for the fuzz targets (.npy, image sets), for builds without libFuzzer (the default g++ build and its
// tests): runs every seed file as is, then `iterations` seeded random mutations of them (bit flips, byte overwrites,
// truncation, insertion and digits changed in the header, which is where shapes live).
//   <target>_fuzz_replay ITERATIONS SEED_FILE...

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: fuzz_replay ITERATIONS SEED_FILE...\n");
    return 2;
  }
  const long iterations = std::stol(argv[1]);
  std::vector<std::vector<std::uint8_t>> seeds;
  for (int i = 2; i < argc; ++i) {
    std::ifstream in(argv[i], std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "error: cannot read seed %s\n", argv[i]);
      return 2;
    }
    seeds.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  for (const auto& seed : seeds) LLVMFuzzerTestOneInput(seed.data(), seed.size());
  std::mt19937_64 engine(12345);
  for (long run = 0; run < iterations; ++run) {
    std::vector<std::uint8_t> input = seeds[engine() % seeds.size()];
    const int mutations = 1 + static_cast<int>(engine() % 4);
    for (int m = 0; m < mutations && !input.empty(); ++m) {
      const std::size_t at = engine() % input.size();
      switch (engine() % 6) {
        case 0:
          input[at] ^= static_cast<std::uint8_t>(1u << (engine() % 8));
          break;
        case 1:
          input[at] = static_cast<std::uint8_t>(engine());
          break;
        case 2:
          input.resize(at);
          break;
        case 3:
          input.insert(input.begin() + static_cast<long>(at), static_cast<std::uint8_t>(engine()));
          break;
        case 4: {
          // A digit in the header (the first 128 bytes hold the shape): another digit or a long run of them.
          const std::size_t limit = std::min<std::size_t>(input.size(), 128);
          const std::size_t pos = engine() % limit;
          if (input[pos] >= '0' && input[pos] <= '9') {
            if (engine() % 2) {
              input[pos] = static_cast<std::uint8_t>('0' + engine() % 10);
            } else {
              input.insert(input.begin() + static_cast<long>(pos), 12, static_cast<std::uint8_t>('9'));
            }
          }
          break;
        }
        default:
          input.erase(input.begin() + static_cast<long>(at));
          break;
      }
    }
    LLVMFuzzerTestOneInput(input.data(), input.size());
  }
  std::printf("%ld mutated inputs and %zu seeds: no crash, every bad input refused with a clear error\n",
              iterations,
              seeds.size());
  return 0;
}
