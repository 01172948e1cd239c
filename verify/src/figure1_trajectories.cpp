// `dissect minimize --figure1`: the paper's Figure 1 (free points of K = 4 classes in R^3 moving to a regular
// simplex, a tetrahedron) as the projected gradient-descent paths of SC and CE (optim/gradient_flow.hpp).

#include <fmt/format.h>

#include <dissect/optim/gradient_flow.hpp>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "minimize_figures.hpp"
#include "output_files.hpp"
#include "progress.hpp"

namespace dissect::cli {

int RunFigure1(const FigureFlags& flags) {
  namespace fs = std::filesystem;
  using Json = nlohmann::ordered_json;
  // A path ends at the simplex when its loss is this close to the bound and its class means this close to the
  // simplex's Gram matrix (radius 1).
  constexpr double kGapTarget = 1e-6;
  constexpr double kGramTarget = 1e-4;
  if (!flags.out.empty()) PrepareOutputDirectory(flags.out, flags.force);
  ProgressLine progress;
  Json flows = Json::array();
  int failures = 0;
  std::string table = fmt::format("{:<7} {:>6} {:>14} {:>14} {:>11} {:>11} {:>11}  {}\n",
                                  "loss",
                                  "steps",
                                  "final loss",
                                  "bound",
                                  "rel gap",
                                  "Gram err",
                                  "spread",
                                  "check");
  for (const optim::LossKind loss : {optim::LossKind::kSupCon, optim::LossKind::kCrossEntropy}) {
    progress.Update(fmt::format("figure 1: {} gradient descent", theory::ToString(loss)));
    optim::GradientFlowOptions options;
    options.loss = loss;
    options.seed = flags.seed;
    const optim::GradientFlowResult r = optim::RunGradientFlow(options);
    const bool ok = r.rel_gap <= kGapTarget && r.max_gram_error <= kGramTarget;
    failures += ok ? 0 : 1;
    table += fmt::format("{:<7} {:>6} {:>14.10f} {:>14.10f} {:>11.3e} {:>11.3e} {:>11.3e}  {}\n",
                         theory::ToString(loss),
                         options.steps,
                         r.final_loss,
                         r.bound,
                         r.rel_gap,
                         r.max_gram_error,
                         r.max_within_class_spread,
                         ok ? "PASS" : "FAIL");
    Json snapshots = Json::array();
    std::vector<std::vector<double>> csv;
    for (const optim::GradientFlowSnapshot& s : r.snapshots) {
      Json points = Json::array();
      for (Eigen::Index i = 0; i < s.points.cols(); ++i) {
        points.push_back({s.points(0, i), s.points(1, i), s.points(2, i)});
        csv.push_back({static_cast<double>(s.iteration),
                       static_cast<double>(i),
                       static_cast<double>(r.labels[i]),
                       s.points(0, i),
                       s.points(1, i),
                       s.points(2, i)});
      }
      snapshots.push_back({{"iteration", s.iteration}, {"loss", s.loss}, {"points", points}});
    }
    Json weights = Json::array();
    const Eigen::MatrixXd& w = r.snapshots.back().weights;
    for (Eigen::Index k = 0; k < w.rows(); ++k) weights.push_back({w(k, 0), w(k, 1), w(k, 2)});
    Json labels = Json::array();
    for (Eigen::Index i = 0; i < r.labels.size(); ++i) labels.push_back(r.labels[i]);
    flows.push_back({{"loss", theory::ToString(loss)},
                     {"steps", options.steps},
                     {"step_size", options.step_size},
                     {"final_loss", r.final_loss},
                     {"bound", r.bound},
                     {"rel_gap", r.rel_gap},
                     {"max_gram_error", r.max_gram_error},
                     {"max_within_class_spread", r.max_within_class_spread},
                     {"pass", ok},
                     {"labels", labels},
                     {"final_weights", weights},
                     {"snapshots", snapshots}});
    if (!flags.out.empty()) {
      WriteTextFileAtomic(fs::path(flags.out) / fmt::format("figure1_{}.csv", theory::ToString(loss)),
                          CsvTable({"iteration", "point", "label", "x", "y", "z"}, csv));
    }
  }
  progress.Finish();
  const optim::GradientFlowOptions defaults;
  Json out = {{"figure", 1},
              {"classes", defaults.num_classes},
              {"per_class", defaults.per_class},
              {"dim", defaults.dim},
              {"radius", defaults.temperature.radius()},
              {"weight_norm", defaults.weight_norm},
              {"seed", flags.seed},
              {"gap_target", kGapTarget},
              {"gram_target", kGramTarget},
              {"failures", failures},
              {"value", failures},
              {"flows", flows}};
  if (!flags.out.empty()) {
    WriteTextFileAtomic(fs::path(flags.out) / "figure1.json", out.dump(1) + "\n");
    WriteTextFileAtomic(fs::path(flags.out) / "meta.json", MetaJson(flags.seed).dump(1) + "\n");
  }
  if (flags.json) {
    std::cout << out.dump() << '\n';
  } else {
    std::cout << fmt::format(
                     "Figure 1: K = {} classes of {} points in R^{} (radius 1, r = 1), projected gradient "
                     "descent from a random start (seed {})\n",
                     defaults.num_classes,
                     defaults.per_class,
                     defaults.dim,
                     flags.seed)
              << table
              << (failures == 0 ? fmt::format("verdict: PASS (both paths end at the simplex: relative gap <= {:g}, "
                                              "Gram error <= {:g})\n",
                                              kGapTarget,
                                              kGramTarget)
                                : fmt::format("verdict: FAIL ({} paths)\n", failures));
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace dissect::cli
