#include <doctest/doctest.h>

#include <cstring>
#include <string>

#include "core/error.h"
#include "core/io/ply.h"
#include "io/temp_dir.h"

using namespace ductile;

namespace {

// A 3D state of n particles with distinct positions, velocities, materials, objects and det F.
State<float, 3> sample_state(int n) {
  State<float, 3> s;
  s.resize(n);
  for (int p = 0; p < n; ++p) {
    for (int d = 0; d < 3; ++d) {
      s.x[d * n + p] = 0.1f * p + 0.01f * d;
      s.v[d * n + p] = -1.0f + 0.5f * d + 0.25f * p;
    }
    s.F[0 * n + p] = 1.0f + 0.1f * p;  // F(0,0): det F = 1 + 0.1 p
    s.material[p] = p % 2;
    s.object[p] = p % 3;
  }
  return s;
}

// Expects an Error whose message contains `part`.
template <class F>
void check_error(F&& f, const std::string& part) {
  try {
    f();
    FAIL("expected an error containing: " << part);
  } catch (const Error& e) {
    INFO("message: " << std::string(e.what()));
    CHECK(std::string(e.what()).find(part) != std::string::npos);
  }
}

const char* kHeader =
    "ply\nformat binary_little_endian 1.0\nelement vertex 2\nproperty float x\nproperty float "
    "y\nend_header\n";

}  // namespace

TEST_CASE("PLY round trip of particle attributes, with the exact header") {
  test::TempDir dir;
  const auto s = sample_state(5);
  const std::string path = dir.file("frame_00000.ply");
  io::write_ply(path, io::particle_table(s), {"ductile frame 0"});

  const std::string bytes = test::read_text(path);
  const std::string header =
      "ply\nformat binary_little_endian 1.0\ncomment ductile frame 0\nelement vertex 5\n"
      "property float x\nproperty float y\nproperty float z\nproperty float vx\nproperty float vy\n"
      "property float vz\nproperty float material\nproperty float object\nproperty float J\nend_header\n";
  REQUIRE(bytes.substr(0, header.size()) == header);
  CHECK(bytes.size() == header.size() + 5 * 9 * 4);
  // little endian on disk: the first value x of particle 0 is 0.0f, y is 0.01f; check y's bytes
  float y0 = 0.01f;
  uint32_t u;
  std::memcpy(&u, &y0, 4);
  const auto* b = reinterpret_cast<const unsigned char*>(bytes.data()) + header.size() + 4;
  CHECK(b[0] == (u & 0xff));
  CHECK(b[3] == (u >> 24));

  const io::PointTable t = io::read_ply(path);
  REQUIRE(t.count == 5);
  CHECK(t.names == std::vector<std::string>{"x", "y", "z", "vx", "vy", "vz", "material", "object", "J"});
  for (int p = 0; p < 5; ++p) {
    for (int d = 0; d < 3; ++d) {
      CHECK(t.at(p, d) == s.x[d * 5 + p]);
      CHECK(t.at(p, 3 + d) == s.v[d * 5 + p]);
    }
    CHECK(t.at(p, t.column("material")) == float(p % 2));
    CHECK(t.at(p, t.column("object")) == float(p % 3));
    CHECK(t.at(p, t.column("J")) == doctest::Approx(1.0 + 0.1 * p));
  }
  CHECK(t.column("nope") == -1);
}

TEST_CASE("PLY of a 2D state has z = vz = 0") {
  State<float, 2> s;
  s.resize(2);
  s.x = {1, 2, 3, 4};
  s.v = {5, 6, 7, 8};
  const io::PointTable t = io::parse_ply(io::ply_bytes(io::particle_table(s)), "mem");
  REQUIRE(t.count == 2);
  CHECK(t.at(1, 0) == 2);
  CHECK(t.at(1, 1) == 4);
  CHECK(t.at(1, 2) == 0);
  CHECK(t.at(1, 4) == 8);
  CHECK(t.at(1, 5) == 0);
  CHECK(t.at(1, 8) == 1);  // J of the identity
}

TEST_CASE("PLY reader accepts ASCII and other scalar types") {
  const io::PointTable a = io::parse_ply(
      "ply\nformat ascii 1.0\ncomment hi\nelement vertex 2\nproperty double x\nproperty int id\n"
      "element face 0\nproperty list uchar int vertex_indices\nend_header\n1.5 7\n-2 8\n",
      "a.ply");
  REQUIRE(a.count == 2);
  CHECK(a.at(0, 0) == 1.5f);
  CHECK(a.at(1, 1) == 8.0f);

  // binary: uchar, short, double
  std::string b =
      "ply\nformat binary_little_endian 1.0\nelement vertex 1\nproperty uchar a\nproperty short s\n"
      "property double d\nend_header\n";
  b += char(200);
  b += char(0xfe), b += char(0xff);  // -2
  double d = 3.25;
  b.append(reinterpret_cast<const char*>(&d), 8);
  const io::PointTable t = io::parse_ply(b, "b.ply");
  REQUIRE(t.count == 1);
  CHECK(t.at(0, 0) == 200.0f);
  CHECK(t.at(0, 1) == -2.0f);
  CHECK(t.at(0, 2) == 3.25f);
}

TEST_CASE("PLY reader: truncated body") {
  std::string f = kHeader;
  f += std::string(12, '\0');  // 1.5 of the 2 declared vertices
  check_error([&] { io::parse_ply(f, "t.ply"); },
              "t.ply: line 3: element vertex declares 2 vertices of 8 bytes");
  check_error([&] { io::parse_ply(f, "t.ply"); }, "truncated");
}

TEST_CASE("PLY reader: absurd vertex count is bounded by the file size before allocating") {
  std::string f = kHeader;
  f.replace(f.find("vertex 2"), 8, "vertex 9999999999999999");
  f += std::string(16, '\0');
  check_error([&] { io::parse_ply(f, "big.ply"); },
              "big.ply: line 3: element vertex declares 9999999999999999");
  std::string g = kHeader;
  g.replace(g.find("vertex 2"), 8, "vertex 99999999999999999999999");  // overflows 64 bits
  check_error([&] { io::parse_ply(g, "huge.ply"); }, "huge.ply: line 3: expected 'element <name> <count>'");
  std::string a = "ply\nformat ascii 1.0\nelement vertex 1000000000\nproperty float x\nend_header\n1\n";
  check_error([&] { io::parse_ply(a, "a.ply"); }, "a.ply: line 3: element vertex declares 1000000000");
}

TEST_CASE("PLY reader: bad headers name the file and line") {
  check_error([] { io::parse_ply("plx\n", "x.ply"); }, "x.ply: line 1: not a PLY file");
  check_error([] { io::parse_ply("", "e.ply"); }, "e.ply: line 1: unexpected end of file in the header");
  check_error([] { io::parse_ply("ply\nformat binary_little_endian 1.0\nelement vertex 1\n", "n.ply"); },
              "n.ply: line 4: unexpected end of file in the header");
  check_error([] { io::parse_ply("ply\nformat binary_big_endian 1.0\nend_header\n", "be.ply"); },
              "be.ply: line 2: encoding 'binary_big_endian' is not supported");
  check_error([] { io::parse_ply("ply\nformat ascii 1.0\nproperty float x\nend_header\n", "p.ply"); },
              "p.ply: line 3: property before any element");
  check_error(
      [] {
        io::parse_ply("ply\nformat ascii 1.0\nelement vertex 1\nproperty quad x\nend_header\n1\n", "q.ply");
      },
      "q.ply: line 4: unknown property type 'quad'");
  check_error(
      [] {
        io::parse_ply(
            "ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nproperty float x\nend_header\n",
            "d.ply");
      },
      "d.ply: line 5: property 'x' declared twice");
  check_error([] { io::parse_ply("ply\nformat ascii 1.0\nelement face 0\nend_header\n", "f.ply"); },
              "f.ply: line 4: no 'element vertex'");
  check_error([] { io::parse_ply("ply\nelement vertex 0\nproperty float x\nend_header\n", "nf.ply"); },
              "no 'format' line");
  check_error([] { io::parse_ply("ply\nformat ascii 1.0\nbogus\nend_header\n", "k.ply"); },
              "k.ply: line 3: unknown header keyword 'bogus'");
  check_error(
      [] {
        io::parse_ply(
            "ply\nformat ascii 1.0\nelement vertex 2\nproperty float x\nproperty float y\nend_header\n"
            "1 2\n3      \n",
            "s.ply");
      },
      "s.ply: line 8: expected 2 numbers, found 1");
}

TEST_CASE("PLY reader: missing file") {
  check_error([] { io::read_ply("/nonexistent/dir/x.ply"); }, "/nonexistent/dir/x.ply: cannot open");
}
