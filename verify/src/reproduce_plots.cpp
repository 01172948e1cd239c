#include "reproduce_plots.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <array>
#include <cmath>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>

#include "reproduce_parts.hpp"

namespace dissect::cli {

namespace fs = std::filesystem;

std::string Plot(const fs::path& dir,
                 const std::string& name,
                 const std::string& caption,
                 const std::vector<GnuplotPanel>& panels,
                 int columns) {
  fs::create_directories(dir / "plots");
  const bool drawn = WriteGnuplot(dir / "plots" / name, panels, columns);
  if (!drawn) {
    return fmt::format("\n{}: gnuplot is not installed; plots/{}.dat and plots/{}.gp hold the data and the script.\n",
                       caption,
                       name,
                       name);
  }
  return fmt::format("\n{} (plots/{}.svg, plots/{}.png):\n\n![{}](plots/{}.svg)\n", caption, name, name, caption, name);
}

std::vector<GnuplotPanel> Figure1Panels(const Json& figure1) {
  std::vector<GnuplotPanel> panels;
  for (const Json& flow : figure1["flows"]) {
    GnuplotPanel panel;
    panel.title = fmt::format(
        "{}: {} gradient steps to the tetrahedron", flow["loss"].get<std::string>(), flow["steps"].get<int>());
    panel.x_label = "x";
    panel.y_label = "y";
    panel.square = true;
    panel.three_d = true;
    const Json& snapshots = flow["snapshots"];
    const Json& labels = flow["labels"];
    for (std::size_t i = 0; i < labels.size(); ++i) {
      GnuplotSeries path = NamedSeries("", true);
      for (const Json& s : snapshots) {
        const Json& p = s["points"][i];
        path.x.push_back(Number(p[0]));
        path.y.push_back(Number(p[1]));
        path.z.push_back(Number(p[2]));
        path.group.push_back(labels[i].get<int>());
      }
      panel.series.push_back(path);
    }
    GnuplotSeries ends = NamedSeries("");
    for (std::size_t i = 0; i < labels.size(); ++i) {
      const Json& p = snapshots.back()["points"][i];
      ends.x.push_back(Number(p[0]));
      ends.y.push_back(Number(p[1]));
      ends.z.push_back(Number(p[2]));
      ends.group.push_back(labels[i].get<int>());
    }
    panel.series.push_back(ends);
    // The edges of the simplex spanned by the final class means.
    std::map<int, std::array<double, 4>> sums;  // x, y, z sums and the count, per class
    for (std::size_t i = 0; i < ends.x.size(); ++i) {
      std::array<double, 4>& sum = sums[ends.group[i]];
      sum[0] += ends.x[i];
      sum[1] += ends.y[i];
      sum[2] += ends.z[i];
      sum[3] += 1.0;
    }
    for (auto a = sums.begin(); a != sums.end(); ++a) {
      for (auto b = std::next(a); b != sums.end(); ++b) {
        GnuplotSeries edge = NamedSeries("", true);
        edge.colour = "black";
        for (const std::array<double, 4>& sum : {a->second, b->second}) {
          edge.x.push_back(sum[0] / sum[3]);
          edge.y.push_back(sum[1] / sum[3]);
          edge.z.push_back(sum[2] / sum[3]);
        }
        panel.series.push_back(edge);
      }
    }
    panels.push_back(panel);
  }
  return panels;
}

GnuplotPanel Figure5Panel(const Json& figure5, const Json& figure6) {
  GnuplotPanel panel = NamedPanel("Figure 5: SC of each batch by label configuration (K = 3, n = 2, b = 9)",
                                  "label configuration",
                                  "SC of one batch");
  panel.key = "inside top right";
  std::map<std::string, double> single_batch_minimum;
  for (const Json& row : figure6.value("compositions", Json::array())) {
    single_batch_minimum[row["composition"].dump()] = Number(row["minimum"]);
  }
  GnuplotSeries simplex = NamedSeries("at the simplex");
  GnuplotSeries low = NamedSeries("trained: minimum");
  GnuplotSeries mean = NamedSeries("trained: mean");
  GnuplotSeries high = NamedSeries("trained: maximum");
  GnuplotSeries best = NamedSeries("single-batch minimum (Figure 6)");
  int x = 0;
  for (const Json& row : figure5["compositions"]) {
    ++x;
    std::vector<int> counts = row["composition"].get<std::vector<int>>();
    panel.x_tick_labels.push_back(fmt::format("{}", fmt::join(counts, ",")));
    simplex.x.push_back(x);
    simplex.y.push_back(Number(row["simplex"]));
    low.x.push_back(x + 0.15);
    low.y.push_back(Number(row["trained_min"]));
    mean.x.push_back(x + 0.15);
    mean.y.push_back(Number(row["trained_mean"]));
    high.x.push_back(x + 0.15);
    high.y.push_back(Number(row["trained_max"]));
    const auto found = single_batch_minimum.find(row["composition"].dump());
    if (found != single_batch_minimum.end()) {
      best.x.push_back(x - 0.15);
      best.y.push_back(found->second);
    }
  }
  panel.series = {simplex, low, mean, high};
  if (!best.x.empty()) panel.series.push_back(best);
  return panel;
}

GnuplotPanel Figure6Panel(const Json& composition) {
  GnuplotPanel panel;
  panel.title = "composition " + composition["composition"].dump();
  panel.x_label = "x";
  panel.y_label = "y";
  panel.square = true;
  GnuplotSeries points = NamedSeries("points");
  for (const Json& p : composition["points"]) {
    points.x.push_back(Number(p["x"]));
    points.y.push_back(Number(p["y"]));
    points.group.push_back(p["label"].get<int>());
  }
  panel.series.push_back(points);
  return panel;
}

std::vector<GnuplotPanel> SimilarityBoxPanels(const std::map<std::string, Json>& geometry) {
  GnuplotPanel means = NamedPanel("Across class means: s(mu_k, mu_l)", "", "angular similarity");
  GnuplotPanel weights = NamedPanel("Across classifier rows: s(w_k, w_l)", "", "angular similarity");
  GnuplotPanel samples = NamedPanel("Samples to their class mean: s(z_i, mu_{y_i})", "", "angular similarity");
  const auto box = [](const std::string& label, const Json& s) {
    return GnuplotBox{label, Number(s["min"]), Number(s["q1"]), Number(s["median"]), Number(s["q3"]), Number(s["max"])};
  };
  double simplex = std::nan("");
  for (const auto& [name, g] : geometry) {
    simplex = Number(g["simplex_similarity"]);
    if (g.contains("class_mean_similarity") && g["class_mean_similarity"].is_object()) {
      means.boxes.push_back(box(name, g["class_mean_similarity"]));
    }
    if (g.contains("weight_similarity") && g["weight_similarity"].is_object()) {
      weights.boxes.push_back(box(name, g["weight_similarity"]));
    }
    if (g.contains("sample_similarity") && g["sample_similarity"].is_object()) {
      samples.boxes.push_back(box(name, g["sample_similarity"]));
    }
  }
  means.horizontal_lines = {{fmt::format("simplex {:.4f}", simplex), simplex}};
  weights.horizontal_lines = means.horizontal_lines;
  samples.horizontal_lines = {{"collapse 1", 1.0}};
  std::vector<GnuplotPanel> panels = {means};
  if (!weights.boxes.empty()) panels.push_back(weights);
  panels.push_back(samples);
  return panels;
}

GnuplotPanel ClosenessPanel(const std::map<std::string, std::vector<verify::TrainedRun>>& by_loss) {
  GnuplotPanel panel = NamedPanel("Gap to the bound against test accuracy (runs of several lengths, seeds and sizes)",
                                  "loss - bound",
                                  "test accuracy of the class means, %",
                                  true);
  for (const auto& [loss, runs] : by_loss) {
    GnuplotSeries gap = NamedSeries(loss);
    for (const verify::TrainedRun& r : runs) {
      gap.x.push_back(r.loss_gap);
      gap.y.push_back(r.test_accuracy_class_mean);
    }
    panel.series.push_back(gap);
  }
  return panel;
}

GnuplotPanel SimilarityOverTrainingPanel(const std::map<std::string, std::vector<verify::TrainedRun>>& by_loss) {
  GnuplotPanel panel = NamedPanel(
      "Angular similarity of class means over training", "iterations", "mean similarity of class-mean pairs", true);
  for (const auto& [loss, runs] : by_loss) {
    GnuplotSeries approach = NamedSeries(loss);
    for (const verify::TrainedRun& r : runs) {
      approach.x.push_back(static_cast<double>(r.iterations));
      approach.y.push_back(r.class_mean_similarity);
      panel.horizontal_lines = {{"simplex", r.simplex_similarity}};
    }
    panel.series.push_back(approach);
  }
  return panel;
}

GnuplotPanel NoisePanel(const std::vector<verify::NoiseRunResult>& runs,
                        const std::map<std::string, verify::PowerLawFit>& fits) {
  GnuplotPanel panel =
      NamedPanel("Iterations to fit flipped labels", "flipped training labels", "iterations to fit", true, true);
  panel.key = "inside top left";  // the data rise to the right; a key beside the plot took half its width
  std::map<std::string, GnuplotSeries> fitted, censored;
  for (const verify::NoiseRunResult& run : runs) {
    if (run.num_flipped <= 0) continue;  // log-log: the clean runs are the fits' offset
    GnuplotSeries& s = (run.censored ? censored : fitted)[run.loss];
    s.name = run.loss + (run.censored ? " censored (at the budget)" : "");
    s.x.push_back(static_cast<double>(run.num_flipped));
    s.y.push_back(run.iterations);
  }
  for (auto& [loss, series] : fitted) {
    panel.series.push_back(series);
    if (censored.count(loss)) panel.series.push_back(censored[loss]);
    const auto it = fits.find(loss);
    if (it == fits.end()) continue;
    const verify::PowerLawFit& fit = it->second;
    double lo = std::numeric_limits<double>::infinity(), hi = 0;
    for (const double x : series.x) {
      lo = std::min(lo, x);
      hi = std::max(hi, x);
    }
    if (!(fit.prefactor > 0) || !(fit.offset >= 0) || !std::isfinite(fit.exponent) || !(hi > lo)) continue;
    GnuplotSeries line_series =
        NamedSeries(fmt::format("{} power law, exponent {:.2f} above {:.0f}", loss, fit.exponent, fit.offset), true);
    for (int i = 0; i <= 32; ++i) {
      const double x = lo * std::pow(hi / lo, i / 32.0);
      line_series.x.push_back(x);
      line_series.y.push_back(fit.offset + fit.prefactor * std::pow(x, fit.exponent));
    }
    panel.series.push_back(line_series);
  }
  return panel;
}

}  // namespace dissect::cli
