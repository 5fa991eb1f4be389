// History plots: loss.svg and parameters.svg, the latter stacking one line_plot_svg panel per column as
// nested <svg> elements.
#include "core/io/history_plots.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <sstream>

#include "core/error.h"
#include "core/io/atomic_file.h"
#include "core/io/svg_plot.h"

namespace ductile::io {

namespace {

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> r;
  std::stringstream ss(line);
  std::string cell;
  while (std::getline(ss, cell, ',')) r.push_back(cell);
  if (!line.empty() && line.back() == ',') r.emplace_back();
  return r;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == ' ')) s.pop_back();
  size_t a = 0;
  while (a < s.size() && s[a] == ' ') ++a;
  return s.substr(a);
}

}  // namespace

History parse_history_csv(const std::string& text, const std::string& name) {
  History h;
  std::stringstream in(text);
  std::string line;
  int ln = 0;
  while (std::getline(in, line)) {
    ++ln;
    line = trim(line);
    if (line.empty()) continue;
    std::vector<std::string> cells = split(line);
    if (h.columns.empty()) {
      for (auto& c : cells) h.columns.push_back(trim(c));
      continue;
    }
    if (cells.size() != h.columns.size())
      fail(name + ":" + std::to_string(ln),
           "has " + std::to_string(cells.size()) + " cells, the header " + std::to_string(h.columns.size()));
    std::vector<double> row;
    for (const auto& c : cells) {
      const std::string t = trim(c);
      char* end = nullptr;
      const double v = std::strtod(t.c_str(), &end);
      row.push_back(t.empty() || *end != '\0' ? std::numeric_limits<double>::quiet_NaN() : v);
    }
    h.rows.push_back(std::move(row));
  }
  if (h.columns.empty()) fail(name, "empty history (no header line)");
  return h;
}

std::vector<std::string> write_history_plots(const std::string& dir, const History& h,
                                             const std::string& title) {
  namespace fs = std::filesystem;
  int xcol = -1, lcol = -1;
  for (size_t k = 0; k < h.columns.size(); ++k) {
    if (h.columns[k] == "iteration") xcol = int(k);
    if (h.columns[k] == "loss") lcol = int(k);
  }
  const std::string xlabel = xcol >= 0 ? "iteration" : "row";
  // the series of column k against x, finite values only
  auto series = [&](size_t k) {
    PlotSeries s{h.columns[k], {}, {}};
    for (size_t i = 0; i < h.rows.size(); ++i) {
      const double x = xcol >= 0 ? h.rows[i][size_t(xcol)] : double(i);
      const double y = h.rows[i][k];
      if (std::isfinite(x) && std::isfinite(y)) s.x.push_back(x), s.y.push_back(y);
    }
    return s;
  };
  auto all_positive = [](const PlotSeries& s) {
    for (double y : s.y)
      if (!(y > 0)) return false;
    return !s.y.empty();
  };
  std::vector<std::string> written;
  if (lcol >= 0) {
    const PlotSeries s = series(size_t(lcol));
    const std::string path = (fs::path(dir) / "loss.svg").string();
    write_file_atomic(path, line_plot_svg(title, xlabel, "loss", {s}, all_positive(s)));
    written.push_back(path);
  }
  // one panel per remaining column, stacked
  std::vector<std::string> panels;
  for (size_t k = 0; k < h.columns.size(); ++k) {
    if (int(k) == xcol || int(k) == lcol || h.columns[k] == "evaluations") continue;
    const PlotSeries s = series(k);
    if (s.y.empty()) continue;
    const bool log_y = all_positive(s) && h.columns[k] == "gradient_norm";
    panels.push_back(line_plot_svg(title + ": " + h.columns[k], xlabel, h.columns[k], {s}, log_y));
  }
  if (panels.empty()) return written;
  const int W = 640, H = 400;
  std::ostringstream o;
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H * panels.size()
    << "\">\n";
  for (size_t i = 0; i < panels.size(); ++i) {
    std::string p = panels[i];
    // nest each panel at its offset: <svg ...> becomes <svg y="..." ...>
    const size_t at = p.find("<svg");
    if (at != std::string::npos) p.insert(at + 4, " y=\"" + std::to_string(H * int(i)) + "\"");
    o << p;
  }
  o << "</svg>\n";
  const std::string path = (fs::path(dir) / "parameters.svg").string();
  write_file_atomic(path, o.str());
  written.push_back(path);
  return written;
}

std::vector<std::string> write_history_plots(const std::string& dir, const std::string& csv_text,
                                             const std::string& title) {
  return write_history_plots(dir, parse_history_csv(csv_text, "history"), title);
}

}  // namespace ductile::io
