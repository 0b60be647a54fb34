#pragma once
// Line charts as a standalone SVG (no scripts, no external assets): panels
// stacked under one x axis, each with its own y range and legend. For test
// and bench reports (the soak test's plot).

#include <string>
#include <vector>

namespace vigil::testing {

struct chart_series {
  std::string name;
  std::vector<double> values;  ///< one per x
  std::string color;           ///< any SVG colour
};

struct chart_panel {
  std::string title;  ///< with its unit
  std::vector<chart_series> series;
};

std::string svg_line_charts(const std::string& title, const std::string& x_label, const std::vector<double>& x,
                            const std::vector<chart_panel>& panels);

} // namespace vigil::testing
