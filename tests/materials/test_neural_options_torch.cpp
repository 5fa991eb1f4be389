// A neural material's scene options: "plastic" (the learned return mapping), "strain_scale" (input
// normalization) and "plastic_scale", saved and loaded with the weights; bad values and files that disagree
// with the scene are refused naming the key. Skipped in builds without LibTorch.
#ifdef DUCTILE_WITH_TORCH
#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "core/error.h"
#include "core/scene.h"
#include "io/temp_dir.h"
#include "materials/neural/neural_material.h"

using namespace ductile;
using json = nlohmann::json;

namespace {

// A 2D scene with one neural material; `extra` is merged into the material.
json neural_scene(const json& extra) {
  json j = json::parse(R"({
    "format": 1, "dimension": 2,
    "domain": {"min": [0, 0], "max": [1, 1], "dx": 0.1},
    "materials": [{"name": "clay", "model": "neural", "density": 1000, "wave_speed": 5, "stress_scale": 1}],
    "objects": [{"name": "blob", "material": "clay",
                 "shape": {"type": "box", "center": [0.5, 0.5], "size": [0.2, 0.2]}}]})");
  for (auto it = extra.begin(); it != extra.end(); ++it) j["materials"][0][it.key()] = it.value();
  return j;
}

std::unique_ptr<Material<double, 2>> take_material(const json& extra) {
  SceneData<double, 2> sc = build_scene<double, 2>(load_scene_text(neural_scene(extra).dump(), "."));
  return std::move(sc.model.materials[0]);
}

void randomize(Material<double, 2>& m, unsigned seed, double scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> nd(0, scale);
  std::vector<double> w(size_t(m.learnable_size()));
  for (double& x : w) x = nd(rng);
  m.set_learnable(w);
}

std::vector<Mat<double, 2>> some_F(unsigned seed, int n) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(-0.2, 0.2);
  std::vector<Mat<double, 2>> Fs;
  for (int k = 0; k < n; ++k) {
    Mat<double, 2> F = Mat<double, 2>::identity();
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 2; ++j) F(i, j) += u(rng);
    Fs.push_back(F);
  }
  return Fs;
}

// Stress (which = 0) or projected F (which = 1) of the batch Fs, as one flat vector.
std::vector<double> eval(const Material<double, 2>& m, const std::vector<Mat<double, 2>>& Fs, int which) {
  State<double, 2> s;
  s.resize(int(Fs.size()));
  std::vector<int32_t> idx;
  for (int p = 0; p < s.n; ++p) store_mat<double, 2>(s.F.data(), s.n, p, Fs[p]), idx.push_back(p);
  std::vector<double> out(size_t(4) * Fs.size());
  Status st;
  if (which == 0) {
    m.stress(Device::kCpu, s.view(), {idx.data(), s.n}, out.data(), &st);
  } else {
    m.project(Device::kCpu, 1e-3, s.view(), {idx.data(), s.n}, &st);
    out = s.F;
  }
  REQUIRE(st.bits == 0);
  return out;
}

}  // namespace

TEST_CASE(
    "neural material: 'plastic' in the scene adds the learned return mapping, the identity when fresh") {
  auto elastic = take_material(json::object());
  auto plastic = take_material({{"plastic", true}, {"plastic_scale", 0.05}});
  CHECK(plastic->learnable_size() == 2 * elastic->learnable_size());
  CHECK(take_material({{"plastic", false}})->learnable_size() == elastic->learnable_size());
  const auto Fs = some_F(1, 6);
  std::vector<double> flat;
  for (int i = 0; i < 4; ++i)
    for (const auto& F : Fs) flat.push_back(F(i / 2, i % 2));
  // fresh (zero output layer): the identity for every F
  CHECK(eval(*plastic, Fs, 1) == flat);
  // random weights: the identity at rest, a plastic flow elsewhere
  randomize(*plastic, 3, 0.5);
  CHECK(eval(*plastic, {Mat<double, 2>::identity()}, 1) == std::vector<double>{1, 0, 0, 1});
  double moved = 0;
  const auto out = eval(*plastic, Fs, 1);
  for (size_t i = 0; i < out.size(); ++i) moved = std::max(moved, std::fabs(out[i] - flat[i]));
  CHECK(moved > 1e-4);
}

TEST_CASE("neural material: the strain scale divides the invariants (the first layer's weights times 1/e)") {
  const double e = 0.05;
  auto scaled = take_material({{"strain_scale", e}});
  auto raw = take_material(json::object());
  randomize(*scaled, 4, 0.5);
  // the raw law with first-layer weights (the first 64 x 4 of the default width 64) divided by e is the same
  // function
  std::vector<double> w = scaled->learnable();
  REQUIRE(raw->learnable_size() == scaled->learnable_size());
  for (int i = 0; i < 64 * neural_features(2); ++i) w[size_t(i)] /= e;
  raw->set_learnable(w);
  const auto Fs = some_F(5, 8);
  const auto a = eval(*scaled, Fs, 0), b = eval(*raw, Fs, 0);
  double err = 0, big = 0;
  for (size_t i = 0; i < a.size(); ++i)
    err = std::max(err, std::fabs(a[i] - b[i])), big = std::max(big, std::fabs(a[i]));
  CHECK(big > 1e-3);
  CHECK(err <= 1e-12 * big);
  // zero stress at rest, whatever the scale
  for (double x : eval(*scaled, {Mat<double, 2>::identity()}, 0)) CHECK(x == 0.0);
}

TEST_CASE("neural material: plastic network, strain scale and plastic scale travel with the weights") {
  test::TempDir dir;
  auto m = take_material({{"plastic", true}, {"strain_scale", 0.05}, {"plastic_scale", 0.02}});
  randomize(*m, 7, 0.4);
  save_neural_weights(*m, dir.file("w.safetensors"));
  // the scene names only the weights: all three come from the file
  auto back = take_material({{"weights", dir.file("w.safetensors")}});
  CHECK(back->learnable() == m->learnable());
  const auto Fs = some_F(8, 5);
  CHECK(eval(*back, Fs, 0) == eval(*m, Fs, 0));
  CHECK(eval(*back, Fs, 1) == eval(*m, Fs, 1));
  // the same values given again are accepted
  auto same = take_material({{"weights", dir.file("w.safetensors")},
                             {"plastic", true},
                             {"strain_scale", 0.05},
                             {"plastic_scale", 0.02}});
  CHECK(eval(*same, Fs, 1) == eval(*m, Fs, 1));
  // elastic-only weights with "plastic": true: the trained elastic law and a fresh (identity) return mapping
  auto el = take_material({{"strain_scale", 0.05}});
  randomize(*el, 9, 0.4);
  save_neural_weights(*el, dir.file("el.safetensors"));
  auto grown = take_material({{"weights", dir.file("el.safetensors")}, {"plastic", true}});
  REQUIRE(grown->learnable_size() == 2 * el->learnable_size());
  const std::vector<double> w = grown->learnable();
  CHECK(std::vector<double>(w.begin(), w.begin() + el->learnable_size()) == el->learnable());
  CHECK(eval(*grown, Fs, 0) == eval(*el, Fs, 0));
  std::vector<double> flat;
  for (int i = 0; i < 4; ++i)
    for (const auto& F : Fs) flat.push_back(F(i / 2, i % 2));
  CHECK(eval(*grown, Fs, 1) == flat);
  // options after the weights (the material interface in any order) obey the same rules
  auto api = make_neural_material<double, 2>();
  api->configure("weights", dir.file("w.safetensors"));
  CHECK_THROWS_WITH(api->configure("plastic", "false"), doctest::Contains("holds a trained plastic return"));
  CHECK_THROWS_WITH(api->configure("strain_scale", "0.5"), doctest::Contains("strain_scale = 0.05"));
  api->configure("strain_scale", "0.05");
}

TEST_CASE(
    "neural material: bad options and weights that disagree with the scene are refused, naming the key") {
  test::TempDir dir;
  auto m = take_material({{"plastic", true}, {"strain_scale", 0.05}});
  save_neural_weights(*m, dir.file("w.safetensors"));
  auto refused = [&](const json& extra, const std::string& what) {
    CHECK_THROWS_WITH_AS(load_scene_text(neural_scene(extra).dump(), "."), doctest::Contains(what.c_str()),
                         Error);
  };
  refused({{"plastic", "yes"}}, "/materials/0/plastic: expected true or false");
  refused({{"strain_scale", 0}}, "/materials/0/strain_scale: expected a number > 0");
  refused({{"plastic_scale", -1e-3}}, "/materials/0/plastic_scale: expected a number > 0");
  refused({{"plastik", true}},
          "unknown parameter of model 'neural' (its parameters: density, wave_speed, "
          "stress_scale, weights, module, plastic, strain_scale, plastic_scale)");
  refused({{"weights", dir.file("missing.safetensors")}}, "/materials/0/weights:");
  refused({{"weights", dir.file("w.safetensors")}, {"strain_scale", 0.5}},
          "/materials/0/weights: " + dir.file("w.safetensors") +
              ": trained with strain_scale = 0.05, but the scene sets 0.5");
  refused({{"weights", dir.file("w.safetensors")}, {"plastic", false}},
          "holds a trained plastic return mapping, but the scene sets 'plastic': false");
  auto api = make_neural_material<double, 2>();
  CHECK_THROWS_WITH(api->configure("plastic", "maybe"), doctest::Contains("'plastic' must be true or false"));
  CHECK_THROWS_WITH(api->configure("strain_scale", "-1"), doctest::Contains("must be a finite number > 0"));
  CHECK_THROWS_WITH(api->configure("strain_scale", "1e400"),
                    doctest::Contains("must be a finite number > 0"));
}
#endif
