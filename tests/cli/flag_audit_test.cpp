// The flag audit: every value-taking flag of every command, probed at parse time with the values users get wrong.
// A numeric flag must refuse NaN, infinities, words and an empty value; it refuses zero and negative values unless
// the tables below say what they mean there. A flag with a fixed set of names refuses an unknown name. Flags are
// found by walking the command line itself, so a new flag that nobody classified fails this test.

#include <CLI/CLI.hpp>
#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "application.hpp"
#include "catch.hpp"

namespace {

struct Flag {
  std::string command;      // "minimize", "bound supcon"
  std::string name;         // "--temperature"
  std::string type;         // CLI11's type name: FLOAT, INT, UINT, TEXT, ...
  bool names_only = false;  // a fixed set of names (IsMember)
};

void Collect(const CLI::App& app, const std::string& path, std::vector<Flag>* flags) {
  for (const CLI::Option* option : app.get_options()) {
    if (option->get_type_size() == 0 || option->get_name() == "--help") continue;  // a switch
    if (option->get_lnames().empty()) continue;                                    // positional
    // Hidden flags are set by dissect itself (launch gives its ranks --launch-ready-fd), not typed by users; CLI11
    // leaves their names out of its messages, so they are ranged in flag_rules.cpp but not probed here.
    if (option->get_group().empty()) continue;
    Flag flag{path, "--" + option->get_lnames().front(), option->get_type_name()};
    flag.names_only = flag.type.find(":{") != std::string::npos;  // CLI::IsMember: TEXT:{row,frobenius}
    flags->push_back(flag);
  }
  for (const CLI::App* sub : app.get_subcommands({})) {
    Collect(*sub, path.empty() ? sub->get_name() : path + " " + sub->get_name(), flags);
  }
}

std::vector<Flag> AllFlags() {
  dissect::cli::Application application;
  std::vector<Flag> flags;
  Collect(application.Commands(), "", &flags);
  return flags;
}

bool IsNumeric(const Flag& flag) {
  const std::string& t = flag.type;
  return t.rfind("FLOAT", 0) == 0 || t.rfind("INT", 0) == 0 || t.rfind("UINT", 0) == 0 || t.rfind("NUMBER", 0) == 0;
}

// "refused": exit 2 with a message about this flag's value; "accepted": parsed, or stopped by something else (a
// required flag missing, another flag's rule).
struct Probe {
  bool refused = false;
  std::string message;
};

Probe ParseWith(const Flag& flag, const std::string& value) {
  std::vector<std::string> arguments = {"dissect"};
  std::istringstream words(flag.command);
  for (std::string word; words >> word;) arguments.push_back(word);
  arguments.push_back(flag.name + "=" + value);
  std::vector<char*> argv;
  for (std::string& argument : arguments) argv.push_back(argument.data());
  argv.push_back(nullptr);
  dissect::cli::Application application;
  std::ostringstream errors;
  const auto code = application.Parse(static_cast<int>(arguments.size()), argv.data(), errors);
  Probe probe;
  probe.message = errors.str();
  const bool about_flag = probe.message.find(flag.name) != std::string::npos;
  const bool other_rule = probe.message.find(" is required") != std::string::npos ||
                          probe.message.find(" requires ") != std::string::npos ||
                          probe.message.find(" excludes ") != std::string::npos;
  probe.refused = code.has_value() && *code == 2 && about_flag && !other_rule;
  return probe;
}

std::string Key(const Flag& flag) { return flag.command + " " + flag.name; }

// Numeric flags where 0 is a valid value, and what it means there. No numeric flag takes a negative value.
const std::map<std::string, std::string>& ZeroAllowed() {
  static const std::map<std::string, std::string> table = {
      {"bound supcon --composition", "a class absent from the batch"},
      {"minimize --composition", "a class absent from the batch"},
      {"minimize --seed", "a seed"},
      {"minimize --restarts", "the default: 1, or 5 where no simplex fits"},
      {"minimize --max-iterations", "the start evaluated, nothing optimized"},
      {"minimize --tolerance", "run to --max-iterations"},
      {"minimize --gap-tolerance", "off"},
      {"geometry --seed", "a seed"},
      {"geometry --full-batch-limit", "never the full batch"},
      {"reproduce --seed", "a seed"},
      {"noise --fractions", "the clean run"},
      {"noise --noise-seed", "a seed"},
      {"train --rank", "the first rank"},
      {"train --checkpoint-every", "only at the end"},
  };
  static const std::map<std::string, std::string> training = {
      {"--seed", "a seed"},
      {"--momentum", "plain SGD"},
      {"--weight-decay", "none"},
      {"--schedule-horizon", "--iterations"},
      {"--eval-every", "only at the end"},
      {"--probe-iterations", "no probe"},
      {"--threads", "all cores"},
      {"--train-limit", "all images"},
      {"--test-limit", "all images"},
  };
  static const std::map<std::string, std::string> all = [] {
    std::map<std::string, std::string> merged = table;
    for (const auto& [flag, meaning] : training) {
      merged.emplace("train " + flag, meaning);
      merged.emplace("noise " + flag, meaning);
    }
    return merged;
  }();
  return all;
}

}  // namespace

TEST_CASE("Flag audit: every numeric flag of every command refuses NaN, infinities, words and an empty value") {
  const std::vector<Flag> flags = AllFlags();
  std::size_t numeric = 0;
  for (const Flag& flag : flags) {
    if (!IsNumeric(flag)) continue;
    ++numeric;
    for (const std::string value : {"nan", "NaN", "inf", "-inf", "1e999", "abc", "", "1.5x"}) {
      const bool integer = flag.type.rfind("INT", 0) == 0 || flag.type.rfind("UINT", 0) == 0;
      if (value == "1e999" && integer) continue;  // not a number for an integer either way (checked by "abc")
      const Probe probe = ParseWith(flag, value);
      INFO(Key(flag) << " = '" << value << "' (" << flag.type << "): " << probe.message);
      CHECK(probe.refused);
    }
  }
  CHECK(numeric > 60);  // the walk found the flags (there were 97 when this was written)
}

TEST_CASE("Flag audit: zero is refused unless the table says what it means, and a negative value always") {
  std::set<std::string> seen;
  for (const Flag& flag : AllFlags()) {
    if (!IsNumeric(flag)) continue;
    const std::string key = Key(flag);
    seen.insert(key);
    const Probe zero = ParseWith(flag, "0");
    const Probe negative = ParseWith(flag, "-1");
    INFO(key << " (" << flag.type << "): 0 -> '" << zero.message << "'; -1 -> '" << negative.message << "'");
    CHECK(zero.refused == (ZeroAllowed().count(key) == 0));
    CHECK(negative.refused);
  }
  for (const auto& [key, meaning] : ZeroAllowed()) {
    INFO("the zero table names " << key << ", which is not a numeric flag");
    CHECK(seen.count(key) == 1);
  }
}

TEST_CASE("Flag audit: every flag with a fixed set of names refuses an unknown name") {
  std::size_t checked = 0;
  for (const Flag& flag : AllFlags()) {
    if (!flag.names_only) continue;
    ++checked;
    const Probe probe = ParseWith(flag, "no-such-name");
    INFO(Key(flag) << " (" << flag.type << "): " << probe.message);
    CHECK(probe.refused);
  }
  CHECK(checked > 5);
}
