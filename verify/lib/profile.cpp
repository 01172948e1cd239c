#include "dissect/verify/profile.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace dissect::verify {

std::string ToString(ProfileKind value) { return theory::NameOf(kProfileKindNames, value); }

ProfileKind ParseProfileKind(std::string_view name) {
  return theory::ParseName(kProfileKindNames, name, "ParseProfileKind", "");
}

Profile MakeProfile(ProfileKind kind, std::uint64_t base_seed) {
  Profile p;
  p.kind = kind;
  p.base_seed = base_seed;
  switch (kind) {
    case ProfileKind::kQuick:
      p.sweep = {{2, 3, 5}, {0.1, 0.5, 1.0}, {1, 3}, 2};
      p.trained = {1000, 6000, 2000, 500, 4, 4, 1, true};
      p.correlation = {{50, 200, 800}, {0, 1}, {2000, 6000}};
      p.noise = {1000, 1000, {0.0, 0.5, 1.0}, 3, 10000, 100000, 25, 1000};
      break;
    case ProfileKind::kCpu:
      p.sweep = {{2, 3, 5, 10}, {0.05, 0.1, 0.5, 1.0}, {1, 5, 20}, 5};
      p.trained = {5000, 0, 0, 2000, 32, 5, 1, true};
      p.correlation = {{250, 1000, 4000}, {0, 1, 2}, {10000, 0}};
      p.noise = {2000, 2000, {0.0, 0.25, 0.5, 0.75, 1.0}, 5, 20000, 100000, 25, 1000};
      break;
    case ProfileKind::kPaper:
      p.sweep = {{2, 3, 5, 10}, {0.05, 0.1, 0.5, 1.0}, {1, 5, 20}, 5};
      p.trained = {100000, 0, 0, 5000, 32, 3, 1, true};
      p.correlation = {{5000, 20000, 100000}, {0}, {10000, 0}};
      p.noise = {0, 0, {0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0}, 3, 100000, 100000, 500, 1000};
      p.needs_gpu = true;
      break;
  }
  return p;
}

}  // namespace dissect::verify
