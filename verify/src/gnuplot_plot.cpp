#include "gnuplot_plot.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <stdexcept>

#include "output_files.hpp"

namespace dissect::cli {
namespace {

std::string Quoted(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) out += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
  return out + "\"";
}

bool GnuplotInstalled() { return std::system("command -v gnuplot > /dev/null 2>&1") == 0; }

}  // namespace

bool WriteGnuplot(const std::filesystem::path& base, const std::vector<GnuplotPanel>& panels, int columns) {
  // Data: one gnuplot index (blocks separated by two blank lines) per series of every panel.
  std::string data;
  std::string script;
  const int rows = (static_cast<int>(panels.size()) + columns - 1) / columns;
  const std::string data_name = base.filename().string() + ".dat";
  std::string body = rows * columns > 1 ? fmt::format("set multiplot layout {},{}\n", rows, columns) : "";
  int index = 0;
  for (const GnuplotPanel& panel : panels) {
    body += "unset logscale\nunset arrow\n";
    body += fmt::format("set title {}\nset xlabel {}\nset ylabel {}\n", Quoted(panel.title), Quoted(panel.x_label),
                        Quoted(panel.y_label));
    if (panel.log_x) body += "set logscale x\n";
    if (panel.log_y) body += "set logscale y\n";
    body += panel.square ? "set size ratio -1\nset xrange [-1.15:1.15]\nset yrange [-1.15:1.15]\nunset key\n"
                         : "set size noratio\nset autoscale\nset key outside right\n";
    std::vector<std::string> plots;
    for (const GnuplotSeries& s : panel.series) {
      for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
        if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
        data += fmt::format("{:.10g} {:.10g} {}\n", s.x[i], s.y[i], i < s.group.size() ? s.group[i] + 1 : 1);
      }
      data += "\n\n";
      const std::string style = s.line ? "with lines lw 2" : (s.group.empty() ? "with points pt 7 ps 0.8"
                                                                               : "with points pt 7 ps 0.8 lc variable");
      plots.push_back(fmt::format("{} index {} using 1:2{} {} title {}", Quoted(data_name), index,
                                  s.group.empty() ? "" : ":3", style, Quoted(s.name)));
      ++index;
    }
    for (const auto& [label, y] : panel.horizontal_lines) {
      plots.push_back(fmt::format("{:.10g} with lines dt 2 lc rgb \"black\" title {}", y, Quoted(label)));
    }
    body += plots.empty() ? "plot NaN notitle\n" : "plot " + fmt::format("{}", fmt::join(plots, ", \\\n     ")) + "\n";
  }
  if (rows * columns > 1) body += "unset multiplot\n";
  const int width = 640 * columns, height = 440 * rows;
  const std::string name = base.filename().string();
  script += "# Drawn by dissect; run `gnuplot " + name + ".gp` in this folder to redraw.\n";
  script += fmt::format("set terminal svg size {},{} dynamic font \"sans,11\"\nset output {}\n{}", width, height,
                        Quoted(name + ".svg"), body);
  script += fmt::format("set terminal pngcairo size {},{} font \"sans,10\"\nset output {}\n{}", width, height,
                        Quoted(name + ".png"), body);
  WriteTextFileAtomic(base.string() + ".dat", data);
  WriteTextFileAtomic(base.string() + ".gp", script);
  if (!GnuplotInstalled()) return false;
  const std::string command = fmt::format("cd {} && gnuplot {} > {} 2>&1", Quoted(base.parent_path().string()),
                                          Quoted(name + ".gp"), Quoted(name + ".gnuplot.log"));
  if (std::system(command.c_str()) != 0) {
    throw std::runtime_error(fmt::format("gnuplot failed on {}.gp (see {}.gnuplot.log)", base.string(), base.string()));
  }
  std::filesystem::remove(base.string() + ".gnuplot.log");
  return true;
}

}  // namespace dissect::cli
