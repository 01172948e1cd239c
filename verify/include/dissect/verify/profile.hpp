#pragma once
// The profiles of `dissect reproduce`: how large each experiment is (docs/claims.md gives the reasons for each
// size). quick is `./run` (minutes on 2 cores), cpu decides on a CPU within an hour, paper is the paper's CIFAR-10
// settings for a GPU.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>
#include "dissect/theory/enum_names.hpp"

namespace dissect::verify {

enum class ProfileKind { kQuick, kCpu, kPaper };
// The names of ProfileKind, for ToString, ParseProfileKind and the command line's choices.
inline constexpr std::array<theory::EnumName<ProfileKind>, 3> kProfileKindNames = {
    {{ProfileKind::kQuick, "quick"}, {ProfileKind::kCpu, "cpu"}, {ProfileKind::kPaper, "paper"}}};

// "quick", "cpu", "paper".
std::string ToString(ProfileKind kind);
// Throws std::invalid_argument listing the accepted names.
ProfileKind ParseProfileKind(std::string_view name);

// 1a: the grid of `dissect minimize --sweep`.
struct SweepGrid {
  std::vector<int> classes;
  std::vector<double> temperatures;
  std::vector<int> per_class;
  int seeds = 1;
};

// 2a, 2b and the accuracy table: `dissect train` runs.
struct TrainedProtocol {
  std::int64_t iterations = 1000;
  std::int64_t train_images = 0;  // 0: the whole training set
  std::int64_t test_images = 0;   // 0: the whole test set
  std::int64_t probe_iterations = 500;
  std::int64_t supcon_eval_batches = 32;
  int claim_seeds = 2;        // seeds of CE and SC without augmentation (2a, 2b post-ReLU), and final linear (2b)
  int description_seeds = 1;  // seeds of the other cells of the table (CE-fix, crop+flip)
  bool crop_flip = true;      // the crop+flip column (a description on the MLP)
};

// 3: every length x seed x training-set size, per loss.
struct CorrelationGrid {
  std::vector<std::int64_t> iterations;
  std::vector<int> seeds;
  std::vector<std::int64_t> train_images;  // 0: the whole training set
};

// 4: the label-noise experiment (`dissect noise`).
struct NoiseProtocol {
  std::int64_t train_images = 1000;
  std::int64_t test_images = 1000;
  std::vector<double> fractions = {0.0, 0.5, 1.0};
  int replicates = 3;
  std::int64_t budget = 10000;             // most steps a run may take before it counts as censored
  std::int64_t schedule_horizon = 100000;  // poly-5 over the authors' 100,000 steps, stopped at the fit
  std::int64_t eval_every = 25;
  std::int64_t probe_iterations = 1000;  // docs/theory.md: 1,000 batches in the noise runs
};

struct Profile {
  ProfileKind kind = ProfileKind::kQuick;
  SweepGrid sweep;
  TrainedProtocol trained;
  CorrelationGrid correlation;
  NoiseProtocol noise;
  // The paper profile trains ResNet-18 on CIFAR-10 on a GPU; the others an MLP on Fashion-MNIST on the CPU.
  bool needs_gpu = false;
  // Seeds are base_seed + 0, 1, ...: a second base seed gives independent replicates of every experiment.
  std::uint64_t base_seed = 0;
};

Profile MakeProfile(ProfileKind kind, std::uint64_t base_seed = 0);

}  // namespace dissect::verify
