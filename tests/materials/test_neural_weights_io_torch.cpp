// The neural material's weights files (LibTorch side): save -> load gives the same law in 2D and 3D, float
// and double, with a plastic network and scales; LibTorch archives of earlier builds (trained networks of the
// docs/FITTING.md study) still load, through a child process first, and equal their safetensors conversions;
// TorchScript modules are checked in a child process too. Skipped in builds without LibTorch.
#ifdef DUCTILE_WITH_TORCH
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>

#include "core/error.h"
#include "core/state.h"
#include "io/temp_dir.h"
#include "materials/neural/neural_material.h"

using namespace ductile;

namespace {

const std::string kData = std::string(DUCTILE_SOURCE_DIR) + "/tests/materials/data/";
const std::string kSeeds = std::string(DUCTILE_SOURCE_DIR) + "/fuzz/corpus/weights/";

template <class T, int D>
std::vector<Mat<T, D>> some_F(unsigned seed, int n) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(-0.2, 0.2);
  std::vector<Mat<T, D>> Fs;
  for (int k = 0; k < n; ++k) {
    Mat<T, D> F = Mat<T, D>::identity();
    for (int i = 0; i < D; ++i)
      for (int j = 0; j < D; ++j) F(i, j) += T(u(rng));
    Fs.push_back(F);
  }
  return Fs;
}

// Stresses (which = 0) or projected F (which = 1) of the batch Fs, as one flat vector.
template <class T, int D>
std::vector<T> eval(const Material<T, D>& m, const std::vector<Mat<T, D>>& Fs, int which) {
  State<T, D> s;
  s.resize(int(Fs.size()));
  std::vector<int32_t> idx;
  for (int p = 0; p < s.n; ++p) store_mat<T, D>(s.F.data(), s.n, p, Fs[size_t(p)]), idx.push_back(p);
  const MaterialBatch b{idx.data(), int(idx.size())};
  Status st;
  std::vector<T> out(size_t(D * D) * Fs.size());
  if (which == 0) {
    m.stress(Device::kCpu, s.view(), b, out.data(), &st);
  } else {
    m.project(Device::kCpu, T(1e-3), s.view(), b, &st);
    out.assign(s.F.begin(), s.F.end());
  }
  REQUIRE(st.bits == 0);
  return out;
}

template <class T, int D>
void check_round_trip(bool plastic) {
  test::TempDir dir;
  NeuralSpec spec;
  spec.width = 8, spec.depth = 3, spec.plastic = plastic, spec.plastic_scale = 0.05, spec.strain_scale = 0.03;
  auto m = make_neural_material<T, D>(spec);
  m->values()[2] = T(1);
  std::mt19937 rng(plastic ? 11 : 12);
  std::normal_distribution<double> nd(0, 0.5);
  std::vector<T> w(size_t(m->learnable_size()));
  for (T& x : w) x = T(nd(rng));
  m->set_learnable(w);
  save_neural_weights(*m, dir.file("w.safetensors"));
  auto back = make_neural_material<T, D>();  // width 64, depth 2, elastic: all replaced by the file's
  back->configure("weights", dir.file("w.safetensors"));
  back->values() = m->values();
  CHECK(back->learnable() == m->learnable());
  const auto Fs = some_F<T, D>(3, 6);
  CHECK(eval<T, D>(*back, Fs, 0) == eval<T, D>(*m, Fs, 0));
  if (plastic) CHECK(eval<T, D>(*back, Fs, 1) == eval<T, D>(*m, Fs, 1));
  // the scales came from the file: another value in the scene is refused
  CHECK_THROWS_WITH(back->configure("strain_scale", "0.5"), doctest::Contains("strain_scale = 0.03"));
}

}  // namespace

TEST_CASE("neural weights: save -> load gives the same law (2D, 3D, float, double, plastic, scales)") {
  for (bool plastic : {false, true}) {
    check_round_trip<double, 2>(plastic);
    check_round_trip<double, 3>(plastic);
    check_round_trip<float, 2>(plastic);
    check_round_trip<float, 3>(plastic);
  }
}

TEST_CASE("neural weights: LibTorch archives of earlier builds load and equal their safetensors conversion") {
  test::TempDir dir;
  // a trained elastic network of the first study (5 numbers of meta: strain scale 1)
  auto legacy = make_neural_material<double, 3>();
  legacy->configure("weights", kData + "jelly_3d_legacy.pt");
  save_neural_weights(*legacy, dir.file("jelly.safetensors"));
  auto converted = make_neural_material<double, 3>();
  converted->configure("weights", dir.file("jelly.safetensors"));
  CHECK(converted->learnable() == legacy->learnable());
  const auto Fs = some_F<double, 3>(5, 8);
  CHECK(eval<double, 3>(*converted, Fs, 0) == eval<double, 3>(*legacy, Fs, 0));
  // scripts/convert_weights.py (numpy) wrote the same file, byte for byte
  CHECK(test::read_text(dir.file("jelly.safetensors")) == test::read_text(kSeeds + "jelly_3d.safetensors"));
  // a trained plastic network with its strain scale
  auto plastic = make_neural_material<double, 3>();
  plastic->configure("weights", kData + "plasticine_3d_legacy.pt");
  CHECK(plastic->learnable_size() == 2 * legacy->learnable_size());
  save_neural_weights(*plastic, dir.file("plasticine.safetensors"));
  auto plastic2 = make_neural_material<double, 3>();
  plastic2->configure("weights", dir.file("plasticine.safetensors"));
  CHECK(plastic2->learnable() == plastic->learnable());
  CHECK(eval<double, 3>(*plastic2, Fs, 0) == eval<double, 3>(*plastic, Fs, 0));
  CHECK(eval<double, 3>(*plastic2, Fs, 1) == eval<double, 3>(*plastic, Fs, 1));
  CHECK_THROWS_WITH(plastic->configure("strain_scale", "0.5"), doctest::Contains("strain_scale = 0.0795"));
  // float materials read the double archive too; a 2D material refuses it, with the archive's checks
  auto single = make_neural_material<float, 3>();
  CHECK_NOTHROW(single->configure("weights", kData + "jelly_3d_legacy.pt"));
  auto flat = make_neural_material<double, 2>();
  CHECK_THROWS_WITH_AS(flat->configure("weights", kData + "jelly_3d_legacy.pt"),
                       doctest::Contains("jelly_3d_legacy.pt: weights of a 3D material in a 2D scene"),
                       Error);
}

TEST_CASE("neural weights: a damaged LibTorch archive is an error naming the file, read in a child first") {
  test::TempDir dir;
  const std::string bytes = test::read_text(kData + "jelly_3d_legacy.pt");
  REQUIRE(bytes.size() > 1000);
  // truncated archives: LibTorch's zip reader fails in the child, the message comes back naming the file
  for (size_t cut : {size_t(4), size_t(100), bytes.size() / 2, bytes.size() - 30}) {
    test::write_text(dir.file("cut.pt"), bytes.substr(0, cut));
    auto m = make_neural_material<double, 3>();
    CHECK_THROWS_WITH_AS(m->configure("weights", dir.file("cut.pt")),
                         doctest::Contains((dir.file("cut.pt") + ": ").c_str()), Error);
  }
}

TEST_CASE("neural material: TorchScript modules are loaded and checked in a child process first") {
  test::TempDir dir;
  auto m = make_neural_material<double, 2>();
  m->configure("module", kData + "module_2d.pt");
  m->values()[2] = 1;
  const auto Fs = some_F<double, 2>(6, 4);
  double big = 0;
  for (double x : eval<double, 2>(*m, Fs, 0)) big = std::max(big, std::fabs(x));
  CHECK(big > 1e-3);  // the module's law, not a zero one
  // a module of the wrong signature, a damaged one
  auto solid = make_neural_material<double, 3>();
  CHECK_THROWS_WITH_AS(solid->configure("module", kData + "module_2d.pt"),
                       doctest::Contains("module_2d.pt: TorchScript module"), Error);
  const std::string bytes = test::read_text(kData + "module_2d.pt");
  test::write_text(dir.file("cut.pt"), bytes.substr(0, bytes.size() / 2));
  CHECK_THROWS_WITH_AS(m->configure("module", dir.file("cut.pt")),
                       doctest::Contains((dir.file("cut.pt") + ": ").c_str()), Error);
}
#endif
