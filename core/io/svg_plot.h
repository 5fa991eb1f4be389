// A small line plot as SVG text (loss and parameter histories), readable by any browser.
#pragma once

#include <string>
#include <vector>

namespace ductile::io {

struct PlotSeries {
  std::string label;
  std::vector<double> x, y;
};

// One panel with axes, ticks at the data range's ends, a legend, and y on a log10 scale when log_y (values
// <= 0 are left out there).
std::string line_plot_svg(const std::string& title, const std::string& x_label, const std::string& y_label,
                          const std::vector<PlotSeries>& series, bool log_y);

}  // namespace ductile::io
