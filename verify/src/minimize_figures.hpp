#pragma once
// The paper's Figures 1 and 5 by free points, flags of `dissect minimize` (--figure1, --figure5); Figure 6 lives
// with the minimization it repeats (minimize_command.cpp).

#include <cstdint>
#include <string>

namespace dissect::cli {

struct FigureFlags {
  std::uint64_t seed = 0;
  std::string out;  // empty: no files
  bool force = false;
  bool json = false;
};

// Figure 1: K = 4 classes of 5 points in 3-D moved by projected gradient descent of SC and of CE to the simplex (a
// tetrahedron). Exit 1 unless both end at the bound and at the simplex.
int RunFigure1(const FigureFlags& flags);

// Figure 5: the SC loss of each of the 2002 multiset batches (K = 3, n = 2, b = 9, rho = 1), grouped by label
// configuration, at the simplex and at points trained by SGD on i.i.d. batches. Exit 1 unless the simplex's total
// equals the bound and the trained total is not below it.
int RunFigure5(const FigureFlags& flags);

}  // namespace dissect::cli
