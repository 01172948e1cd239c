#pragma once
// Plots drawn by gnuplot (Debian's gnuplot-nox, installed by the set-up) as SVG and PNG: a data file and a script
// are written next to the pictures, so that a plot can be redrawn or restyled by hand.

#include <filesystem>
#include <string>
#include <vector>

namespace dissect::cli {

struct GnuplotSeries {
  std::string name;
  std::vector<double> x, y;
  std::vector<int> group;  // optional: a colour index per point (e.g. the class)
  bool line = false;       // lines instead of points
};

struct GnuplotPanel {
  std::string title, x_label, y_label;
  bool log_x = false, log_y = false;
  bool square = false;  // equal axes over [-1.15, 1.15] (points on the unit circle), no key
  std::vector<GnuplotSeries> series;
  std::vector<std::pair<std::string, double>> horizontal_lines;  // label, y
};

// Writes BASE.dat, BASE.gp, then BASE.svg and BASE.png (panels in a grid of `columns`). Returns false when gnuplot
// is not installed (the data and the script are still written); throws std::runtime_error when gnuplot fails.
bool WriteGnuplot(const std::filesystem::path& base, const std::vector<GnuplotPanel>& panels, int columns = 1);

}  // namespace dissect::cli
