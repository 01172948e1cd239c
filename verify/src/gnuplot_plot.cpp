#include "gnuplot_plot.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <cstdlib>
#include <stdexcept>
#include <utility>

#include "dissect/theory/atomic_file.hpp"

namespace dissect::cli {
namespace {

std::string Quoted(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) out += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
  return out + "\"";
}

bool GnuplotInstalled() { return std::system("command -v gnuplot > /dev/null 2>&1") == 0; }

}  // namespace

GnuplotSeries NamedSeries(std::string name, bool line) {
  GnuplotSeries series;
  series.name = std::move(name);
  series.line = line;
  return series;
}

GnuplotPanel NamedPanel(std::string title, std::string x_label, std::string y_label, bool log_x, bool log_y) {
  GnuplotPanel panel;
  panel.title = std::move(title);
  panel.x_label = std::move(x_label);
  panel.y_label = std::move(y_label);
  panel.log_x = log_x;
  panel.log_y = log_y;
  return panel;
}

bool WriteGnuplot(const std::filesystem::path& base, const std::vector<GnuplotPanel>& panels, int columns) {
  // Data: one gnuplot index (blocks separated by two blank lines) per series of every panel.
  std::string data;
  std::string script;
  const int rows = (static_cast<int>(panels.size()) + columns - 1) / columns;
  const std::string data_name = base.filename().string() + ".dat";
  std::string body = rows * columns > 1 ? fmt::format("set multiplot layout {},{}\n", rows, columns) : "";
  int index = 0;
  for (const GnuplotPanel& panel : panels) {
    body += "unset logscale\nunset arrow\nset xtics autofreq norotate\n";
    body += fmt::format("set title {}\nset xlabel {}\nset ylabel {}\n",
                        Quoted(panel.title),
                        Quoted(panel.x_label),
                        Quoted(panel.y_label));
    if (panel.log_x) body += "set logscale x\n";
    if (panel.log_y) body += "set logscale y\n";
    if (panel.three_d) {
      body += panel.square ? "set size noratio\nset view equal xyz\nset xyplane relative 0\nset xrange "
                             "[-1.15:1.15]\nset yrange [-1.15:1.15]\n"
                             "set zrange [-1.15:1.15]\nunset key\n"
                           : "set size noratio\nset view noequal\nset autoscale\n";
    } else {
      body += panel.square ? "set size ratio -1\nset xrange [-1.15:1.15]\nset yrange [-1.15:1.15]\nunset key\n"
                           : "set size noratio\nset autoscale\n";
    }
    if (!panel.x_tick_labels.empty()) {
      std::vector<std::string> ticks;
      for (std::size_t i = 0; i < panel.x_tick_labels.size(); ++i) {
        ticks.push_back(fmt::format("{} {}", Quoted(panel.x_tick_labels[i]), i + 1));
      }
      body += fmt::format(
          "set xtics ({}) rotate by -45\nset xrange [0.5:{}.5]\n", fmt::join(ticks, ", "), panel.x_tick_labels.size());
    }
    if (!panel.square) body += fmt::format("set key {}\n", panel.key);
    std::vector<std::string> plots;
    if (!panel.boxes.empty()) {
      for (std::size_t i = 0; i < panel.boxes.size(); ++i) {
        const GnuplotBox& b = panel.boxes[i];
        data += fmt::format("{} {:.10g} {:.10g} {:.10g} {:.10g} {:.10g} {}\n",
                            i + 1,
                            b.minimum,
                            b.first_quartile,
                            b.median,
                            b.third_quartile,
                            b.maximum,
                            Quoted(b.label));
      }
      data += "\n\n";
      body +=
          fmt::format("set xrange [0.4:{}.6]\nset xtics rotate by -30\nset boxwidth 0.5\nset style fill solid 0.3\n",
                      panel.boxes.size());
      plots.push_back(
          fmt::format("{} index {} using 1:3:2:6:5:xtic(7) with candlesticks whiskerbars 0.5 lc rgb "
                      "\"#4477aa\" notitle",
                      Quoted(data_name),
                      index));
      plots.push_back(fmt::format(
          "{} index {} using 1:4:4:4:4 with candlesticks lw 2 lc rgb \"black\" notitle", Quoted(data_name), index));
      ++index;
    }
    for (const GnuplotSeries& s : panel.series) {
      for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
        if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
        const std::string z = panel.three_d && i < s.z.size() ? fmt::format(" {:.10g}", s.z[i]) : "";
        data += fmt::format("{:.10g} {:.10g}{} {}\n", s.x[i], s.y[i], z, i < s.group.size() ? s.group[i] + 1 : 1);
      }
      data += "\n\n";
      const bool by_group = !s.group.empty() && s.colour.empty();
      const std::string colour = !s.colour.empty() ? " lc rgb " + Quoted(s.colour) : by_group ? " lc variable" : "";
      const std::string style = s.line ? "with lines lw 2" + colour : "with points pt 7 ps 0.8" + colour;
      const std::string columns_used = panel.three_d ? (by_group ? "1:2:3:4" : "1:2:3") : (by_group ? "1:2:3" : "1:2");
      plots.push_back(fmt::format("{} index {} using {} {} {}",
                                  Quoted(data_name),
                                  index,
                                  columns_used,
                                  style,
                                  s.name.empty() ? "notitle" : "title " + Quoted(s.name)));
      ++index;
    }
    for (const auto& [label, y] : panel.horizontal_lines) {
      plots.push_back(fmt::format("{:.10g} with lines dt 2 lc rgb \"black\" title {}", y, Quoted(label)));
    }
    const std::string verb = panel.three_d ? "splot " : "plot ";
    body += plots.empty() ? "plot NaN notitle\n" : verb + fmt::format("{}", fmt::join(plots, ", \\\n     ")) + "\n";
  }
  if (rows * columns > 1) body += "unset multiplot\n";
  const int width = 640 * columns, height = 440 * rows;
  const std::string name = base.filename().string();
  script += "# Drawn by dissect; run `gnuplot " + name + ".gp` in this folder to redraw.\n";
  script += fmt::format("set terminal svg size {},{} dynamic font \"sans,11\"\nset output {}\n{}",
                        width,
                        height,
                        Quoted(name + ".svg"),
                        body);
  script += fmt::format("set terminal pngcairo size {},{} font \"sans,10\"\nset output {}\n{}",
                        width,
                        height,
                        Quoted(name + ".png"),
                        body);
  theory::WriteStreamAtomically(
      base.string() + ".dat", base.string() + ".dat", [&](std::ostream& out) { out << data; });
  theory::WriteStreamAtomically(
      base.string() + ".gp", base.string() + ".gp", [&](std::ostream& out) { out << script; });
  if (!GnuplotInstalled()) return false;
  const std::string command = fmt::format("cd {} && gnuplot {} > {} 2>&1",
                                          Quoted(base.parent_path().string()),
                                          Quoted(name + ".gp"),
                                          Quoted(name + ".gnuplot.log"));
  if (std::system(command.c_str()) != 0) {
    throw std::runtime_error(fmt::format("gnuplot failed on {}.gp (see {}.gnuplot.log)", base.string(), base.string()));
  }
  std::filesystem::remove(base.string() + ".gnuplot.log");
  return true;
}

}  // namespace dissect::cli
