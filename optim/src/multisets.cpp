#include "dissect/optim/multisets.hpp"

#include <fmt/format.h>
#include <dissect/theory/check.hpp>
#include <limits>
#include <numeric>

namespace dissect::optim {

std::uint64_t CountMultisets(int num_items, int size) {
  if (num_items < 1 || size < 0) return 0;
  // C(n+k-1, k) built as prod_{j=1..k} (n-1+j)/j; each partial product is itself a binomial coefficient, so
  // count * (n-1+j) is divisible by j. Dividing by g = gcd(count, j) first keeps it exact without a wider type;
  // saturates instead of overflowing.
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t count = 1;
  for (int j = 1; j <= size; ++j) {
    const std::uint64_t factor = static_cast<std::uint64_t>(num_items) - 1 + j;
    const std::uint64_t g = std::gcd(count, static_cast<std::uint64_t>(j));
    const std::uint64_t reduced_factor = factor / (static_cast<std::uint64_t>(j) / g);
    if (count / g > kMax / reduced_factor) return kMax;
    count = (count / g) * reduced_factor;
  }
  return count;
}

std::vector<std::vector<int>> EnumerateMultisets(int num_items, int size, std::uint64_t max_count) {
  constexpr const char* kFunction = "EnumerateMultisets";
  theory::RequireAtLeast(kFunction, "num_items", num_items, 1);
  theory::RequireAtLeast(kFunction, "size", size, 1);
  const std::uint64_t count = CountMultisets(num_items, size);
  if (count > max_count) {
    theory::ThrowInvalidArgument(
        kFunction,
        fmt::format(
            "the multiset objective over N = {} points with batch size b = {} has {} batches, more than the "
            "limit of {}; use --mode sampled for large N",
            num_items,
            size,
            count == std::numeric_limits<std::uint64_t>::max() ? std::string("over 1.8e19") : std::to_string(count),
            max_count));
  }
  std::vector<std::vector<int>> multisets;
  multisets.reserve(count);
  std::vector<int> current(size, 0);
  while (true) {
    multisets.push_back(current);
    // Next non-decreasing sequence: increment the last entry that can grow, reset the ones after it to it.
    int position = size - 1;
    while (position >= 0 && current[position] == num_items - 1) --position;
    if (position < 0) break;
    const int value = current[position] + 1;
    for (int j = position; j < size; ++j) current[j] = value;
  }
  return multisets;
}

}  // namespace dissect::optim
