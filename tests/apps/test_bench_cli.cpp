// `ductile bench --domain-scale`: the benchmark box in a domain 4 times wider per axis reports the same
// allocated grid blocks and a grid that follows them (the sparse grid), as JSON; a bad scale is an error.
#include <doctest/doctest.h>

#include <string>

#include "apps/run_cli.h"
#include "io/temp_dir.h"

using namespace ductile;
using ductile::test::run_ductile;

TEST_CASE("bench CLI: --domain-scale 1,4 reports the same blocks and grid bytes that follow them") {
  test::TempDir dir;
  const std::string json = dir.file("bench.json");
  auto r = run_ductile(dir,
                       "bench --scenes fluid --grid 16 --steps 2 --warmup 1 --threads 1 --domain-scale 1,4 "
                       "--json '" +
                           json + "'");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(r.out.find("domain scale") != std::string::npos);
  const auto j = test::read_json(json);
  REQUIRE(j["runs"].size() == 2);
  const auto& a = j["runs"][0];
  const auto& b = j["runs"][1];
  CHECK(a["domain_scale"] == 1);
  CHECK(b["domain_scale"] == 4);
  CHECK(b["domain_nodes"].get<int64_t>() >
        30 * a["domain_nodes"].get<int64_t>());  // 64x the cells, 2-node pads
  CHECK(a["grid_blocks"].get<int64_t>() > 0);
  CHECK(a["grid_blocks"] == b["grid_blocks"]);
  // a dense grid over the big domain would hold 16 bytes per node
  CHECK(b["grid_bytes"].get<int64_t>() * 20 < 16 * b["domain_nodes"].get<int64_t>());
}

TEST_CASE("bench CLI: a domain scale that is not a positive integer is an error naming the option") {
  test::TempDir dir;
  auto r = run_ductile(dir, "bench --scenes fluid --grid 16 --steps 1 --domain-scale 0");
  CHECK(r.code != 0);
  CHECK(r.err.find("--domain-scale") != std::string::npos);
}
