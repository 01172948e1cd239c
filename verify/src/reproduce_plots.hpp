#pragma once
// The plots of `dissect reproduce`, drawn by gnuplot from the parts' JSON into DIR/plots/ (SVG, PNG, the data and
// the script).

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "dissect/verify/part_results.hpp"
#include "dissect/verify/power_law.hpp"
#include "gnuplot_plot.hpp"

namespace dissect::cli {

using Json = nlohmann::ordered_json;

// Writes DIR/plots/NAME.{dat,gp,svg,png}; returns the Markdown that shows it (or says that gnuplot is missing).
std::string Plot(const std::filesystem::path& dir,
                 const std::string& name,
                 const std::string& caption,
                 const std::vector<GnuplotPanel>& panels,
                 int columns = 1);

// Figure 1: the paths of every point in R^3 (coloured by class) for SC and CE, with their end points.
std::vector<GnuplotPanel> Figure1Panels(const Json& figure1);
// Figure 5: per-batch SC by label configuration at the simplex and at the SGD-trained points (minimum, mean,
// maximum), with the single-batch minimum of each configuration from Figure 6.
GnuplotPanel Figure5Panel(const Json& figure5, const Json& figure6);
// Figure 6: the minimizer of one composition on the unit circle, coloured by class.
GnuplotPanel Figure6Panel(const Json& composition);
// Box plots of angular similarity (across class means, across classifier rows, of samples to their class mean) of
// trained encoders, from `dissect geometry` JSON per run name, with the simplex value (and collapse) marked.
std::vector<GnuplotPanel> SimilarityBoxPanels(const std::map<std::string, Json>& geometry);
// Claim 3: gap to the bound against test accuracy, one series per loss.
GnuplotPanel ClosenessPanel(const std::map<std::string, std::vector<verify::TrainedRun>>& by_loss);
// Class-mean similarity against training length, one series per loss, simplex value marked.
GnuplotPanel SimilarityOverTrainingPanel(const std::map<std::string, std::vector<verify::TrainedRun>>& by_loss);
// Claim 4: iterations to fit against flipped labels (log-log) of every replicate, censored runs at their budget, with
// each loss's power law (a description).
GnuplotPanel NoisePanel(const std::vector<verify::NoiseRunResult>& runs,
                        const std::map<std::string, verify::PowerLawFit>& fits);

}  // namespace dissect::cli
