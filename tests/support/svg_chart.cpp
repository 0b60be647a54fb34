#include "support/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace vigil::testing {
namespace {

std::string number(double v) {
  char buf[32];
  const double a = std::fabs(v);
  std::snprintf(buf, sizeof buf, a >= 100 || a == 0 ? "%.0f" : a >= 10 ? "%.1f" : "%.2f", v);
  return buf;
}

std::string escaped(const std::string& text) {
  std::string out;
  for (char c : text)
    out += c == '<' ? "&lt;" : c == '>' ? "&gt;" : c == '&' ? "&amp;" : std::string(1, c);
  return out;
}

} // namespace

std::string svg_line_charts(const std::string& title, const std::string& x_label, const std::vector<double>& x,
                            const std::vector<chart_panel>& panels) {
  constexpr double width = 900, left = 70, right = 20, panel_height = 150, gap = 45, top = 40;
  const double plot_width = width - left - right;
  const double height = top + static_cast<double>(panels.size()) * (panel_height + gap) + 20;
  const double x_min = x.empty() ? 0 : x.front(), x_max = x.empty() ? 1 : std::max(x.back(), x_min + 1e-9);
  auto x_at = [&](double v) { return left + (v - x_min) / (x_max - x_min) * plot_width; };
  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
      << "\" font-family=\"sans-serif\" font-size=\"11\">\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      << "<text x=\"" << left << "\" y=\"22\" font-size=\"14\" font-weight=\"bold\">" << escaped(title)
      << "</text>\n";
  double y0 = top;
  for (const auto& panel : panels) {
    double lo = 0, hi = 0;
    bool any = false;
    for (const auto& s : panel.series)
      for (double v : s.values)
        if (std::isfinite(v)) {
          lo = any ? std::min(lo, v) : v;
          hi = any ? std::max(hi, v) : v;
          any = true;
        }
    lo = std::min(lo, 0.0);  // from zero: a slope reads as what it is
    if (hi <= lo)
      hi = lo + 1;
    hi *= 1.05;
    auto y_at = [&](double v) { return y0 + panel_height - (v - lo) / (hi - lo) * panel_height; };
    svg << "<text x=\"" << left << "\" y=\"" << y0 - 6 << "\" font-weight=\"bold\">" << escaped(panel.title)
        << "</text>\n"
        << "<rect x=\"" << left << "\" y=\"" << y0 << "\" width=\"" << plot_width << "\" height=\"" << panel_height
        << "\" fill=\"none\" stroke=\"#999\"/>\n";
    for (int tick = 0; tick <= 4; ++tick) {
      const double v = lo + (hi - lo) * tick / 4;
      svg << "<text x=\"" << left - 6 << "\" y=\"" << y_at(v) + 4 << "\" text-anchor=\"end\">" << number(v)
          << "</text>\n"
          << "<line x1=\"" << left << "\" x2=\"" << left + plot_width << "\" y1=\"" << y_at(v) << "\" y2=\""
          << y_at(v) << "\" stroke=\"#eee\"/>\n";
    }
    double legend_x = left + plot_width;
    for (auto s = panel.series.rbegin(); s != panel.series.rend(); ++s) {
      legend_x -= 8.0 * static_cast<double>(s->name.size()) + 24;
      svg << "<rect x=\"" << legend_x << "\" y=\"" << y0 - 15 << "\" width=\"10\" height=\"10\" fill=\"" << s->color
          << "\"/><text x=\"" << legend_x + 14 << "\" y=\"" << y0 - 6 << "\">" << escaped(s->name) << "</text>\n";
    }
    for (const auto& s : panel.series) {
      svg << "<polyline fill=\"none\" stroke=\"" << s.color << "\" stroke-width=\"1.5\" points=\"";
      for (std::size_t i = 0; i < s.values.size() && i < x.size(); ++i)
        if (std::isfinite(s.values[i]))
          svg << x_at(x[i]) << "," << y_at(s.values[i]) << " ";
      svg << "\"/>\n";
    }
    y0 += panel_height + gap;
  }
  const double axis_y = y0 - gap;
  for (int tick = 0; tick <= 6; ++tick) {
    const double v = x_min + (x_max - x_min) * tick / 6;
    svg << "<text x=\"" << x_at(v) << "\" y=\"" << axis_y + 14 << "\" text-anchor=\"middle\">" << number(v)
        << "</text>\n";
  }
  svg << "<text x=\"" << left + plot_width / 2 << "\" y=\"" << axis_y + 30 << "\" text-anchor=\"middle\">"
      << escaped(x_label) << "</text>\n</svg>\n";
  return svg.str();
}

} // namespace vigil::testing
