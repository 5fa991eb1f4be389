// History plots for fit and optimize: loss.svg and one panel per parameter in parameters.svg.
#include <doctest/doctest.h>

#include <filesystem>

#include "core/error.h"
#include "core/io/history_plots.h"
#include "io/temp_dir.h"

using namespace ductile;

TEST_CASE("history plots: loss and parameter panels from a history CSV") {
  test::TempDir dir;
  const std::string csv =
      "iteration,evaluations,loss,gradient_norm,materials/jelly/E,materials/jelly/nu\n"
      "0,1,1.5,3.0,1e5,0.3\n1,2,0.5,1.0,1.5e5,0.31\n2,4,0.01,0.1,1.9e5,0.33\n";
  const auto written = io::write_history_plots(dir.path().string(), csv, "test run");
  REQUIRE(written.size() == 2);
  const std::string loss = test::read_text(dir.file("loss.svg"));
  const std::string params = test::read_text(dir.file("parameters.svg"));
  CHECK(loss.find("<svg") != std::string::npos);
  CHECK(params.find("materials/jelly/E") != std::string::npos);
  CHECK(params.find("materials/jelly/nu") != std::string::npos);
  CHECK(params.find("gradient_norm") != std::string::npos);
  CHECK(params.find("evaluations") == std::string::npos);
  // one nested panel per plotted column
  size_t panels = 0;
  for (size_t at = params.find("<svg", 1); at != std::string::npos; at = params.find("<svg", at + 1))
    ++panels;
  CHECK(panels == 3);
  CHECK_THROWS_WITH(io::parse_history_csv("a,b\n1,2,3\n", "h.csv"),
                    doctest::Contains("h.csv:2: has 3 cells"));
}
