#pragma once
// A small log-log scatter plot written as SVG text (no plotting package needed): series of points, optional
// power-law lines, axes with decade ticks, a legend.

#include <string>
#include <vector>

namespace dissect::cli {

class LogLogPlot {
 public:
  LogLogPlot(std::string title, std::string x_label, std::string y_label);
  // Points (x > 0, y > 0; others are skipped). `hollow` draws open markers (e.g. "not reached").
  void AddPoints(const std::string& name,
                 const std::string& color,
                 const std::vector<double>& x,
                 const std::vector<double>& y,
                 bool hollow = false);
  // The curve y = offset + prefactor * x^exponent over [x_min, x_max].
  void AddPowerLaw(const std::string& name,
                   const std::string& color,
                   double offset,
                   double prefactor,
                   double exponent,
                   double x_min,
                   double x_max);
  // The SVG document. With no points at all it still draws the axes and the title.
  std::string Render() const;

 private:
  struct Series {
    std::string name, color;
    std::vector<double> x, y;
    bool hollow = false;
    bool line = false;
  };
  std::string title_, x_label_, y_label_;
  std::vector<Series> series_;
};

}  // namespace dissect::cli
