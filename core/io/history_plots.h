// Plots of an optimization history (`ductile fit`, `ductile optimize`): the loss and every recorded
// parameter against the iteration, as SVG files a browser opens.
#pragma once

#include <string>
#include <vector>

namespace ductile::io {

// A history table: named numeric columns, one row per iteration.
struct History {
  std::vector<std::string> columns;
  std::vector<std::vector<double>> rows;  // rows[i][k]: column k of row i
};

// Parses CSV text with a header line (comma-separated, numbers; empty or non-numeric cells become NaN and are
// left out of plots). Errors name `name` and the line: a row with a different number of cells than the
// header.
History parse_history_csv(const std::string& text, const std::string& name);

// Writes DIR/loss.svg (column "loss", log scale when positive) and DIR/parameters.svg (one panel per other
// column, against column "iteration" or else the row number; "evaluations" is left out), atomically; returns
// the paths written. A history without a "loss" column writes only parameters.svg.
std::vector<std::string> write_history_plots(const std::string& dir, const History& h,
                                             const std::string& title);
// The same from the CSV text of a history (as history.csv holds it).
std::vector<std::string> write_history_plots(const std::string& dir, const std::string& csv_text,
                                             const std::string& title);

}  // namespace ductile::io
