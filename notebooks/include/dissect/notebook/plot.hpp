#pragma once
// A plot shown inline, drawn by the command line's one plot writer (verify/src/gnuplot_plot.hpp: gnuplot's SVG),
// so that a notebook's figure and `dissect`'s look alike. Needs libdissect_plot.so loaded and ../verify/src on the
// include path.

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "dissect/notebook/display.hpp"
#include "gnuplot_plot.hpp"

namespace dissect::notebook {

// Shows an SVG file inline (e.g. the noise.svg of `dissect noise --out`).
inline void ShowSvgFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  ShowSvg(text.str());
}

// Draws `panels` into a scratch folder of this process (NAME.svg, .png, .dat, .gp) and shows the SVG; where gnuplot
// is missing, says where the script is instead.
inline void ShowPlot(const std::string& name, const std::vector<cli::GnuplotPanel>& panels, int columns = 1) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("dissect-notebook-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  if (cli::WriteGnuplot(dir / name, panels, columns)) {
    ShowSvgFile(dir / (name + ".svg"));
  } else {
    std::cout << "gnuplot is not installed: " << (dir / (name + ".gp")).string() << " holds the plot\n";
  }
}

// A series of points (or lines) from two vectors.
inline cli::GnuplotSeries Series(std::string name, std::vector<double> x, std::vector<double> y, bool line = false) {
  cli::GnuplotSeries series = cli::NamedSeries(std::move(name), line);
  series.x = std::move(x);
  series.y = std::move(y);
  return series;
}

}  // namespace dissect::notebook
