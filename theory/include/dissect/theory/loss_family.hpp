#pragma once
// The paper's two losses, as one name for whatever minimizes or evaluates them: CE (a linear classifier on the
// features) and SC. Training adds its recipes on top (train::LossKind: ce, ce-fix, ce-sphere, supcon).

#include <array>
#include <string>
#include <string_view>

#include "dissect/theory/enum_names.hpp"

namespace dissect::theory {

enum class LossFamily {
  kSupCon,        // "supcon": the supervised contrastive loss
  kCrossEntropy,  // "ce": cross-entropy of a linear classifier
};
// The names of LossFamily, for ToString, ParseLossFamily and the command line's choices.
inline constexpr std::array<EnumName<LossFamily>, 2> kLossFamilyNames = {
    {{LossFamily::kSupCon, "supcon"}, {LossFamily::kCrossEntropy, "ce"}}};

inline std::string ToString(LossFamily family) { return NameOf(kLossFamilyNames, family); }
// Throws std::invalid_argument "ParseLossFamily(): expected loss supcon or ce, got '...'".
inline LossFamily ParseLossFamily(std::string_view name) {
  return ParseName(kLossFamilyNames, name, "ParseLossFamily", "loss");
}

}  // namespace dissect::theory
