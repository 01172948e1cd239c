#pragma once
// Enumeration of all multisets of a given size: the batches of the paper's SC bound (docs/theory.md, SC bound).

#include <cstdint>
#include <vector>

namespace dissect::optim {

// The number of multisets of size `size` from `num_items` items, C(n+k-1, k), saturating at UINT64_MAX.
std::uint64_t CountMultisets(int num_items, int size);

// Every multiset of `size` indices from [0, num_items), as non-decreasing index lists, in lexicographic order.
// Throws std::invalid_argument when num_items < 1, size < 1, or the count exceeds max_count (the message says how
// many there would be).
std::vector<std::vector<int>> EnumerateMultisets(int num_items, int size, std::uint64_t max_count);

}  // namespace dissect::optim
