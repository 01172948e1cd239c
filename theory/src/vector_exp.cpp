#include "vector_exp.hpp"

#include <cstdlib>
#include <string>

// The kernels are written once, on GCC's generic vectors, as templates over the vector types of one instruction set
// (its native width: 2, 4 or 8 doubles), and inlined into one function per instruction set compiled for its target
// with the target attribute. Every loop walks blocks of 16 elements and every sum keeps one partial sum per position
// in the block (16 of them, in whatever registers), added in one fixed order at the end: the same order on every
// width. Nothing in here calls a library function (no std:: template is instantiated under a target attribute, so
// no out-of-line copy compiled for AVX-512 can be picked by the linker for other callers).

namespace dissect::theory::detail {
namespace {

using Index = Eigen::Index;
// The vectors of each width, and the integers of the same size for the exponent bits.
typedef double D2 __attribute__((vector_size(16)));
typedef double D4 __attribute__((vector_size(32)));
typedef double D8 __attribute__((vector_size(64)));
typedef long long L2 __attribute__((vector_size(16)));
typedef long long L4 __attribute__((vector_size(32)));
typedef long long L8 __attribute__((vector_size(64)));
typedef float F4 __attribute__((vector_size(16)));
typedef float F8 __attribute__((vector_size(32)));
typedef float F16 __attribute__((vector_size(64)));
typedef int I4 __attribute__((vector_size(16)));
typedef int I8 __attribute__((vector_size(32)));
typedef int I16 __attribute__((vector_size(64)));

// The native vectors of each instruction set (the baseline: 16 bytes, SSE2 on x86-64).
struct BaselineVectors {
  using Double = D2;
  using Float = F4;
};
struct Avx2Vectors {
  using Double = D4;
  using Float = F8;
};
struct Avx512Vectors {
  using Double = D8;
  using Float = F16;
};

#define DISSECT_INLINE inline __attribute__((always_inline))

constexpr Index kBlock = 16;  // elements per step of every loop, and partial sums of every sum
constexpr double kInfinity = __builtin_inf();

template <typename V, typename Scalar>
DISSECT_INLINE V Load(const Scalar* p) {
  V v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}

template <typename V, typename Scalar>
DISSECT_INLINE void Store(Scalar* p, const V& v) {
  __builtin_memcpy(p, &v, sizeof v);
}

template <typename V, typename Scalar>
DISSECT_INLINE V Clamp(V x, Scalar low, Scalar high) {
  x = x < low ? V{} + low : x;
  return x > high ? V{} + high : x;
}

// expm1(y) for |y| <= ln 2 / 2: y + y^2 (1/2! + y/3! + ... + y^11/13!) (remainder below y^14/14! <= 5e-18), and for
// floats to y^8/8! (remainder 2e-10 relative). The coefficients 1/n!, highest first.
constexpr double kDoubleCoefficients[] = {1.0 / 6227020800.0,
                                          1.0 / 479001600.0,
                                          1.0 / 39916800.0,
                                          1.0 / 3628800.0,
                                          1.0 / 362880.0,
                                          1.0 / 40320.0,
                                          1.0 / 5040.0,
                                          1.0 / 720.0,
                                          1.0 / 120.0,
                                          1.0 / 24.0,
                                          1.0 / 6.0,
                                          0.5};
constexpr float kFloatCoefficients[] = {
    1.0f / 40320.0f, 1.0f / 5040.0f, 1.0f / 720.0f, 1.0f / 120.0f, 1.0f / 24.0f, 1.0f / 6.0f, 0.5f};

template <typename V, typename Scalar, int N>
DISSECT_INLINE V ExpMinusOnePolynomial(V y, const Scalar (&coefficients)[N]) {
  V r = V{} + coefficients[0];
  for (int n = 1; n < N; ++n) r = r * y + coefficients[n];  // Horner, unrolled by the compiler
  return (y * y) * r + y;
}
template <typename V>
DISSECT_INLINE V ExpMinusOnePolynomial(V y) {
  if constexpr (sizeof(y[0]) == sizeof(double)) {
    return ExpMinusOnePolynomial(y, kDoubleCoefficients);
  } else {
    return ExpMinusOnePolynomial(y, kFloatCoefficients);
  }
}

// The constants of the reduction x = k ln 2 + y per type: round-to-integer by adding and subtracting 1.5 2^p, ln 2 in
// a part whose products with k are exact and a remainder (fdlibm's split), the clamps, the exponent bias.
struct DoubleReduction {
  static constexpr double kRound = 6755399441055744.0;  // 1.5 * 2^52
  static constexpr double kLog2E = 1.4426950408889634;
  static constexpr double kLn2High = 6.93147180369123816490e-01;
  static constexpr double kLn2Low = 1.90821492927058770002e-10;
  static constexpr double kLowest = -1000.0;  // exp gives 0 below this (and for -infinity)
  static constexpr double kHighest = 709.7;
  static constexpr long long kBias = 1023;
  static constexpr int kMantissaBits = 52;
};
struct FloatReduction {
  static constexpr float kRound = 12582912.0f;  // 1.5 * 2^23
  static constexpr float kLog2E = 1.44269504f;
  static constexpr float kLn2High = 0.693145751953125f;
  static constexpr float kLn2Low = 1.428606765330187045e-06f;
  static constexpr float kLowest = -110.0f;
  static constexpr float kHighest = 88.7f;
  static constexpr int kBias = 127;
  static constexpr int kMantissaBits = 23;
};

template <typename V>
struct Traits;
#define DISSECT_TRAITS(V, B, Reduction) \
  template <>                           \
  struct Traits<V> {                    \
    using Bits = B;                     \
    using R = Reduction;                \
  };
DISSECT_TRAITS(D2, L2, DoubleReduction)
DISSECT_TRAITS(D4, L4, DoubleReduction)
DISSECT_TRAITS(D8, L8, DoubleReduction)
DISSECT_TRAITS(F4, I4, FloatReduction)
DISSECT_TRAITS(F8, I8, FloatReduction)
DISSECT_TRAITS(F16, I16, FloatReduction)
#undef DISSECT_TRAITS

template <typename V>
DISSECT_INLINE V Round(V t) {
  using R = typename Traits<V>::R;
  return (t + R::kRound) - R::kRound;
}

// 2^k for integral k within the normal exponents, from its bits.
template <typename V>
DISSECT_INLINE V PowerOfTwo(V k) {
  using Bits = typename Traits<V>::Bits;
  using R = typename Traits<V>::R;
  const Bits integer = (Bits)(k + R::kRound) - (Bits)(V{} + R::kRound);
  return (V)((integer + R::kBias) << R::kMantissaBits);
}

// x = k ln 2 + y, |y| <= ln 2 / 2.
template <typename V>
DISSECT_INLINE V Reduce(V x, V* k) {
  using R = typename Traits<V>::R;
  *k = Round(x * R::kLog2E);
  const V y = x - *k * R::kLn2High;
  return y - *k * R::kLn2Low;
}

template <typename V>
DISSECT_INLINE V Exp(V x) {
  using R = typename Traits<V>::R;
  x = Clamp(x, R::kLowest, R::kHighest);
  V k;
  const V q = ExpMinusOnePolynomial(Reduce(x, &k));
  // 2^k as 2^k1 2^k2, both normal: the first product is exact and the second rounds once, subnormals included.
  const V k1 = Round(k * 0.5f);
  return ((q + 1.0f) * PowerOfTwo(k1)) * PowerOfTwo(k - k1);
}

// expm1(x) = 2^k expm1(y) + (2^k - 1): no cancellation for small x (k = 0 leaves the polynomial alone).
template <typename V>
DISSECT_INLINE V ExpMinusOne(V x) {
  x = Clamp(x, -50.0, 709.0);  // expm1(-50) is -1 in double
  V k;
  const V q = ExpMinusOnePolynomial(Reduce(x, &k));
  const V scale = PowerOfTwo(k);
  return scale * q + (scale - 1.0);
}

// The low and high halves of a float vector, widened to doubles.
DISSECT_INLINE D2 Low(F4 f) { return __builtin_convertvector(__builtin_shufflevector(f, f, 0, 1), D2); }
DISSECT_INLINE D2 High(F4 f) { return __builtin_convertvector(__builtin_shufflevector(f, f, 2, 3), D2); }
DISSECT_INLINE D4 Low(F8 f) { return __builtin_convertvector(__builtin_shufflevector(f, f, 0, 1, 2, 3), D4); }
DISSECT_INLINE D4 High(F8 f) { return __builtin_convertvector(__builtin_shufflevector(f, f, 4, 5, 6, 7), D4); }
DISSECT_INLINE D8 Low(F16 f) {
  return __builtin_convertvector(__builtin_shufflevector(f, f, 0, 1, 2, 3, 4, 5, 6, 7), D8);
}
DISSECT_INLINE D8 High(F16 f) {
  return __builtin_convertvector(__builtin_shufflevector(f, f, 8, 9, 10, 11, 12, 13, 14, 15), D8);
}

// The 16 partial sums of a block (sums[j] holds positions j W .. j W + W - 1), always added in this order.
template <typename D>
DISSECT_INLINE double Total(const D* sums) {
  double part[kBlock];
  __builtin_memcpy(part, sums, sizeof part);
  double half[kBlock / 2];
  for (Index k = 0; k < kBlock / 2; ++k) half[k] = part[k] + part[k + kBlock / 2];
  return ((half[0] + half[1]) + (half[2] + half[3])) + ((half[4] + half[5]) + (half[6] + half[7]));
}

template <typename V, typename Scalar>
DISSECT_INLINE Scalar MaxBody(const Scalar* values, Index n) {
  constexpr Index kLanes = sizeof(V) / sizeof(Scalar);
  V m0 = V{} - static_cast<Scalar>(kInfinity), m1 = m0;
  Index k = 0;
  for (; k + 2 * kLanes <= n; k += 2 * kLanes) {
    const V a = Load<V>(values + k), b = Load<V>(values + k + kLanes);
    m0 = a > m0 ? a : m0;
    m1 = b > m1 ? b : m1;
  }
  m0 = m1 > m0 ? m1 : m0;
  Scalar m = m0[0];
  for (Index lane = 1; lane < kLanes; ++lane) m = m0[lane] > m ? m0[lane] : m;
  for (; k < n; ++k) m = values[k] > m ? values[k] : m;
  return m;
}

// One block of 16: exponentials stored, added to the partial sums in double.
template <typename Vectors>
DISSECT_INLINE void ExpBlock(double* p, double shift, typename Vectors::Double* sums) {
  using D = typename Vectors::Double;
  constexpr Index kLanes = sizeof(D) / sizeof(double);
  for (Index j = 0; j < kBlock / kLanes; ++j) {
    const D e = Exp(Load<D>(p + j * kLanes) - shift);
    Store(p + j * kLanes, e);
    sums[j] += e;
  }
}

template <typename Vectors>
DISSECT_INLINE void ExpBlock(float* p, float shift, typename Vectors::Double* sums) {
  using F = typename Vectors::Float;
  constexpr Index kLanes = sizeof(F) / sizeof(float);
  for (Index j = 0; j < kBlock / kLanes; ++j) {
    const F e = Exp(Load<F>(p + j * kLanes) - shift);
    Store(p + j * kLanes, e);
    sums[2 * j] += Low(e);
    sums[2 * j + 1] += High(e);
  }
}

template <typename Vectors, typename Scalar>
DISSECT_INLINE double ExpShiftedSumBody(Scalar* values, Index n, Scalar shift) {
  using D = typename Vectors::Double;
  D sums[kBlock * sizeof(double) / sizeof(D)] = {};
  Index k = 0;
  for (; k + kBlock <= n; k += kBlock) ExpBlock<Vectors>(values + k, shift, sums);
  if (k < n) {
    // The tail through the same code, padded with -infinity (exp gives 0).
    Scalar tail[kBlock];
    for (Index j = 0; j < kBlock; ++j) tail[j] = k + j < n ? values[k + j] : -static_cast<Scalar>(kInfinity);
    ExpBlock<Vectors>(tail, shift, sums);
    for (Index j = 0; k + j < n; ++j) values[k + j] = tail[j];
  }
  return Total(sums);
}

template <typename Vectors>
DISSECT_INLINE double SumExpMinusOneBody(const double* values, Index n) {
  using D = typename Vectors::Double;
  constexpr Index kLanes = sizeof(D) / sizeof(double);
  D sums[kBlock / kLanes] = {};
  double tail[kBlock];  // padded with 0: expm1(0) = 0
  for (Index k = 0; k < n; k += kBlock) {
    const double* block = values + k;
    if (k + kBlock > n) {
      for (Index j = 0; j < kBlock; ++j) tail[j] = k + j < n ? values[k + j] : 0.0;
      block = tail;
    }
    for (Index j = 0; j < kBlock / kLanes; ++j) sums[j] += ExpMinusOne(Load<D>(block + j * kLanes));
  }
  return Total(sums);
}

template <typename V, typename Scalar>
DISSECT_INLINE void ScaleBody(Scalar* values, Index n, Scalar factor) {
  constexpr Index kLanes = sizeof(V) / sizeof(Scalar);
  Index k = 0;
  for (; k + kLanes <= n; k += kLanes) Store(values + k, Load<V>(values + k) * factor);
  for (; k < n; ++k) values[k] *= factor;
}

struct Kernels {
  double (*max_double)(const double*, Index);
  float (*max_float)(const float*, Index);
  double (*exp_double)(double*, Index, double);
  double (*exp_float)(float*, Index, float);
  double (*expm1_sum)(const double*, Index);
  void (*scale_double)(double*, Index, double);
  void (*scale_float)(float*, Index, float);
};

// One set of kernels per instruction set: the bodies above inlined into functions compiled for it.
#define DISSECT_DEFINE_KERNELS(name, attributes)                                                                       \
  using name##D = name##Vectors::Double;                                                                               \
  using name##F = name##Vectors::Float;                                                                                \
  attributes double name##MaxDouble(const double* v, Index n) { return MaxBody<name##D>(v, n); }                       \
  attributes float name##MaxFloat(const float* v, Index n) { return MaxBody<name##F>(v, n); }                          \
  attributes double name##ExpDouble(double* v, Index n, double s) {                                                    \
    return ExpShiftedSumBody<name##Vectors>(v, n, s);                                                                  \
  }                                                                                                                    \
  attributes double name##ExpFloat(float* v, Index n, float s) { return ExpShiftedSumBody<name##Vectors>(v, n, s); }   \
  attributes double name##ExpMinusOneSum(const double* v, Index n) { return SumExpMinusOneBody<name##Vectors>(v, n); } \
  attributes void name##ScaleDouble(double* v, Index n, double f) { ScaleBody<name##D>(v, n, f); }                     \
  attributes void name##ScaleFloat(float* v, Index n, float f) { ScaleBody<name##F>(v, n, f); }                        \
  constexpr Kernels k##name##Kernels{name##MaxDouble,                                                                  \
                                     name##MaxFloat,                                                                   \
                                     name##ExpDouble,                                                                  \
                                     name##ExpFloat,                                                                   \
                                     name##ExpMinusOneSum,                                                             \
                                     name##ScaleDouble,                                                                \
                                     name##ScaleFloat};

DISSECT_DEFINE_KERNELS(Baseline, )
#if defined(__x86_64__) || defined(__i386__)
#define DISSECT_X86 1
DISSECT_DEFINE_KERNELS(Avx2, __attribute__((target("avx2,fma"))))
DISSECT_DEFINE_KERNELS(Avx512, __attribute__((target("avx512f"))))
#endif
#undef DISSECT_DEFINE_KERNELS

const Kernels& KernelsFor(InstructionSet isa) {
#ifdef DISSECT_X86
  if (isa == InstructionSet::kAvx512) return kAvx512Kernels;
  if (isa == InstructionSet::kAvx2) return kAvx2Kernels;
#endif
  (void)isa;
  return kBaselineKernels;
}

}  // namespace

bool Supported(InstructionSet value) {
  switch (value) {
    case InstructionSet::kBaseline:
      return true;
#ifdef DISSECT_X86
    // libgcc's cpuid reading includes the operating system's XSAVE state (AVX registers enabled).
    case InstructionSet::kAvx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case InstructionSet::kAvx512:
      return __builtin_cpu_supports("avx512f");
#endif
    default:
      return false;
  }
}

InstructionSet DetectedInstructionSet() {
  static const InstructionSet detected = [] {
    InstructionSet widest = Supported(InstructionSet::kAvx512) ? InstructionSet::kAvx512
                            : Supported(InstructionSet::kAvx2) ? InstructionSet::kAvx2
                                                               : InstructionSet::kBaseline;
    // DISSECT_INSTRUCTION_SET=sse2|avx2 runs a narrower set than the CPU's widest (to measure or test it there); a
    // wider one than the CPU runs, or another word, is ignored.
    const char* requested = std::getenv("DISSECT_INSTRUCTION_SET");
    if (requested != nullptr) {
      const std::string name(requested);
      const InstructionSet asked = name == "sse2" || name == "baseline" ? InstructionSet::kBaseline
                                   : name == "avx2"                     ? InstructionSet::kAvx2
                                   : name == "avx512"                   ? InstructionSet::kAvx512
                                                                        : widest;
      if (Supported(asked) && static_cast<int>(asked) <= static_cast<int>(widest)) widest = asked;
    }
    return widest;
  }();
  return detected;
}

const char* ToString(InstructionSet value) {
  switch (value) {
    case InstructionSet::kAvx2:
      return "AVX2+FMA";
    case InstructionSet::kAvx512:
      return "AVX-512F";
    case InstructionSet::kBaseline:
      break;
  }
#ifdef DISSECT_X86
  return "SSE2";
#else
  return "baseline";
#endif
}

double MaxValue(InstructionSet isa, const double* values, Index n) { return KernelsFor(isa).max_double(values, n); }
float MaxValue(InstructionSet isa, const float* values, Index n) { return KernelsFor(isa).max_float(values, n); }
double ExpShiftedSum(InstructionSet isa, double* values, Index n, double shift) {
  return KernelsFor(isa).exp_double(values, n, shift);
}
double ExpShiftedSum(InstructionSet isa, float* values, Index n, float shift) {
  return KernelsFor(isa).exp_float(values, n, shift);
}
double SumExpMinusOne(InstructionSet isa, const double* values, Index n) {
  return KernelsFor(isa).expm1_sum(values, n);
}
void Scale(InstructionSet isa, double* values, Index n, double factor) {
  KernelsFor(isa).scale_double(values, n, factor);
}
void Scale(InstructionSet isa, float* values, Index n, float factor) { KernelsFor(isa).scale_float(values, n, factor); }

}  // namespace dissect::theory::detail
