#include "application.hpp"

#include "flag_rules.hpp"

namespace dissect::cli {

Application::Application()
    : app_("dissect: numerical checks of \"Dissecting Supervised Contrastive Learning\" (Graf et al., ICML 2021)",
           "dissect") {
  app_.set_version_flag("--version", DISSECT_VERSION);
  app_.require_subcommand(1);
  app_.fallthrough(false);
  for (auto&& registered : {RegisterBoundCommand(app_),
                            RegisterLossCommand(app_),
                            RegisterMinimizeCommand(app_),
                            RegisterTrainCommand(app_),
                            RegisterGeometryCommand(app_),
                            RegisterNoiseCommand(app_),
                            RegisterLaunchCommand(app_),
                            RegisterReproduceCommand(app_),
                            RegisterGpuCheckCommand(app_)}) {
    commands_.insert(commands_.end(), registered.begin(), registered.end());
  }
  ApplyFlagRules(app_);
}

std::optional<int> Application::Parse(int argc, char** argv, std::ostream& errors) {
  const auto known = [this](const std::string& name) {
    for (const CLI::App* command : app_.get_subcommands({})) {
      if (command->check_name(name)) return true;
    }
    return false;
  };
  if (argc > 1 && argv[1][0] != '-' && !known(argv[1])) {
    errors << "error: unknown command '" << argv[1]
           << "' (expected one of: bound, loss, minimize, train, geometry, noise, launch, reproduce, gpu-check)\nRun "
              "with --help for usage.\n";
    return 2;
  }
  try {
    app_.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    if (error.get_exit_code() == 0) return app_.exit(error);  // --help, --version
    errors << "error: " << error.what() << "\nRun with --help for usage.\n";
    return 2;
  }
  if (ParsedCommand().empty()) {
    errors << "error: no command given\n";
    return 2;
  }
  return std::nullopt;
}

std::string Application::ParsedCommand() const {
  for (const Command& command : commands_) {
    if (!command.app->parsed()) continue;
    std::string path = command.app->get_name();
    for (const CLI::App* parent = command.app->get_parent(); parent != nullptr && parent->get_parent() != nullptr;
         parent = parent->get_parent()) {
      path = parent->get_name() + " " + path;
    }
    return path;
  }
  return "";
}

int Application::Run() {
  for (const Command& command : commands_) {
    if (command.app->parsed()) return command.run();
  }
  throw std::logic_error("Application::Run(): no command was parsed");
}

}  // namespace dissect::cli
