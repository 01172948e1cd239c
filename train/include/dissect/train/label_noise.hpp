#pragma once
// Paper: label noise (docs/theory.md, Experiments): flip exactly floor(p N) training labels, each to a different class
// drawn uniformly (new = (old + U{1..K-1}) mod K); test labels stay clean.

#include <cstdint>
#include <vector>

namespace dissect::train {

struct FlippedLabels {
  std::vector<std::int64_t> labels;           // N labels, floor(p N) of them changed
  std::vector<std::int64_t> flipped_indices;  // the changed positions, increasing
};

// The number of labels flipped for a fraction p of N: floor(p N), with p N rounded to 1e-9 first so that decimal
// fractions such as p = 0.3, N = 1000 give 300 and not 299. Throws std::invalid_argument for p outside [0, 1].
std::int64_t NumFlipped(double fraction, std::int64_t num_labels);

// Flips floor(p N) labels chosen uniformly without replacement, seeded (equal seeds give equal flips). For one seed
// the flips are nested: those of a smaller fraction are a subset of a larger one's, with the same new labels.
// labels in [0, K), K >= 2. Throws std::invalid_argument naming the first bad input.
FlippedLabels FlipLabels(const std::vector<std::int64_t>& labels, int num_classes, double fraction, std::uint64_t seed);

}  // namespace dissect::train
