#pragma once
// Private to theory: the exponential passes of the SC kernel over one column of the similarity matrix, vectorized
// for the CPU the process runs on. Eigen without -march compiles its packet exp for SSE2 (2 doubles a
// instruction); these kernels are compiled three times on x86-64 (SSE2, AVX2 + FMA, AVX-512F) and the widest the CPU
// and the OS support is picked once at run time, so the default build stays portable (docs/design.md, "The SC kernel").
//
// The exponential: x = k ln 2 + y with |y| <= ln 2 / 2 (Cody-Waite, ln 2 in two parts), expm1(y) by its Taylor
// polynomial to y^13/13! (the remainder is below 5e-18 relative), exp(x) = 2^k (1 + expm1(y)) with 2^k applied as two
// factors so that results down to the subnormals round once. Measured against std::exp and std::expm1:
// tests/theory/vector_exp_test.cpp. The lanes of every sum are added in one fixed order on every instruction set,
// so a sum depends on neither the instruction set's width nor the thread count; the instruction sets differ only
// where FMA contracts a product and a sum (AVX2, AVX-512), by an ulp.

#include <Eigen/Core>

namespace dissect::theory::detail {

enum class InstructionSet { kBaseline, kAvx2, kAvx512 };

// The widest instruction set both this CPU and its operating system support; kBaseline is what the compiler targets
// by default (SSE2 on x86-64; on other architectures the only one). Decided once per process; the environment
// variable DISSECT_INSTRUCTION_SET=sse2 or avx2 asks for a narrower one (docs/development.md, Benchmarks).
InstructionSet DetectedInstructionSet();
const char* ToString(InstructionSet value);  // "SSE2" (x86-64) or "baseline", "AVX2+FMA", "AVX-512F"

// The instruction sets this CPU can run, kBaseline first (the tests compare them on one machine).
bool Supported(InstructionSet value);

// max_k values[k]; -infinity for n = 0.
double MaxValue(InstructionSet isa, const double* values, Eigen::Index n);
float MaxValue(InstructionSet isa, const float* values, Eigen::Index n);

// values[k] = exp(values[k] - shift) in place (-infinity gives 0), and returns their sum, in double. Arguments
// below -1000 (float: -110) give 0; the caller keeps values[k] - shift <= 0 (the column's maximum as shift).
double ExpShiftedSum(InstructionSet isa, double* values, Eigen::Index n, double shift);
double ExpShiftedSum(InstructionSet isa, float* values, Eigen::Index n, float shift);

// sum_k expm1(values[k]), each term to about an ulp (no cancellation near 0).
double SumExpMinusOne(InstructionSet isa, const double* values, Eigen::Index n);

// values[k] *= factor.
void Scale(InstructionSet isa, double* values, Eigen::Index n, double factor);
void Scale(InstructionSet isa, float* values, Eigen::Index n, float factor);

}  // namespace dissect::theory::detail
