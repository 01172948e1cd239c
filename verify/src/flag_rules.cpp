#include "flag_rules.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
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

// An interval of valid values; an open end excludes its value. Integers use the same comparisons.
struct Range {
  double low = -kInf;
  bool low_open = false;
  double high = kInf;
  bool high_open = false;
};

Range AtLeast(double low) { return {low, false, kInf, false}; }
Range Positive() { return {0.0, true, kInf, false}; }
Range Open(double low, double high) { return {low, true, high, true}; }
Range Closed(double low, double high) { return {low, false, high, false}; }
Range HalfOpen(double low, double high) { return {low, false, high, true}; }  // [low, high)

struct RangeRule {
  std::vector<const char*> commands;  // "minimize", or "bound supcon" for a nested command
  const char* flag;
  Range range;
  const char* why;  // what the range means, appended to the error; "" when the range says it all
};

// Every numeric flag of every command (tests/cli/flag_audit_test.cpp finds any that is missing: it probes each with
// 0 and -1, and a flag that takes either must be listed there with what the value means). Where a flag has the same
// meaning in several commands it has one rule naming them all.
const std::vector<RangeRule>& RangeRules() {
  static const std::vector<const char*> kBoundAndFreePoints = {"bound ce", "bound supcon", "bound report", "minimize"};
  static const std::vector<const char*> kTraining = {"train", "noise"};
  static const std::vector<RangeRule> rules = {
      // The losses' parameters: tau > 0, rho = 1/sqrt(tau) > 0, r > 0 (docs/theory.md).
      {{"bound supcon", "bound report", "loss", "geometry", "train", "noise"}, "--temperature", Positive(), ""},
      {{"bound ce", "bound supcon", "loss", "geometry"}, "--radius", Positive(), ""},
      {{"bound ce", "minimize"}, "--weight-norm", Positive(), ""},
      {{"loss"}, "--base-temperature", Positive(), ""},
      {{"minimize"},
       "--temperature",
       AtLeast(1.0 / kMaxRadiusSquared),
       "below 1/700 the between-class terms exp(-rho^2 K/(K-1)) underflow double precision"},
      {{"minimize"},
       "--sweep-temperatures",
       AtLeast(1.0 / kMaxRadiusSquared),
       "below 1/700 the between-class terms exp(-rho^2 K/(K-1)) underflow double precision"},
      {{"minimize"},
       "--radius",
       {0.0, true, std::sqrt(kMaxRadiusSquared), false},
       "above sqrt(700) the between-class terms exp(-rho^2 K/(K-1)) underflow double precision"},
      // Sizes: K >= 2 classes (one class has no simplex), n >= 1, b >= 2 (an SC batch needs a positive pair).
      {kBoundAndFreePoints, "--classes", AtLeast(2), ""},
      {{"geometry"}, "--classes", AtLeast(2), "without it, K is read from the data"},
      {{"minimize"}, "--sweep-classes", AtLeast(2), ""},
      {{"bound supcon", "minimize"}, "--per-class", AtLeast(1), ""},
      {{"minimize"}, "--sweep-per-class", AtLeast(1), ""},
      {{"minimize"}, "--class-counts", AtLeast(1), "every class has a point"},
      {{"bound supcon", "minimize"}, "--composition", AtLeast(0), "0: the class is absent from the batch"},
      {{"bound report"}, "--num-points", AtLeast(1), ""},
      {{"bound supcon", "bound report", "minimize", "geometry"},
       "--batch-size",
       AtLeast(2),
       "a batch of one has no pairs"},
      {kTraining, "--batch-size", AtLeast(1), "SC needs 2, checked with the loss"},
      {{"minimize", "train", "noise"}, "--dim", AtLeast(1), ""},
      {kTraining, "--hidden", AtLeast(1), ""},
      // Optimizer settings.
      {{"minimize"}, "--restarts", AtLeast(0), "0 means the default: 1, or 5 where no simplex fits"},
      {{"minimize"}, "--max-iterations", AtLeast(0), "0: the start is evaluated, nothing optimized"},
      {{"minimize"}, "--tolerance", AtLeast(0), "0: run to --max-iterations"},
      {{"minimize"}, "--gap-tolerance", AtLeast(0), "0: off"},
      {{"minimize"}, "--max-batches", AtLeast(1), ""},
      {{"minimize"}, "--sgd-iterations", AtLeast(1), ""},
      {{"minimize"}, "--learning-rate", Positive(), ""},
      {{"minimize"}, "--sweep-seeds", AtLeast(1), ""},
      {kTraining, "--iterations", AtLeast(1), ""},
      {kTraining, "--lr", Positive(), ""},
      {kTraining, "--momentum", HalfOpen(0, 1), ""},
      {kTraining, "--weight-decay", AtLeast(0), ""},
      {kTraining, "--schedule-horizon", AtLeast(0), "0 means --iterations"},
      {kTraining, "--eval-every", AtLeast(0), "0 means only at the end"},
      {kTraining, "--probe-iterations", AtLeast(0), "0 turns the probe off"},
      {kTraining, "--supcon-eval-batches", AtLeast(1), ""},
      {kTraining, "--threads", AtLeast(0), "0 means all cores"},
      {kTraining, "--train-limit", AtLeast(0), "0 means all images"},
      {kTraining, "--test-limit", AtLeast(0), "0 means all images"},
      {{"train"}, "--checkpoint-every", AtLeast(0), "0 means only at the end"},
      {{"train"}, "--rank", AtLeast(0), "ranks count from 0"},
      {{"train"}, "--dist-timeout", Positive(), "seconds"},
      {{"train"}, "--launch-ready-fd", AtLeast(0), "a file descriptor"},
      // The label-noise experiment: flipped fractions p in [0, 1].
      {{"noise"}, "--fractions", Closed(0, 1), "the fraction of flipped labels"},
      {{"noise"}, "--replicates", AtLeast(1), ""},
      {{"noise"}, "--bootstrap", AtLeast(1), ""},
      // dissect geometry's work sizes.
      {{"geometry"}, "--batches", AtLeast(2), "an average over M >= 2 batches has a spread"},
      {{"geometry"}, "--chunk-size", AtLeast(1), ""},
      {{"geometry"}, "--uniformity-limit", AtLeast(2), ""},
      {{"geometry"}, "--full-batch-limit", AtLeast(0), "0: never the full batch"},
      {{"geometry"}, "--pseudo-inverse-cutoff", Open(0, 1), "a fraction of the largest eigenvalue"},
      // Processes and time.
      {{"launch"}, "--grace", Positive(), "seconds"},
      {{"reproduce"}, "--threads", AtLeast(1), ""},
      {{"gpu-check"}, "--memory-gb", Positive(), ""},
      {{"gpu-check"}, "--step-seconds", Positive(), ""},
      {{"gpu-check"}, "--noise-seconds", Positive(), ""},
  };
  return rules;
}

struct ExcludeRule {
  const char* command;
  const char* flag;
  std::vector<const char*> excluded;
};

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

std::string Describe(const Range& r) {
  if (r.high == kInf) return fmt::format("{} {:g}", r.low_open ? ">" : ">=", r.low);
  return fmt::format("in {}{:g}, {:g}{}", r.low_open ? "(" : "[", r.low, r.high, r.high_open ? ")" : "]");
}

bool Contains(const Range& r, double value) {
  const bool above = r.low_open ? value > r.low : value >= r.low;
  const bool below = r.high_open ? value < r.high : value <= r.high;
  return above && below;  // false for NaN
}

CLI::Validator RangeValidator(const Range& range, const std::string& why) {
  return CLI::Validator(
      [range, why](std::string& text) -> std::string {
        double value = 0.0;
        try {
          std::size_t used = 0;
          value = std::stod(text, &used);
          if (used != text.size()) return fmt::format("expected a number, got '{}'", text);
        } catch (const std::exception&) {
          return fmt::format("expected a number, got '{}'", text);
        }
        // A value <= 0 where the range starts just above 0 (minimize's 1/700) is told as a sign error first.
        if (range.low > 0.0 && range.low < 1.0 && value <= 0.0) {
          return fmt::format("expected a value > 0, got {}", text);
        }
        if (!Contains(range, value)) {
          return why.empty() ? fmt::format("expected a value {}, got {}", Describe(range), text)
                             : fmt::format("expected a value {}, got {} ({})", Describe(range), text, why);
        }
        return std::string();
      },
      "",
      "flag range");
}

// Every numeric flag: a finite number (CLI11 takes "nan", "inf" and overflowing "1e999" for a double), and no sign
// for an unsigned one (CLI11 reads "-1" as 2^64 - 1).
CLI::Validator FiniteNumber(bool is_unsigned) {
  return CLI::Validator(
      [is_unsigned](std::string& text) -> std::string {
        if (is_unsigned && text.find('-') != std::string::npos) {
          return fmt::format("expected a number >= 0, got '{}'", text);
        }
        char* end = nullptr;
        const double value = std::strtod(text.c_str(), &end);
        if (text.empty() || end != text.c_str() + text.size()) return fmt::format("expected a number, got '{}'", text);
        if (!std::isfinite(value)) return fmt::format("expected a finite number, got '{}'", text);
        return std::string();
      },
      "",
      "finite number");
}

bool IsNumeric(const std::string& type_name, bool* is_unsigned) {
  *is_unsigned = type_name.rfind("UINT", 0) == 0;
  return *is_unsigned || type_name.rfind("FLOAT", 0) == 0 || type_name.rfind("INT", 0) == 0 ||
         type_name.rfind("NUMBER", 0) == 0;
}

void CheckEveryNumericFlag(CLI::App& app) {
  for (CLI::Option* option : app.get_options()) {
    bool is_unsigned = false;
    if (option->get_type_size() != 0 && IsNumeric(option->get_type_name(), &is_unsigned)) {
      option->check(FiniteNumber(is_unsigned));
    }
  }
  for (CLI::App* sub : app.get_subcommands({})) CheckEveryNumericFlag(*sub);
}

}  // namespace

void ApplyFlagRules(CLI::App& app) {
  CheckEveryNumericFlag(app);
  for (const RangeRule& rule : RangeRules()) {
    for (const char* command : rule.commands) {
      FindFlag(app, command, rule.flag)->check(RangeValidator(rule.range, rule.why));
    }
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
