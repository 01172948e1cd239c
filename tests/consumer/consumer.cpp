// A project outside the tree links dissect::theory through find_package(dissect) and evaluates a known answer.
#include <cmath>
#include <cstdio>
#include <dissect/theory/bounds.hpp>

// The consumer asked for C++14; dissect::theory carries its own standard (cxx_std_17 or newer) to it.
static_assert(__cplusplus >= 201703L, "dissect's targets did not bring their C++ standard");

int main() {
  const double bound = dissect::theory::CrossEntropyBound(3, 1.0, 1.0);  // docs/theory.md: 0.3689811354013154
  std::printf("%.16g\n", bound);
  return std::abs(bound - 0.3689811354013154) < 1e-15 ? 0 : 1;
}
