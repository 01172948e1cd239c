#include "svg_plot.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace dissect::cli {
namespace {

constexpr double kWidth = 640, kHeight = 440, kLeft = 80, kRight = 190, kTop = 40, kBottom = 60;

std::string Escape(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '&')
      out += "&amp;";
    else
      out += c;
  }
  return out;
}

}  // namespace

LogLogPlot::LogLogPlot(std::string title, std::string x_label, std::string y_label)
    : title_(std::move(title)), x_label_(std::move(x_label)), y_label_(std::move(y_label)) {}

void LogLogPlot::AddPoints(const std::string& name,
                           const std::string& color,
                           const std::vector<double>& x,
                           const std::vector<double>& y,
                           bool hollow) {
  Series s{name, color, {}, {}, hollow, false};
  for (std::size_t i = 0; i < x.size() && i < y.size(); ++i) {
    if (x[i] > 0 && y[i] > 0 && std::isfinite(x[i]) && std::isfinite(y[i])) {
      s.x.push_back(x[i]);
      s.y.push_back(y[i]);
    }
  }
  series_.push_back(s);
}

void LogLogPlot::AddPowerLaw(const std::string& name,
                             const std::string& color,
                             double offset,
                             double prefactor,
                             double exponent,
                             double x_min,
                             double x_max) {
  if (!(prefactor > 0 && offset >= 0 && std::isfinite(exponent) && x_min > 0 && x_max > x_min)) return;
  Series s{name, color, {}, {}, false, true};
  for (int i = 0; i <= 32; ++i) {
    const double x = x_min * std::pow(x_max / x_min, i / 32.0);
    s.x.push_back(x);
    s.y.push_back(offset + prefactor * std::pow(x, exponent));
  }
  series_.push_back(s);
}

std::string LogLogPlot::Render() const {
  double x_lo = std::numeric_limits<double>::infinity(), x_hi = 0, y_lo = x_lo, y_hi = 0;
  for (const Series& s : series_) {
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      x_lo = std::min(x_lo, s.x[i]);
      x_hi = std::max(x_hi, s.x[i]);
      y_lo = std::min(y_lo, s.y[i]);
      y_hi = std::max(y_hi, s.y[i]);
    }
  }
  if (!(x_hi > 0)) x_lo = 1, x_hi = 10, y_lo = 1, y_hi = 10;
  // Whole decades around the data.
  const double lx0 = std::floor(std::log10(x_lo)), lx1 = std::max(lx0 + 1, std::ceil(std::log10(x_hi)));
  const double ly0 = std::floor(std::log10(y_lo)), ly1 = std::max(ly0 + 1, std::ceil(std::log10(y_hi)));
  const double plot_w = kWidth - kLeft - kRight, plot_h = kHeight - kTop - kBottom;
  const auto px = [&](double x) { return kLeft + (std::log10(x) - lx0) / (lx1 - lx0) * plot_w; };
  const auto py = [&](double y) { return kTop + plot_h - (std::log10(y) - ly0) / (ly1 - ly0) * plot_h; };
  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
      kWidth,
      kHeight);
  svg += fmt::format("<text x=\"{}\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">{}</text>\n",
                     kLeft + plot_w / 2,
                     Escape(title_));
  svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"black\"/>\n",
                     kLeft,
                     kTop,
                     plot_w,
                     plot_h);
  for (double d = lx0; d <= lx1; ++d) {
    const double x = kLeft + (d - lx0) / (lx1 - lx0) * plot_w;
    svg += fmt::format(
        "<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"#ddd\"/>"
        "<text x=\"{0}\" y=\"{3}\" text-anchor=\"middle\">1e{4}</text>\n",
        x,
        kTop,
        kTop + plot_h,
        kTop + plot_h + 16,
        static_cast<int>(d));
  }
  for (double d = ly0; d <= ly1; ++d) {
    const double y = kTop + plot_h - (d - ly0) / (ly1 - ly0) * plot_h;
    svg += fmt::format(
        "<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"#ddd\"/>"
        "<text x=\"{3}\" y=\"{4}\" text-anchor=\"end\">1e{5}</text>\n",
        kLeft,
        y,
        kLeft + plot_w,
        kLeft - 6,
        y + 4,
        static_cast<int>(d));
  }
  svg += fmt::format(
      "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", kLeft + plot_w / 2, kHeight - 18, Escape(x_label_));
  svg += fmt::format("<text x=\"18\" y=\"{0}\" text-anchor=\"middle\" transform=\"rotate(-90 18 {0})\">{1}</text>\n",
                     kTop + plot_h / 2,
                     Escape(y_label_));
  double legend_y = kTop + 10;
  for (const Series& s : series_) {
    if (s.line) {
      std::string points;
      for (std::size_t i = 0; i < s.x.size(); ++i) points += fmt::format("{:.2f},{:.2f} ", px(s.x[i]), py(s.y[i]));
      svg += fmt::format(
          "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-dasharray=\"5,3\"/>\n", points, s.color);
      svg += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"{3}\" stroke-dasharray=\"5,3\"/>",
                         kWidth - kRight + 10,
                         legend_y,
                         kWidth - kRight + 30,
                         s.color);
    } else {
      for (std::size_t i = 0; i < s.x.size(); ++i) {
        svg += fmt::format("<circle cx=\"{:.2f}\" cy=\"{:.2f}\" r=\"4\" fill=\"{}\" stroke=\"{}\"/>\n",
                           px(s.x[i]),
                           py(s.y[i]),
                           s.hollow ? "white" : s.color,
                           s.color);
      }
      svg += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"4\" fill=\"{}\" stroke=\"{}\"/>",
                         kWidth - kRight + 20,
                         legend_y,
                         s.hollow ? "white" : s.color,
                         s.color);
    }
    svg += fmt::format("<text x=\"{}\" y=\"{}\">{}</text>\n", kWidth - kRight + 36, legend_y + 4, Escape(s.name));
    legend_y += 18;
  }
  return svg + "</svg>\n";
}

}  // namespace dissect::cli
