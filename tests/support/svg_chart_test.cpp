#include "support/svg_chart.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <regex>
#include <sstream>

using namespace vigil::testing;

namespace {

// The points of every polyline, in order: (x, y) pairs.
std::vector<std::vector<std::pair<double, double>>> polylines(const std::string& svg) {
  std::vector<std::vector<std::pair<double, double>>> out;
  static const std::regex line("<polyline[^>]*points=\"([^\"]*)\"");
  for (std::sregex_iterator it(svg.begin(), svg.end(), line), end; it != end; ++it) {
    std::istringstream points((*it)[1].str());
    std::vector<std::pair<double, double>> one;
    double x = 0, y = 0;
    char comma = 0;
    while (points >> x >> comma >> y)
      one.emplace_back(x, y);
    out.push_back(one);
  }
  return out;
}

} // namespace

TEST_CASE("svg charts draw one line per series, skip missing values, and escape text", "[unit]") {
  const std::vector<double> minutes{0, 1, 2, 3};
  const auto svg = svg_line_charts("memory <and> descriptors & more", "minutes", minutes,
                                   {{"resident MB", {{"low", {100, 200, std::nan(""), 400}, "#111"},
                                                     {"high", {150, 250, 350, 450}, "#222"}}},
                                    {"open descriptors", {{"fds", {40, 40, 40, 40}, "#333"}}}});
  REQUIRE(svg.rfind("<svg ", 0) == 0);
  CHECK(svg.find("memory &lt;and&gt; descriptors &amp; more") != std::string::npos);
  CHECK(svg.find("<and>") == std::string::npos);

  const auto lines = polylines(svg);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0].size() == 3);  // the missing value is left out
  CHECK(lines[1].size() == 4);
  CHECK(lines[2].size() == 4);
  // x runs left to right over the same axis in every panel.
  CHECK(lines[1].front().first < lines[1].back().first);
  CHECK(lines[1].front().first == Approx(lines[2].front().first));
  CHECK(lines[1].back().first == Approx(lines[2].back().first));
  // Within a panel, higher values are drawn higher (smaller y); the second
  // panel lies below the first; a flat series is flat.
  CHECK(lines[1][3].second < lines[1][0].second);
  CHECK(lines[0][0].second > lines[1][0].second);
  CHECK(lines[2][0].second > lines[1][0].second);
  CHECK(lines[2][0].second == Approx(lines[2][3].second));
}
