#pragma once
// Plots drawn by gnuplot (Debian's gnuplot-nox, installed by the set-up) as SVG and PNG: a data file and a script
// are written next to the pictures, so that a plot can be redrawn or restyled by hand.

#include <filesystem>
#include <string>
#include <vector>

namespace dissect::cli {

struct GnuplotSeries {
  std::string name;  // the key's entry; empty: not in the key
  std::vector<double> x, y;
  std::vector<double> z;   // 3-D panels: the third coordinate
  std::vector<int> group;  // optional: a colour index per point (e.g. the class)
  bool line = false;       // lines instead of points
  std::string colour;      // optional: one colour for the series ("black", "#4477aa"); overrides group
};

// A named, empty series: points, or lines with `line`.
GnuplotSeries NamedSeries(std::string name, bool line = false);

// One box of a box plot, from its five numbers.
struct GnuplotBox {
  std::string label;
  double minimum = 0, first_quartile = 0, median = 0, third_quartile = 0, maximum = 0;
};

struct GnuplotPanel {
  std::string title, x_label, y_label;
  bool log_x = false, log_y = false;
  bool square = false;                // equal axes over [-1.15, 1.15] (points on the unit circle or sphere), no key
  bool three_d = false;               // splot of the series' (x, y, z)
  std::string key = "outside right";  // gnuplot's key position: "inside top left" keeps a wide key off the plot's width
  std::vector<GnuplotSeries> series;
  std::vector<GnuplotBox> boxes;
  std::vector<std::string> x_tick_labels;  // labels at x = 1, 2, ... (categories), rotated  // a box plot (whiskers at
                                           // minimum and maximum), drawn before the series
  std::vector<std::pair<std::string, double>> horizontal_lines;  // label, y
};

// An empty 2-D panel with its title and axis labels.
GnuplotPanel NamedPanel(
    std::string title, std::string x_label, std::string y_label, bool log_x = false, bool log_y = false);

// Writes BASE.dat, BASE.gp, then BASE.svg and BASE.png (panels in a grid of `columns`). Returns false when gnuplot
// is not installed (the data and the script are still written); throws std::runtime_error when gnuplot fails.
bool WriteGnuplot(const std::filesystem::path& base, const std::vector<GnuplotPanel>& panels, int columns = 1);

}  // namespace dissect::cli
