#include "flag_rules.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace dissect::cli {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// rho^2 <= 700 for free points: beyond it the between-class terms exp(-rho^2 K/(K-1)) underflow double precision
// (exp(-745) is the smallest), so the loss cannot tell one configuration of the classes from another and a
// minimization reports an infinite relative gap (seen: --temperature 1e-300 gave a Gram error of 3e292).
constexpr double kMaxRadiusSquared = 700.0;

struct RangeRule {
  const char* command;  // "minimize", or "bound supcon" for a nested command
  const char* flag;
  double low, high;  // inclusive
  const char* why;   // what the range means, appended to the error
};

struct ExcludeRule {
  const char* command;
  const char* flag;
  std::vector<const char*> excluded;
};

const std::vector<RangeRule>& RangeRules() {
  static const std::vector<RangeRule> rules = {
      {"train", "--train-limit", 0, kInf, "0 means all images"},
      {"train", "--test-limit", 0, kInf, "0 means all images"},
      {"noise", "--train-limit", 0, kInf, "0 means all images"},
      {"noise", "--test-limit", 0, kInf, "0 means all images"},
      {"minimize", "--restarts", 0, kInf, "0 means the default: 1, or 5 where no simplex fits"},
      {"minimize",
       "--temperature",
       1.0 / kMaxRadiusSquared,
       kInf,
       "below 1/700 the between-class terms exp(-rho^2 K/(K-1)) underflow double precision"},
      {"minimize",
       "--radius",
       0,
       std::sqrt(kMaxRadiusSquared),
       "above sqrt(700) the between-class terms exp(-rho^2 K/(K-1)) underflow double precision"},
  };
  return rules;
}

const std::vector<ExcludeRule>& ExcludeRules() {
  // The paper's figures and the sweep fix their own sizes: a size given with them would be ignored.
  static const std::vector<const char*> kSizes = {"--classes",
                                                  "--per-class",
                                                  "--class-counts",
                                                  "--dim",
                                                  "--radius",
                                                  "--temperature",
                                                  "--mode",
                                                  "--batch-size",
                                                  "--composition"};
  static const std::vector<ExcludeRule> rules = {
      {"minimize", "--per-class", {"--class-counts"}},
      {"minimize", "--figure1", kSizes},
      {"minimize", "--figure5", kSizes},
      {"minimize", "--figure6", kSizes},
      {"minimize", "--sweep", kSizes},
  };
  return rules;
}

// Every --out: an empty folder name would write nothing, silently.
const std::vector<const char*> kOutCommands = {"minimize", "train", "noise", "reproduce", "gpu-check"};

CLI::App* FindCommand(CLI::App& app, const std::string& path) {
  CLI::App* command = &app;
  std::size_t start = 0;
  while (start < path.size()) {
    const std::size_t end = path.find(' ', start);
    const std::string name = path.substr(start, end == std::string::npos ? std::string::npos : end - start);
    command = command->get_subcommand(name);  // throws CLI::OptionNotFound when missing
    start = end == std::string::npos ? path.size() : end + 1;
  }
  return command;
}

CLI::Option* FindFlag(CLI::App& app, const std::string& command, const std::string& flag) {
  CLI::App* sub = nullptr;
  try {
    sub = FindCommand(app, command);
  } catch (const CLI::Error&) {
    throw std::logic_error(fmt::format("ApplyFlagRules(): no command '{}'", command));
  }
  CLI::Option* option = sub->get_option_no_throw(flag);
  if (option == nullptr) throw std::logic_error(fmt::format("ApplyFlagRules(): '{}' has no flag {}", command, flag));
  return option;
}

CLI::Validator Range(double low, double high, const std::string& why) {
  return CLI::Validator(
      [low, high, why](std::string& text) -> std::string {
        double value = 0.0;
        try {
          std::size_t used = 0;
          value = std::stod(text, &used);
          if (used != text.size()) return fmt::format("expected a number, got '{}'", text);
        } catch (const std::exception&) {
          return fmt::format("expected a number, got '{}'", text);
        }
        if (low > 0.0 && value <= 0.0) return fmt::format("expected a value > 0, got {}", text);
        if (std::isnan(value) || value < low || value > high) {
          const std::string range =
              high == kInf ? fmt::format(">= {:g}", low) : fmt::format("in [{:g}, {:g}]", low, high);
          return fmt::format("expected a value {}, got {} ({})", range, text, why);
        }
        return std::string();
      },
      "",
      "flag range");
}

}  // namespace

void ApplyFlagRules(CLI::App& app) {
  for (const RangeRule& rule : RangeRules()) {
    FindFlag(app, rule.command, rule.flag)->check(Range(rule.low, rule.high, rule.why));
  }
  for (const ExcludeRule& rule : ExcludeRules()) {
    CLI::Option* option = FindFlag(app, rule.command, rule.flag);
    for (const char* other : rule.excluded) option->excludes(FindFlag(app, rule.command, other));
  }
  for (const char* command : kOutCommands) {
    FindFlag(app, command, "--out")
        ->check(CLI::Validator(
            [](std::string& text) {
              return text.empty() ? std::string("expected a folder, got an empty name") : std::string();
            },
            "",
            "non-empty"));
  }
}

}  // namespace dissect::cli
