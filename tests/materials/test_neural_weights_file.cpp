// The neural material's weights file without LibTorch (materials/neural_weights_file.h): the architecture in
// the metadata, the expected tensors and their shapes, and every kind of damage refused with an error naming
// the file and the tensor or key. Runs in every build (the sanitizer build too); the material's own round
// trips are in test_neural_weights_io_torch.cpp.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <string>

#include "core/error.h"
#include "io/temp_dir.h"
#include "materials/neural_weights_file.h"
#include "test_util.h"

using namespace ductile;
using ductile::test::error_of;

namespace {

NeuralSpec spec_of(int width, int depth, bool plastic) {
  NeuralSpec s;
  s.width = width, s.depth = depth, s.plastic = plastic, s.plastic_scale = 0.05, s.strain_scale = 0.0795;
  return s;
}

// The tensors of an architecture with distinct values.
std::map<std::string, io::SafeTensor> tensors_of(int D, const NeuralSpec& s, const std::string& dtype) {
  std::map<std::string, io::SafeTensor> r;
  double x = 0.25;
  for (const auto& e : neural::expected_tensors(D, s)) {
    io::SafeTensor& t = r[e.name];
    t.dtype = dtype, t.shape = e.shape;
    t.values.resize(size_t(e.shape[0] * e.shape[1]));
    for (double& v : t.values) v = (x = -x * 1.0625);
  }
  return r;
}

// A valid file of this architecture (written by write_weights_file), as contents that a test can damage.
io::SafeTensors valid(int D, const NeuralSpec& s) {
  test::TempDir dir;
  neural::write_weights_file(dir.file("w.safetensors"), D, s, tensors_of(D, s, "F64"));
  return io::read_safetensors(dir.file("w.safetensors"));
}

// The error of reading damaged contents as a D-dimensional material's weights; it must name the file.
std::string refused(const io::SafeTensors& f, int D) {
  const std::string m =
      error_of([&] { neural::parse_weights_file(io::safetensors_bytes(f), "w.safetensors", D); });
  CHECK_MESSAGE(m.rfind("w.safetensors: ", 0) == 0,
                "accepted, or an error not naming the file: '" << m << "'");
  return m;
}

}  // namespace

TEST_CASE("neural weights file: the expected tensors follow from the architecture") {
  const auto e = neural::expected_tensors(2, spec_of(3, 2, true));
  REQUIRE(e.size() == 6);
  CHECK(e[0].name == "elastic.0.weight");
  CHECK(e[0].shape == std::vector<int64_t>{3, 4});  // 2D: 4 features
  CHECK(e[1].name == "elastic.2.weight");
  CHECK(e[1].shape == std::vector<int64_t>{3, 3});
  CHECK(e[2].name == "elastic.4.weight");
  CHECK(e[2].shape == std::vector<int64_t>{4, 3});  // D*D outputs
  CHECK(e[5].name == "plastic.4.weight");
  const auto e3 = neural::expected_tensors(3, spec_of(64, 1, false));
  REQUIRE(e3.size() == 2);
  CHECK(e3[0].shape == std::vector<int64_t>{64, 7});
  CHECK(e3[1].shape == std::vector<int64_t>{9, 64});
}

TEST_CASE("neural weights file: written and read back exactly (2D, 3D, plastic, scales, F32 and F64)") {
  test::TempDir dir;
  for (int D : {2, 3})
    for (bool plastic : {false, true})
      for (const char* dtype : {"F32", "F64"}) {
        const NeuralSpec s = spec_of(5, 3, plastic);
        const auto t = tensors_of(D, s, dtype);
        neural::write_weights_file(dir.file("w.safetensors"), D, s, t);
        const neural::WeightsFile back = neural::read_weights_file(dir.file("w.safetensors"), D);
        CHECK(back.spec.width == 5);
        CHECK(back.spec.depth == 3);
        CHECK(back.spec.plastic == plastic);
        CHECK(back.spec.plastic_scale == 0.05);
        CHECK(back.spec.strain_scale == 0.0795);
        REQUIRE(back.file.tensors.size() == t.size());
        for (const auto& [name, v] : t) {
          CHECK(back.file.tensors.at(name).dtype == dtype);
          CHECK(back.file.tensors.at(name).shape == v.shape);
          std::vector<double> want = v.values;
          if (std::string(dtype) == "F32")
            for (double& x : want) x = double(float(x));
          CHECK(back.file.tensors.at(name).values == want);
        }
        CHECK(back.file.metadata.at("strain_scale") == "0.0795");
      }
}

TEST_CASE(
    "neural weights file: damaged architecture or tensors are refused, naming the file and the tensor") {
  const NeuralSpec s = spec_of(3, 2, false);
  const io::SafeTensors good = valid(2, s);
  CHECK_NOTHROW(neural::parse_weights_file(io::safetensors_bytes(good), "w.safetensors", 2));
  // dimension
  CHECK(refused(good, 3).find("weights of a 2D material in a 3D scene") != std::string::npos);
  // metadata: missing, not a number, out of range, another format or version
  auto meta = [&](const std::string& key, const std::string* value) {
    io::SafeTensors f = good;
    if (value)
      f.metadata[key] = *value;
    else
      f.metadata.erase(key);
    return refused(f, 2);
  };
  const std::string zero = "0", deep = "65", yes = "yes", neg = "-1", nan = "nan", junk = "64abc",
                    space = " 3", other = "safetensors", two = "2";
  CHECK(meta("width", nullptr).find("no '__metadata__' entry 'width'") != std::string::npos);
  CHECK(meta("width", &zero).find("bad architecture (width 0,") != std::string::npos);
  CHECK(meta("depth", &deep).find("depth 65") != std::string::npos);
  CHECK(meta("plastic", &yes).find("'plastic' must be true or false, got 'yes'") != std::string::npos);
  CHECK(meta("strain_scale", &neg).find("strain scale -1)") != std::string::npos);
  CHECK(meta("plastic_scale", &nan).find("plastic scale nan") != std::string::npos);
  CHECK(meta("width", &junk).find("entry 'width' must be a number, got '64abc'") != std::string::npos);
  CHECK(meta("width", &space).find("entry 'width' must be a number") != std::string::npos);
  CHECK(meta("format", &other).find("not a ductile neural weights file") != std::string::npos);
  CHECK(meta("version", &two).find("weights file version '2'") != std::string::npos);
  // a tensor missing, of another shape, non-finite, or one the architecture does not have
  io::SafeTensors f = good;
  f.tensors.erase("elastic.2.weight");
  CHECK(
      refused(f, 2).find("tensor 'elastic.2.weight' missing (a 2D network of width 3 and depth 2 has it)") !=
      std::string::npos);
  f = good;
  f.tensors["elastic.0.weight"].shape = {4, 3};
  CHECK(refused(f, 2).find("tensor 'elastic.0.weight' has shape [4, 3], expected [3, 4]") !=
        std::string::npos);
  f = good;
  f.tensors["elastic.0.weight"].shape = {12};
  CHECK(refused(f, 2).find("has shape [12], expected [3, 4]") != std::string::npos);
  for (double bad : {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()}) {
    f = good;
    f.tensors["elastic.4.weight"].values[5] = bad;
    CHECK(refused(f, 2).find("tensor 'elastic.4.weight' holds a non-finite value") != std::string::npos);
  }
  f = good;
  f.tensors["elastic.6.weight"] = {"F64", {1}, {0}};
  CHECK(refused(f, 2).find("tensor 'elastic.6.weight' is not a weight of a 2D network") != std::string::npos);
  // the tensors of a return mapping in a file whose architecture has none
  f = valid(2, spec_of(3, 2, true));
  f.metadata["plastic"] = "false";
  CHECK(refused(f, 2).find("tensor 'plastic.0.weight' is not a weight") != std::string::npos);
  // and the converse
  f = good;
  f.metadata["plastic"] = "true";
  CHECK(refused(f, 2).find("tensor 'plastic.0.weight' missing") != std::string::npos);
  // a LibTorch archive is not a safetensors file
  CHECK(error_of([] {
          neural::parse_weights_file(std::string("PK\x03\x04", 4), "w.pt", 2);
        }).rfind("w.pt: ", 0) == 0);
}

TEST_CASE("neural weights file: invalid contents are not written, and nothing is left behind") {
  test::TempDir dir;
  const NeuralSpec s = spec_of(2, 1, false);
  auto t = tensors_of(3, s, "F64");
  t["elastic.0.weight"].values[0] = std::numeric_limits<double>::quiet_NaN();
  CHECK(error_of([&] {
          neural::write_weights_file(dir.file("w.safetensors"), 3, s, t);
        }).find("non-finite") != std::string::npos);
  CHECK(std::filesystem::is_empty(dir.path()));
}

TEST_CASE("neural weights file: the fuzzing seeds (converted from trained networks, and edge cases)") {
  const std::string dir = std::string(DUCTILE_SOURCE_DIR) + "/fuzz/corpus/weights/";
  const neural::WeightsFile j = neural::read_weights_file(dir + "jelly_3d.safetensors", 3);
  CHECK(j.spec.width == 64);
  CHECK(!j.spec.plastic);
  CHECK(j.spec.strain_scale == 1);  // a file of before the strain scale
  const neural::WeightsFile p = neural::read_weights_file(dir + "plasticine_3d_plastic_f32.safetensors", 3);
  CHECK(p.spec.plastic);
  CHECK(p.spec.strain_scale == 0.0795);
  CHECK(p.file.tensors.at("plastic.4.weight").dtype == "F32");
  CHECK(neural::read_weights_file(dir + "tiny_2d_w1_d1.safetensors", 2).spec.width == 1);
  CHECK(neural::read_weights_file(dir + "tiny_2d_plastic_f32.safetensors", 2).spec.plastic_scale == 0.05);
  for (const char* bad : {"nan_3d", "empty", "metadata_only", "zero_size"})
    CHECK_THROWS_AS(neural::read_weights_file(dir + bad + ".safetensors", 3), Error);
}
