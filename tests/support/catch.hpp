#pragma once
// Catch2 2 and 3 behind one include: every test file includes this header instead of <catch2/catch.hpp>.
// Catch2 2 (Debian 12: 2.13) is the single header <catch2/catch.hpp>. Catch2 3 (Debian 13: 3.7) splits it into
// headers per feature and moves names: Approx into namespace Catch, the matchers into Catch::Matchers, and the string
// matcher Contains becomes ContainsSubstring. For 3, this header includes what the suites use and restores the
// spellings of 2 they are written with (Approx, Catch::Message, Catch::Contains, Catch::StartsWith,
// Catch::MatcherBase), so a test reads the same under both. main() comes from Catch2::Catch2WithMain in both.

#if __has_include(<catch2/catch_test_macros.hpp>)

#include <catch2/catch_approx.hpp>
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators_all.hpp>
#include <catch2/matchers/catch_matchers.hpp>
#include <catch2/matchers/catch_matchers_exception.hpp>
#include <catch2/matchers/catch_matchers_floating_point.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>
#include <string>

namespace Catch {
using Matchers::EndsWith;
using Matchers::MatcherBase;
using Matchers::Message;
using Matchers::StartsWith;
// Catch2 2's string Contains (3's Contains is the range matcher, which a string would not select).
inline Matchers::StringContainsMatcher Contains(const std::string& fragment,
                                                CaseSensitive case_sensitivity = CaseSensitive::Yes) {
  return Matchers::ContainsSubstring(fragment, case_sensitivity);
}
}  // namespace Catch

using Catch::Approx;

#else

#include <catch2/catch.hpp>

#endif
